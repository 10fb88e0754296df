# Security probe (guide section 6): kernel settings, SELinux, Docker's remains,
# the docker alias and DOCKER_HOST, in one command on the host.
section unprivileged_port_start cat /proc/sys/net/ipv4/ip_unprivileged_port_start
section selinux_enforce cat /sys/fs/selinux/enforce
section runtime_dir stat -c '%U|%u|%a|%F|%n' "$XDG_RUNTIME_DIR"
# Root's containers can be read only by root or a passwordless sudoer: root_access says
# which (root, sudo, or none), and rootful_ps is asked only when it is not none.
access='if [ "$(id -u)" = 0 ]; then echo root; elif sudo -n true 2>/dev/null; then echo sudo; else echo none; fi'
section root_access sh -c "$access"
if [ "$(id -u)" = 0 ]; then
  section rootful_ps podman ps -a --format json
elif sudo -n true 2>/dev/null; then
  section rootful_ps sudo -n podman ps -a --format json
fi
section docker_active systemctl is-active docker.service docker.socket
# One line per path, "absent" included: an empty answer is a probe that did not run.
section docker_sock sh -c 'for s in /var/run/docker.sock /run/docker.sock; do if [ -e "$s" ] || [ -L "$s" ]; then printf "%s -> %s\n" "$s" "$(readlink -f "$s")"; else printf "%s absent\n" "$s"; fi; done'
section docker_cli sh -c 'path=$(command -v docker) || exit 1; printf "%s\n" "$path"; docker --version 2>&1 | head -n 2'
section docker_alias sh -c 'grep -HnE "^[[:space:]]*alias[[:space:]]+docker=" "$HOME/.bashrc" "$HOME/.zshrc" 2>/dev/null; true'
section docker_host_lines sh -c 'grep -HnE "DOCKER_HOST=" "$HOME/.bashrc" "$HOME/.zshrc" "$HOME/.profile" "$HOME"/.config/environment.d/*.conf 2>/dev/null; true'
# What a login shell of the user really gets, after every rc file had its say (a
# marked line, so that an rc file's own output is not read as the value).
section docker_host_login bash -lic 'printf "\nDOCKER_HOST=%s\n" "${DOCKER_HOST-}"'
