# Shared start of every probe script (prepended by probe.py). Runs as the rootless
# account under check. Each section prints one line:
#   @@PHX <name> <exit code> <base64 stdout> <base64 stderr>
# so that no output of a probed program can be mistaken for a section marker.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"
export DBUS_SESSION_BUS_ADDRESS="${DBUS_SESSION_BUS_ADDRESS:-unix:path=$XDG_RUNTIME_DIR/bus}"
export LC_ALL=C
user=$(id -un)
err=$(mktemp 2>/dev/null || echo "/tmp/phx-probe-$$")
trap 'rm -f "$err"' EXIT

# A path from the stack manifest, with a leading ~ meaning the checked user's home.
home_path() {
  case "$1" in
    "~") printf '%s' "$HOME" ;;
    "~/"*) printf '%s/%s' "$HOME" "${1#\~/}" ;;
    *) printf '%s' "$1" ;;
  esac
}

# An empty output or error is printed as is, without starting base64 for it: most
# sections print no error, and every process started costs the checked host.
section() {
  name=$1
  shift
  out=$(timeout "$PHX_TIMEOUT" "$@" 2>"$err")
  rc=$?
  # The last section's output as printed, for a section derived from it (probe_base.sh).
  raw=$out
  [ -z "$out" ] || out=$(printf '%s' "$out" | base64 -w0)
  if [ -s "$err" ]; then said=$(base64 -w0 <"$err"); else said=; fi
  printf '@@PHX %s %s %s %s\n' "$name" "$rc" "$out" "$said"
}
