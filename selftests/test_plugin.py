"""Plugin behaviour, with pytester: options, selection, manifests, the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

pytest_plugins = ["pytester"]

CHECKS = '''
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="critical", title="one passes", remediation="nothing to do")
def test_one(observed):
    observed("saw the right thing")

@check("T-1.02", phase="1", severity="medium", title="one medium fails", remediation="fix-medium --now")
def test_two():
    assert 1 == 2, "expected a, got b (probe on local)"

@check("T-2.01", phase="2", severity="high", title="two fails", remediation="fix-two --now")
def test_three():
    assert False, "expected running, got exited (podman ps on local)"

@check("T-S.01", phase="security", severity="low", title="security passes", remediation="none")
def test_four():
    pass

def test_not_a_check():
    pass
'''


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", *args)


class TestPhaseSelection:
    def test_default_runs_every_phase(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester)
        result.assert_outcomes(passed=3, failed=2)

    def test_one_phase_deselects_the_others(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "--phase=1")
        result.assert_outcomes(passed=2, failed=1, deselected=2)

    def test_a_list_of_phases(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "--phase=2,security")
        result.assert_outcomes(passed=2, failed=1, deselected=2)

    def test_a_bad_phase_is_a_usage_error_naming_the_choices(
        self, pytester: pytest.Pytester
    ) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "--phase=4")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*'4' is not a phase; use 1, 2, 3, security or all*"])


class TestStackManifest:
    def test_malformed_yaml_names_file_and_line(self, pytester: pytest.Pytester) -> None:
        stack = pytester.path / "stack.yaml"
        stack.write_text("name: x\nservices: [a\ntarget: t\n")
        result = run(pytester, f"--stack={stack}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*--stack: {stack}:3: invalid YAML*"])

    def test_incomplete_manifest_names_the_missing_key(self, pytester: pytest.Pytester) -> None:
        stack = pytester.path / "stack.yaml"
        stack.write_text(
            "name: x\ntarget: t.target\nquadlet:\n  dir: ~/q\nservices:\n  - name: a\n  - image: b\n"
        )
        result = run(pytester, f"--stack={stack}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*{stack}:7: services[[]1[]]: missing required key 'name'*"])

    def test_missing_manifest_is_a_usage_error(self, pytester: pytest.Pytester) -> None:
        result = run(pytester, "--stack=nowhere.yaml")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*nowhere.yaml:1: cannot read the stack manifest*"])


class TestFailureOutput:
    def test_failure_shows_evidence_and_remediation_without_traceback(
        self, pytester: pytest.Pytester
    ) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "--phase=2")
        result.stdout.fnmatch_lines([
            "T-2.01 [[]high[]] two fails",
            "  expected running, got exited (podman ps on local)",
            "  remediation: fix-two --now",
        ])
        result.stdout.no_fnmatch_line("*assert False*")

    def test_exit_code_is_non_zero_when_a_check_fails(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        assert run(pytester, "--phase=2").ret == pytest.ExitCode.TESTS_FAILED
        assert run(pytester, "--phase=security").ret == pytest.ExitCode.OK


class TestUnreachableHost:
    def test_one_clear_line_per_check_and_the_host_marked(
        self, pytester: pytest.Pytester, tmp_path: Path
    ) -> None:
        from conftest import REPO

        reports = tmp_path / "reports"
        result = pytester.runpytest_subprocess(
            str(REPO / "tests" / "phase1"),
            "--hosts=ssh://nobody@127.0.0.1:1",
            f"--reports-dir={reports}",
            "--probe-timeout=10",
        )
        assert result.ret == pytest.ExitCode.TESTS_FAILED
        result.stdout.fnmatch_lines([
            "PHX-1.01 ssh://127.0.0.1 unreachable: *Connection refused*",
            "*migration readiness*",
            "ssh://127.0.0.1: phase 1: UNREACHABLE",
            "  unreachable: *Connection refused*",
        ])
        result.stdout.no_fnmatch_line("*Traceback*")
        result.stdout.no_fnmatch_line("*RuntimeError*")


def _report(reports: Path) -> BeautifulSoup:
    pages = sorted(reports.glob("readiness-*.html"))
    assert len(pages) == 1, pages
    return BeautifulSoup(pages[0].read_text(), "html.parser")


class TestReadinessReport:
    def test_html_and_junit_land_in_reports_named_by_host_and_time(
        self, pytester: pytest.Pytester
    ) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "--phase=1")
        names = sorted(p.name for p in (pytester.path / "reports").iterdir())
        assert [n.rsplit(".", 1)[1] for n in names] == ["html", "xml"]
        assert all(n.startswith("readiness-local-20") for n in names)
        result.stdout.fnmatch_lines(["report: *reports/readiness-local-*.html"])

    def test_verdicts_follow_severity_and_the_phase_before(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester)
        page = _report(pytester.path / "reports")
        matrix = page.select_one("#readiness table.matrix")
        assert matrix is not None
        rows = [[cell.get_text(strip=True) for cell in row.find_all(["td", "th"])]
                for row in matrix.find_all("tr")]
        # A medium failure is a finding, not a blocker; phase 2 fails a high check;
        # phase 3 had no check; security is gated on its own checks.
        assert rows[1] == ["local", "READY", "NOT READY", "NOT RUN", "READY"]

    def test_check_rows_carry_evidence_and_remediation(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester, "--phase=1")
        page = _report(pytester.path / "reports")
        rows = {
            row.find("td").get_text(strip=True): [td.get_text(strip=True) for td in row.find_all("td")]
            for row in page.select("#readiness table.checks tr")
            if row.find("td")
        }
        assert rows["T-1.02"] == [
            "T-1.02", "medium", "one medium fails", "failed",
            "expected a, got b (probe on local)", "fix-medium --now",
        ]
        assert rows["T-1.01"][3:] == ["passed", "saw the right thing", ""]
        # Failures are listed first.
        ids = [row.find("td").get_text(strip=True)
               for row in page.select("#readiness table.checks tr") if row.find("td")]
        assert ids == ["T-1.02", "T-1.01"]

    def test_junit_carries_check_metadata(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester, "--phase=2")
        xml = next((pytester.path / "reports").glob("*.xml")).read_text()
        assert '<property name="check_id" value="T-2.01"' in xml
        assert '<property name="severity" value="high"' in xml
