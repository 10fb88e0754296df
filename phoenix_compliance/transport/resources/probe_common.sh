# Shared start of every probe script (prepended by probe.py). Runs as the rootless
# account under check. Each section prints one line:
#   @@PHX <name> <exit code> <base64 stdout> <base64 stderr>
# or, when it printed no error and its output is one line of printable ASCII,
#   @@PHT <name> <exit code> <stdout as is>
# so that no output of a probed program can be mistaken for a section marker (a plain
# output holds no newline, so it never starts a line of its own).
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"
export DBUS_SESSION_BUS_ADDRESS="${DBUS_SESSION_BUS_ADDRESS:-unix:path=$XDG_RUNTIME_DIR/bus}"
export LC_ALL=C
user=$(id -un)
uid=$(id -u)
nl='
'
err=$(mktemp 2>/dev/null || echo "/tmp/phx-probe-$$")
# What one probe script of this command learnt for another run after it (probe_base.sh
# writes Podman's release there for probe_quadlet.sh).
learnt=$err.learnt
trap 'rm -f "$err" "$learnt"' EXIT

# A path from the stack manifest, with a leading ~ meaning the checked user's home.
home_path() {
  case "$1" in
    "~") printf '%s' "$HOME" ;;
    "~/"*) printf '%s/%s' "$HOME" "${1#\~/}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# Print the section $name: exit $rc, output $out, error $said (already base64). Every process
# started costs the checked host, so base64 runs only for an output that needs it.
frame() {
  if [ -z "$said" ]; then
    case "$out" in
      *[![:print:]]*) ;;
      *) printf '@@PHT %s %s %s\n' "$name" "$rc" "$out"; return ;;
    esac
  fi
  [ -z "$out" ] || out=$(printf '%s' "$out" | base64 -w0)
  printf '@@PHX %s %s %s %s\n' "$name" "$rc" "$out" "$said"
}

# A section answered by a program, bounded by timeout(1).
section() {
  name=$1
  shift
  out=$(timeout "$PHX_TIMEOUT" "$@" 2>"$err")
  rc=$?
  # The last section's output as printed, for a section derived from it (probe_base.sh).
  raw=$out
  if [ -s "$err" ]; then said=$(base64 -w0 <"$err"); else said=; fi
  frame
}

# A section answered by a shell function of the script (shell builtins, or programs it
# bounds itself): no timeout(1) and no program started for the section itself.
shell_section() {
  name=$1
  shift
  out=$("$@" 2>"$err")
  rc=$?
  raw=$out
  if [ -s "$err" ]; then said=$(base64 -w0 <"$err"); else said=; fi
  frame
}

# A section that is a value the script already holds: NAME RC TEXT.
text_section() {
  name=$1 rc=$2 out=$3 said=
  frame
}

# A section that answered nothing but an error: NAME RC TEXT (the script's own words).
error_section() {
  name=$1 rc=$2 out=
  said=$(printf '%s\n' "$3" | base64 -w0)
  frame
}

# A small regular file of the system (os-release, /proc, /sys) read by the shell itself, as
# `cat FILE` prints it (trailing newlines dropped, as $(...) drops them); exit 1 with cat's
# words when the file is absent or unreadable. No program is started. Not for an integer
# file of /proc/sys: the shell reads a byte at a time, and those answer only at offset 0.
file_section() {
  name=$1 out= said= rc=0
  if [ -f "$2" ] && [ -r "$2" ]; then
    while IFS= read -r line || [ -n "$line" ]; do out=$out$line$nl; done <"$2"
    while :; do
      case "$out" in *"$nl") out=${out%"$nl"} ;; *) break ;; esac
    done
  else
    rc=1
    if [ -e "$2" ]; then text="cat: $2: Permission denied"; else text="cat: $2: No such file or directory"; fi
    said=$(printf '%s\n' "$text" | base64 -w0)
  fi
  raw=$out
  frame
}
