"""How ssh reaches a guest: its OpenSSH client config (for testinfra's --ssh-config), the
ProxyCommand into a private-network guest, and the status line naming both."""

from __future__ import annotations

import os
import re
from pathlib import Path

from . import paths
from ._util import RefhostError
from .guest_state import GuestState, guest_layout, guest_systemd, list_guests, up_hint
from .rootfs import package_version


def reach(st: GuestState) -> str:
    """How ssh gets to the guest, for status lines."""
    if not st.private:
        return f"ssh 127.0.0.1:{st.port}"
    command = proxy_command(st)
    if command is None:
        return f"own network namespace, sshd 127.0.0.1:{st.port} inside (guest systemd not found)"
    return f"own network namespace, ssh through: {command}"


def _upstream(version: str) -> str:
    """5.4.2 of Debian's 5.4.2+ds1-2+b2: the release Podman calls itself."""
    return re.split(r"[+~-]", version.split(":", 1)[-1], maxsplit=1)[0]


def describe(st: GuestState) -> str:
    """One status line, naming the guest's release and its Podman."""
    if st.running:
        podman = _upstream(package_version(st.release, "podman") or "unknown")
        return f"{st.name}: up ({st.release}, Podman {podman}, pid {st.pid}, {reach(st)})"
    return f"{st.name}: down (stopped without `down`; `{paths.PROG} down --name {st.name}` cleans up)"


def proxy_argv(st: GuestState) -> list[str] | None:
    """The command that connects stdin/stdout to sshd inside a private-network guest:
    nsenter into the network namespace of its systemd (nspawn itself stays outside),
    socat to 127.0.0.1 there. None while the guest has no systemd."""
    sd = guest_systemd(st)
    if sd is None:
        return None
    return ["nsenter", f"--net=/proc/{sd}/ns/net", "socat", "-", f"TCP:127.0.0.1:{st.port}"]


def proxy_command(st: GuestState) -> str | None:
    argv = proxy_argv(st)
    return None if argv is None else " ".join(argv)


def _host_block(name: str, port: int, proxy: str | None = None, alias: str | None = None) -> str:
    key = paths.layout().key
    proxy_line = "" if proxy is None else f"    ProxyCommand {proxy}\n"
    return (
        f"Host {alias or name}\n"
        f"    HostName 127.0.0.1\n"
        f"    Port {port}\n"
        f"{proxy_line}"
        f"    User {paths.USER}\n"
        f"    IdentityFile {key}\n"
        f"    IdentitiesOnly yes\n"
        # Every boot may come from a rebuilt base; host keys are not worth pinning.
        f"    StrictHostKeyChecking no\n"
        f"    UserKnownHostsFile /dev/null\n"
        f"    LogLevel ERROR\n"
        # One connection per host and run, as testinfra's own ControlMaster default means
        # to: each probe after the first then costs a channel, not a handshake. The guest's
        # name is in the path because %C alone cannot tell fleet guests apart: they all
        # are phoenix@127.0.0.1:22 behind their ProxyCommand.
        f"    ControlMaster auto\n"
        f"    ControlPath /tmp/phx-ssh-{name}-%C\n"
        f"    ControlPersist 30s\n"
    )


def ssh_config_text(name: str = paths.DEFAULT_GUEST, alias: str | None = None) -> str:
    """An OpenSSH client config for testinfra's --ssh-config: `ssh://NAME` logs in as phoenix
    (`ssh://ALIAS` with an alias, so one run's host ids can name guests of every release alike).

    The default guest's entry is written even while it is down (it only names a port);
    a private-network guest's names the PID of its running systemd.
    """
    recorded = GuestState.load(guest_layout(name).state)
    if recorded is None and name != paths.DEFAULT_GUEST:
        # Only the default guest's port is known before it boots.
        raise RefhostError(f"{name} is down; run `{up_hint(name)}` first")
    if recorded is not None and recorded.private:
        proxy = proxy_command(recorded) if recorded.running else None
        if proxy is None:
            raise RefhostError(f"{name} is down; run `{up_hint(name)}` first")
        return _host_block(name, recorded.port, proxy, alias)
    port = recorded.port if recorded is not None else paths.DEFAULT_SSH_PORT
    return _host_block(name, port, alias=alias)


def ssh_config_all() -> str:
    """Entries for the default guest (as ssh_config_text writes it) and every other guest
    that is up; a guest that is down gets a comment, so ssh://NAME fails to resolve."""
    blocks = [ssh_config_text(paths.DEFAULT_GUEST)]
    for st in list_guests():
        if st.name == paths.DEFAULT_GUEST:
            continue
        proxy = proxy_command(st) if st.running and st.private else None
        if not st.running:
            blocks.append(f"# {st.name}: down (stopped without `{paths.PROG} down`)\n")
        elif st.private and proxy is None:
            blocks.append(f"# {st.name}: up, but its systemd was not found (booting or stopping)\n")
        else:
            blocks.append(_host_block(st.name, st.port, proxy))
    return "\n".join(blocks)


def write_ssh_config(
    path: str | os.PathLike[str], name: str | None = paths.DEFAULT_GUEST, alias: str | None = None
) -> Path:
    """Write the entry of one guest (named ALIAS if given), or with name None of every guest
    (ssh_config_all)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(ssh_config_all() if name is None else ssh_config_text(name, alias))
    return target
