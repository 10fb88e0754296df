"""--shard K/N: N runs, one per CI job, check every host of a fleet exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from phoenix_compliance.run.reporter import EXIT_READY
from phoenix_compliance.run.selection import shard_hosts

# Checks that take testinfra's host and ask it nothing: a fleet of names, never reached.
CHECKS = """
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="high", title="first", remediation="none")
def test_first(host, observed):
    observed("seen")

@check("T-1.02", phase="1", severity="high", title="second", remediation="none")
def test_second(host, observed):
    observed("seen")
"""
FLEET = [f"ssh://web{number}" for number in (7, 1, 12, 3, 5, 10, 2)]


def hosts_judged(pytester: pytest.Pytester, *args: str) -> tuple[int, set[str], dict[str, Any]]:
    reports = pytester.path / "reports"
    if reports.exists():
        for old in reports.iterdir():
            old.unlink()
    result = pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", "--phase=1", *args)
    document: dict[str, Any] = json.loads(next(reports.glob("readiness-*.json")).read_text())
    return int(result.ret), {r["host"] for r in document["results"]}, document


class TestShardSlices:
    def test_the_slices_are_balanced_and_cover_every_host_once(self) -> None:
        hosts = {f"ssh://h{number}" for number in range(11)}
        slices = [shard_hosts(hosts, (k, 4)) for k in range(1, 5)]
        assert set().union(*slices) == hosts
        assert sum(len(s) for s in slices) == len(hosts)
        assert max(len(s) for s in slices) - min(len(s) for s in slices) <= 1

    def test_more_shards_than_hosts_leaves_some_empty(self) -> None:
        assert shard_hosts({"ssh://a"}, (2, 3)) == set()


class TestShardRuns:
    def test_n_runs_judge_every_host_exactly_once_whatever_the_order(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        seen: list[set[str]] = []
        for k in (1, 2, 3):
            code, judged, document = hosts_judged(pytester, f"--hosts={','.join(FLEET)}", f"--shard={k}/3")
            # The shard's own hosts ran every check: READY, not PARTIAL.
            assert code == EXIT_READY, document
            assert judged
            seen.append(judged)
            reversed_code, reversed_judged, _ = hosts_judged(
                pytester, f"--hosts={','.join(reversed(FLEET))}", "--shard", f"{k}/3"
            )
            assert (reversed_code, reversed_judged) == (EXIT_READY, judged)
        assert set().union(*seen) == set(FLEET)
        assert sum(len(s) for s in seen) == len(FLEET)
        assert sorted(len(s) for s in seen) == [2, 2, 3]

    @pytest.mark.parametrize("value", ["0/3", "4/3", "2", "a/b", "1/0"])
    def test_a_bad_shard_is_a_usage_error(self, pytester: pytest.Pytester, value: str) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", f"--shard={value}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*--shard:*"])

    def test_the_header_names_the_shard(self, pytester: pytest.Pytester, tmp_path: Path) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = pytester.runpytest_subprocess(
            "-p", "phoenix_compliance.plugin", "--phase=1", f"--hosts={','.join(FLEET)}", "--shard=2/3"
        )
        result.stdout.fnmatch_lines(["phoenix: shard 2 of 3 (the hosts sorted by id, dealt in turn)"])


class TestShardCollection:
    def test_a_shard_collects_only_its_own_hosts_checks(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = pytester.runpytest_subprocess(
            "-p", "phoenix_compliance.plugin", "--phase=1", f"--hosts={','.join(FLEET)}", "--shard=2/3", "--co", "-q"
        )
        ids = [line for line in result.outlines if "::test_" in line]
        mine = shard_hosts(set(FLEET), (2, 3))
        # Two checks for each of this shard's hosts, none of another shard's (nothing deselected).
        assert len(ids) == 2 * len(mine), result.outlines
        assert {line.rsplit("[", 1)[1].rstrip("]") for line in ids} == mine
        assert not any("deselected" in line for line in result.outlines), result.outlines

    def test_a_shard_left_without_a_host_runs_no_check(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = pytester.runpytest_subprocess(
            "-p", "phoenix_compliance.plugin", "--phase=1", "--hosts=ssh://a,ssh://b", "--shard=3/3", "--co", "-q"
        )
        # More shards than hosts: the third has none, and no check of another shard's host is collected.
        assert not [line for line in result.outlines if "::test_" in line], result.outlines
