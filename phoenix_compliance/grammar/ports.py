"""Publish specs (``-p``, Quadlet's PublishPort=, compose short syntax) and port ranges.

Podman reads ``[[ip:]hostPort:]containerPort[/protocol]`` with an IPv6 address
in brackets (``CreatePortBindings()``, ``pkg/specgenutil/util.go``);
podman-compose's short syntax has the same fields but finds them from the
right, so its parser (parsers/compose.py) splits them itself and shares the
protocols and ranges here.
"""

from __future__ import annotations

import ipaddress
import re

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


def publish_port_problem(value: str) -> str | None:
    """Why podman would refuse a --publish value, or None (podman-run(1) --publish)."""
    body, _slash, protocols = value.partition("/")
    if protocols and not all(p in PROTOCOLS for p in protocols.split(",")):
        return f"'{protocols}' is not tcp, udp or sctp"
    address = ""
    if body.startswith("["):
        end = body.find("]")
        if end == -1 or body[end + 1 : end + 2] != ":":
            return "an IPv6 address must be written [address]:hostPort:containerPort"
        address, rest = body[1:end], body[end + 2 :]
        parts = rest.split(":")
        if len(parts) != 2:
            return "expected [address]:hostPort:containerPort"
        host, container = parts
    else:
        parts = body.split(":")
        if len(parts) > 3:
            return "too many ':'; expected [[address:]hostPort:]containerPort"
        container = parts[-1]
        host = parts[-2] if len(parts) >= 2 else ""
        address = parts[0] if len(parts) == 3 else ""
    if address:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return f"'{address}' is not an IP address"
    container_range = port_range(container, 1)
    if container_range is None:
        return f"'{container}' is not a container port or range (1-65535)"
    if host:
        host_range = port_range(host, 0)
        if host_range is None:
            return f"'{host}' is not a host port or range (0-65535)"
        if host_range[1] - host_range[0] != container_range[1] - container_range[0] and host_range[0] != 0:
            return "the host and container ranges differ in length"
    return None
