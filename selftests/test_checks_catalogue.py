"""The catalogue of checks against the families of test_checks_*.py, and the fake host itself.

A probe that failed (timed out, program missing, no output where output is due,
output that cannot be read) or an API that cannot be asked makes the check
"could not check", never passed and never not applicable (issue 12); the
parametrized TestEveryProbeFailure below holds that for every check of the
catalogue and every probe section it reads.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from checks_cases import (
    ALL_CHECKS,
    Arrange,
    Family,
    fail,
    judge_on,
)
from fakehost import (
    ERROR,
    FAILED,
    FAILURES,
    HOST_ID,
    NOT_APPLICABLE,
    PASSED,
    UNREACHABLE,
    Outcome,
    reference_host,
    reference_stack,
)

from phoenix_compliance.facts import probes
from phoenix_compliance.facts.groups import ProbeGroup
from phoenix_compliance.transport.runner import Section
from tests.phase1 import test_base_install as phase1
from tests.phase3 import test_quadlet_units as phase3

# Every family of every test_checks_*.py module, found by name so that a family moved into a
# new module is still counted.
FAMILY_MODULES = sorted(path.stem for path in Path(__file__).parent.glob("test_checks_*.py"))
ALL_CASES = [
    param.values[0]
    for name in FAMILY_MODULES
    if name != __name__
    for family in vars(importlib.import_module(name)).values()
    if isinstance(family, type) and issubclass(family, Family)
    for param in family.CASES
]


class TestFakeHost:
    def test_every_check_has_a_pass_and_a_fail(self) -> None:
        assert len(ALL_CHECKS) == 65
        for check in ALL_CHECKS:
            kinds = {c.kind for c in ALL_CASES if c.check is check}
            assert {PASSED, FAILED} <= kinds, check.__name__

    def test_only_sections_the_scripts_print_can_be_canned(self) -> None:
        with pytest.raises(KeyError, match="no probe script prints a section 'podman_infos'"):
            reference_host().set("podman_infos", "{}")

    def test_each_probe_runs_once_for_every_check(self) -> None:
        host = reference_host()
        facts = host.facts()
        for check in ALL_CHECKS:
            if check is not phase3.test_restart_recovers:
                judge_on(facts, check)
        assert host.runner is not None
        assert sorted(name for name, _ in host.runner.scripts) == [
            "probe_base.sh",
            "probe_http.sh",
            "probe_quadlet.sh",
            "probe_security.sh",
            "probe_stack.sh",
            "probe_upgrade.sh",
        ]
        assert host.api is not None and host.api.calls.count("containers") == 1

    def test_an_unreachable_host_reaches_every_check_as_such(self) -> None:
        host = reference_host()
        host.unreachable = "no answer within 30s (probe probe_base.sh)"
        outcome = judge_on(host.facts(), phase1.test_rootless)
        assert outcome == Outcome(UNREACHABLE, f"{HOST_ID} unreachable: no answer within 30s (probe probe_base.sh)", ())


# -- every check, every probe section it reads, every way that section can fail ----------


def spec_id(check: Callable[..., None]) -> str:
    marks = [m for m in getattr(check, "pytestmark", []) if m.name == "check"]
    return str(marks[0].args[0].id)


# The fixtures a check is judged with here: the opt-in restart allowed, so that it reads its sections.
EVERY_FIXTURES: dict[str, Any] = {"allow_restart": True}


def sections_read(check: Callable[..., None]) -> list[str]:
    """The probe sections a check looks up on the reference host, in the order it first reads them."""
    read: list[str] = []
    looked_up = ProbeGroup.section

    def recording(group: ProbeGroup, name: str) -> Section:
        if name not in read:
            read.append(name)
        return looked_up(group, name)

    with mock.patch.object(ProbeGroup, "section", recording):
        judge_on(reference_host().facts(reference_stack()), check, **EVERY_FIXTURES)
    return read


def broken(section: str, how: str) -> Arrange:
    """The section's program timed out, is missing or printed nothing (an endpoint's section per URL)."""
    if section.startswith("http_"):
        url = reference_stack().endpoints[int(section.removeprefix("http_"))].url
        return lambda host: host.http_fail(url, how)
    return fail(section, how)


def declared_empty_ok(section: str) -> bool:
    """Whether the section's declaration makes an empty output an answer (grep found no line)."""
    every = (probes.BASE, probes.STACK, probes.SECURITY, probes.UPGRADE, probes.QUADLET, probes.RESTART)
    return any(section in probe.expect and probe.expect[section].empty_ok for probe in every)


EVERY_PROBE_FAILURE = [
    pytest.param(check, section, how, id=f"{spec_id(check)}-{section}-{how}")
    for check in ALL_CHECKS
    for section in sections_read(check)
    for how in FAILURES
    # An empty output its declaration names an answer is not a failed probe.
    if not (how == "empty" and declared_empty_ok(section))
]


class TestEveryProbeFailure:
    """For every check of the catalogue, each probe section it reads replaced in turn by a
    timeout, a missing program and an empty output: never passed, never not applicable, never
    a crash. A new check is covered the day it is written."""

    def test_the_catalogue_is_covered(self) -> None:
        covered = {param.values[0] for param in EVERY_PROBE_FAILURE}
        # Every check that reads a probe section (the rest read only the API or nothing).
        assert len(covered) >= 40, sorted(c.__name__ for c in set(ALL_CHECKS) - covered)

    @pytest.mark.parametrize(("check", "section", "how"), EVERY_PROBE_FAILURE)
    def test_a_failed_probe_never_passes(self, check: Callable[..., None], section: str, how: str) -> None:
        host = reference_host()
        broken(section, how)(host)
        outcome = judge_on(host.facts(reference_stack()), check, **EVERY_FIXTURES)
        assert outcome.kind not in (PASSED, NOT_APPLICABLE, ERROR), f"{outcome.kind}: {outcome.text}"
