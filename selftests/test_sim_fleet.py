"""The simulated fleet (fakehost/fleet.py) through the real plugin: 20 hosts answering with probe
output recorded from the reference guests, among them unreachable, frozen and drifted ones, every
phase of the stand-in stack. Each verdict is the one the recorded or drifted facts call for, the
frozen host costs no more than the probe bound, and every output says the hosts were simulated."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from fakehost import fleet
from suite_runner import REFERENCE_STACK, REPO

from phoenix_compliance.catalogue import SIMULATED

pytest_plugins = ["pytester"]
SELFTESTS = Path(__file__).resolve().parent
PROBE_TIMEOUT = 4
# Which check each drift must fail, and a word of its evidence that names the drift.
DRIFT_FAILS = {
    "linger": ("1", "PHX-1.", "Linger=no"),
    "docker": ("security", "PHX-S.08", "docker.sock"),
    "socket": ("1", "PHX-1.", "podman.socket"),
}


@pytest.fixture(scope="module")
def hosts() -> list[fleet.SimHost]:
    return fleet.make_fleet(20, seed=27, unreachable=0.1, frozen=0.05, drifted=0.15)


def simulate(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, hosts: list[fleet.SimHost], *args: str) -> Any:
    path = fleet.write_fleet(pytester.path / "fleet.json", hosts, seed=27)
    monkeypatch.setenv("PYTHONPATH", str(SELFTESTS))
    started = time.monotonic()
    result = pytester.runpytest_subprocess(
        "-p",
        "phoenix_compliance.plugin",
        "-p",
        "fakehost.fleet",
        f"--sim-fleet={path}",
        "--hosts=sim://fleet",
        f"--stack={REFERENCE_STACK}",
        f"--probe-timeout={PROBE_TIMEOUT}",
        f"--reports-dir={pytester.path / 'reports'}",
        "-q",
        "-p",
        "no:randomly",
        str(REPO / "tests"),
        *args,
    )
    return result, time.monotonic() - started


class TestSimulatedFleet:
    def test_fleet_file_mixes_every_fate(self, hosts: list[fleet.SimHost]) -> None:
        fates = [h.fate for h in hosts]
        assert (fates.count("unreachable"), fates.count("frozen"), fates.count("drifted")) == (2, 1, 3)
        assert sorted(h.drift for h in hosts if h.drift) == sorted(fleet.DRIFTS)
        assert all(20 <= h.latency_ms <= 200 for h in hosts)
        assert fleet.make_fleet(20, seed=27, unreachable=0.1, frozen=0.05, drifted=0.15) == hosts

    def test_a_probe_script_is_answered_by_its_section_names(self) -> None:
        script = (
            'section whoami sh -c "id -un"\nfor x in a; do section "http_$index" curl "$x"; done\nsection nosuch x\n'
        )
        answer = fleet.answer("trixie", "", script)
        names = [line.split(" ")[1] for line in answer.splitlines()]
        assert names[0] == "whoami" and "nosuch" not in names
        assert {n for n in names if n.startswith("http_")} == {"http_0", "http_1", "http_2", "http_3"}

    def test_twenty_hosts_verdicts(
        self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, hosts: list[fleet.SimHost]
    ) -> None:
        result, took = simulate(pytester, monkeypatch, hosts)
        reports = pytester.path / "reports"
        document = json.loads(next(reports.glob("readiness-*.json")).read_text())
        records = document["hosts"]
        assert sorted(records) == sorted(h.url for h in hosts)
        failed: dict[str, list[dict[str, Any]]] = {}
        for entry in document["results"]:
            if entry["outcome"] == "failed":
                failed.setdefault(entry["host"], []).append(entry)
        for host in hosts:
            record = records[host.url]
            # Every host, reached or not, carries the mark in its facts, which merge keeps.
            assert SIMULATED in record["facts"], host
            verdicts = record["verdicts"]
            if host.fate in ("unreachable", "frozen"):
                assert set(verdicts.values()) == {"UNREACHABLE"}, (host, verdicts)
                said = "Connection refused" if host.fate == "unreachable" else f"no answer within {PROBE_TIMEOUT}s"
                assert said in record["unreachable"], (host, record["unreachable"])
            elif host.fate == "drifted":
                phase, check, word = DRIFT_FAILS[host.drift]
                assert verdicts[phase] == "NOT READY", (host, verdicts)
                named = [f for f in failed.get(host.url, []) if f["id"].startswith(check) and word in f["evidence"]]
                assert named, (host, [(f["id"], f["evidence"]) for f in failed.get(host.url, [])])
            else:
                assert set(verdicts.values()) == {"READY"}, (host, verdicts)
                assert host.url not in failed
        # The frozen host held its own probing task for its bound only.
        assert took < 60, took
        result.stdout.fnmatch_lines(["SIMULATED: 20 of 20 host(s) answered from recorded probe output*"])
        page = BeautifulSoup(next(reports.glob("readiness-*.html")).read_text(), "html.parser")
        banner = page.select_one("#readiness p.SIMULATED")
        assert banner is not None and "not a compliance verdict" in banner.get_text()
