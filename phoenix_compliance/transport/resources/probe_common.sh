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

section() {
  name=$1
  shift
  out=$(timeout "$PHX_TIMEOUT" "$@" 2>"$err")
  rc=$?
  printf '@@PHX %s %s %s %s\n' "$name" "$rc" \
    "$(printf '%s' "$out" | base64 -w0)" "$(base64 -w0 <"$err")"
}
