"""Verdicts that cannot lie, with pytester: could not check, suite errors, partial
selections, --co and --help, every exit code and the README's table of them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from phoenix_compliance.run import reporter
from phoenix_compliance.run.reporter import (
    EXIT_COULD_NOT_CHECK,
    EXIT_NOT_READY,
    EXIT_PARTIAL,
    EXIT_READY,
    EXIT_SUITE_ERROR,
    EXIT_USAGE,
)

pytest_plugins = ["pytester"]
README = Path(__file__).resolve().parent.parent / "README.md"

PHASE1 = """
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="critical", title="linger is on", remediation="loginctl enable-linger")
def test_linger():
    pass

@check("T-1.02", phase="1", severity="high", title="socket is up", remediation="systemctl --user enable --now x")
def test_socket():
    pass

@check("T-1.03", phase="1", severity="high", title="per unit", remediation="fix it")
@__import__("pytest").mark.parametrize("unit", ["a.container", "b.container"])
def test_unit(unit):
    pass
"""
SECURITY = """
from phoenix_compliance.checks import check

@check("T-S.01", phase="security", severity="high", title="security holds", remediation="none")
def test_security():
    pass
"""
NOT_GATHERED = """
from phoenix_compliance.checks import check, could_not_check

@check("T-1.01", phase="1", severity="{severity}", title="reads a fact", remediation="none")
def test_reads():
    could_not_check("probe section socket_active (probe_base.sh on local)", "timed out")
"""
BROKEN = """
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="low", title="the suite breaks", remediation="none")
def test_breaks():
    {}["missing"]
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", "-p", "no:randomly", *args)


def document(pytester: pytest.Pytester) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(next((pytester.path / "reports").glob("readiness-*.json")).read_text())
    return found


def prometheus(pytester: pytest.Pytester) -> str:
    return next((pytester.path / "reports").glob("readiness-*.prom")).read_text()


def html(pytester: pytest.Pytester) -> str:
    return next((pytester.path / "reports").glob("readiness-*.html")).read_text()


class TestCouldNotCheck:
    def test_a_fact_not_gathered_blocks_like_a_failure_and_says_why(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_phase1=NOT_GATHERED.format(severity="high"))
        result = run(pytester, "--phase=1")
        assert result.ret == EXIT_COULD_NOT_CHECK
        result.stdout.fnmatch_lines(
            [
                "local: phase 1: COULD NOT CHECK",
                "  T-1.01 [[]high[]] reads a fact: could not check (blocks the gate)",
                "    why: probe section socket_active (probe_base.sh on local): timed out",
                "verdict: COULD NOT CHECK",
            ]
        )
        result.stdout.fnmatch_lines(["*1 could not check in*"])
        record = document(pytester)["results"][0]
        assert record["outcome"] == "could not check"
        assert "phoenix_check_passed{" in prometheus(pytester) and "} 0" in prometheus(pytester)

    def test_a_medium_check_not_gathered_is_a_finding(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_phase1=NOT_GATHERED.format(severity="medium"))
        result = run(pytester, "--phase=1")
        assert result.ret == EXIT_READY
        result.stdout.fnmatch_lines(["  T-1.01 [[]medium[]] reads a fact: could not check (finding)"])


class TestSuiteError:
    def test_an_exception_of_the_suite_is_its_own_outcome_with_its_traceback(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_phase1=BROKEN)
        result = run(pytester, "--phase=1")
        assert result.ret == EXIT_SUITE_ERROR
        # pytest's own traceback of the check, then the verdict that does not blame the host.
        result.stdout.fnmatch_lines(['>       {}["missing"]', "E       KeyError: 'missing'"])
        result.stdout.fnmatch_lines(["  T-1.01 [[]low[]] the suite breaks: suite error (not judged; traceback above)"])
        assert document(pytester)["results"][0]["outcome"] == "error"
        assert document(pytester)["run"]["verdict"] == "COULD NOT CHECK"


class TestPartialSelection:
    @pytest.mark.parametrize(
        ("narrowing", "ran"),
        [
            (["-k", "linger"], 1),
            (["test_phase1.py::test_linger"], 1),
            (["--deselect", "test_phase1.py::test_socket"], 3),
            (["-k", "a.container"], 1),
            (["-m", "not check"], 0),
        ],
        ids=["-k", "node-id", "--deselect", "one-parameter", "-m"],
    )
    def test_a_phase_left_short_is_partial_never_ready(
        self, pytester: pytest.Pytester, narrowing: list[str], ran: int
    ) -> None:
        pytester.makepyfile(test_phase1=PHASE1, test_security=SECURITY)
        result = run(pytester, "--phase=1,security", *narrowing)
        assert result.ret == EXIT_PARTIAL
        if ran:
            result.stdout.fnmatch_lines([f"local: phase 1: PARTIAL ({ran} of 4 checks)*"])
            run_document = document(pytester)
            assert run_document["hosts"]["local"]["verdicts"]["1"] == "PARTIAL"
            assert run_document["hosts"]["local"]["coverage"]["1"] == [ran, 4]
            assert run_document["run"]["verdict"] == "PARTIAL"
            assert 'phoenix_phase_ready{host="local",phase="1"} 0' in prometheus(pytester)
            assert 'phoenix_phase_partial{host="local",phase="1",ran="' + str(ran) + '",of="4"} 1' in prometheus(
                pytester
            )
            assert "PARTIAL" in html(pytester) and f"({ran} of 4 checks)" in html(pytester)

    def test_under_xdist_the_workers_count_the_phase(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_phase1=PHASE1)
        result = run(pytester, "--phase=1", "-n", "2", "-k", "linger or socket")
        assert result.ret == EXIT_PARTIAL
        result.stdout.fnmatch_lines(["local: phase 1: PARTIAL (2 of 4 checks)*"])
        assert run(pytester, "--phase=1", "-n", "2").ret == EXIT_READY

    def test_the_whole_phase_is_ready(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_phase1=PHASE1, test_security=SECURITY)
        result = run(pytester, "--phase=1,security")
        assert result.ret == EXIT_READY
        result.stdout.fnmatch_lines(["local: phase 1: READY, phase security: READY", "verdict: READY"])
        assert document(pytester)["hosts"]["local"]["coverage"]["1"] == [4, 4]

    def test_a_phase_not_selected_at_all_makes_the_run_partial(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_phase1=PHASE1, test_security=SECURITY)
        result = run(pytester, "--phase=1,security", "-k", "security")
        assert result.ret == EXIT_PARTIAL
        result.stdout.fnmatch_lines(["local: phase security: READY, not selected: phase 1"])

    def test_last_failed_reruns_are_partial(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(
            test_phase1=PHASE1.replace("def test_socket():\n    pass", "def test_socket():\n    assert 0")
        )
        assert run(pytester, "--phase=1").ret == EXIT_NOT_READY
        pytester.makepyfile(test_phase1=PHASE1)
        result = run(pytester, "--phase=1", "--lf")
        assert result.ret == EXIT_PARTIAL
        result.stdout.fnmatch_lines(["local: phase 1: PARTIAL (1 of 4 checks)*"])

    def test_the_signoff_is_refused_for_a_partial_phase(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_phase1=PHASE1)
        result = run(pytester, "--phase=1", "-k", "linger", "--signoff=Ada Lovelace")
        assert result.ret == EXIT_PARTIAL
        result.stdout.fnmatch_lines(["sign-off refused for Ada Lovelace: PARTIAL local phase 1 (1 of 4 checks)"])
        run_document = document(pytester)
        assert run_document["run"]["signoff"] is None
        assert "refused" in run_document["run"]["signoff_refused"]
        assert "Not signed off: sign-off refused for Ada Lovelace" in html(pytester)

    def test_a_whole_run_keeps_its_signoff(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_phase1=PHASE1)
        assert run(pytester, "--phase=1", "--signoff=Ada Lovelace").ret == EXIT_READY
        assert document(pytester)["run"]["signoff"]["name"] == "Ada Lovelace"


class TestNothingJudged:
    @pytest.mark.parametrize("option", ["--co", "--help"])
    def test_no_report_is_written(self, pytester: pytest.Pytester, option: str) -> None:
        pytester.makepyfile(test_phase1=PHASE1)
        result = run(pytester, option)
        assert result.ret == pytest.ExitCode.OK
        assert not (pytester.path / "reports").exists()
        result.stdout.no_fnmatch_line("*migration readiness*")


class TestExitCodes:
    def test_every_code_is_distinct_and_none_is_pytests_own_but_usage(self) -> None:
        codes = list(reporter.EXIT_CODES)
        assert len(set(codes)) == len(codes) == 7
        assert {code for code in codes if 1 <= code <= 5} == {EXIT_USAGE} == {int(pytest.ExitCode.USAGE_ERROR)}

    def test_a_usage_error(self, pytester: pytest.Pytester) -> None:
        assert run(pytester, "--phase=4").ret == EXIT_USAGE

    def test_the_readme_table_is_the_suites(self) -> None:
        text = README.read_text()
        section = text.split("### Gates and exit codes", 1)[1].split("\n### ", 1)[0]
        rows = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.MULTILINE))
        assert {int(code): meaning for code, meaning in rows.items()} == reporter.EXIT_CODES


class TestRunVerdict:
    def test_a_failure_seen_beats_a_host_out_of_reach(self) -> None:
        from phoenix_compliance.report.model import CheckResult, RunReport

        run_report = RunReport("now", ("1",), "stack.yaml", "v")
        judged = run_report.host("ssh://web1")
        judged.results.append(CheckResult("ssh://web1", "T-1.01", "1", "high", "t", "failed", "e", "r", "n"))
        gone = run_report.host("ssh://web2")
        gone.unreachable = "no answer within 8s"
        gone.results.append(CheckResult("ssh://web2", "T-1.01", "1", "high", "t", "could not check", "e", "r", "n"))
        assert (judged.verdicts(("1",)), gone.verdicts(("1",))) == ({"1": "NOT READY"}, {"1": "UNREACHABLE"})
        assert reporter.exit_code(run_report) == EXIT_NOT_READY
        gone.results.clear()
        judged.results[0].outcome = "passed"
        gone.results.append(CheckResult("ssh://web2", "T-1.01", "1", "high", "t", "could not check", "e", "r", "n"))
        assert reporter.exit_code(run_report) == EXIT_COULD_NOT_CHECK


PER_UNIT = """
import pytest
from phoenix_compliance.checks import check

@check("T-3.02", phase="3", severity="high", title="The unit file passes the lint", remediation="fix it")
@pytest.mark.parametrize("unit", ["a.container", "b.container"])
def test_lint(unit):
    assert False, f"expected no lint error, got 1 ({unit})"
"""


class TestSubjects:
    def test_each_verdict_names_its_unit(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_phase3=PER_UNIT)
        result = run(pytester, "--phase=3")
        assert result.ret == EXIT_NOT_READY
        result.stdout.fnmatch_lines(
            [
                "  T-3.02 [[]high[]] The unit file passes the lint (a.container): failed (blocks the gate)",
                "*",
                "  T-3.02 [[]high[]] The unit file passes the lint (b.container): failed (blocks the gate)",
            ]
        )
        assert [r["subject"] for r in document(pytester)["results"]] == ["a.container", "b.container"]
        assert '<span class="subject">(a.container)</span>' in html(pytester)

    def test_endpoint_ids_name_the_manifest_service(self, pytester: pytest.Pytester) -> None:
        from conftest import REPO

        result = pytester.runpytest_subprocess(str(REPO / "tests" / "phase2"), "--co", "-q", "-k", "endpoint")
        result.stdout.fnmatch_lines(["*test_endpoint_answers[[]phoenix-core-http://localhost:8080-local[]]"])


class TestCollectionError:
    def test_a_broken_check_module_is_reported_not_an_internal_error(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_phase1=PHASE1, test_broken="import no_such_module\n")
        result = run(pytester, "--phase=1")
        assert result.ret == pytest.ExitCode.INTERRUPTED
        result.stdout.no_fnmatch_line("*INTERNALERROR*")
        result.stdout.fnmatch_lines(["*ModuleNotFoundError*no_such_module*"])
