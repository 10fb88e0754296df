# Security probe (guide section 6): kernel settings, SELinux, Docker's remains,
# the docker alias and DOCKER_HOST, in one command on the host.
section unprivileged_port_start cat /proc/sys/net/ipv4/ip_unprivileged_port_start
file_section selinux_enforce /sys/fs/selinux/enforce
section runtime_dir stat -c '%U|%u|%a|%F|%n' "$XDG_RUNTIME_DIR"
# Root's containers can be read only by root or a passwordless sudoer: root_access says
# which (root, sudo, or none), and rootful_ps is asked only when it is not none.
# sudo -n is asked once, here.
if [ "$uid" = 0 ]; then access=root; elif timeout "$PHX_TIMEOUT" sudo -n true 2>/dev/null; then access=sudo; else access=none; fi
text_section root_access 0 "$access"
if [ "$access" = root ]; then
  section rootful_ps podman ps -a --format json
elif [ "$access" = sudo ]; then
  section rootful_ps sudo -n podman ps -a --format json
fi
section docker_active systemctl is-active docker.service docker.socket
# One line per path, "absent" included: an empty answer is a probe that did not run.
docker_sock() {
  for s in /var/run/docker.sock /run/docker.sock; do
    if [ -e "$s" ] || [ -L "$s" ]; then printf '%s -> %s\n' "$s" "$(timeout "$PHX_TIMEOUT" readlink -f "$s")"; else printf '%s absent\n' "$s"; fi
  done
}
shell_section docker_sock docker_sock
# Exit 1: no docker command (looked up by the shell itself; docker asked only where there is one).
docker_cli() {
  path=$(command -v docker) || return 1
  printf '%s\n' "$path"
  timeout "$PHX_TIMEOUT" docker --version 2>&1 | head -n 2
}
shell_section docker_cli docker_cli
section docker_alias sh -c 'grep -HnE "^[[:space:]]*alias[[:space:]]+docker=" "$HOME/.bashrc" "$HOME/.zshrc" 2>/dev/null; true'
section docker_host_lines sh -c 'grep -HnE "DOCKER_HOST=" "$HOME/.bashrc" "$HOME/.zshrc" "$HOME/.profile" "$HOME"/.config/environment.d/*.conf 2>/dev/null; true'
# What a login shell of the user really gets, after every rc file had its say (a
# marked line, so that an rc file's own output is not read as the value).
section docker_host_login bash -lic 'printf "\nDOCKER_HOST=%s\n" "${DOCKER_HOST-}"'
