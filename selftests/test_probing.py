"""Probe concurrently, check serially (run/probing.py): every selected host is probed at once,
in a bounded pool, before the checks run; a frozen host holds back no other; each host is
probed once, only for the parts its selected checks read.

The pytester runs reach fake hosts: a conftest puts facts built on the real HostRunner (its
wait bound included) over a testinfra stand-in that answers like the reference host after a
delay per host, and logs when each probe started and ended. Times are measured and shown,
never asserted: the assertions are on how the logged probe intervals overlap.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from checks_cases import ALL_CHECKS, judge_on
from fakehost import reference_host, reference_stack

from phoenix_compliance.run.probing import READS
from phoenix_compliance.run.reporter import EXIT_COULD_NOT_CHECK, EXIT_READY

SELFTESTS = Path(__file__).resolve().parent

# Facts over fake hosts: delays.json gives each host's delay in seconds per probe ("frozen":
# never answers); every probe is logged to probes.jsonl as {host, script, start, end}.
CONFTEST = f"""
import json, os, sys, threading, time
from unittest import mock

sys.path.insert(0, {str(SELFTESTS)!r})
import fakehost

from phoenix_compliance.facts import HostFacts
from phoenix_compliance.run import probing
from phoenix_compliance.transport.runner import HostRunner

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "delays.json")) as given:
    DELAYS = json.load(given)
LOG = os.path.join(HERE, "probes.jsonl")
WRITING = threading.Lock()


def log(**entry):
    with WRITING, open(LOG, "a") as out:
        out.write(json.dumps(entry) + "\\n")


class Runner(HostRunner):
    # The scripts of the command about to run: one, or several run together (run_scripts).
    def run_scripts(self, name, scripts):
        self.current = [(script, env) for script, (_, env) in zip(name.split("+"), scripts)]
        return super().run_scripts(name, scripts)

    def run_script(self, name, body, env):
        self.current = [(name, env)]
        return super().run_script(name, body, env)


class Result:
    def __init__(self, stdout):
        self.rc, self.stdout, self.stderr = 0, stdout, ""


class Host:
    def __init__(self, key, fake):
        self.key, self.fake, self.runner = key, fake, None

    def run(self, command, *args, **kwargs):
        current = self.runner.current
        start = time.monotonic()
        delay = DELAYS.get(self.key, 0)
        if delay == "frozen":
            for name, _ in current:
                log(host=self.key, script=name, start=start, end=None)
            threading.Event().wait()
        time.sleep(delay)
        printed = []
        for name, env in current:
            sections = fakehost.FakeRunner(self.fake).run_script(name, "", env)
            log(host=self.key, script=name, start=start, end=time.monotonic())
            printed += [fakehost.encode_section(section) for section in sections.values()]
        return Result("".join(printed))


def host_facts(host, key, state):
    fake = fakehost.reference_host()
    fake.api = fakehost.FakeApi(fake)
    stand_in = Host(key, fake)
    runner = stand_in.runner = Runner(stand_in, key, state.podman_user, state.probe_timeout)
    with mock.patch("phoenix_compliance.facts.host.reach_for", return_value=fakehost.FakeReach(fake)):
        return HostFacts(runner, state.manifest, host.backend, state.compose_override, state.quadlet_override)


probing.host_facts = host_facts
"""

CHECKS = """
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="high", title="the user", remediation="none")
def test_user(facts, observed):
    observed(facts.host.user)
    assert facts.host.user == "phoenix"

@check("T-S.01", phase="security", severity="high", title="the runtime folder", remediation="none")
def test_runtime_dir(facts, observed):
    observed(str(facts.security.runtime_dir))
    assert facts.security.runtime_dir is not None
"""


def fleet_run(
    pytester: pytest.Pytester, delays: Mapping[str, float | str], *args: str
) -> tuple[int, list[dict[str, Any]], dict[str, Any], float]:
    """Run the checks against fake hosts; the exit code, the probe log, the JSON report, the wall time."""
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_checks=CHECKS)
    log = pytester.path / "probes.jsonl"
    log.unlink(missing_ok=True)
    (pytester.path / "delays.json").write_text(json.dumps(delays))
    reports = pytester.path / "reports"
    for old in reports.glob("*") if reports.exists() else []:
        old.unlink()
    hosts = ",".join(delays)
    start = time.monotonic()
    result = pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", f"--hosts={hosts}", *args)
    wall = time.monotonic() - start
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    found = list(reports.glob("readiness-*.json"))
    document: dict[str, Any] = json.loads(found[0].read_text()) if found else {}
    return int(result.ret), entries, document, wall


def spans(entries: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Each host's probing, from its first probe's start to its last probe's end."""
    by_host: dict[str, tuple[float, float]] = {}
    for entry in entries:
        end = entry["end"] if entry["end"] is not None else float("inf")
        first, last = by_host.get(entry["host"], (entry["start"], end))
        by_host[entry["host"]] = (min(first, entry["start"]), max(last, end))
    return by_host


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The largest number of intervals open at the same moment."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    open_now = most = 0
    for _, step in events:
        open_now += step
        most = max(most, open_now)
    return most


def verdicts(document: dict[str, Any]) -> dict[str, str]:
    return {host: record["verdicts"]["1"] for host, record in document["hosts"].items()}


THREE = {"ssh://web1": 1.0, "ssh://web2": 1.0, "ssh://web3": 1.0}


class TestConcurrentProbing:
    def test_three_slow_hosts_are_probed_at_the_same_time(self, pytester: pytest.Pytester) -> None:
        code, entries, document, wall = fleet_run(pytester, THREE, "--phase=1")
        probing = max(e["end"] for e in entries) - min(e["start"] for e in entries)
        print(f"three hosts whose probe takes 1 s each: probed in {probing:.2f} s, the whole run {wall:.2f} s")
        assert code == EXIT_READY, document
        assert verdicts(document) == dict.fromkeys(THREE, "READY")
        # Every host's probe started before any of them ended: all three were in flight at once.
        assert max(e["start"] for e in entries) < min(e["end"] for e in entries), entries

    def test_each_host_is_probed_once_and_only_for_its_selected_checks(self, pytester: pytest.Pytester) -> None:
        _, entries, document, _ = fleet_run(pytester, dict.fromkeys(THREE, 0.0))
        probed = sorted((e["host"], e["script"]) for e in entries)
        # Phase 1 reads the base probe and the containers.conf files (PHX-1.03 on Podman 6), security
        # its own (the runtime folder): once per host each, the scripts in one command on the host.
        scripts = ("probe_base.sh", "probe_security.sh", "probe_upgrade.sh")
        assert probed == sorted((h, s) for h in THREE for s in scripts)
        assert {h: r["commands_run"] for h, r in document["hosts"].items()} == dict.fromkeys(THREE, 1)

    def test_deselected_phases_and_hosts_are_not_probed(self, pytester: pytest.Pytester) -> None:
        _, entries, _, _ = fleet_run(pytester, dict.fromkeys(THREE, 0.0), "--phase=security", "--shard=2/3")
        assert [(e["host"], e["script"]) for e in entries] == [
            ("ssh://web2", "probe_base.sh"),
            ("ssh://web2", "probe_security.sh"),
        ]
        _, entries, _, _ = fleet_run(pytester, dict.fromkeys(THREE, 0.0), "-k", "test_user and web3")
        assert [(e["host"], e["script"]) for e in entries] == [
            ("ssh://web3", "probe_base.sh"),
            ("ssh://web3", "probe_upgrade.sh"),
        ]

    def test_a_dry_run_probes_nothing(self, pytester: pytest.Pytester) -> None:
        for dry in ("--collect-only", "--setup-plan"):
            _, entries, _, _ = fleet_run(pytester, dict.fromkeys(THREE, 0.0), dry)
            assert entries == [], dry

    def test_under_xdist_each_worker_probes_its_own_hosts_once(self, pytester: pytest.Pytester) -> None:
        code, entries, document, _ = fleet_run(pytester, dict.fromkeys(THREE, 0.0), "--phase=1", "-n", "2")
        assert code == EXIT_READY, document
        assert sorted(e["host"] for e in entries) == sorted(THREE)
        assert verdicts(document) == dict.fromkeys(THREE, "READY")

    def test_the_pool_is_bounded(self, pytester: pytest.Pytester) -> None:
        hosts = {f"ssh://web{n}": 0.5 for n in range(1, 6)}
        code, entries, document, wall = fleet_run(pytester, hosts, "--phase=1", "--probe-concurrency=2")
        print(f"five hosts of 0.5 s, two at a time: {wall:.2f} s")
        assert code == EXIT_READY, document
        assert len(spans(entries)) == 5
        assert most_at_once(list(spans(entries).values())) == 2

    def test_a_bad_concurrency_is_a_usage_error(self, pytester: pytest.Pytester) -> None:
        for value in ("0", "many"):
            code, _, _, _ = fleet_run(pytester, THREE, f"--probe-concurrency={value}")
            assert code == pytest.ExitCode.USAGE_ERROR


class TestFrozenHost:
    def test_a_frozen_host_holds_back_no_other(self, pytester: pytest.Pytester) -> None:
        hosts: dict[str, float | str] = {"ssh://frozen": "frozen", "ssh://web1": 0.2, "ssh://web2": 0.2}
        code, entries, document, wall = fleet_run(pytester, hosts, "--phase=1", "--probe-timeout=3")
        print(f"a frozen host (3 s bound) beside two of 0.2 s: {wall:.2f} s")
        assert code == EXIT_COULD_NOT_CHECK, document
        assert verdicts(document) == {"ssh://frozen": "UNREACHABLE", "ssh://web1": "READY", "ssh://web2": "READY"}
        assert "no answer within 3s" in str(document["hosts"]["ssh://frozen"]["unreachable"])
        # The other hosts were probed while the frozen one was waited for, not after its bound.
        frozen_start = next(e["start"] for e in entries if e["host"] == "ssh://frozen")
        others = [e for e in entries if e["host"] != "ssh://frozen"]
        assert others and all(e["start"] < frozen_start + 3 for e in others), entries
        # One attempt: the unreachable host is never waited for again.
        assert [e["script"] for e in entries if e["host"] == "ssh://frozen"] == ["probe_base.sh", "probe_upgrade.sh"]


# What a check reads beyond its row, read ahead for it by its phase's live checks.
BEYOND_ITS_ROW = {"PHX-S.04": {"security"}}


class TestReadsTable:
    @pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda check: check.__name__)
    def test_a_check_reads_nothing_beyond_its_phases_row(self, check: Any) -> None:
        """Once the parts of its row are read ahead, a bundled check runs no further probe and asks
        the API nothing more: the table in run/probing.py names everything the checks read."""
        spec = next(m for m in check.pytestmark if m.name == "check").args[0]
        host = reference_host()
        facts = host.facts(reference_stack())
        facts.prefetch(READS[(spec.phase, spec.files)] | BEYOND_ITS_ROW.get(spec.id, set()))
        assert host.runner is not None and host.api is not None
        scripts, calls = list(host.runner.scripts), list(host.api.calls)
        judge_on(facts, check)
        assert host.runner.scripts == scripts, f"{spec.id} probed {host.runner.scripts[len(scripts) :]} on its own"
        assert host.api.calls == calls, f"{spec.id} asked the API {host.api.calls[len(calls) :]} on its own"
