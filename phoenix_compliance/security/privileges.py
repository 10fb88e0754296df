"""Privileged mode, extra capabilities and host namespaces."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from phoenix_compliance.grammar.podman_args import flag_on
from phoenix_compliance.parsers.compose import ComposeFile, ComposeService
from phoenix_compliance.quadlet.readers import strip_matching_quotes
from phoenix_compliance.quadlet.unitfile import UnitFile
from phoenix_compliance.rules import RuleSpec
from phoenix_compliance.security.common import (
    NETWORK_SECTIONS,
    PORT_SECTIONS,
    Offence,
    entries,
    podman_options,
    unit_offence,
)

PRIVILEGES = RuleSpec(
    id="SEC-PRIV",
    title="No privileged mode, extra capabilities or host namespaces",
    remediation="drop privileged/--privileged, extra capabilities and host network/pid; grant one capability at a time",
    check="PHX-S.11",
)


def compose_privileges(compose: ComposeFile, *, allowed_caps: Collection[str] = ()) -> list[Offence]:
    """`privileged: true`, `cap_add` beyond `allowed_caps`, `network_mode: host`, `pid: host`."""
    allowed = {_cap(cap) for cap in allowed_caps}
    offences = []

    def add(service: ComposeService, key: str, subject: str, message: str) -> None:
        offences.append(
            Offence(PRIVILEGES.id, *compose.locate(service.line_of(key)), f"service {service.name}, {subject}", message)
        )

    for service in compose.services.values():
        if service.privileged:
            add(service, "privileged", "privileged: true", _PRIVILEGED_MESSAGE)
        for cap in service.cap_add:
            if _cap(cap) not in allowed:
                add(service, "cap_add", f"cap_add {_cap(cap)}", _cap_message(_cap(cap), allowed))
        if service.network_mode == "host":
            add(service, "network_mode", "network_mode: host", _HOST_NETWORK_MESSAGE)
        if service.pid == "host":
            add(service, "pid", "pid: host", _HOST_PID_MESSAGE)
    return offences


def quadlet_privileges(units: Iterable[UnitFile], *, allowed_caps: Collection[str] = ()) -> list[Offence]:
    """`AddCapability=`, `Network=host`, and the same asked for through `PodmanArgs=`."""
    allowed = {_cap(cap) for cap in allowed_caps}
    offences = []
    for unit in units:
        for entry in entries(unit, ("Container",), "AddCapability"):
            for cap in strip_matching_quotes(entry.value).split():
                if _cap(cap) not in allowed:
                    subject = f"AddCapability {_cap(cap)}"
                    offences.append(unit_offence(PRIVILEGES, unit, entry, subject, _cap_message(_cap(cap), allowed)))
        for entry in entries(unit, NETWORK_SECTIONS, "Network"):
            # Network= may carry options after a colon (`host:...` is still host).
            if strip_matching_quotes(entry.value).split(":", 1)[0] == "host":
                offences.append(unit_offence(PRIVILEGES, unit, entry, "Network=host", _HOST_NETWORK_MESSAGE))
        for entry in entries(unit, PORT_SECTIONS, "PodmanArgs"):
            for option, value in podman_options(entry.value):
                for subject, message in _podman_arg_privileges(option, value, allowed):
                    offences.append(unit_offence(PRIVILEGES, unit, entry, f"PodmanArgs {subject}", message))
    return offences


def _podman_arg_privileges(option: str, value: str | None, allowed: set[str]) -> list[tuple[str, str]]:
    """(subject, message) for one podman option that widens the container's privileges."""
    if option == "--privileged" and flag_on(value):
        return [("--privileged", _PRIVILEGED_MESSAGE)]
    if option == "--pid" and value == "host":
        return [("--pid=host", _HOST_PID_MESSAGE)]
    if option in ("--network", "--net") and value is not None and value.split(":")[0] == "host":
        return [(f"{option}=host", _HOST_NETWORK_MESSAGE)]
    if option == "--cap-add" and value is not None:
        # podman reads --cap-add as a string slice: commas separate capabilities.
        caps = [_cap(cap) for cap in value.split(",") if cap.strip()]
        return [(f"--cap-add {cap}", _cap_message(cap, allowed)) for cap in caps if cap not in allowed]
    return []


_PRIVILEGED_MESSAGE = (
    "privileged mode gives the container every capability, all host devices and no SELinux/seccomp "
    "confinement; grant the one capability or device it needs instead"
)
_HOST_NETWORK_MESSAGE = (
    "the host network namespace lets the container bind and sniff every host interface and reach "
    "services listening on localhost; publish the ports it serves instead"
)
_HOST_PID_MESSAGE = "the host PID namespace lets the container see and signal every process of the user; drop it"


def _cap(name: str) -> str:
    """`cap_net_admin` and `NET_ADMIN` are the same capability to podman."""
    name = name.strip().upper()
    return name.removeprefix("CAP_")


def _cap_message(cap: str, allowed: set[str]) -> str:
    permitted = ", ".join(sorted(allowed)) or "none"
    return f"capability {cap} is not in the allow-list ({permitted}); drop it or justify adding it to the list"
