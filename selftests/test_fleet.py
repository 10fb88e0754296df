"""A fleet of three reference hosts, each in its own network namespace: one compliant,
one drifted (linger off), one stopped. Runs probing the hosts at once or one at a time, xdist
and Ansible-inventory runs agree."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from suite_runner import REPO

from phoenix_compliance.run.reporter import EXIT_COULD_NOT_CHECK, EXIT_NOT_READY

pytestmark = pytest.mark.refhost
HOSTS = ("fleet-1", "fleet-2", "fleet-3")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from phoenix_compliance import refhost

    refhost.up_fleet(3)
    drifted = refhost.run_in_guest(["loginctl", "disable-linger", "phoenix"], name="fleet-2")
    assert drifted.returncode == 0, drifted.stderr
    refhost.down(name="fleet-3")
    config = refhost.write_ssh_config(tmp_path_factory.mktemp("fleet") / "ssh_config", name=None)
    try:
        yield config
    finally:
        refhost.down_all(prefix="fleet")


def run(reports: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/phase1",
            "--phase=1",
            f"--reports-dir={reports}",
            "--probe-timeout=20",
            *args,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        # ansible-inventory sits beside this interpreter in the virtualenv.
        env=dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"),
    )
    document = json.loads(next(reports.glob("readiness-*.json")).read_text())
    return done.returncode, document, done.stdout + done.stderr


def summary(document: dict[str, Any]) -> dict[str, tuple[str, str | None, int]]:
    return {
        host: (record["verdicts"]["1"], record["unreachable"] and "unreachable", record["commands_run"])
        for host, record in document["hosts"].items()
    }


def outcomes(document: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(r["host"], r["key"], r["outcome"]) for r in document["results"]}


EXPECTED = {
    "ssh://fleet-1": ("READY", None, 1),
    "ssh://fleet-2": ("NOT READY", None, 1),
    "ssh://fleet-3": ("UNREACHABLE", "unreachable", 1),  # one attempt, then no more
}


class TestFleet:
    def test_serial_run_marks_each_host_and_probes_each_once(self, fleet: Path, tmp_path: Path) -> None:
        code, document, output = run(
            tmp_path, "--hosts=" + ",".join(f"ssh://{h}" for h in HOSTS), f"--ssh-config={fleet}"
        )
        # fleet-2 NOT READY outranks fleet-3 unreachable (README "Gates and exit codes").
        assert code == EXIT_NOT_READY, output
        assert summary(document) == EXPECTED, output
        failing = {(r["host"], r["id"]) for r in document["results"] if r["outcome"] in ("failed", "error")}
        assert ("ssh://fleet-2", "PHX-1.11") in failing
        assert not {f for f in failing if f[0] == "ssh://fleet-1"}

    def test_hosts_probed_at_once_give_the_verdicts_of_one_at_a_time(self, fleet: Path, tmp_path: Path) -> None:
        hosts = "--hosts=" + ",".join(f"ssh://{h}" for h in HOSTS)
        _, one_at_a_time, _ = run(tmp_path / "one", hosts, f"--ssh-config={fleet}", "--probe-concurrency=1")
        code, at_once, output = run(tmp_path / "all", hosts, f"--ssh-config={fleet}")
        assert code == EXIT_NOT_READY, output
        assert summary(at_once) == summary(one_at_a_time) == EXPECTED, output
        assert outcomes(at_once) == outcomes(one_at_a_time)

    def test_xdist_run_gives_the_same_results_and_report(self, fleet: Path, tmp_path: Path) -> None:
        hosts = "--hosts=" + ",".join(f"ssh://{h}" for h in HOSTS)
        _, serial, _ = run(tmp_path / "serial", hosts, f"--ssh-config={fleet}")
        code, parallel, output = run(tmp_path / "xdist", hosts, f"--ssh-config={fleet}", "-n", "3")
        assert code == EXIT_NOT_READY, output
        assert summary(parallel) == EXPECTED, output
        assert outcomes(parallel) == outcomes(serial)
        # One combined report, written once by the controller.
        assert len(list((tmp_path / "xdist").glob("readiness-*.html"))) == 1

    def test_ansible_inventory_reaches_the_same_hosts(self, fleet: Path, tmp_path: Path) -> None:
        inventory = tmp_path / "inventory.ini"
        inventory.write_text("[fleet]\n" + "\n".join(HOSTS) + "\n")
        code, document, output = run(
            tmp_path / "reports", "--hosts=ansible://fleet", f"--ansible-inventory={inventory}", f"--ssh-config={fleet}"
        )
        assert code == EXIT_NOT_READY, output
        # testinfra names these hosts ansible://NAME; they are reached over ssh all the same.
        renamed = {host.replace("ansible://", "ssh://"): value for host, value in summary(document).items()}
        assert renamed == EXPECTED, output

    # A plain run probes its hosts at once; under xdist each worker probes its own.
    @pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["plain", "xdist"])
    def test_a_hanging_host_is_unreachable_and_holds_back_no_other(
        self, fleet: Path, tmp_path: Path, workers: tuple[str, ...]
    ) -> None:
        from phoenix_compliance import refhost

        # fleet-2 accepts the connection and then never answers, like a hung machine.
        refhost.freeze("fleet-2")
        try:
            code, document, output = run(
                tmp_path, "--hosts=ssh://fleet-1,ssh://fleet-2", f"--ssh-config={fleet}", *workers
            )
        finally:
            refhost.freeze("fleet-2", frozen=False)
        assert code == EXIT_COULD_NOT_CHECK, output
        assert summary(document)["ssh://fleet-1"] == ("READY", None, 1)
        verdict, unreachable, _ = summary(document)["ssh://fleet-2"]
        assert (verdict, unreachable) == ("UNREACHABLE", "unreachable")
        # A new connection times out in ssh's banner exchange; one multiplexed over a master
        # opened by an earlier run gets no answer within the probe bound.
        reason = str(document["hosts"]["ssh://fleet-2"]["unreachable"])
        assert "timed out" in reason or "no answer within 20s" in reason, reason
