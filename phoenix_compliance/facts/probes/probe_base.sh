# Phase 1 probe: every base-install fact in one command on the host.
quadlet_dir=$(home_path "$PHX_QUADLET_DIR")

# Every program of the list on PATH (shell builtins only, no program started).
# Some distributions keep the network helpers outside PATH, where Podman finds them.
tools() {
  for tool in podman podman-compose slirp4netns pasta fuse-overlayfs newuidmap newgidmap; do
    found=$(command -v "$tool")
    printf '%s=%s\n' "$tool" "$found"
  done
  for dir in /usr/libexec/podman /usr/lib/podman; do
    for tool in pasta slirp4netns; do
      if [ -x "$dir/$tool" ]; then printf '%s=%s\n' "$tool" "$dir/$tool"; fi
    done
  done
}

# podman info carries podman version's answer in its own "version" block: read there by the
# shell itself (no second start of podman, no sed); empty when the block has no Version.
info_version() {
  inside=
  while IFS= read -r line; do
    case "$line" in
      '  "version": {') inside=1 ;;
      '  }'*) inside= ;;
      '    "Version": "'*)
        if [ -n "$inside" ]; then
          line=${line#    \"Version\": \"}
          printf '%s\n' "${line%%\"*}"
          return
        fi
        ;;
    esac
  done <<PHX_END
$1
PHX_END
}

# Where `stat -c %n` answers: the path itself, or stat's words and exit 1.
exists() {
  if [ -e "$1" ] || [ -L "$1" ]; then
    printf '%s\n' "$1"
  else
    printf "stat: cannot statx '%s': No such file or directory\n" "$1" >&2
    return 1
  fi
}

text_section whoami 0 "$user$nl$uid$nl$HOME"
file_section os_release /etc/os-release
# uname -r and -n, as the kernel keeps them.
file_section kernel /proc/sys/kernel/osrelease
file_section hostname /proc/sys/kernel/hostname
section podman_info podman info --format json
# Only where info did not answer (podman missing: 127 from both; or broken otherwise), or its
# version block names no Version, is podman version asked itself.
version=
[ "$rc" != 0 ] || version=$(info_version "$raw")
if [ -n "$version" ]; then
  text_section podman_version 0 "$version"
  printf 'podman_version=%s\n' "$version" >"$learnt"
else
  section podman_version podman version --format json
fi
shell_section tools tools
file_section subuid /etc/subuid
file_section subgid /etc/subgid
section socket_enabled systemctl --user is-enabled podman.socket
section socket_active systemctl --user is-active podman.socket
section quadlet_dir stat -c '%U|%u|%a|%F|%n' "$quadlet_dir"
shell_section linger_file exists "/var/lib/systemd/linger/$user"
section linger_loginctl loginctl show-user "$user" --property=Linger
section cgroup_fs stat -fc '%T' /sys/fs/cgroup
section api_socket stat -c '%U|%u|%a|%F|%n' "$XDG_RUNTIME_DIR/podman/podman.sock"
