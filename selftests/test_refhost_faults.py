"""Hosts that misbehave in the middle of a run, on real guests of their own (prefix
verdict): a program that hangs, a guest frozen (its processes stopped, its connections
open) serial and under -n 2, a guest powered off, a closed ssh port. Each run ends within
the probe bound plus a margin, says one line per host, writes its report and exits with
the code of a host that could not be checked; no check passes on facts it never got."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from suite_runner import REPO

from phoenix_compliance.run.reporter import EXIT_COULD_NOT_CHECK

pytestmark = pytest.mark.refhost
PREFIX = "verdict"
HEALTHY, FAULTY = "verdict-1", "verdict-2"
PROBE_TIMEOUT = 8
# What a run of both guests takes when nothing goes wrong is well under this; a fault may
# add one probe bound per host (and the API's own, shorter bounds) and no more.
BOUND = 30 + 2 * PROBE_TIMEOUT
# Security checks judged from the base probe alone, which ran before any fault.
BASE_PROBE_ONLY = {"PHX-S.15"}


@pytest.fixture(scope="module")
def fleet() -> Iterator[None]:
    from phoenix_compliance import refhost

    refhost.up_fleet(2, PREFIX)
    try:
        yield
    finally:
        refhost.down_all(prefix=PREFIX)


@pytest.fixture
def ssh_config(fleet: None, tmp_path: Path) -> Path:
    """Both guests up (one a test powered off comes back) and an ssh config reaching them now."""
    from phoenix_compliance import refhost

    refhost.up_fleet(2, PREFIX)
    return refhost.write_ssh_config(tmp_path / "ssh_config", name=None)


@dataclass
class Finished:
    code: int
    output: str
    seconds: float
    document: dict[str, Any]

    def host(self, name: str) -> dict[str, Any]:
        hosts: dict[str, Any] = self.document["hosts"]
        return dict(hosts[f"ssh://{name}"])

    def outcomes(self, name: str) -> set[str]:
        return {r["outcome"] for r in self.document["results"] if r["host"] == f"ssh://{name}"}

    def summary_lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.startswith("ssh://")]


def run_suite(
    reports: Path,
    config: Path,
    *args: str,
    hosts: tuple[str, ...] = (HEALTHY, FAULTY),
    when: str | None = None,
    act: Callable[[], object] | None = None,
) -> Finished:
    """Run the suite on the guests; when an output line matches `when`, do `act` (in a thread,
    so the run's output is read on)."""
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "tests",
        "-v",
        "-p",
        "no:randomly",
        "--hosts=" + ",".join(f"ssh://{h}" for h in hosts),
        f"--ssh-config={config}",
        f"--reports-dir={reports}",
        f"--probe-timeout={PROBE_TIMEOUT}",
        *args,
    ]
    started = time.monotonic()
    process = subprocess.Popen(argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    lines: list[str] = []
    acting: threading.Thread | None = None
    killer = threading.Timer(3 * BOUND, process.kill)  # a hung run fails the test, not the session
    killer.start()
    try:
        for line in process.stdout:
            lines.append(line)
            if acting is None and when is not None and act is not None and re.search(when, line):
                acting = threading.Thread(target=act)
                acting.start()
        code = process.wait()
    finally:
        killer.cancel()
    seconds = time.monotonic() - started
    if acting is not None:
        acting.join()
    reports_written = sorted(reports.glob("readiness-*.json"))
    output = "".join(lines)
    assert reports_written, output
    return Finished(code, output, seconds, json.loads(reports_written[0].read_text()))


# When a fault lands. A plain run probes every host before its first check (run/probing.py):
# the fault lands while the hosts are probed, right after collection, and the faulty host's
# security probe dawdles (slow_security_probe) so that it answers only after the fault. Under
# xdist a worker probes a host at its first check: the fault lands after the faulty host's
# first check passed.
PROBING = r"collected \d+ items"
FIRST_PASSED = rf"PASSED.*{FAULTY}\]|{FAULTY}\].*PASSED"


def guest(argv: list[str], name: str = FAULTY) -> None:
    from phoenix_compliance import refhost

    done = refhost.run_in_guest(argv, name=name)
    assert done.returncode == 0, done.stderr


@contextlib.contextmanager
def slow_security_probe() -> Iterator[None]:
    """The faulty host's security probe takes 3 s (a sudo that dawdles, within the per-program
    bound), so a fault that lands while phase 1 is judged lands before that probe has answered,
    whichever worker runs it: the fault is mid-run by construction, not by a race."""
    wrapper = "/usr/local/bin/sudo"
    guest(
        ["sh", "-c", f"printf '#!/bin/sh\\nsleep 3\\nexec /usr/bin/sudo \"$@\"\\n' > {wrapper} && chmod 755 {wrapper}"]
    )
    try:
        yield
    finally:
        from phoenix_compliance import refhost

        if refhost.is_up(FAULTY):
            refhost.freeze(FAULTY, frozen=False)
            guest(["rm", "-f", wrapper])


def assert_faulty_host_not_judged(finished: Finished, *, passed_before: bool) -> None:
    """The faulty host is unreachable in one line, the healthy one judged; nothing of the
    faulty host passed on facts gathered after the fault."""
    # One line per host (under xdist in the order their results arrived).
    assert sorted(finished.summary_lines()) == [
        f"ssh://{HEALTHY}: phase 1: READY, phase security: READY",
        f"ssh://{FAULTY}: phase 1: UNREACHABLE, phase security: UNREACHABLE",
    ], finished.output
    assert finished.host(FAULTY)["unreachable"], finished.output
    security = {
        r["id"]: r["outcome"]
        for r in finished.document["results"]
        if r["host"] == f"ssh://{FAULTY}" and finished.document["checks"][r["id"]]["phase"] == "security"
    }
    # The security probe (and the API) are asked after the fault: their checks could not check.
    # Only a check read from the base probe, answered before the fault, may pass (S.15, the socket).
    passed = {check for check, outcome in security.items() if outcome == "passed"}
    assert passed <= BASE_PROBE_ONLY, security
    assert "could not check" in security.values(), security
    if not passed_before:
        assert "passed" not in finished.outcomes(FAULTY)


class TestFaultyHosts:
    def test_a_hanging_program_is_bounded_and_could_not_check(self, ssh_config: Path, tmp_path: Path) -> None:
        # loginctl hangs: a wrapper ahead of it on PATH, removed afterwards.
        guest(
            [
                "sh",
                "-c",
                "printf '#!/bin/sh\\nsleep 600\\n' > /usr/local/bin/loginctl && chmod 755 /usr/local/bin/loginctl",
            ]
        )
        try:
            finished = run_suite(tmp_path, ssh_config, "--phase=1", hosts=(FAULTY,))
        finally:
            guest(["rm", "-f", "/usr/local/bin/loginctl"])
        print(f"hanging loginctl: exit {finished.code} in {finished.seconds:.1f}s")
        assert finished.code == EXIT_COULD_NOT_CHECK, finished.output
        linger = [r for r in finished.document["results"] if r["id"] == "PHX-1.11"]
        assert [r["outcome"] for r in linger] == ["could not check"], finished.output
        assert "linger_loginctl" in linger[0]["evidence"] and "timed out" in linger[0]["evidence"]
        assert finished.host(FAULTY)["verdicts"]["1"] == "COULD NOT CHECK"
        # The other checks are judged: the host answered.
        assert "passed" in finished.outcomes(FAULTY)
        assert finished.seconds < BOUND, finished.output

    @pytest.mark.parametrize(
        ("workers", "when"),
        [([], PROBING), (["-n", "2"], FIRST_PASSED)],
        ids=["serial", "xdist"],
    )
    def test_a_host_frozen_mid_run_ends_the_run_within_the_bound(
        self, ssh_config: Path, tmp_path: Path, workers: list[str], when: str
    ) -> None:
        from phoenix_compliance import refhost

        with slow_security_probe():
            finished = run_suite(
                tmp_path,
                ssh_config,
                "--phase=1,security",
                *workers,
                when=when,
                act=lambda: refhost.freeze(FAULTY),
            )
        print(
            f"frozen mid-run ({'serial' if not workers else '-n 2'}): exit {finished.code} in {finished.seconds:.1f}s"
        )
        assert finished.code == EXIT_COULD_NOT_CHECK, finished.output
        assert_faulty_host_not_judged(finished, passed_before=True)
        assert finished.seconds < BOUND, finished.output

    def test_a_guest_powered_off_mid_run(self, ssh_config: Path, tmp_path: Path) -> None:
        from phoenix_compliance import refhost

        with slow_security_probe():
            finished = run_suite(
                tmp_path,
                ssh_config,
                "--phase=1,security",
                when=PROBING,
                act=lambda: refhost.down(FAULTY),
            )
        print(f"powered off mid-run: exit {finished.code} in {finished.seconds:.1f}s")
        assert finished.code == EXIT_COULD_NOT_CHECK, finished.output
        assert_faulty_host_not_judged(finished, passed_before=True)
        assert finished.seconds < BOUND, finished.output

    def test_a_closed_ssh_port_passes_no_check_endpoints_included(self, ssh_config: Path, tmp_path: Path) -> None:
        guest(["systemctl", "stop", "ssh.service"])
        try:
            finished = run_suite(tmp_path, ssh_config, "--phase=1,2,security", hosts=(FAULTY,))
        finally:
            guest(["systemctl", "start", "ssh.service"])
        print(f"ssh port closed: exit {finished.code} in {finished.seconds:.1f}s")
        assert finished.code == EXIT_COULD_NOT_CHECK, finished.output
        # Only the registry checks are not applicable: the manifest names no registry, which is
        # decided without the host.
        decided_by_manifest = {"PHX-S.21", "PHX-S.22"}
        outcomes = {r["id"]: r["outcome"] for r in finished.document["results"] if r["host"] == f"ssh://{FAULTY}"}
        assert {o for i, o in outcomes.items() if i not in decided_by_manifest} == {"could not check"}, finished.output
        assert {outcomes[i] for i in decided_by_manifest} == {"not applicable"}, finished.output
        endpoints = [
            r for r in finished.document["results"] if r["host"] == f"ssh://{FAULTY}" and r["id"] == "PHX-2.08"
        ]
        assert endpoints and {r["outcome"] for r in endpoints} == {"could not check"}
        assert f"ssh://{FAULTY}: phase 1: UNREACHABLE" in finished.output
        # One connect attempt for the host, not one per check.
        assert finished.host(FAULTY)["commands_run"] == 1, finished.output
        assert finished.seconds < BOUND, finished.output
