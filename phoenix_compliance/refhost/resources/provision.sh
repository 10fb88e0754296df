#!/bin/sh
# Provision a freshly debootstrapped trixie root file system as the reference host.
# Runs inside the tree (chroot, nothing booted), so it only writes files and uses
# systemctl's offline mode. Inputs come from the environment, set by refhost/build.py.
# Each step is safe to repeat.
set -eu

: "${PHOENIX_USER:?}" "${PHOENIX_UID:?}" "${PHOENIX_SSH_PORT:?}" "${PHOENIX_PUBKEY:?}"
home="/home/$PHOENIX_USER"

if ! getent passwd "$PHOENIX_USER" >/dev/null; then
    useradd --uid "$PHOENIX_UID" --user-group --create-home --shell /bin/bash "$PHOENIX_USER"
fi
# useradd adds a range on its own in trixie; make sure of it, rootless Podman needs one.
for f in /etc/subuid /etc/subgid; do
    grep -q "^$PHOENIX_USER:" "$f" 2>/dev/null || echo "$PHOENIX_USER:100000:65536" >>"$f"
done

# Linger is only this file for logind: user@UID.service then starts at boot.
mkdir -p /var/lib/systemd/linger
: >"/var/lib/systemd/linger/$PHOENIX_USER"

mkdir -p /etc/containers/containers.conf.d
cat >/etc/containers/containers.conf.d/50-reference-host.conf <<'CONF'
# Written by phoenix-refhost: what rootless Podman needs under systemd-nspawn.
[containers]
# nspawn's seccomp filter refuses keyctl ("create keyring ... Operation not permitted").
keyring = false
# Podman's default ping_group_range sysctl fails where /proc/sys is read-only.
default_sysctls = []
# No cgroup controllers are delegated to the guest ("controller `pids` is not available").
pids_limit = 0
CONF

# nspawn creates the guest's /dev/net/tun with mode 0600; rootless pasta must open it.
cat >/etc/tmpfiles.d/50-phoenix-tun.conf <<'CONF'
z /dev/net/tun 0666 - - -
CONF

# Nothing pulls network-online.target in this guest, and Podman 5's
# podman-user-wait-network-online.service would keep Quadlet units "activating".
systemctl add-wants multi-user.target network-online.target

# The user's podman.socket, enabled the way `systemctl --user enable` would.
install -d -o "$PHOENIX_USER" -g "$PHOENIX_USER" -m 0755 \
    "$home/.config" "$home/.config/systemd" "$home/.config/systemd/user" \
    "$home/.config/systemd/user/sockets.target.wants" \
    "$home/.config/containers" "$home/.config/containers/systemd"
ln -sfn /usr/lib/systemd/user/podman.socket \
    "$home/.config/systemd/user/sockets.target.wants/podman.socket"
chown -h "$PHOENIX_USER:$PHOENIX_USER" "$home/.config/systemd/user/sockets.target.wants/podman.socket"

# Docker compatibility the guide's way (section 6): the alias and DOCKER_HOST.
if ! grep -q 'alias docker=podman' "$home/.bashrc" 2>/dev/null; then
    cat >>"$home/.bashrc" <<'RC'

# Phoenix Hydra migration guide, section 6: Docker compatibility.
alias docker=podman
export DOCKER_HOST="unix:///run/user/$(id -u)/podman/podman.sock"
RC
    chown "$PHOENIX_USER:$PHOENIX_USER" "$home/.bashrc"
fi

# The guest shares the machine's network namespace: loopback only, a non-default port.
cat >/etc/ssh/sshd_config.d/50-phoenix-refhost.conf <<CONF
# Written by phoenix-refhost; phoenix-refhost up rewrites Port per guest.
Port $PHOENIX_SSH_PORT
ListenAddress 127.0.0.1
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
CONF

for dir in "$home/.ssh" /root/.ssh; do
    install -d -m 0700 "$dir"
    printf '%s\n' "$PHOENIX_PUBKEY" >"$dir/authorized_keys"
    chmod 0600 "$dir/authorized_keys"
done
chown -R "$PHOENIX_USER:$PHOENIX_USER" "$home/.ssh"

# nspawn names the guest (-M); a hostname copied from the build machine would hide it.
rm -f /etc/hostname
