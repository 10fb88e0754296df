"""The first screen of a readiness page: the verdict banner, the sign-off block, the blockers
grouped by cause, the waivers; the model (report/first_screen.py), the page's order, and
pytest-html's tables collapsed below (report/page_layout.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from phoenix_compliance.catalogue import ALL_PHASES, PHASES, STANDALONE
from phoenix_compliance.report import first_screen
from phoenix_compliance.report.model import CheckResult, RunReport
from phoenix_compliance.report.page_layout import collapsed_tables
from phoenix_compliance.report.render import standalone_page

pytest_plugins = ["pytester"]


def result(
    host: str,
    check_id: str,
    phase: str,
    outcome: str,
    severity: str = "high",
    waiver: dict[str, str | bool] | None = None,
    subject: str = "",
) -> CheckResult:
    title = f"title of {check_id}"
    return CheckResult(
        host, check_id, phase, severity, title, outcome, "evidence", "fix it", "n", waiver=waiver, subject=subject
    )


def fleet(count: int, failing: dict[str, set[str]], phases: tuple[str, ...] = PHASES) -> RunReport:
    run = RunReport("2026-12-07T00:00:00+00:00", phases, "stack.yaml", "test", stack_digest="0" * 64)
    for number in range(1, count + 1):
        name = f"ssh://web{number}"
        host = run.host(name)
        for phase in phases:
            check_id = f"PHX-{phase}.01"
            host.results.append(
                result(name, check_id, phase, "failed" if name in failing.get(check_id, set()) else "passed")
            )
        host.expected = {phase: host.coverage(phase)[0] for phase in phases}
    return run


class TestBanner:
    def test_one_host_all_ready_counts_the_migration_phases(self) -> None:
        gates = first_screen.gates(fleet(1, {}, ALL_PHASES))
        migration = [p for p in ALL_PHASES]
        assert [g.headline for g in gates] == [f"READY: {len(migration)} of {len(migration)} phases on 1 host"]

    def test_a_phase_outside_all_is_a_gate_of_its_own(self) -> None:
        # The catalogue decides: a phase `--phase=all` leaves out (the upgrade) is not counted in.
        own = [p for p in PHASES if p not in ALL_PHASES]
        assert own, "the catalogue has a phase outside --phase=all"
        gates = first_screen.gates(fleet(1, {}))
        assert len(gates) == 1 + len(own)
        assert gates[0].headline.endswith(f"of {len(ALL_PHASES)} phases on 1 host")
        assert all(g.headline == "READY: 1 of 1 host" for g in gates[1:])

    def test_a_fleet_counts_hosts(self) -> None:
        run = fleet(32, {"PHX-1.01": {"ssh://web3", "ssh://web9"}})
        migration = first_screen.gates(run)[0]
        assert migration.headline == "NOT READY: 2 of 32 hosts (30 READY)"
        assert migration.counts[0] == ("Phase 1: base install", "2 NOT READY, 30 READY")

    def test_standalone_phase_failing_alone(self) -> None:
        standalone = sorted(p for p in STANDALONE if p in ALL_PHASES)[0]
        run = fleet(1, {f"PHX-{standalone}.01": {"ssh://web1"}}, ALL_PHASES)
        migration = first_screen.gates(run)[0]
        assert migration.headline == f"NOT READY: {len(ALL_PHASES) - 1} of {len(ALL_PHASES)} phases READY on 1 host"


class TestBlockers:
    def test_a_cause_lists_its_hosts_once(self) -> None:
        run = fleet(12, {"PHX-1.01": {"ssh://web11", "ssh://web2"}})
        # The same check failing twice on a host (two subjects) is still one cause, one host.
        run.hosts["ssh://web2"].results.append(result("ssh://web2", "PHX-1.01", "1", "failed", subject="subgid"))
        run.hosts["ssh://web5"].results.append(result("ssh://web5", "PHX-1.09", "1", "failed", severity="medium"))
        (phase, causes), *rest = first_screen.blockers(run)
        assert phase == "Phase 1: base install" and not rest
        assert [(c.check_id, c.hosts) for c in causes] == [("PHX-1.01", ["ssh://web2", "ssh://web11"])]

    def test_a_phase_blocked_by_the_one_before_says_it_waits(self) -> None:
        run = fleet(4, {"PHX-1.01": {"ssh://web3"}}, ("1", "2", "3"))
        assert first_screen.waiting(run) == [
            ("Phase 2: podman-compose", ["ssh://web3"]),
            ("Phase 3: Quadlet and systemd", ["ssh://web3"]),
        ]
        assert "Phase 2: podman-compose waits on the phase before it on 1 host(s): ssh://web3." in standalone_page(
            run, "t"
        )

    def test_unreachable_hosts_are_a_cause(self) -> None:
        run = fleet(2, {})
        run.hosts["ssh://web2"].unreachable = "ssh: connect timed out"
        grouped = dict(first_screen.blockers(run))
        assert all([c.hosts for c in causes] == [["ssh://web2"]] for causes in grouped.values())


class TestWaivers:
    def test_expired_first_with_their_hosts(self) -> None:
        run = fleet(3, {})
        live: dict[str, str | bool] = {
            "justification": "vendor fix due",
            "expires": "2027-01-31",
            "where": "waivers.yaml:3",
            "expired": False,
        }
        gone: dict[str, str | bool] = {
            "justification": "old",
            "expires": "2026-01-01",
            "where": "waivers.yaml:9",
            "expired": True,
        }
        for name in ("ssh://web1", "ssh://web2"):
            run.hosts[name].results.append(result(name, "PHX-2.04", "2", "waived", waiver=live))
        run.hosts["ssh://web3"].results.append(result("ssh://web3", "PHX-1.06", "1", "failed", waiver=gone))
        found = first_screen.waivers(run)
        assert [(w.check_id, w.expired, w.hosts) for w in found] == [
            ("PHX-1.06", True, ["ssh://web3"]),
            ("PHX-2.04", False, ["ssh://web1", "ssh://web2"]),
        ]
        page = BeautifulSoup(standalone_page(run, "t"), "html.parser")
        rows = page.select("table.waivers tr.expired")
        assert len(rows) == 1 and "EXPIRED" in rows[0].get_text()


class TestPageOrder:
    def test_banner_signoff_blockers_waivers_then_the_rest(self) -> None:
        run = fleet(3, {"PHX-1.01": {"ssh://web2"}})
        text = standalone_page(run, "t")
        marks = [
            'id="phx-verdict"',
            'id="phx-signoff"',
            'id="phx-signature"',
            "What blocks the gates",
            "<h3>Waivers",
            'class="matrix"',
            'class="host"',
        ]
        positions = [text.index(mark) for mark in marks]
        assert positions == sorted(positions), dict(zip(marks, positions, strict=True))

    def test_pytest_html_tables_go_below_collapsed(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(
            test_checks="""
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="critical", title="passes", remediation="none")
def test_one():
    pass
"""
        )
        pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", "--phase=1", "--signoff=Ada")
        text = next((pytester.path / "reports").glob("readiness-*.html")).read_text()
        page = BeautifulSoup(text, "html.parser")
        details = page.select("details.results-tables")
        assert len(details) == 2 and not any(d.has_attr("open") for d in details)
        assert details[0].select_one("table#environment") is not None
        assert details[1].select_one("table#results-table") is not None
        assert text.index('id="phx-verdict"') < text.index('id="environment"') < text.index('id="results-table"')

    def test_a_page_of_another_form_is_left_alone(self) -> None:
        assert collapsed_tables("<html><body>nothing</body></html>") == "<html><body>nothing</body></html>"


def test_page_order_is_in_the_template_not_python(tmp_path: Path) -> None:
    # The first screen's markup lives in the template (style: the page in resources/, not strings).
    source = Path(first_screen.__file__).read_text()
    assert "<p" not in source and "<table" not in source
