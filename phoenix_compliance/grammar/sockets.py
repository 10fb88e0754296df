"""The container engines' API sockets, in every spelling a mount source can give them.

Whoever holds the Podman or Docker API socket can start privileged containers
and mount any host path. The rootful sockets are ``/run/podman/podman.sock``
and ``/run/docker.sock`` (``/var/run`` is a symlink to ``/run`` on every systemd
host); the rootless ones sit in the user's runtime directory, written ``%t``
(systemd), ``$XDG_RUNTIME_DIR`` or ``${XDG_RUNTIME_DIR:-...}`` (a shell, compose)
or ``/run/user/UID``. Mounting the folder that holds a socket hands it over all
the same.
"""

from __future__ import annotations

import posixpath
import re

# Every spelling of the user's runtime directory, so `%t/podman/podman.sock`,
# `${XDG_RUNTIME_DIR:-/run/user/1000}/...` and `/run/user/1000/...` compare equal.
_RUNTIME_DIR = re.compile(r"^(?:%t|\$XDG_RUNTIME_DIR|\$\{XDG_RUNTIME_DIR(?::?[-=?+][^}]*)?\}|/run/user/[^/]+)(?=/|$)")
_RUNTIME = "<runtime>"
# The API sockets, and the directories holding them.
_SOCKETS = frozenset(
    {
        "/run/podman/podman.sock",
        "/run/podman",
        "/run/docker.sock",
        f"{_RUNTIME}/podman/podman.sock",
        f"{_RUNTIME}/podman",
        f"{_RUNTIME}/docker.sock",
    }
)


def socket_path(source: str) -> str:
    """A mount source as a comparable path: runtime directory spelled one way, /var/run as /run,
    '.', '..' and repeated slashes resolved."""
    path = _RUNTIME_DIR.sub(_RUNTIME, source.strip())
    path = posixpath.normpath(path) if path else path
    path = "/" + path.lstrip("/") if path.startswith("/") else path
    if path == "/var/run" or path.startswith("/var/run/"):
        path = path.removeprefix("/var")
    return path


def is_api_socket(source: str) -> bool:
    """Whether a mount source is a Podman or Docker API socket (or its directory)."""
    return socket_path(source) in _SOCKETS


def is_docker_socket(source: str) -> bool:
    """Whether a mount source is Docker's API socket (rootful or rootless)."""
    return socket_path(source) in ("/run/docker.sock", f"{_RUNTIME}/docker.sock")
