"""The upgrade phase is a gate of its own (pytester): a NOT READY upgrade leaves phases 1-3
READY, a failing phase 1 leaves the upgrade READY, and `--phase=all` does not run it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from phoenix_compliance.catalogue import ALL_PHASES, PHASE_TITLES, PHASES, STANDALONE, parse_phases
from phoenix_compliance.run.reporter import EXIT_NOT_READY, EXIT_READY

pytest_plugins = ["pytester"]

CHECKS = """
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="critical", title="base", remediation="fix")
def test_base():
    assert {phase1_ok}, "expected a base install, got none (here)"

@check("T-3.01", phase="3", severity="high", title="units", remediation="fix")
def test_units():
    pass

@check("T-U.01", phase="upgrade", severity="critical", title="no BoltDB", remediation="migrate")
def test_store():
    assert {upgrade_ok}, "expected databaseBackend sqlite, got boltdb (podman info)"
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", "-p", "no:randomly", *args)


def verdicts(pytester: pytest.Pytester) -> dict[str, Any]:
    found = json.loads(next((pytester.path / "reports").glob("readiness-*.json")).read_text())
    return dict(found["hosts"]["local"]["verdicts"])


class TestTheCatalogue:
    def test_upgrade_stands_alone_outside_all(self) -> None:
        assert "upgrade" in PHASES and "upgrade" not in ALL_PHASES and "upgrade" in STANDALONE
        assert PHASE_TITLES["upgrade"] == "Upgrade to Podman 6"
        assert parse_phases("all") == ("1", "2", "3", "security")
        assert parse_phases("1,upgrade") == ("1", "upgrade")
        assert parse_phases("all,upgrade") == ("1", "2", "3", "security", "upgrade")


class TestUpgradeGate:
    def test_a_not_ready_upgrade_leaves_the_migration_ready(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS.format(phase1_ok=True, upgrade_ok=False))
        result = run(pytester, "--phase=1,3,upgrade")
        assert result.ret == EXIT_NOT_READY
        assert verdicts(pytester) == {"1": "READY", "3": "READY", "upgrade": "NOT READY"}
        html = next((pytester.path / "reports").glob("readiness-*.html")).read_text()
        assert "Upgrade to Podman 6" in html and "security and upgrade stand on their own" in html

    def test_a_failing_phase_1_does_not_block_the_upgrade(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS.format(phase1_ok=False, upgrade_ok=True))
        result = run(pytester, "--phase=1,3,upgrade")
        assert result.ret == EXIT_NOT_READY
        assert verdicts(pytester) == {"1": "NOT READY", "3": "NOT READY", "upgrade": "READY"}

    def test_all_leaves_the_upgrade_out(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS.format(phase1_ok=True, upgrade_ok=False))
        result = run(pytester, "--phase=all")
        assert result.ret == EXIT_READY
        assert "upgrade" not in verdicts(pytester)
        result.stdout.fnmatch_lines(["*1 deselected*"])

    def test_the_help_names_the_phase(self, pytester: pytest.Pytester) -> None:
        result = run(pytester, "--help")
        result.stdout.fnmatch_lines(["*1, 2, 3, security, upgrade or all*"])
