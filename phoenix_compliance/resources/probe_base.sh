# Phase 1 probe: gathers every base-install fact in one command on the host.
# Runs as the rootless account under check. Each section prints one line:
#   @@PHX <name> <exit code> <base64 stdout> <base64 stderr>
# so that no output of a probed program can be mistaken for a section marker.
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}"
export DBUS_SESSION_BUS_ADDRESS="${DBUS_SESSION_BUS_ADDRESS:-unix:path=$XDG_RUNTIME_DIR/bus}"
export LC_ALL=C
user=$(id -un)
case "$PHX_QUADLET_DIR" in
  "~") quadlet_dir="$HOME" ;;
  "~/"*) quadlet_dir="$HOME/${PHX_QUADLET_DIR#\~/}" ;;
  *) quadlet_dir="$PHX_QUADLET_DIR" ;;
esac
err=$(mktemp 2>/dev/null || echo "/tmp/phx-probe-$$")

section() {
  name=$1
  shift
  out=$(timeout "$PHX_TIMEOUT" "$@" 2>"$err")
  rc=$?
  printf '@@PHX %s %s %s %s\n' "$name" "$rc" \
    "$(printf '%s' "$out" | base64 -w0)" "$(base64 -w0 <"$err")"
}

# A string for `sh -c`, because timeout(1) cannot run a shell function.
# Some distributions keep the network helpers outside PATH, where Podman finds them.
tools='
for tool in podman podman-compose slirp4netns pasta fuse-overlayfs newuidmap newgidmap; do
  printf "%s=%s\n" "$tool" "$(command -v "$tool")"
done
for dir in /usr/libexec/podman /usr/lib/podman; do
  for tool in pasta slirp4netns; do
    if [ -x "$dir/$tool" ]; then printf "%s=%s\n" "$tool" "$dir/$tool"; fi
  done
done'

section whoami sh -c 'id -un; id -u; printf "%s\n" "$HOME"'
section os_release cat /etc/os-release
section kernel uname -r
section hostname uname -n
section podman_version podman version --format json
section podman_info podman info --format json
section tools sh -c "$tools"
section subuid cat /etc/subuid
section subgid cat /etc/subgid
section socket_enabled systemctl --user is-enabled podman.socket
section socket_active systemctl --user is-active podman.socket
section quadlet_dir stat -c '%U|%u|%a|%F|%n' "$quadlet_dir"
section linger_file stat -c '%n' "/var/lib/systemd/linger/$user"
section linger_loginctl loginctl show-user "$user" --property=Linger
section cgroup_fs stat -fc '%T' /sys/fs/cgroup
section api_socket stat -c '%U|%u|%a|%F|%n' "$XDG_RUNTIME_DIR/podman/podman.sock"
rm -f "$err"
