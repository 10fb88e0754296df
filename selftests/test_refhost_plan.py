"""The plan proven on real guests (issue 28): a reference guest taken back to an unmigrated host
(refhost.stage_plan: no linger, podman.socket disabled, no Quadlet folder, the stack down) is
NOT READY for phases 1 and 3; `phoenix-compliance plan` makes a script from that result; the
script, copied into the guest and run there as the operator would (as the stack's user, root's
steps through sudo), brings both phases to READY with the units of --source-dir; a second run
changes nothing (the linger file, the socket, the unit folders' files and mtimes, every unit's
state and invocation) and the check stays READY. The suite never runs the script: this test does.

One guest per release, each booted for its test and brought down after it (plan-trixie,
plan-forky, plan-p6, each in a network namespace of its own so the stack's published ports clash
with no other guest's).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from suite_runner import HOST, REFERENCE_STACK, REPO, Guest, run_suite

from phoenix_compliance.refhost import stage_plan

pytestmark = pytest.mark.refhost
SOURCE = REPO / "fixtures" / "infra" / "podman"
GUESTS = {"trixie": "plan-trixie", "forky": "plan-forky", "podman6": "plan-p6"}
PHASES = ("1", "3")
# What the unmigrated guest lacks, by check; each must fail before the plan.
UNMIGRATED = {"PHX-1.08", "PHX-1.10", "PHX-1.11", "PHX-3.01", "PHX-3.04", "PHX-3.05", "PHX-3.09"}
PLAN_TIMEOUT = 300


@dataclass
class Judged:
    """One run of the suite on the guest, read back from its JSON report."""

    path: Path
    output: str
    document: dict[str, Any]

    @property
    def verdicts(self) -> dict[str, str]:
        return dict(self.document["hosts"][HOST]["verdicts"])

    @property
    def failing(self) -> set[str]:
        return {r["id"] for r in self.document["results"] if r["outcome"] in ("failed", "error")}


def judge(guest: Guest, reports: Path) -> Judged:
    run = run_suite(
        reports,
        f"--hosts={HOST}",
        f"--ssh-config={guest.ssh_config}",
        f"--phase={','.join(PHASES)}",
        f"--stack={REFERENCE_STACK}",
        f"--source-dir={SOURCE}",
        "--health-wait=30",
        "-p",
        "no:randomly",
    )
    assert "Traceback" not in run.output, run.output
    probed = [line for line in run.output.splitlines() if line.startswith("probed ")]
    print(f"{reports.name}: {' '.join(probed)}")
    path = next(reports.glob("readiness-*.json"))
    return Judged(path, run.output, json.loads(path.read_text()))


def make_plan(result: Path) -> str:
    """`phoenix-compliance plan RESULT.json --host ssh://refhost --source-dir ...`, as the operator runs it."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "phoenix_compliance.cli",
            "plan",
            str(result),
            f"--host={HOST}",
            f"--source-dir={SOURCE}",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def run_plan(guest: Guest, where: str) -> str:
    done = stage_plan.run_script(guest.name, where, timeout=PLAN_TIMEOUT)
    assert done.returncode == 0, f"the plan exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


class Lap:
    """Seconds per step, for the test's output (the CI run's budget is per release)."""

    def __init__(self) -> None:
        self.last = time.monotonic()
        self.said: list[str] = []

    def __call__(self, what: str) -> None:
        now = time.monotonic()
        self.said.append(f"{what} {now - self.last:.0f} s")
        self.last = now


@pytest.fixture(params=list(GUESTS))
def plan_guest(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Guest]:
    """The release's own guest, booted clean for the test and down after it: one at a time."""
    from phoenix_compliance import refhost

    release = str(request.param)
    name = GUESTS[release]
    if refhost.is_up(name):  # left by an interrupted run, already changed: start clean
        refhost.down(name)
    refhost.up(name, release_name=release, private=True)
    try:
        config = refhost.write_ssh_config(tmp_path_factory.mktemp(name) / "ssh_config", name, "refhost")
        yield Guest(name, release, config)
    finally:
        refhost.down(name)


def test_the_plan_of_an_unmigrated_guest_makes_it_ready_and_a_second_run_changes_nothing(
    plan_guest: Guest, tmp_path: Path
) -> None:
    started = time.monotonic()
    lap = Lap()
    stage_plan.unmigrate(plan_guest.name)
    lap("unmigrated")
    before = judge(plan_guest, tmp_path / "unmigrated")
    lap("judged NOT READY")
    assert before.verdicts == dict.fromkeys(PHASES, "NOT READY"), before.output
    assert before.failing >= UNMIGRATED, before.output

    script = make_plan(before.path)
    (tmp_path / "plan.sh").write_text(script)
    digest = before.document["digest"]
    assert HOST in script and str(digest)[:16] in script, script[:800]
    # In the guide's order: linger (root's, the user's systemd) before the socket, the units before the target.
    order = [
        "loginctl enable-linger phoenix",
        "systemctl --user enable --now podman.socket",
        "systemctl --user daemon-reload",
        "systemctl --user enable --now phoenix.target",
    ]
    run_as = [line.strip().removeprefix("$SUDO ") for line in script.splitlines()]
    assert all(command in run_as for command in order), script
    assert sorted(order, key=run_as.index) == order, script
    where = stage_plan.hand_over(plan_guest.name, "plan-refhost.sh", script)
    unmigrated = stage_plan.snapshot(plan_guest.name)
    first = run_plan(plan_guest, where)
    lap("the plan's first run")
    print(f"{plan_guest.release}: the plan's first run:\n{first}")

    after = judge(plan_guest, tmp_path / "planned")
    lap("judged READY")
    assert after.verdicts == dict.fromkeys(PHASES, "READY"), after.output
    planned = stage_plan.snapshot(plan_guest.name)
    assert unmigrated.changes(planned), "the first run changed nothing"
    assert planned.linger != "absent" and planned.socket.startswith("enabled active"), planned

    second = run_plan(plan_guest, where)
    lap("the plan's second run")
    again = stage_plan.snapshot(plan_guest.name)
    assert planned.changes(again) == [], "\n".join(planned.changes(again)) + f"\n{second}"
    taken = [line for line in second.splitlines() if line.startswith("plan: step") and "already in place" not in line]
    assert taken == [], second
    still = judge(plan_guest, tmp_path / "again")
    lap("judged READY again")
    assert still.verdicts == dict.fromkeys(PHASES, "READY"), still.output
    print(f"{plan_guest.release}: {', '.join(lap.said)}; in all {time.monotonic() - started:.0f} s")
