"""SELinux separation turned off for a container (PHX-S.20, and the lint's QL053)."""

from __future__ import annotations

from collections.abc import Iterable

from phoenix_compliance.grammar.labels import label_option
from phoenix_compliance.parsers.compose import ComposeFile, ComposeService
from phoenix_compliance.quadlet.readers import strip_matching_quotes
from phoenix_compliance.quadlet.unitfile import Entry, UnitFile
from phoenix_compliance.rules import RuleSpec
from phoenix_compliance.security.common import Offence, podman_options, unit_offence

LABELLING_OFF = RuleSpec(
    id="SEC-NOLABEL",
    title="SELinux separation is not turned off for a container",
    remediation="remove SecurityLabelDisable=/SecurityLabelType= (compose: security_opt label=...) and give the "
    "container's own data :Z; keep it only where host content must not be relabelled",
    check="PHX-S.20",
)


def quadlet_labelling_off(unit: UnitFile) -> tuple[Entry, str] | None:
    """Where a container turns SELinux labelling off or changes its type, and how it is written."""
    if unit.main_section_name != "Container":
        return None
    disable = unit.last("Container", "SecurityLabelDisable")
    if disable is not None and strip_matching_quotes(disable.value).lower() in ("true", "yes", "1", "on"):
        return disable, f"SecurityLabelDisable={disable.value}"
    label_type = unit.last("Container", "SecurityLabelType")
    if label_type is not None and strip_matching_quotes(label_type.value):
        return label_type, f"SecurityLabelType={label_type.value}"
    for entry in unit.entries_for("Container", "PodmanArgs"):
        for option, value in podman_options(entry.value):
            if option == "--security-opt" and value is not None and label_option(value) is not None:
                return entry, f"PodmanArgs --security-opt {value}"
    return None


def compose_labelling_off(service: ComposeService) -> str | None:
    """The `security_opt` entry of a service that turns SELinux labelling off or changes its type."""
    return next((option for option in service.security_opt if label_option(option) is not None), None)


def quadlet_labelling_disabled(units: Iterable[UnitFile]) -> list[Offence]:
    offences = []
    for unit in units:
        found = quadlet_labelling_off(unit)
        if found is not None:
            entry, how = found
            offences.append(unit_offence(LABELLING_OFF, unit, entry, how, labelling_off_message(how)))
    return offences


def compose_labelling_disabled(compose: ComposeFile) -> list[Offence]:
    offences = []
    for service in compose.services.values():
        how = compose_labelling_off(service)
        if how is not None:
            subject = f"service {service.name}, security_opt {how}"
            line = service.line_of("security_opt")
            offences.append(Offence(LABELLING_OFF.id, *compose.locate(line), subject, labelling_off_message(how)))
    return offences


def labelling_off_message(how: str) -> str:
    changed = "runs as another SELinux type" if "type" in how.lower() else "is not separated by SELinux"
    return (
        f"the container {changed}, so SELinux does not keep it from the user's other files and "
        "containers; its mounts need no :Z. Keep it only for a container that needs host content that must "
        "not be relabelled (a whole home, /etc, a socket)"
    )
