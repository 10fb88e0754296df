"""phoenix-compliance merge: the shards' JSON results (--shard K/N) make one report with the
verdicts an unsplit run gives; an input changed, truncated, signed by another key, or judging
a host another input judged is refused with its own exit code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from phoenix_compliance.cli import main
from phoenix_compliance.report.outputs import canonical_digest, json_text
from phoenix_compliance.report.results import EXIT_INPUT_ALTERED, EXIT_INPUTS_DISAGREE, REFUSALS
from phoenix_compliance.report.signing import verify_report
from phoenix_compliance.run.reporter import EXIT_NOT_READY

# Checks over a fleet of names that are never reached: each judges the host's id alone.
CHECKS = """
from phoenix_compliance.checks import check
from phoenix_compliance.facts.groups import CouldNotCheck

def name(host):
    return host.backend.get_pytest_id()

@check("T-1.01", phase="1", severity="high", title="blocks on web3", remediation="fix-web3")
def test_blocking(host, observed):
    observed("seen")
    assert name(host) != "ssh://web3", "expected ok, got broken (web3)"

@check("T-1.02", phase="1", severity="medium", title="a finding", remediation="tidy-up")
def test_finding(host, observed):
    observed("seen")
    assert "1" not in name(host), "expected no 1, got one"

@check("T-1.03", phase="1", severity="high", title="cannot read web5", remediation="reach-it")
def test_unread(host, observed):
    if name(host) == "ssh://web5":
        raise CouldNotCheck("probe section base", "timed out after 30 s")
    observed("read")

@check("T-2.01", phase="2", severity="high", title="second phase", remediation="none")
def test_second_phase(host, observed):
    observed("seen")
"""
SUITE = [sys.executable, "-m", "pytest", "-p", "phoenix_compliance.plugin", "-p", "no:cacheprovider", "-q"]
FLEET = [f"ssh://web{number}" for number in (7, 1, 12, 3, 5, 10, 2)]


@dataclass
class Runs:
    folder: Path
    shards: list[Path]
    whole: Path
    whole_code: int
    key: Path


def run_suite(folder: Path, reports: str, *args: str) -> tuple[int, Path]:
    done = subprocess.run(
        [*SUITE, "--phase=1,2", f"--hosts={','.join(FLEET)}", f"--reports-dir={reports}", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    written = list((folder / reports).glob("readiness-*.json"))
    assert len(written) == 1, done.stdout + done.stderr
    return done.returncode, written[0]


def ssh_key(folder: Path, name: str) -> Path:
    key = folder / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
    return key


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    folder = tmp_path_factory.mktemp("fleet")
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "test_checks.py").write_text(CHECKS)
    key = ssh_key(folder, "signer")
    shards = [run_suite(folder, f"shard{k}", f"--shard={k}/3", f"--sign-key={key}")[1] for k in (1, 2, 3)]
    whole_code, whole = run_suite(folder, "whole")
    return Runs(folder, shards, whole, whole_code, key)


def merge(folder: Path, *args: str | Path) -> tuple[int, dict[str, Path]]:
    reports = folder / "merged"
    before = set(reports.glob("*")) if reports.exists() else set()
    code = main(["merge", f"--reports-dir={reports}", *(str(arg) for arg in args)])
    made = {path.suffix: path for path in set(reports.glob("*")) - before} if reports.exists() else {}
    return code, made


def document(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


def verdicts(doc: dict[str, Any]) -> dict[str, Any]:
    """What a run judged, without when it ran: per host and phase, per result, and the run's."""
    return {
        "run": doc["run"]["verdict"],
        "partial": doc["run"]["partial"],
        "hosts": {host: (h["verdicts"], h["coverage"], h["unreachable"]) for host, h in doc["hosts"].items()},
        "results": sorted((r["host"], r["key"], r["outcome"], r["evidence"]) for r in doc["results"]),
    }


def rewritten(source: Path, target: Path, change: Any) -> Path:
    """A result changed and given a fresh, correct digest: a result of some other run."""
    doc = document(source)
    change(doc)
    doc.pop("signature", None)
    doc["digest"] = canonical_digest(doc)
    target.write_text(json_text(doc))
    return target


class TestMergeGivesTheUnsplitVerdicts:
    def test_three_shards_merge_into_the_unsplit_runs_verdicts(self, runs: Runs, capsys: Any) -> None:
        code, made = merge(runs.folder, *reversed(runs.shards))
        assert code == runs.whole_code == EXIT_NOT_READY
        assert set(made) == {".html", ".xml", ".json", ".prom"}
        merged = document(made[".json"])
        assert verdicts(merged) == verdicts(document(runs.whole))
        assert merged["hosts"]["ssh://web3"]["verdicts"] == {"1": "NOT READY", "2": "NOT READY"}
        assert merged["hosts"]["ssh://web5"]["verdicts"]["1"] == "COULD NOT CHECK"
        # The merged report is as tamper-evident as a run's.
        for path in (made[".html"], made[".json"]):
            assert verify_report(path, None).intact, path
        out = capsys.readouterr().out
        assert "phoenix: merged 3 results, 7 hosts" in out and "verdict: NOT READY" in out
        prom = made[".prom"].read_text()
        assert 'phoenix_phase_ready{host="ssh://web3",phase="1"} 0' in prom
        assert prom.count("phoenix_host_reachable{") == len(FLEET)
        junit = made[".xml"].read_text()
        assert junit.count("<testcase ") == len(FLEET) * 4
        assert 'name="T-1.01 test_blocking[ssh://web3]"' in junit and "expected ok, got broken (web3)" in junit

    def test_the_page_puts_the_worst_hosts_first_and_names_each_failing_check_once(self, runs: Runs) -> None:
        from bs4 import BeautifulSoup

        _, made = merge(runs.folder, *runs.shards)
        soup = BeautifulSoup(made[".html"].read_text(), "html.parser")
        rows = soup.select("table.matrix tr")[1:]
        order = [row.td.get_text(strip=True) for row in rows if row.td is not None]
        # NOT READY first, then COULD NOT CHECK, then READY, each by name (numbers as numbers).
        assert order[:2] == ["ssh://web3", "ssh://web5"]
        assert order[2:] == ["ssh://web1", "ssh://web2", "ssh://web7", "ssh://web10", "ssh://web12"]
        spread = {row["data-check"]: row.get_text(" ", strip=True) for row in soup.select("tr.spread-row")}
        assert "T-1.01 fails on 1 of 7 hosts: ssh://web3" in spread["T-1.01"]
        assert "T-1.02 fails on 3 of 7 hosts: ssh://web1, ssh://web10, ssh://web12" in spread["T-1.02"]
        assert "T-1.03 could not be judged on 1 of 7 hosts: ssh://web5" in spread["T-1.03"]
        assert spread["T-1.01"].count("fix-web3") == 1

    def test_signed_shards_merge_when_the_signer_is_named(self, runs: Runs) -> None:
        code, _ = merge(runs.folder, f"--signer={runs.key}.pub", *runs.shards)
        assert code == EXIT_NOT_READY


class TestMergeRefuses:
    def test_an_input_changed_after_it_was_written(self, runs: Runs, tmp_path: Path, capsys: Any) -> None:
        changed = tmp_path / "changed.json"
        changed.write_text(runs.shards[0].read_text().replace('"failed"', '"passed"', 1))
        code, made = merge(runs.folder, changed, *runs.shards[1:])
        assert (code, made) == (EXIT_INPUT_ALTERED, {})
        assert f"refused: {changed}: ALTERED" in capsys.readouterr().err

    def test_a_truncated_input(self, runs: Runs, tmp_path: Path, capsys: Any) -> None:
        cut = tmp_path / "cut.json"
        cut.write_bytes(runs.shards[1].read_bytes()[:-200])
        code, made = merge(runs.folder, runs.shards[0], cut, runs.shards[2])
        assert (code, made) == (EXIT_INPUT_ALTERED, {})
        assert "truncated" in capsys.readouterr().err

    def test_an_input_signed_by_another_key_or_not_at_all(self, runs: Runs, tmp_path: Path, capsys: Any) -> None:
        other = ssh_key(tmp_path, "other")
        assert merge(runs.folder, f"--signer={other}.pub", *runs.shards) == (EXIT_INPUT_ALTERED, {})
        assert "BAD" in capsys.readouterr().err
        assert merge(runs.folder, f"--signer={runs.key}.pub", runs.whole) == (EXIT_INPUT_ALTERED, {})
        assert "not signed" in capsys.readouterr().err

    def test_two_inputs_that_judged_the_same_host(self, runs: Runs, capsys: Any) -> None:
        code, made = merge(runs.folder, runs.shards[0], runs.whole)
        assert (code, made) == (EXIT_INPUTS_DISAGREE, {})
        err = capsys.readouterr().err
        assert f"is judged by both {runs.shards[0]} and {runs.whole}" in err

    def test_one_input_given_twice(self, runs: Runs, tmp_path: Path, capsys: Any) -> None:
        copy = tmp_path / "copy.json"
        copy.write_bytes(runs.shards[0].read_bytes())
        assert merge(runs.folder, runs.shards[0], copy) == (EXIT_INPUTS_DISAGREE, {})
        assert "is the same result as" in capsys.readouterr().err

    def test_shards_of_different_runs(self, runs: Runs, tmp_path: Path, capsys: Any) -> None:
        def phase_1_only(doc: dict[str, Any]) -> None:
            doc["run"]["phases"] = ["1"]
            for host in doc["hosts"].values():
                host["verdicts"] = {"1": host["verdicts"]["1"]}

        other = rewritten(runs.shards[1], tmp_path / "other.json", phase_1_only)
        assert merge(runs.folder, runs.shards[0], other)[0] == EXIT_INPUTS_DISAGREE
        assert "their phases differ (1,2 against 1)" in capsys.readouterr().err

    def test_no_such_input_is_a_usage_error(self, runs: Runs, tmp_path: Path) -> None:
        assert merge(runs.folder, tmp_path / "absent.json")[0] == 2


def test_the_readme_table_of_refusals_is_merges() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("### Shards, merge and trend", 1)[1].split("\n### ", 1)[0]
    rows = {int(code): meaning for code, meaning in re.findall(r"^\| (\d+) \| (.+?) \|$", section, re.MULTILINE)}
    assert {code: rows[code] for code in REFUSALS} == REFUSALS
    assert rows[2].startswith("usage")


class TestTrendRefuses:
    def test_a_changed_night_as_merge_does(self, runs: Runs, tmp_path: Path, capsys: Any) -> None:
        changed = tmp_path / "changed.json"
        changed.write_text(runs.whole.read_text().replace('"failed"', '"passed"', 1))
        assert (
            main(["trend", f"--reports-dir={tmp_path / 'trend'}", str(runs.whole), str(changed)]) == EXIT_INPUT_ALTERED
        )
        assert f"refused: {changed}: ALTERED" in capsys.readouterr().err
        assert not (tmp_path / "trend").exists()


class TestAMergedResultIsReadBack:
    """A merged fleet's result is read back as a run's: by trend, and by a run's --compare
    (format 2: compact, what a check is named once; a 1,000-host result is within the bound)."""

    def test_trend_and_compare_read_the_merged_result(self, runs: Runs, tmp_path: Path, capsys: Any) -> None:
        code, made = merge(runs.folder, *runs.shards)
        assert code == EXIT_NOT_READY
        merged = made[".json"]
        assert document(merged)["format"] == "phoenix-compliance/2"
        assert "\n" not in merged.read_text().rstrip("\n")  # compact: one line
        assert main(["trend", f"--reports-dir={tmp_path / 'trend'}", str(runs.whole), str(merged)]) == 0
        assert list((tmp_path / "trend").glob("*.html")), capsys.readouterr()
        compared_code, compared = run_suite(runs.folder, "compared", f"--compare={merged}")
        assert compared_code == runs.whole_code
        # The same fleet judged alike: no check newly failing, fixed, new or removed against the merge.
        assert document(compared)["changes"] == []
        assert document(compared)["run"]["compared_with"] == str(merged)

    def test_a_result_over_the_bound_is_refused_pointing_at_its_shards(self, tmp_path: Path, capsys: Any) -> None:
        """A merged result of thousands of hosts (5,000: about 217 MB) is over the read-back bound:
        refused naming the file and the bound, and saying what to read back instead (not "truncated")."""
        from phoenix_compliance.report.bounded import MAX_REPORT_BYTES

        huge = tmp_path / "readiness-fleet-5000-hosts.json"
        with huge.open("wb") as out:
            out.truncate(MAX_REPORT_BYTES + 1)  # sparse: the size is refused before a byte is read
        assert main(["trend", f"--reports-dir={tmp_path / 'trend'}", str(huge)]) != 0
        said = capsys.readouterr().err
        assert f"{huge}: larger than 64 MB" in said and "shards' results" in said and "truncated" not in said

    def test_a_result_of_format_1_is_still_read(self, runs: Runs, tmp_path: Path, capsys: Any) -> None:
        old = document(runs.whole)
        old.pop("signature", None)
        checks = old.pop("checks")
        old["format"] = "phoenix-compliance/1"
        old["results"] = [{**r, **checks[r["id"]]} for r in old["results"]]
        old["digest"] = canonical_digest(old)
        legacy = tmp_path / "legacy.json"
        legacy.write_text(json_text(old))
        assert legacy.read_text().startswith('{\n  "format": "phoenix-compliance/1"')  # indented, as it was written
        assert verify_report(legacy, None).intact
        assert main(["trend", f"--reports-dir={tmp_path / 'trend'}", str(legacy), str(runs.whole)]) == 0
        compared_code, compared = run_suite(runs.folder, "compared-legacy", f"--compare={legacy}")
        assert (compared_code, document(compared)["changes"]) == (runs.whole_code, [])


class TestFleetViews:
    def test_the_matrix_order_is_not_ready_then_unreachable_then_by_name(self) -> None:
        from phoenix_compliance.report.model import CheckResult, RunReport, check_spread, hosts_by_concern

        run = RunReport("now", ("1",), "stack.yaml", "v")
        for name, outcome in (("ssh://a", "passed"), ("ssh://z", "failed"), ("ssh://m", "could not check")):
            run.host(name).results.append(CheckResult(name, "T-1.01", "1", "high", "t", outcome, "e", "fix", "n"))
        run.host("ssh://m").unreachable = "no answer within 8 s"
        run.host("ssh://b").results.append(
            CheckResult("ssh://b", "T-1.01", "1", "high", "t", "passed", "e", "fix", "n")
        )
        assert [host.host for host in hosts_by_concern(run)] == ["ssh://z", "ssh://m", "ssh://a", "ssh://b"]
        (spread,) = check_spread(run)
        assert (spread.failed, spread.not_checked, spread.ran_on) == (["ssh://z"], ["ssh://m"], 4)


class TestAResultOfAnotherShape:
    def test_a_result_for_a_host_it_does_not_list_is_refused_not_a_traceback(
        self, runs: Runs, tmp_path: Path, capsys: Any
    ) -> None:
        def unlisted(doc: dict[str, Any]) -> None:
            doc["results"][0]["host"] = "ssh://nowhere"

        odd = rewritten(runs.whole, tmp_path / "odd.json", unlisted)
        assert merge(runs.folder, odd)[0] == EXIT_INPUT_ALTERED
        assert "not a result of this suite's format" in capsys.readouterr().err

    def test_a_reports_folder_that_is_a_file_is_exit_14_with_the_verdicts_printed(
        self, runs: Runs, tmp_path: Path, capsys: Any
    ) -> None:
        (tmp_path / "taken").write_text("")
        assert main(["merge", f"--reports-dir={tmp_path / 'taken'}", *map(str, runs.shards)]) == 14
        captured = capsys.readouterr()
        assert "it is a file, not a folder; no report file was kept" in captured.err
        assert "verdict: NOT READY" in captured.out and "report:" not in captured.out
