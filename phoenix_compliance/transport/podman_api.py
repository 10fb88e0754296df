"""Reaching a host's rootless Podman API socket from the machine running the suite.

Local hosts are reached on their socket directly. Remote hosts are reached on
*their* socket through an SSH-forwarded unix socket, opened once per host and
run, so a local socket is never mistaken for the remote one.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shlex
import subprocess
import tempfile
import time
import urllib.parse
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import requests


class ApiUnavailable(Exception):
    """The API socket could not be reached; the message says why and where."""


@dataclass
class SshTarget:
    """What is needed to open a second SSH channel to a testinfra ssh host."""

    hostname: str
    user: str | None
    port: str | None
    ssh_config: str | None
    identity_file: str | None
    extra_args: str | None
    connect_timeout: int

    @classmethod
    def from_backend(cls, backend: Any) -> SshTarget:
        return cls(
            hostname=backend.host.name,
            user=backend.host.user,
            port=backend.host.port,
            ssh_config=backend.ssh_config,
            identity_file=backend.ssh_identity_file,
            extra_args=backend.ssh_extra_args,
            connect_timeout=int(getattr(backend, "timeout", 10)),
        )

    def _base_argv(self) -> list[str]:
        argv = ["ssh"]
        if self.extra_args:
            argv += shlex.split(self.extra_args)
        if self.ssh_config:
            argv += ["-F", self.ssh_config]
        if self.user:
            argv += ["-o", f"User={self.user}"]
        if self.port:
            argv += ["-o", f"Port={self.port}"]
        if self.identity_file:
            argv += ["-i", self.identity_file]
        return argv

    def master_argv(self, control: Path) -> list[str]:
        """The run's one connection to the host: an ssh master on `control` that the probes'
        commands (testinfra's ssh, pointed at it) and the API forward share as channels."""
        return [
            *self._base_argv(),
            *("-o", f"ConnectTimeout={self.connect_timeout}", "-o", "ServerAliveInterval=5"),
            *("-o", "BatchMode=yes", "-o", "ControlMaster=yes", "-o", f"ControlPath={control}"),
            *("-o", "ControlPersist=no", "-N", self.hostname),
        ]

    def mux_argv(self, control: Path, operation: str, local: Path, remote: str) -> list[str]:
        """Ask the master on `control` to add (`forward`) or drop (`cancel`) a socket forward."""
        return [
            *self._base_argv(),
            "-o",
            f"ControlPath={control}",
            "-O",
            operation,
            "-L",
            f"{local}:{remote}",
            self.hostname,
        ]

    def forward_argv(self, local: Path, remote: str) -> list[str]:
        argv = self._base_argv()
        argv += [
            "-o",
            f"ConnectTimeout={self.connect_timeout}",
            "-o",
            "ExitOnForwardFailure=yes",
            "-o",
            "ServerAliveInterval=5",
            "-o",
            "BatchMode=yes",
            # A forward of its own: a shared master would outlive this process.
            "-o",
            "ControlMaster=no",
            "-o",
            "ControlPath=none",
            "-N",
            "-L",
            f"{local}:{remote}",
            self.hostname,
        ]
        return argv


class SocketForward:
    """An `ssh -N -L local.sock:remote.sock` process, kept for the whole run."""

    def __init__(self, target: SshTarget, remote_socket: str, wait: float) -> None:
        self._dir = tempfile.mkdtemp(prefix="phx-api-")
        self.local = Path(self._dir) / "podman.sock"
        self.argv = target.forward_argv(self.local, remote_socket)
        self._process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + wait
        while not self.local.exists():
            if self._process.poll() is not None:
                stderr = (self._process.stderr.read() if self._process.stderr else "").strip()
                self.close()
                raise ApiUnavailable(f"ssh forward to {remote_socket} failed: {stderr or 'ssh exited'}")
            if time.monotonic() > deadline:
                self.close()
                raise ApiUnavailable(f"ssh forward to {remote_socket} not ready within {wait:g}s")
            time.sleep(0.02)

    def close(self) -> None:
        _end(self._process)
        with contextlib.suppress(OSError):
            self.local.unlink()
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)


_OPEN_MASTERS: weakref.WeakSet[SshMaster] = weakref.WeakSet()


@atexit.register
def _close_masters() -> None:
    for master in list(_OPEN_MASTERS):
        master.close()


class SshMaster:
    """The run's one ssh connection to a host (`ssh -M -N`, ControlPersist=no: it lives while
    this process keeps it): testinfra's commands and the API forward are channels of it, so a
    run costs the host one login, not one per probe plus one for the forward."""

    def __init__(self, target: SshTarget, wait: float) -> None:
        self.target = target
        self._dir = tempfile.mkdtemp(prefix="phx-ssh-")
        self.control = Path(self._dir) / "master"
        self._process = subprocess.Popen(
            target.master_argv(self.control),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Never left behind (ControlPersist=no keeps it only while it runs): closed with the host's
        # facts at the end of the run, or at the latest when this process exits.
        _OPEN_MASTERS.add(self)
        deadline = time.monotonic() + wait
        while not self.control.exists():
            if self._process.poll() is not None:
                stderr = (self._process.stderr.read() if self._process.stderr else "").strip().splitlines()
                self.close()
                raise ApiUnavailable(stderr[-1] if stderr else f"ssh exited with {self._process.returncode}")
            if time.monotonic() > deadline:
                self.close()
                raise ApiUnavailable(f"no answer within {wait:g}s (ssh connection)")
            time.sleep(0.02)

    def forward(self, remote: str, wait: float) -> Path:
        """A local socket forwarded to `remote` through the master (no second connection)."""
        local = Path(self._dir) / "podman.sock"
        try:
            done = subprocess.run(
                self.target.mux_argv(self.control, "forward", local, remote),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=wait,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ApiUnavailable(f"ssh forward to {remote} not ready within {wait:g}s") from None
        if done.returncode != 0 or not local.exists():
            said = done.stderr.strip().splitlines()
            raise ApiUnavailable(f"ssh forward to {remote} failed: {said[-1] if said else 'ssh exited'}")
        return local

    def close(self) -> None:
        _OPEN_MASTERS.discard(self)
        _end(self._process)
        for leftover in (self.control, Path(self._dir) / "podman.sock"):
            with contextlib.suppress(OSError):
                leftover.unlink()
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)


@dataclass(frozen=True)
class ApiFacts:
    """What the API answered to _ping (requests-unixsocket and podman-py), read once per host.

    libpod info is not asked: it computes the document `podman info` already gave (each runs
    conmon, the OCI runtime and the network helper for their versions, about 0.09 s of the
    host's CPU), and no check needs it from the API."""

    where: str
    ping: str | None
    ping_error: str | None
    podman_py_ping: bool | None
    podman_py_error: str | None

    @classmethod
    def unavailable(cls, where: str, reason: str) -> ApiFacts:
        return cls(where, None, reason, None, reason)


def _url(socket_path: Path, path: str) -> str:
    return f"http+unix://{urllib.parse.quote(str(socket_path), safe='')}{path}"


# Requests go to the v4 shapes, which Podman 5.1+ still serves to a /v4 prefix
# (V4PodmanCompatMarshal), so one parser reads 4.x and 5.x hosts alike.
LIBPOD = "/v4.0.0/libpod"


class PodmanApi:
    """The libpod REST API on one unix socket; one session, reused for every call.

    A call that gets no answer (timed out, connection lost) is remembered: every later
    call raises it at once, so an API that stopped answering costs one timeout, not one
    per check."""

    def __init__(self, socket_path: Path, where: str, timeout: float) -> None:
        self.socket_path = socket_path
        self.where = where
        self.timeout = timeout
        import requests_unixsocket  # here: requests costs a tenth of the start-up, a host's API is opened later

        self._session = requests_unixsocket.Session()
        self._silent: str | None = None

    def _request(self, path: str, params: dict[str, str] | None = None) -> requests.Response:
        import requests

        if self._silent is not None:
            raise ApiUnavailable(f"{path}: not asked, the API stopped answering ({self._silent})")
        try:
            response: requests.Response = self._session.get(
                _url(self.socket_path, path), params=params, timeout=self.timeout
            )
        except requests.RequestException as exc:
            self._silent = f"{path}: {short_error(exc)}"
            raise ApiUnavailable(f"{path}: {short_error(exc)} ({self.where})") from None
        return response

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """GET a JSON document; raise ApiUnavailable with a short reason."""
        response = self._request(path, params)
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise ApiUnavailable(f"{path}: HTTP {response.status_code} ({self.where})")
        try:
            return response.json()
        except ValueError:
            raise ApiUnavailable(f"{path}: not JSON ({self.where})") from None

    def probe(self) -> ApiFacts:
        """Ping with requests-unixsocket and podman-py."""
        ping: str | None = None
        ping_error: str | None = None
        try:
            response = self._request("/_ping")
            ping = response.text.strip()
            if response.status_code != 200:
                ping_error = f"HTTP {response.status_code}"
        except ApiUnavailable as exc:
            ping_error = short_error(exc)
        podman_py_ping: bool | None = None
        podman_py_error: str | None = f"not asked: {self._silent}"
        if self._silent is None:
            podman_py_ping, podman_py_error = _podman_py_ping(self.socket_path, self.timeout)
        return ApiFacts(self.where, ping, ping_error, podman_py_ping, podman_py_error)

    def containers(self) -> list[dict[str, Any]]:
        payload = self.get(f"{LIBPOD}/containers/json", {"all": "true"})
        return [c for c in payload or [] if isinstance(c, dict)]

    def inspect(self, name: str) -> dict[str, Any] | None:
        payload = self.get(f"{LIBPOD}/containers/{urllib.parse.quote(name, safe='')}/json")
        return payload if isinstance(payload, dict) else None

    def pods(self) -> list[dict[str, Any]]:
        payload = self.get(f"{LIBPOD}/pods/json")
        return [p for p in payload or [] if isinstance(p, dict)]

    def close(self) -> None:
        self._session.close()


def _podman_py_ping(socket_path: Path, timeout: float) -> tuple[bool | None, str | None]:
    # Imported here: podman-py is only needed once a host's API is actually probed.
    from podman import PodmanClient

    try:
        with PodmanClient(base_url=f"unix://{socket_path}", timeout=timeout) as client:
            return bool(client.ping()), None
    except Exception as exc:
        return None, short_error(exc)


def short_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    reason = text[-1] if text else type(exc).__name__
    # requests wraps socket errors in long reprs; keep what a reader can act on.
    for marker in (
        "No such file or directory",
        "Connection refused",
        "Permission denied",
        "timed out",
        "Connection reset",
    ):
        if marker in str(exc):
            return marker
    return reason[:200]


def _end(process: subprocess.Popen[str]) -> None:
    """An ssh client ended: asked to stop, killed after 5 s, its stderr pipe closed."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if process.poll() is None:
            process.kill()
    if process.stderr:
        process.stderr.close()
