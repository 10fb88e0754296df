"""Publish specs (``-p``, Quadlet's PublishPort=, compose ``ports:``) and port ranges: one reading.

Podman reads ``[[ip:]hostPort[-end]:]containerPort[-end][/protocols]``
(``CreatePortBindings()``, ``parseSplitPort()``, ``parseAndValidateRange()`` in
``pkg/specgenutil/util.go``, the same at v5.4.2 and v5.8.2):

- one ``/`` at most; what follows is a comma-separated list of protocols, each
  tcp, udp or sctp in any case, an empty item meaning tcp, duplicates dropped
  (``checkProtocol()``, ``pkg/specgen/generate/ports.go``): ``80:80/tcp,udp``
  publishes port 80 twice, once per protocol (``bindPorts()`` in
  ``libpod/oci_util.go`` binds each);
- an IPv6 address only in brackets, followed by ``:hostPort:containerPort``;
- ports 1 to 65535, a range ``start-end`` with end above start, host and container
  ranges of the same length; an empty host port (``127.0.0.1::80``) lets podman pick one.

Quadlet hands PublishPort= to ``--publish`` untouched (``handlePublishPorts()``),
so the lint and the security rules read it here. podman-compose's short syntax has
the same fields; the compose parser finds them from the right (``compose_short``),
so an unbracketed IPv6 host address stays one field, and its long syntax gives the
fields apart (``publish_fields()``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass

PROTOCOLS = frozenset({"tcp", "udp", "sctp"})

_RANGE = re.compile(r"(\d+)(?:-(\d+))?")


def port_range(text: str, lowest: int = 1) -> tuple[int, int] | None:
    """(first, last) of a port or range ``N[-M]`` within lowest..65535, or None."""
    match = _RANGE.fullmatch(text)
    if not match:
        return None
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if not lowest <= first <= last <= 65535:
        return None
    return first, last


@dataclass(frozen=True)
class Publish:
    """One publish spec as podman reads it."""

    host_ip: str | None
    host_ports: tuple[int, int] | None  # None: podman picks a free host port
    container_ports: tuple[int, int]
    protocols: tuple[str, ...]

    def mappings(self) -> Iterator[tuple[int | None, int, str]]:
        """(host port or None, container port, protocol) of every port published, protocol by protocol."""
        first, last = self.container_ports
        for protocol in self.protocols:
            for offset in range(last - first + 1):
                host = None if self.host_ports is None else self.host_ports[0] + offset
                yield host, first + offset, protocol

    @property
    def host_port_list(self) -> list[int]:
        """Every host port bound, once each (whatever the protocols)."""
        if self.host_ports is None:
            return []
        return list(range(self.host_ports[0], self.host_ports[1] + 1))


def read_protocols(text: str) -> tuple[str, ...] | str:
    """The protocols of ``/tcp,udp`` (without the slash) as podman's checkProtocol() reads them, or why not."""
    found: list[str] = []
    for item in text.split(","):
        protocol = item.lower() or "tcp"
        if protocol not in PROTOCOLS:
            return f"unknown protocol {item!r} (podman takes tcp, udp or sctp)"
        if protocol not in found:
            found.append(protocol)
    return tuple(found)


def publish_fields(host_ip: str | None, host: str | None, container: str, protocols: str) -> Publish | str:
    """A spec given as fields (compose long syntax, or a split short spec): the Publish, or why podman refuses it."""
    read = read_protocols(protocols)
    if isinstance(read, str):
        return read
    if host_ip is not None:
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            return f"host address {host_ip!r} is not an IP address"
    container_ports = port_range(container)
    if container_ports is None:
        return f"container port {container!r} is not a port or range 1-65535"
    if not host:
        return Publish(host_ip, None, container_ports, read)
    host_ports = port_range(host)
    if host_ports is None:
        return f"host port {host!r} is not a port or range 1-65535"
    if host_ports[1] - host_ports[0] != container_ports[1] - container_ports[0]:
        # Docker picks one free port from `8000-8010:80`; podman refuses it
        # (containers/podman#22980), and unequal ranges fail in both.
        return "the host and container port ranges differ in length"
    return Publish(host_ip, host_ports, container_ports, read)


def read_publish(spec: str, *, compose_short: bool = False) -> Publish | str:
    """A ``--publish`` value (PublishPort=, a compose short spec with ``compose_short``): the Publish, or why not."""
    body, slash, protocols = spec.partition("/")
    if "/" in protocols:
        return "the protocol can be given only once"
    if slash and not protocols:
        return "an empty protocol after '/'"
    host_ip: str | None = None
    if "]" in body:
        address, _bracket, rest = body.partition("]")
        if not address.startswith("[") or "]" in rest:
            return "an IPv6 address must be written once, in brackets: [address]:hostPort:containerPort"
        if not rest.startswith(":"):
            return "an IPv6 address must be followed by ':' and hostPort:containerPort"
        host_ip = address[1:]
        parts = rest[1:].split(":")
        if len(parts) != 2:
            return "with an IPv6 address, write [address]:hostPort:containerPort"
        host, container = parts
    else:
        # podman-compose finds the fields from the right, so `::1:6000:6000` keeps its address whole.
        parts = body.rsplit(":", 2) if compose_short else body.split(":")
        if compose_short:
            parts = [part.strip() for part in parts]
        if len(parts) > 3:
            return "too many ':'; expected [[address:]hostPort:]containerPort"
        container = parts[-1]
        host = parts[-2] if len(parts) >= 2 else ""
        if len(parts) == 3:
            host_ip = parts[0]
            if not host_ip:
                return "an empty host address before ':'"
    return publish_fields(host_ip, host, container, protocols or "tcp")


def publish_port_problem(value: str) -> str | None:
    """Why podman would refuse a --publish value, or None (podman-run(1) --publish)."""
    found = read_publish(value)
    return found if isinstance(found, str) else None
