"""Plugin behaviour, with pytester: options, selection, manifests, the report."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from phoenix_compliance.run.reporter import EXIT_COULD_NOT_CHECK, EXIT_NOT_READY

pytest_plugins = ["pytester"]

CHECKS = """
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
"""


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

    def test_a_bad_phase_is_a_usage_error_naming_the_choices(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "--phase=4")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*'4' is not a phase; use 1, 2, 3, security, upgrade or all*"])


class TestStackManifest:
    def test_malformed_yaml_names_file_and_line(self, pytester: pytest.Pytester) -> None:
        stack = pytester.path / "stack.yaml"
        stack.write_text("name: x\nservices: [a\ntarget: t\n")
        result = run(pytester, f"--stack={stack}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*--stack: {stack}:3: invalid YAML*"])

    def test_incomplete_manifest_names_the_missing_key(self, pytester: pytest.Pytester) -> None:
        stack = pytester.path / "stack.yaml"
        stack.write_text("name: x\ntarget: t.target\nquadlet:\n  dir: ~/q\nservices:\n  - name: a\n  - image: b\n")
        result = run(pytester, f"--stack={stack}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*{stack}:7: services[[]1[]]: missing required key 'name'*"])

    def test_missing_manifest_is_a_usage_error(self, pytester: pytest.Pytester) -> None:
        result = run(pytester, "--stack=nowhere.yaml")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*nowhere.yaml:1: cannot read the stack manifest*"])


class TestFailureOutput:
    def test_failure_shows_evidence_and_remediation_without_traceback(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "--phase=2")
        result.stdout.fnmatch_lines(
            [
                "T-2.01 [[]high[]] two fails",
                "  expected running, got exited (podman ps on local)",
                "  remediation: fix-two --now",
            ]
        )
        result.stdout.no_fnmatch_line("*assert False*")

    def test_exit_code_is_non_zero_when_a_check_fails(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        assert run(pytester, "--phase=2").ret == EXIT_NOT_READY
        assert run(pytester, "--phase=security").ret == pytest.ExitCode.OK


class TestUnreachableHost:
    def test_one_line_for_the_host_and_every_check_could_not_check(
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
        assert result.ret == EXIT_COULD_NOT_CHECK  # a host unreachable
        result.stdout.fnmatch_lines(
            [
                "*migration readiness*",
                "ssh://127.0.0.1: phase 1: UNREACHABLE",
                "  unreachable: *Connection refused*",
                "verdict: UNREACHABLE",
            ]
        )
        result.stdout.fnmatch_lines(["*13 could not check in*"])
        document = json.loads(next(reports.glob("*.json")).read_text())
        assert {r["outcome"] for r in document["results"]} == {"could not check"}
        result.stdout.no_fnmatch_line("*Traceback*")
        result.stdout.no_fnmatch_line("*RuntimeError*")


def _report(reports: Path) -> BeautifulSoup:
    pages = sorted(reports.glob("readiness-*.html"))
    assert len(pages) == 1, pages
    return BeautifulSoup(pages[0].read_text(), "html.parser")


class TestReadinessReport:
    def test_every_output_lands_in_reports_named_by_host_and_time(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "--phase=1")
        names = sorted(p.name for p in (pytester.path / "reports").iterdir())
        assert [n.rsplit(".", 1)[1] for n in names] == ["html", "json", "prom", "xml"]
        assert all(n.startswith("readiness-local-20") for n in names)
        result.stdout.fnmatch_lines(["report: *reports/readiness-local-*.html"])

    def test_verdicts_follow_severity_and_the_phase_before(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester)
        page = _report(pytester.path / "reports")
        matrix = page.select_one("#readiness table.matrix")
        assert matrix is not None
        rows = [[cell.get_text(strip=True) for cell in row.find_all(["td", "th"])] for row in matrix.find_all("tr")]
        # A medium failure is a finding, not a blocker; phase 2 fails a high check;
        # phase 3 had no check; security is gated on its own checks.
        assert rows[1] == ["local", "READY", "NOT READY", "NOT RUN", "READY"]

    def test_check_rows_carry_evidence_and_remediation(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester, "--phase=1")
        page = _report(pytester.path / "reports")
        rows = {
            cells[0]: cells
            for row in page.select("#readiness table.checks tr")
            if (cells := [td.get_text(strip=True) for td in row.find_all("td")])
        }
        assert rows["T-1.02"] == [
            "T-1.02",
            "medium",
            "one medium fails(finding)",
            "failed",
            "expected a, got b (probe on local)",
            "fix-medium --now",
        ]
        assert rows["T-1.01"][3:] == ["passed", "saw the right thing", ""]
        # Failures are listed first.
        ids = [
            tds[0].get_text(strip=True)
            for row in page.select("#readiness table.checks tr")
            if (tds := row.find_all("td"))
        ]
        assert ids == ["T-1.02", "T-1.01"]

    def test_junit_carries_check_metadata(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester, "--phase=2")
        xml = next((pytester.path / "reports").glob("*.xml")).read_text()
        assert '<property name="check_id" value="T-2.01"' in xml
        assert '<property name="severity" value="high"' in xml


def _json(reports: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(next(reports.glob("readiness-*.json")).read_text())
    return document


class TestGatesAndExitCodes:
    def test_a_medium_failure_is_a_finding_and_the_run_exits_ready(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "--phase=1")
        assert result.ret == 0
        result.stdout.fnmatch_lines(["local: phase 1: READY", "  T-1.02 * failed (finding)"])

    def test_a_failed_phase_holds_back_the_next(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(
            test_checks=CHECKS
            + """
@check("T-3.01", phase="3", severity="low", title="three passes", remediation="none")
def test_five():
    pass
"""
        )
        result = run(pytester, "--phase=1,2,3")
        assert result.ret == EXIT_NOT_READY
        result.stdout.fnmatch_lines(["local: phase 1: READY, phase 2: NOT READY, phase 3: NOT READY"])


WAIVERS = """waivers:
  - check: T-2.01
    hosts: "loc*"
    justification: "the phase 2 service moves next sprint"
    expires: 2999-12-31
"""


class TestWaivers:
    def test_a_waived_failure_counts_as_passed_and_shows_its_justification(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        waivers = pytester.path / "waivers.yaml"
        waivers.write_text(WAIVERS)
        result = run(pytester, "--phase=2", f"--waivers={waivers}")
        assert result.ret == 0
        result.stdout.fnmatch_lines(["local: phase 2: READY", "  T-2.01 waived until 2999-12-31: the phase 2*"])
        record = next(r for r in _json(pytester.path / "reports")["results"] if r["id"] == "T-2.01")
        assert record["outcome"] == "waived"
        assert record["waiver"]["justification"] == "the phase 2 service moves next sprint"
        page = _report(pytester.path / "reports")
        assert "Waived until 2999-12-31: the phase 2 service moves next sprint" in page.get_text()

    def test_an_expired_waiver_no_longer_applies_and_is_flagged(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        waivers = pytester.path / "waivers.yaml"
        waivers.write_text(WAIVERS.replace("2999-12-31", "2020-01-31"))
        result = run(pytester, "--phase=2", f"--waivers={waivers}")
        assert result.ret == EXIT_NOT_READY
        result.stdout.fnmatch_lines(
            [
                "local: phase 2: NOT READY",
                f"expired waiver, not applied: T-2.01 on local: waiver {waivers}:2 expired on 2020-01-31",
            ]
        )
        assert "Expired waivers (not applied)" in _report(pytester.path / "reports").get_text()

    def test_a_host_pattern_that_does_not_match_leaves_the_failure(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        waivers = pytester.path / "waivers.yaml"
        waivers.write_text(WAIVERS.replace("loc*", "ssh://web*"))
        assert run(pytester, "--phase=2", f"--waivers={waivers}").ret == EXIT_NOT_READY

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            (
                "waivers:\n  - check: T\n    expires: 2030-01-01\n",
                "*:2: waivers[[]0[]]: missing required key 'justification'",
            ),
            (
                "waivers:\n  - check: T\n    justification: j\n    expires: soon\n",
                "*:4: waivers[[]0[]].expires: expected a date such as 2027-01-31",
            ),
            (
                "waivers:\n  - check: T\n    justification: j\n    expires: 2030-01-01\n    owner: me\n",
                "*:5: waivers[[]0[]]: unknown key 'owner'*",
            ),
            ("waivers: [\n", "*:2: invalid YAML*"),
        ],
    )
    def test_a_malformed_file_is_a_usage_error_naming_file_and_line(
        self, pytester: pytest.Pytester, text: str, message: str
    ) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        waivers = pytester.path / "waivers.yaml"
        waivers.write_text(text)
        result = run(pytester, f"--waivers={waivers}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*--waivers: {message}"])


class TestOutputs:
    def test_json_has_one_record_per_host_and_check_and_run_metadata(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester)
        document = _json(pytester.path / "reports")
        assert document["format"] == "phoenix-compliance/2"
        assert {"started", "finished", "suite_version", "stack", "stack_sha256", "phases"} <= set(document["run"])
        ids = sorted(r["id"] for r in document["results"])
        assert ids == ["T-1.01", "T-1.02", "T-2.01", "T-S.01"]
        record = next(r for r in document["results"] if r["id"] == "T-2.01")
        assert set(record) >= {"id", "outcome", "evidence", "duration", "waiver"}
        # What the check is, once for every host (format 2).
        assert set(document["checks"]["T-2.01"]) == {"phase", "severity", "title", "remediation"}
        assert record["evidence"] == "expected running, got exited (podman ps on local)"
        verdicts = document["hosts"]["local"]["verdicts"]
        assert verdicts == {"1": "READY", "2": "NOT READY", "3": "NOT RUN", "security": "READY"}

    def test_prometheus_textfile_has_gates_and_checks(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester)
        text = next((pytester.path / "reports").glob("*.prom")).read_text()
        assert 'phoenix_phase_ready{host="local",phase="2"} 0' in text
        assert 'phoenix_phase_ready{host="local",phase="1"} 1' in text
        assert "# TYPE phoenix_check_passed gauge" in text
        assert 'check="T-2.01",key="T-2.01 test_three",phase="2",severity="high"} 0' in text
        assert 'phoenix_host_reachable{host="local"} 1' in text

    def test_outputs_can_be_redirected(self, pytester: pytest.Pytester, tmp_path: Path) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester, f"--json={tmp_path / 'out.json'}", f"--prometheus={tmp_path / 'out.prom'}")
        assert json.loads((tmp_path / "out.json").read_text())["format"] == "phoenix-compliance/2"
        assert (tmp_path / "out.prom").read_text().startswith("# HELP")


SECRET_CHECKS = """
from phoenix_compliance.checks import check

@check("T-1.09", phase="1", severity="high", title="leaks", remediation="rotate it")
def test_leak(observed):
    assert False, "expected no literal, got DB_PASSWORD=hunter2-very-secret (compose.yaml:12)"
"""


class TestRedaction:
    def test_a_secret_value_in_evidence_reaches_no_output(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=SECRET_CHECKS)
        result = run(pytester)
        reports = pytester.path / "reports"
        outputs = [result.stdout.str(), result.stderr.str()] + [p.read_text() for p in reports.iterdir()]
        assert all("hunter2-very-secret" not in text for text in outputs)
        assert "DB_PASSWORD=***" in result.stdout.str()


class TestSignoff:
    def test_verify_detects_a_changed_word_in_html_and_a_changed_field_in_json(self, pytester: pytest.Pytester) -> None:
        from phoenix_compliance.report.signing import verify_report

        pytester.makepyfile(test_checks=CHECKS)
        run(pytester, "--signoff=Ada Lovelace")
        reports = pytester.path / "reports"
        page, document = next(reports.glob("*.html")), next(reports.glob("*.json"))
        assert verify_report(page, None).intact
        assert verify_report(document, None).intact
        assert "Signed off by Ada Lovelace" in _report(reports).get_text()
        assert _json(reports)["run"]["signoff"]["name"] == "Ada Lovelace"
        page.write_text(page.read_text().replace("one medium fails", "one medium passes"))
        assert not verify_report(page, None).intact
        changed = _json(reports)
        changed["checks"][changed["results"][0]["id"]]["severity"] = "tampered"
        document.write_text(json.dumps(changed))
        assert not verify_report(document, None).intact

    def test_an_ssh_signature_proves_the_signer(self, pytester: pytest.Pytester, tmp_path: Path) -> None:
        from phoenix_compliance.report.signing import verify_report

        key = tmp_path / "signer"
        other = tmp_path / "other"
        for path in (key, other):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30)
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester, "--signoff=Ada", f"--sign-key={key}")
        reports = pytester.path / "reports"
        for report in (next(reports.glob("*.html")), next(reports.glob("*.json"))):
            assert verify_report(report, Path(f"{key}.pub")).intact, report
            assert not verify_report(report, Path(f"{other}.pub")).intact, report
        page = next(reports.glob("*.html"))
        page.write_bytes(page.read_bytes().replace(b"Ada", b"Eve", 1))
        assert not verify_report(page, Path(f"{key}.pub")).intact


class TestCompare:
    def test_changes_since_a_previous_run(self, pytester: pytest.Pytester, tmp_path: Path) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        run(pytester, f"--json={tmp_path / 'before.json'}")
        pytester.makepyfile(
            test_checks=CHECKS.replace('assert 1 == 2, "expected a', 'assert 1 == 1, "expected a').replace(
                "def test_four():\n    pass", "def test_four():\n    assert False, 'now broken'"
            )
            + """
@check("T-1.03", phase="1", severity="low", title="a new one", remediation="none")
def test_new():
    pass
"""
        )
        result = run(pytester, f"--compare={tmp_path / 'before.json'}")
        result.stdout.fnmatch_lines(
            [
                "since *before.json: 3 change(s)",
                "  local T-1.02 test_two: fixed (failed -> passed)",
                "  local T-1.03 test_new: new (- -> passed)",
                "  local T-S.01 test_four: newly failing (passed -> failed)",
            ]
        )
        assert [c["kind"] for c in _json(pytester.path / "reports")["changes"]] == ["fixed", "new", "newly failing"]

    def test_a_previous_file_that_is_not_a_report_is_a_usage_error(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        (pytester.path / "old.json").write_text("{}")
        result = run(pytester, "--compare=old.json")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*--compare: old.json: not a phoenix-compliance JSON report*"])


class TestVerifyCommand:
    def test_verify_says_intact_or_altered_and_exits_accordingly(
        self, pytester: pytest.Pytester, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from phoenix_compliance.cli import main

        pytester.makepyfile(test_checks=CHECKS)
        run(pytester, "--signoff=Ada")
        page = next((pytester.path / "reports").glob("*.html"))
        assert main(["verify", str(page)]) == 0
        assert "intact, SHA-256" in capsys.readouterr().out
        page.write_text(page.read_text().replace("two fails", "two passes"))
        assert main(["verify", str(page)]) == 1
        assert "ALTERED" in capsys.readouterr().out
        assert main(["verify", str(pytester.path / "missing.json")]) == 2


class TestFilesWithoutHost:
    """A repository's CI: --compose-file / --quadlet-dir and no --hosts judge the files alone."""

    def suite(self, pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
        from conftest import REPO

        return pytester.runpytest_subprocess(
            str(REPO / "tests"),
            f"--stack={REPO / 'fixtures/stacks/reference.yaml'}",
            f"--reports-dir={pytester.path / 'reports'}",
            *args,
        )

    def test_the_reference_files_pass_and_live_checks_are_deselected(self, pytester: pytest.Pytester) -> None:
        from conftest import REPO

        infra = REPO / "fixtures" / "infra" / "podman"
        result = self.suite(
            pytester,
            "--phase=2,3,security",
            f"--compose-file={infra / 'compose.yaml'}",
            f"--quadlet-dir={infra / 'systemd'}",
        )
        assert result.ret == 0, result.stdout.str()
        result.stdout.fnmatch_lines(["*judged from local files only*", "local: phase 2: READY, phase 3: READY*"])
        outcomes = result.parseoutcomes()
        assert outcomes["passed"] >= 20 and "failed" not in outcomes

    def test_a_malformed_compose_file_fails_one_check_naming_file_and_line(self, pytester: pytest.Pytester) -> None:
        bad = pytester.path / "compose.yaml"
        bad.write_text('services:\n  web:\n    image: x\n    ports: ["8080:80"\n')
        result = self.suite(pytester, "--phase=2", f"--compose-file={bad}")
        result.stdout.fnmatch_lines(["*PHX-2.01*", f"*{bad}:5: invalid YAML*"])
        failed = [line for line in result.stdout.lines if line.startswith("FAILED")]
        assert len(failed) == 1 and "test_compose_file_valid" in failed[0]

    def test_an_override_file_is_judged_with_its_base_and_the_env_file(self, pytester: pytest.Pytester) -> None:
        from conftest import REPO

        infra = REPO / "fixtures" / "infra" / "podman"
        override = pytester.path / "compose.override.yaml"
        override.write_text('services:\n  phoenix-core:\n    ports: ["${SMTP_PORT:-2525}:25"]\n')
        (pytester.path / "ci.env").write_text("SMTP_PORT=25\n")
        result = self.suite(
            pytester,
            "--phase=security",
            f"--compose-file={infra / 'compose.yaml'}",
            f"--compose-file={override}",
            f"--env-file={pytester.path / 'ci.env'}",
        )
        result.stdout.fnmatch_lines(
            [f"*{override}:3: SEC-PORT service phoenix-core, port 25:*(written '${{SMTP_PORT:-2525}}:25' -> '25:25')*"]
        )
        failed = [line for line in result.stdout.lines if line.startswith("FAILED")]
        assert len(failed) == 1 and "test_files_unprivileged_ports" in failed[0], failed

    def test_a_broken_quadlet_folder_names_key_and_line(self, pytester: pytest.Pytester) -> None:
        from conftest import REPO

        folder = pytester.path / "systemd"
        shutil.copytree(REPO / "fixtures" / "infra" / "podman" / "systemd", folder)
        unit = folder / "phoenix-core.container"
        unit.write_text(unit.read_text().replace("[Service]\n", "[Service]\nRestart=always\n[Container]\nName=x\n"))
        result = self.suite(pytester, "--phase=3", f"--quadlet-dir={folder}")
        assert result.ret == EXIT_NOT_READY
        result.stdout.fnmatch_lines(["*phoenix-core.container:*: QL013 error: Name= is not a [[]Container[]] key*"])


class TestSecretsInFiles:
    def test_a_literal_secret_in_a_compose_file_is_named_but_its_value_reaches_no_output(
        self, pytester: pytest.Pytester
    ) -> None:
        from conftest import REPO

        secret = "s3cr3t-Value-that-must-not-leak"
        compose = pytester.path / "compose.yaml"
        compose.write_text(
            "name: phoenix-hydra\nservices:\n  revenue-db:\n    image: localhost/db:1.0\n"
            f'    environment:\n      DB_PASSWORD: {secret}\n      API_TOKEN: "{secret}"\n'
        )
        reports = pytester.path / "reports"
        result = pytester.runpytest_subprocess(
            str(REPO / "tests"),
            "--phase=security",
            f"--compose-file={compose}",
            f"--stack={REPO / 'fixtures/stacks/reference.yaml'}",
            f"--reports-dir={reports}",
        )
        result.stdout.fnmatch_lines(["*PHX-S.17*", f"*{compose}:6:*DB_PASSWORD*", f"*{compose}:7:*API_TOKEN*"])
        outputs = [result.stdout.str(), result.stderr.str()] + [p.read_text() for p in reports.iterdir()]
        assert len(outputs) == 6  # terminal, stderr, HTML, JUnit, JSON, Prometheus
        assert all(secret not in text for text in outputs)
