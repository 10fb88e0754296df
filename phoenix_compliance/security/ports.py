"""Published host ports below the unprivileged start (PHX-S.04)."""

from __future__ import annotations

from collections.abc import Iterable

from phoenix_compliance.grammar.ports import read_publish
from phoenix_compliance.grammar.specifiers import NOTHING_KNOWN, expand
from phoenix_compliance.parsers.compose import ComposeFile
from phoenix_compliance.quadlet.readers import strip_matching_quotes, unit_environment
from phoenix_compliance.quadlet.unitfile import UnitFile
from phoenix_compliance.rules import RuleSpec
from phoenix_compliance.security.common import PORT_SECTIONS, Offence, entries, unit_offence

UNPRIVILEGED_PORTS = RuleSpec(
    id="SEC-PORT",
    title="No published host port below net.ipv4.ip_unprivileged_port_start",
    remediation="publish on a host port of 1024 or more (e.g. 8080:80) and put a proxy or firewall redirect in front",
    check="PHX-S.04",
)


def compose_unprivileged_ports(compose: ComposeFile, *, unprivileged_start: int = 1024) -> list[Offence]:
    """Rootless podman binds published ports as the user, so the host's sysctl decides."""
    offences = []
    for service in compose.services.values():
        low: dict[int, list[int]] = {}
        for mapping in service.ports:
            if mapping.host_port is not None and mapping.host_port < unprivileged_start:
                found = low.setdefault(mapping.line, [])
                if mapping.host_port not in found:  # 53:53/tcp,udp binds port 53 once per protocol
                    found.append(mapping.host_port)
        # A range such as 80-90:80-90 is one line and one offence, not eleven.
        for line, ports in low.items():
            offences.append(
                Offence(
                    UNPRIVILEGED_PORTS.id,
                    *compose.locate(line),
                    f"service {service.name}, port {_port_list(ports)}",
                    _port_message(ports, unprivileged_start) + compose.written(line),
                )
            )
    return offences


def quadlet_unprivileged_ports(units: Iterable[UnitFile], *, unprivileged_start: int = 1024) -> list[Offence]:
    """`PublishPort=` on .container, .pod (and .kube) units."""
    offences = []
    for unit in units:
        known = NOTHING_KNOWN.with_environment(unit_environment(unit))
        for entry in entries(unit, PORT_SECTIONS, "PublishPort"):
            # Read as podman reads --publish (Quadlet passes it on); an unreadable spec is the lint's
            # QL061. A ${PORT} the unit's [Service] environment sets is judged as systemd passes it on.
            found = read_publish(expand(strip_matching_quotes(entry.value), known))
            if isinstance(found, str):
                continue
            ports = [port for port in found.host_port_list if port < unprivileged_start]
            if ports:
                subject = f"PublishPort={entry.value}"
                message = _port_message(ports, unprivileged_start)
                offences.append(unit_offence(UNPRIVILEGED_PORTS, unit, entry, subject, message))
    return offences


def _port_list(ports: list[int]) -> str:
    return str(ports[0]) if len(ports) == 1 else f"{ports[0]}-{ports[-1]}"


def _port_message(ports: list[int], start: int) -> str:
    return (
        f"host port {_port_list(ports)} is below net.ipv4.ip_unprivileged_port_start={start}, so rootless "
        f"podman cannot bind it ('cannot expose privileged port {ports[0]}'); publish {start} or above"
    )
