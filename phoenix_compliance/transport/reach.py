"""What differs between testinfra backends beyond running commands, decided once
per host: how the Podman API socket is reached.

A local host is reached directly; an ssh host through an ssh-forwarded socket;
any other backend (paramiko, docker, ...) runs commands only, so its API is out of
reach. testinfra's ansible:// hosts are first unwrapped to the backend their
inventory describes. The host's published ports are never asked from here: the
endpoint probe asks them on the host itself (facts/endpoints.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from phoenix_compliance.transport import podman_api

# A client of the host's API socket, or why there is none.
ApiClient = podman_api.PodmanApi | podman_api.ApiUnavailable


class Reach(Protocol):
    def connect(self, wait: float) -> str | None:
        """Open the host's connection before its first command, waiting at most `wait` seconds:
        None, or why it cannot be reached."""
        ...

    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> ApiClient:
        """A client of the host's API socket, opened now, or why there is none."""
        ...

    def close(self) -> None: ...


class LocalReach:
    """This machine: the socket is a local file, the ports are local ports."""

    def connect(self, wait: float) -> str | None:
        return None

    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> ApiClient:
        return podman_api.PodmanApi(Path(socket), f"API socket {socket} on {host_id}", timeout)

    def close(self) -> None:
        pass


class SshReach:
    """An ssh host: one connection per run (an ssh master of the run's own, which testinfra's
    commands and the API socket's forward share), the ports at the address ssh resolves.

    Where the master cannot be used (testinfra's connection sharing turned off or taken over by
    --ssh-extra-args, or a password login), the commands run as testinfra runs them and the
    socket through a forward of its own, a second connection."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self._forward: podman_api.SocketForward | None = None
        self._master: podman_api.SshMaster | None = None

    def _shareable(self) -> bool:
        extra = (getattr(self.backend, "ssh_extra_args", None) or "").lower()
        return (
            bool(getattr(self.backend, "controlpersist", 0))
            and "controlmaster" not in extra
            and "controlpath" not in extra
            and not getattr(self.backend.host, "password", None)
        )

    def connect(self, wait: float) -> str | None:
        if not self._shareable():
            return None
        target = podman_api.SshTarget.from_backend(self.backend)
        try:
            # The whole probe bound, as a command's connection had before: a loaded host may take
            # longer than ssh's ConnectTimeout for the key exchange and login (seen: 64 guests on
            # two cores, two of them past 15 s).
            self._master = podman_api.SshMaster(target, wait=wait)
        except podman_api.ApiUnavailable as exc:
            return str(exc)
        # testinfra's ssh then multiplexes every command over the master (its ControlMaster=auto
        # finds it on this path first).
        self.backend.controlpath = str(self._master.control)
        return None

    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> ApiClient:
        if self._master is not None:
            where = f"API socket {socket} on {host_id}, through an ssh-forwarded socket"
            try:
                return podman_api.PodmanApi(self._master.forward(socket, wait), where, timeout)
            except podman_api.ApiUnavailable as exc:
                return exc
        where = f"API socket {socket} on {host_id}, through an ssh-forwarded socket"
        try:
            self._forward = podman_api.SocketForward(podman_api.SshTarget.from_backend(self.backend), socket, wait=wait)
        except podman_api.ApiUnavailable as exc:
            return exc
        return podman_api.PodmanApi(self._forward.local, where, timeout)

    def close(self) -> None:
        if self._forward is not None:
            self._forward.close()
            self._forward = None
        if self._master is not None:
            self._master.close()
            self._master = None
            self.backend.controlpath = None


class CommandsOnlyReach:
    """A backend that runs commands but cannot forward a unix socket."""

    def __init__(self, backend: Any, name: str) -> None:
        self.backend = backend
        self.name = name

    def connect(self, wait: float) -> str | None:
        return None

    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> ApiClient:
        return podman_api.ApiUnavailable(
            f"the {self.name or 'unknown'} backend cannot forward a unix socket; use ssh://"
        )

    def close(self) -> None:
        pass


def reach_for(backend: Any) -> Reach:
    """How to reach the host of a testinfra backend, chosen by the backend that really reaches it."""
    backend = _unwrap_ansible(backend)
    # A backend that brings its own way to the API (the benchmark's simulated hosts) is reached by it.
    own = getattr(backend, "phoenix_reach", None)
    if callable(own):
        reach: Reach = own()
        return reach
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
