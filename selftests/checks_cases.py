"""Every check function, run in milliseconds on a host that answers from memory: the shared part.

Each check is called directly with real HostFacts built on the fake runner
(selftests/fakehost/), so the real fact parsing reads what a reference host
prints; the outcome is classified as the plugin classifies it. For each check:
a pass, a fail, and each way its probe can fail (timed out: rc 124; program
missing: rc 127; empty output; the API unreachable where the check uses it).

This module holds what the test_checks_*.py families share: a Case, how it is
judged, the Family base class and its parametrization hook (each family module
re-exports pytest_generate_tests), the helpers that arrange the fake host, and
ALL_CHECKS, the catalogue of check functions. test_checks_catalogue.py holds
that every check has cases in some family.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from fakehost import (
    COMPOSE_PATH,
    HOST_ID,
    INFRA,
    QUADLET_DIR,
    SOCKET,
    FakeHost,
    Outcome,
    reference_api_facts,
    reference_host,
    reference_stack,
    run_check,
)

from phoenix_compliance.checks import require_group_trace
from phoenix_compliance.facts import HostFacts
from phoenix_compliance.parsers.manifest import ServiceGroup
from phoenix_compliance.run.selection import GROUP_PARAMETERS
from phoenix_compliance.transport import podman_api
from tests.phase1 import test_base_install as phase1
from tests.phase2 import test_compose_deployment as phase2
from tests.phase3 import test_quadlet_units as phase3
from tests.security import test_security as security
from tests.upgrade import test_podman6 as upgrade

Arrange = Callable[[FakeHost], object]
AS_USER = f"as phoenix on {HOST_ID}"
COMPOSE_WHERE = f"{COMPOSE_PATH} on {HOST_ID}"
FOLDER_WHERE = f"{QUADLET_DIR} on {HOST_ID}"
FILES_WHERE = f"{COMPOSE_WHERE}; {FOLDER_WHERE}"
API_DOWN = f"ssh forward to {SOCKET} failed: Connection refused"
REFERENCE_COMPOSE = (INFRA / "compose.yaml").read_text()


@dataclass(frozen=True)
class Case:
    check: Callable[..., None]
    arrange: Arrange
    kind: str
    text: str  # a part of the evidence: what was observed on a pass, the message otherwise
    fixtures: dict[str, Any] = field(default_factory=dict)


def case(
    id: str, check: Callable[..., None], kind: str, text: str, arrange: Arrange = lambda host: None, **fixtures: Any
) -> Any:
    return pytest.param(Case(check, arrange, kind, text, fixtures), id=id)


def judge(case: Case) -> Outcome:
    """Run the case's check on the reference host as the case changed it."""
    host = reference_host()
    case.arrange(host)
    overrides = {
        k: case.fixtures[k] for k in ("compose_override", "quadlet_override", "source_dir") if k in case.fixtures
    }
    return judge_on(
        host.facts(case.fixtures.get("stack") or reference_stack(), **overrides), case.check, **case.fixtures
    )


def judge_on(facts: HostFacts, check: Callable[..., None], **fixtures: Any) -> Outcome:
    """Call a check with the facts and the plugin's fixtures (the first service, unit, endpoint)."""
    stack = facts.manifest
    defaults: dict[str, Any] = {
        "facts": facts,
        "stack": stack,
        "service": "phoenix-core",
        "stack_service": "phoenix-core",
        "optional_group": "observability",
        "published_service": "phoenix-core",
        "unit_file": "phoenix-core.container",
        "generated_service": "phoenix-core.service",
        "endpoint": stack.endpoints[0],
        "health_wait": 0.0,
        "allow_restart": False,
        "id_file": "subuid",
    }
    wanted = [name for name in inspect.signature(check).parameters if name != "observed"]
    arguments = {name: fixtures.get(name, defaults[name]) for name in wanted}
    # As the plugin's autouse fixture does: a check of an optional group's part applies only
    # where the group has a trace (judged from the files alone with a local override).
    owners = [stack.group_of(arguments[name]) for name in GROUP_PARAMETERS if name in arguments]
    group = next((owner for owner in owners if owner is not None), None)
    if group is not None:
        live = facts.compose_override is None and facts.quadlet_override is None
        return run_check(_gated(check, facts, group, live), **arguments)
    return run_check(check, **arguments)


def _gated(check: Callable[..., None], facts: HostFacts, group: ServiceGroup, live: bool) -> Callable[..., None]:
    def gated(**arguments: Any) -> None:
        require_group_trace(facts, group, live)
        check(**arguments)

    return gated


def each_failure(prefix: str, check: Callable[..., None], kind: str, text: str, section: str) -> list[Any]:
    """One case for each way the section's program can fail: ids PREFIX-timeout, -missing, -empty."""
    return [case(f"{prefix}-{how}", check, kind, text, fail(section, how)) for how in ("timeout", "missing", "empty")]


class Family:
    """A family of checks: its CASES, each run by test_check."""

    CASES: ClassVar[list[Any]] = []

    def test_check(self, case: Case) -> None:
        expect(case)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.cls is not None and issubclass(metafunc.cls, Family):
        metafunc.parametrize("case", metafunc.cls.CASES)


def expect(case: Case) -> None:
    outcome = judge(case)
    # Under pytest a multi-line assertion message comes back indented: compare the words.
    found = " ".join(case.text.split()) in " ".join(outcome.text.split())
    assert (outcome.kind, found) == (case.kind, True), f"{outcome.kind}: {outcome.text}"


# -- arranging a host ---------------------------------------------------------------


def fail(section: str, how: str) -> Arrange:
    return lambda host: host.fail(section, how)


def both(*steps: Arrange) -> Arrange:
    def arrange(host: FakeHost) -> None:
        for step in steps:
            step(host)

    return arrange


def quadlet_list(*units: tuple[str, str]) -> str:
    """`podman quadlet list --format json` of Podman 5.6+ for (file name, status) pairs."""
    return json.dumps(
        [
            {
                "Name": name,
                "UnitName": name.replace(".pod", "-pod.service").replace(".container", ".service"),
                "Path": f"{QUADLET_DIR}/{name}",
                "Status": status,
                "App": "",
            }
            for name, status in units
        ]
    )


def setting(section: str, out: str, rc: int = 0, err: str = "") -> Arrange:
    return lambda host: host.set(section, out, rc, err)


def info(change: Callable[[dict[str, Any]], object]) -> Arrange:
    """podman info with one change."""

    def arrange(host: FakeHost) -> None:
        payload = json.loads(host.sections["podman_info"].out)
        change(payload)
        host.set("podman_info", json.dumps(payload, indent=4))

    return arrange


def tools(**paths: str) -> Arrange:
    def arrange(host: FakeHost) -> None:
        lines = host.sections["tools"].out.splitlines()
        lines = [f"{line.split('=', 1)[0]}={paths.get(line.split('=', 1)[0], line.split('=', 1)[1])}" for line in lines]
        host.set("tools", "\n".join(lines))

    return arrange


def compose(old: str, new: str) -> Arrange:
    assert old in REFERENCE_COMPOSE
    return lambda host: host.compose_text(REFERENCE_COMPOSE.replace(old, new, 1))


def unit(name: str, old: str, new: str) -> Arrange:
    def change(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return lambda host: host.edit_quadlet(name, change)


def container(service: str, **fields: Any) -> Arrange:
    return lambda host: host.container(service).update(fields)


def document(service: str, change: Callable[[dict[str, Any]], object]) -> Arrange:
    return lambda host: change(host.inspected[service])


def api_down() -> Arrange:
    return lambda host: host.api_down(API_DOWN)


def no_containers() -> Arrange:
    def arrange(host: FakeHost) -> None:
        host.containers.clear()
        host.inspected.clear()

    return arrange


def api_facts(**fields: Any) -> Arrange:
    def arrange(host: FakeHost) -> None:
        values = reference_api_facts().__dict__ | fields
        host.api_facts = podman_api.ApiFacts(**values)

    return arrange


def mount_program(executable: str) -> Callable[[dict[str, Any]], object]:
    return lambda p: p["store"]["graphOptions"].update(
        {
            "overlay.mount_program": {
                "Executable": executable,
                "Package": "fuse-overlayfs_1.14-1_amd64",
                "Version": "fuse-overlayfs: version 1.14\nFUSE library version 3.17.2",
            }
        }
    )


def podman_version(version: str) -> str:
    return json.dumps({"Client": {"APIVersion": version, "Version": version, "OsArch": "linux/amd64", "Os": "linux"}})


CORE_UNIT = f"{QUADLET_DIR}/phoenix-core.container"


ALL_CHECKS = [
    function
    for module in (phase1, phase2, phase3, security, upgrade)
    for name, function in sorted(vars(module).items())
    if name.startswith("test_") and callable(function)
]
