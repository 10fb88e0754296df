# Phase 1 probe: every base-install fact in one command on the host.
quadlet_dir=$(home_path "$PHX_QUADLET_DIR")

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
section podman_info podman info --format json
# podman info carries podman version's answer in its own "version" block: one start of the
# podman binary, not two (each costs the host about 30 ms of CPU). Only where info did not
# answer (podman missing: 127 from both; or broken otherwise) is podman version asked itself.
if [ "$rc" = 0 ]; then
  # shellcheck disable=SC2016 # for the inner shell
  section podman_version sh -c 'v=$(printf "%s\n" "$0" | sed -n "/^  \"version\": {/,/^  }/s/^    \"Version\": \"\([^\"]*\)\".*/\1/p")
[ -n "$v" ] && printf "%s\n" "$v" || exec podman version --format json' "$raw"
else
  section podman_version podman version --format json
fi
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
