"""A check's metadata, declared beside the check itself.

@check("PHX-1.07", phase="1", severity="critical",
       title="Podman runs rootless",
       remediation="...")
def test_rootless(facts): ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import pytest

from phoenix_compliance.catalogue import PHASES, ROOT, SEVERITIES, USER, CheckSpec, Step
from phoenix_compliance.facts import HostFacts
from phoenix_compliance.facts.groups import CouldNotCheck
from phoenix_compliance.parsers.manifest import ServiceGroup

F = TypeVar("F", bound=Callable[..., Any])


CATALOGUE: dict[str, CheckSpec] = {}


def check(
    id: str,
    *,
    phase: str,
    severity: str,
    title: str,
    remediation: str,
    files: bool = False,
    fix: tuple[Step, ...] = (),
) -> Callable[[F], F]:
    """Declare a test function as a compliance check; `files` when it reads only files; `fix`
    the shell steps an operator's plan takes when it fails (catalogue.Step)."""
    if phase not in PHASES:
        raise ValueError(f"{id}: phase {phase!r} is not one of {', '.join(PHASES)}")
    if severity not in SEVERITIES:
        raise ValueError(f"{id}: severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    for step in fix:
        if step.who not in (ROOT, USER):
            raise ValueError(f"{id}: a fix step's who {step.who!r} is not {ROOT} or {USER}")
    spec = CheckSpec(id, phase, severity, title, remediation.strip(), files, fix)
    known = CATALOGUE.get(id)
    if known is not None and known != spec:
        raise ValueError(f"check id {id} is declared twice with different metadata")
    CATALOGUE[id] = spec

    def decorate(function: F) -> F:
        marked: F = pytest.mark.check(spec)(function)
        return marked

    return decorate


def container_of(facts: HostFacts, service: str) -> dict[str, Any]:
    """The service's container from the host's API, or fail the check saying why not
    (an API that cannot be asked makes the check "could not check")."""
    container = facts.podman.container_for(service)
    where = facts.podman.where
    if container is None:
        names = sorted(n for c in facts.podman.containers for n in c.get("Names") or [])
        pytest.fail(
            f"expected a container for service {service}, got none (containers: {', '.join(names) or 'none'}; {where})",
            pytrace=False,
        )
    return container


NOT_APPLICABLE_PREFIX = "not applicable: "


def not_applicable(reason: str) -> None:
    """End a check whose subject the host does not have; the report shows it as such."""
    pytest.skip(NOT_APPLICABLE_PREFIX + reason)


def require_group_trace(facts: HostFacts, group: ServiceGroup, live: bool = True) -> None:
    """End a check of an optional group's service, unit or endpoint as not applicable where the
    host has no trace of the group (PHX-3.13 judges a group deployed in part)."""
    trace = facts.optional.trace(group, live)
    if not trace.present:
        # Said in full once, by PHX-3.13; each check of the group's parts only points there.
        not_applicable(f"the optional group {group.name} is not deployed (PHX-3.13 names what was looked for)")


def could_not_check(what: str, reason: str) -> NoReturn:
    """End a check a fact of which could not be gathered; the report shows it as such, with the reason."""
    raise CouldNotCheck(what, reason)


def spec_of(item: pytest.Item) -> CheckSpec | None:
    marker = item.get_closest_marker("check")
    if marker is None or not marker.args or not isinstance(marker.args[0], CheckSpec):
        return None
    return marker.args[0]
