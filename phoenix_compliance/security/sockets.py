"""Podman or Docker API sockets mounted into a container."""

from __future__ import annotations

from collections.abc import Iterable

from phoenix_compliance.grammar.sockets import is_api_socket
from phoenix_compliance.grammar.volumes import parse_mount, split_volume
from phoenix_compliance.parsers.compose import ComposeFile
from phoenix_compliance.quadlet.readers import strip_matching_quotes
from phoenix_compliance.quadlet.unitfile import UnitFile
from phoenix_compliance.rules import RuleSpec
from phoenix_compliance.security.common import MOUNT_SECTIONS, Offence, entries, unit_offence

__all__ = ["SOCKET_MOUNTS", "compose_socket_mounts", "is_api_socket", "quadlet_socket_mounts"]

SOCKET_MOUNTS = RuleSpec(
    id="SEC-SOCKET",
    title="No Podman or Docker API socket mounted into a container",
    remediation="remove the socket mount; a container that needs the API gets a narrowed proxy, not the socket",
    check="PHX-S.13",
)


def compose_socket_mounts(compose: ComposeFile) -> list[Offence]:
    """Any mount whose source is an API socket, whatever kind the parser gave it.

    The kind is not trusted here: `${XDG_RUNTIME_DIR}/podman/podman.sock` reads
    as a named volume before podman-compose interpolates it into a path.
    """
    offences = []
    for service in compose.services.values():
        for mount in service.volumes:
            # As written too: an unset ${XDG_RUNTIME_DIR} empties the path that names the socket.
            written = [s.written.split(":", 1)[0] for s in compose.substitutions.get(mount.line, [])]
            if mount.source is not None and any(is_api_socket(source) for source in [mount.source, *written]):
                offences.append(
                    Offence(
                        SOCKET_MOUNTS.id,
                        *compose.locate(mount.line),
                        f"service {service.name}, volume {(written or [mount.source])[0]}:{mount.target}",
                        _socket_message(mount.source),
                    )
                )
    return offences


def quadlet_socket_mounts(units: Iterable[UnitFile]) -> list[Offence]:
    """`Volume=` and `Mount=` sources that are an API socket."""
    offences = []
    for unit in units:
        for entry in entries(unit, MOUNT_SECTIONS, "Volume"):
            source, target, _options = split_volume(strip_matching_quotes(entry.value))
            if source and is_api_socket(source):
                subject = f"Volume={source}:{target}"
                offences.append(unit_offence(SOCKET_MOUNTS, unit, entry, subject, _socket_message(source)))
        for entry in entries(unit, MOUNT_SECTIONS, "Mount"):
            mount = parse_mount(strip_matching_quotes(entry.value))
            mount_source = mount.source if mount is not None else None
            if mount_source and is_api_socket(mount_source):
                subject = f"Mount source={mount_source}"
                offences.append(unit_offence(SOCKET_MOUNTS, unit, entry, subject, _socket_message(mount_source)))
    return offences


def _socket_message(source: str) -> str:
    return (
        f"{source} is the container engine's API socket: whoever runs in the container can start "
        "privileged containers and mount any host path, i.e. take over the account that owns the socket"
    )
