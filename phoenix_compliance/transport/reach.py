"""What differs between testinfra backends beyond running commands, decided once
per host: how the Podman API socket is reached, and what route the machine
running the suite has to the host's published ports.

A local host is reached directly; an ssh host through an ssh-forwarded socket
and the address `ssh -G` resolves its alias to; any other backend (paramiko,
docker, ...) runs commands only, so its API is out of reach and its ports are
asked at the host's name. testinfra's ansible:// hosts are first unwrapped to the
backend their inventory describes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Protocol

from phoenix_compliance.transport import podman_api

# A client of the host's API socket, or why there is none.
ApiClient = podman_api.PodmanApi | podman_api.ApiUnavailable


class Reach(Protocol):
    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> ApiClient:
        """A client of the host's API socket, opened now, or why there is none."""
        ...

    def suite_route(self) -> str | None:
        """ "" for the URLs as they are (a local host), a hostname to put in them, or None when
        only the host itself can ask (127.0.0.1 here is not the host's network)."""
        ...

    def close(self) -> None: ...


class LocalReach:
    """This machine: the socket is a local file, the ports are local ports."""

    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> ApiClient:
        return podman_api.PodmanApi(Path(socket), f"API socket {socket} on {host_id}", timeout)

    def suite_route(self) -> str | None:
        return ""

    def close(self) -> None:
        pass


class SshReach:
    """An ssh host: the socket through a forward of its own, the ports at the address ssh resolves."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._forward: podman_api.SocketForward | None = None

    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> ApiClient:
        where = f"API socket {socket} on {host_id}, through an ssh-forwarded socket"
        try:
            self._forward = podman_api.SocketForward(podman_api.SshTarget.from_backend(self.backend), socket, wait=wait)
        except podman_api.ApiUnavailable as exc:
            return exc
        return podman_api.PodmanApi(self._forward.local, where, timeout)

    def suite_route(self) -> str | None:
        name = str(self.backend.host.name)
        # An ssh alias (Host refhost) only means something to ssh: ask it.
        argv = ["ssh", "-G"] + (["-F", self.backend.ssh_config] if self.backend.ssh_config else []) + [name]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return name
        settings = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
        # A ProxyCommand or ProxyJump: only the host itself can reach its ports.
        if settings.get("proxycommand", "none") != "none" or settings.get("proxyjump", "none") != "none":
            return None
        return settings.get("hostname", name).strip()

    def close(self) -> None:
        if self._forward is not None:
            self._forward.close()
            self._forward = None


class CommandsOnlyReach:
    """A backend that runs commands but cannot forward a unix socket."""

    def __init__(self, backend: Any, name: str) -> None:
        self.backend = backend
        self.name = name

    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> ApiClient:
        return podman_api.ApiUnavailable(
            f"the {self.name or 'unknown'} backend cannot forward a unix socket; use ssh://"
        )

    def suite_route(self) -> str | None:
        return str(self.backend.host.name)

    def close(self) -> None:
        pass


def reach_for(backend: Any) -> Reach:
    """How to reach the host of a testinfra backend, chosen by the backend that really reaches it."""
    backend = _unwrap_ansible(backend)
    name = getattr(backend, "NAME", "")
    if name == "local":
        return LocalReach()
    if name in ("ssh", "safe-ssh"):
        return SshReach(backend)
    return CommandsOnlyReach(backend, name)


def _unwrap_ansible(backend: Any) -> Any:
    """The backend that really reaches the host. testinfra's ansible:// hosts run their
    commands through the ssh, paramiko or local backend the inventory describes; the API
    forward and the endpoint route need that one."""
    if getattr(backend, "NAME", "") != "ansible" or getattr(backend, "force_ansible", False):
        return backend
    try:
        host = backend.ansible_runner.get_host(
            backend.host, ssh_config=backend.ssh_config, ssh_identity_file=backend.ssh_identity_file
        )
    except Exception:  # an unusable inventory is reported by the first probe
        return backend
    return host.backend if host is not None else backend
