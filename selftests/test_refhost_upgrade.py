"""The Podman 6 upgrade rehearsal (issue 25, podman-facts.md section 12) on guests of its own.

A trixie guest (Podman 5.4.2) staged with everything 6.0 removed (refhost.stage_upgrade) is
READY for phases 1 to 3 and security while the upgrade phase names each blocker. Its user's
home and linger state moved to a Podman 6.1.1 guest (the reboot stand-in after it), the stack
breaks the way the notes predict, one cause at a time, and the suite's checks name the causes;
the upgrade checks' remediations, applied in turn, bring every phase and the upgrade phase to
READY on 6.1.1. A control guest the upgrade phase calls READY keeps its stack running after the
same move; the same blockers staged on 5.8.6 (reh-forky) fail the gate too, and PHX-U.01's
--migrate-db moves its store to SQLite. Guests: reh-trixie and reh-p6 (staged), reh-ctl and reh-ctl6
(control), reh-forky, each with a network namespace of its own, so their published ports clash
with no other guest's.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from suite_runner import HOST, REFERENCE_STACK, Guest, run_suite

from phoenix_compliance.refhost import stage_upgrade

pytestmark = pytest.mark.refhost

STAGED, STAGED_6 = "reh-trixie", "reh-p6"
# The same blockers staged on 5.8.6, the release whose --migrate-db PHX-U.01 asks for.
STAGED_58 = "reh-forky"
CONTROL, CONTROL_6 = "reh-ctl", "reh-ctl6"
CONF = f"{stage_upgrade.HOME}/{stage_upgrade.USER_CONF}"
IMAGE = "localhost/phoenix-standin:1.0"
POD = "phoenix-hydra-pod.service"
TARGET = "phoenix.target"
STACK_SERVICES = ("phoenix-core", "nca-toolkit", "n8n-phoenix", "windmill-phoenix", "revenue-db")
LOKI = "grafana-loki"
EVERY_PHASE = {"1": "READY", "2": "READY", "3": "READY", "security": "READY"}

# What each staged setting makes 6.1.1 say (podman-facts.md section 12, as seen here).
BOLTDB_SAYS = "the BoltDB database backend was removed in Podman 6.0"
DEFAULT_CMD_SAYS = 'invalid default_rootless_network_cmd option "slirp4netns"'
NETWORK_KEY_SAYS = "slirp4netns support has been removed, use --network=pasta instead"
CMD_PATH_SAYS = "unknown flag: --network-cmd-path"
FIREWALL_SAYS = "netavark: Must provide a valid firewall backend, got iptables"

# The upgrade checks the staging must fail, by what they read; what their remediation must name.
STAGED_BLOCKERS = {
    "PHX-U.01": "database_backend",  # host.databaseBackend boltdb
    "PHX-U.02": "default_rootless_network_cmd",  # host.rootlessNetworkCmd slirp4netns
    "PHX-U.03": "slirp4netns",  # the stack's containers' NetworkMode
    "PHX-U.04": "Network=slirp4netns",  # Network=slirp4netns / --network-cmd-path in the units
    "PHX-U.06": "firewall_driver",  # containers.conf
}
# Not stageable here (Debian's 5.4.2 has no CNI, guests always have cgroup v2) or not staged
# (the compose file), and the versions of a consistent install: these pass on both sides.
NOT_STAGED = {"PHX-U.05", "PHX-U.07", "PHX-U.08", "PHX-U.09"}


@dataclass
class Judged:
    """One run of the suite on a guest, read back from its JSON report."""

    output: str
    document: dict[str, Any]

    @property
    def verdicts(self) -> dict[str, str]:
        return dict(self.document["hosts"][HOST]["verdicts"])

    def results(self, check: str) -> list[dict[str, Any]]:
        """The check's results, each with what the check is (format 2 names it once, under "checks")."""
        return [{**self.document["checks"][check], **r} for r in self.document["results"] if r["id"] == check]

    def failing(self, prefix: str = "") -> set[str]:
        return {r["id"] for r in self.document["results"] if r["outcome"] == "failed" and r["id"].startswith(prefix)}


def judge(guest: Guest, reports: Path, phases: str) -> Judged:
    run = run_suite(
        reports,
        f"--hosts={HOST}",
        f"--ssh-config={guest.ssh_config}",
        f"--phase={phases}",
        f"--stack={REFERENCE_STACK}",
        "--health-wait=30",
        "-p",
        "no:randomly",
    )
    assert "Traceback" not in run.output, run.output
    document = json.loads(next(reports.glob("readiness-*.json")).read_text())
    return Judged(run.output, document)


def sh(guest: Guest, script: str, *, ok: bool = True) -> str:
    done = guest.run(["sh", "-c", script], user="phoenix", timeout=120)
    if ok:
        assert done.returncode == 0, f"{script}: exit {done.returncode}: {done.stdout}{done.stderr}"
    return done.stdout + done.stderr


def active(guest: Guest, *units: str) -> list[str]:
    return sh(guest, f"systemctl --user is-active {' '.join(units)}", ok=False).split()


def wait_active(guest: Guest, units: tuple[str, ...], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (states := active(guest, *units)) != ["active"] * len(units):
        assert time.monotonic() < deadline, f"{dict(zip(units, states, strict=False))} after {timeout:g} s"
        time.sleep(0.5)


def wait_failed(guest: Guest, unit: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while active(guest, unit) != ["failed"]:
        assert time.monotonic() < deadline, f"{unit} not failed after {timeout:g} s"
        time.sleep(0.5)


def journal_says(guest: Guest, since: str, words: str) -> bool:
    """Whether the user's journal since the cursor holds the words (podman's own message)."""
    text = sh(guest, f"journalctl --user --no-pager -o cat --after-cursor='{since}'", ok=False)
    return words in text


def cursor(guest: Guest) -> str:
    return sh(guest, "journalctl --user -n 0 --show-cursor --no-pager", ok=False).split("cursor: ")[-1].strip()


def restart_stack(guest: Guest) -> None:
    sh(
        guest,
        f"systemctl --user daemon-reload && systemctl --user reset-failed && "
        f"systemctl --user restart {TARGET} && systemctl --user restart {LOKI}.service",
        ok=False,
    )


@pytest.fixture
def guests(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Guest]]:
    """Every guest of the rehearsal, booted when first asked for, down at the end."""
    from phoenix_compliance import refhost

    booted: dict[str, Guest] = {}
    releases = {STAGED: "trixie", CONTROL: "trixie", STAGED_6: "podman6", CONTROL_6: "podman6", STAGED_58: "forky"}

    class Guests(dict[str, Guest]):
        def __missing__(self, name: str) -> Guest:
            if refhost.is_up(name):  # left by an interrupted run, staged or moved: start clean
                refhost.down(name)
            refhost.up(name, release_name=releases[name], private=True)
            config = refhost.write_ssh_config(tmp_path_factory.mktemp(name) / "ssh_config", name, "refhost")
            booted[name] = self[name] = Guest(name, releases[name], config)
            return booted[name]

    try:
        yield Guests()
    finally:
        for name in booted:
            refhost.down(name)


def test_staged_host_breaks_on_podman6_as_predicted_and_the_remediations_make_it_ready(
    guests: dict[str, Guest], tmp_path: Path
) -> None:
    started = time.monotonic()
    staged = guests[STAGED]
    stage_upgrade.stage(STAGED)

    # On 5.4.2 the staged host is READY for the migration; the upgrade phase names each blocker.
    before = judge(staged, tmp_path / "staged-5.4", "all,upgrade")
    assert before.verdicts == {**EVERY_PHASE, "upgrade": "NOT READY"}, before.output
    assert before.failing("PHX-U.") == set(STAGED_BLOCKERS), before.output
    remediations = {check: " ".join(r["remediation"] for r in before.results(check)) for check in STAGED_BLOCKERS}
    for check, names in STAGED_BLOCKERS.items():
        assert names in remediations[check], (check, remediations[check])
    evidence = {check: " ".join(r["evidence"] for r in before.results(check)) for check in STAGED_BLOCKERS}
    for check, line in (("PHX-U.01", 3), ("PHX-U.02", 6), ("PHX-U.06", 7)):
        assert f"{CONF}:{line}" in evidence[check], evidence[check]
    assert "grafana-loki: HostConfig.NetworkMode slirp4netns" in evidence["PHX-U.03"], evidence["PHX-U.03"]
    for drop_in in stage_upgrade.DROP_INS:
        assert f"{stage_upgrade.HOME}/{drop_in.path}:3" in evidence["PHX-U.04"], evidence["PHX-U.04"]
    print(f"staged and judged on 5.4.2 in {time.monotonic() - started:.0f} s")

    # The move to 6.1.1: every podman command exits 125 naming the BoltDB line.
    upgraded = guests[STAGED_6]
    stage_upgrade.move(STAGED, STAGED_6)
    info = upgraded.run(["podman", "info"], user="phoenix")
    assert info.returncode == 125 and BOLTDB_SAYS in info.stderr, info.stderr
    wait_failed(upgraded, POD)
    assert active(upgraded, TARGET) == ["active"]
    broken = judge(upgraded, tmp_path / "boltdb-6.1", "1")
    for check in ("PHX-1.01", "PHX-1.03"):
        assert {r["outcome"] for r in broken.results(check)} == {"could not check"}, broken.output
        assert BOLTDB_SAYS in broken.results(check)[0]["evidence"], broken.output

    # PHX-U.01's remediation: the line goes, and after the reboot the store migrates, images kept.
    sh(upgraded, f"sed -i 's/^database_backend/# &/' {CONF}")
    mark = cursor(upgraded)
    stage_upgrade.reboot_user(STAGED_6)
    assert sh(upgraded, "podman info --format '{{.Host.DatabaseBackend}}'").strip() == "sqlite"
    sh(upgraded, f"podman image exists {IMAGE}")
    # The pod refuses the default rootless network; the target still says active.
    wait_failed(upgraded, POD)
    wait_failed(upgraded, f"{LOKI}.service")
    assert active(upgraded, TARGET) == ["active"]
    assert journal_says(upgraded, mark, DEFAULT_CMD_SAYS)
    assert journal_says(upgraded, mark, NETWORK_KEY_SAYS)
    after_migration = judge(upgraded, tmp_path / "slirp-6.1", "all,upgrade")
    assert {"PHX-U.02", "PHX-U.04", "PHX-U.06"} <= after_migration.failing("PHX-U."), after_migration.output
    assert "PHX-U.01" not in after_migration.failing(), after_migration.output
    core = after_migration.results("PHX-1.03")
    assert core, after_migration.output
    advice = " ".join(r["remediation"] for r in core)
    assert not re.search(r"install\b[^#;&|]*slirp4netns", advice), advice
    assert f"{CONF}:6: default_rootless_network_cmd" in " ".join(r["evidence"] for r in core), core
    # The pod's own start error is in the evidence of its unit's check, not only "failed".
    pod = " ".join(r["evidence"] for r in after_migration.results("PHX-3.05") if POD in r["evidence"])
    assert DEFAULT_CMD_SAYS in pod, pod
    # The lint at 6.1.1 names both unit keys with the words podman refuses them in.
    lint = " ".join(r["evidence"] for r in after_migration.results("PHX-3.02"))
    assert NETWORK_KEY_SAYS in lint and CMD_PATH_SAYS in lint, lint

    # PHX-U.02's: the default network is pasta again; the pod starts, the unit keys still refuse.
    sh(upgraded, f"sed -i '/^default_rootless_network_cmd/d' {CONF}")
    mark = cursor(upgraded)
    restart_stack(upgraded)
    wait_active(upgraded, (POD, *(f"{s}.service" for s in STACK_SERVICES if s != "phoenix-core")))
    wait_failed(upgraded, "phoenix-core.service")
    assert journal_says(upgraded, mark, CMD_PATH_SAYS)
    assert journal_says(upgraded, mark, NETWORK_KEY_SAYS)

    # PHX-U.04's: the unit keys changed; PHX-U.06's: bridge networks refuse the iptables driver until it goes.
    loki, core_drop_in = (f"{stage_upgrade.HOME}/{d.path}" for d in stage_upgrade.DROP_INS)
    sh(
        upgraded,
        f"sed -i 's/^Network=slirp4netns$/Network=pasta/' {loki} && sed -i '/--network-cmd-path/d' {core_drop_in}",
    )
    bridge = "podman network create phx-rehearsal >/dev/null && podman run --rm --network phx-rehearsal {image} true; "
    bridge += "code=$?; podman network rm phx-rehearsal >/dev/null; exit $code"
    refused = upgraded.run(["sh", "-c", bridge.format(image=IMAGE)], user="phoenix")
    assert refused.returncode != 0 and FIREWALL_SAYS in refused.stderr, refused.stderr
    sh(upgraded, f"sed -i '/^firewall_driver/d' {CONF} && podman network reload --all")
    sh(upgraded, bridge.format(image=IMAGE))
    restart_stack(upgraded)
    wait_active(upgraded, (TARGET, POD, *(f"{s}.service" for s in (*STACK_SERVICES, LOKI))))

    after = judge(upgraded, tmp_path / "remediated-6.1", "all,upgrade")
    assert after.verdicts == {**EVERY_PHASE, "upgrade": "READY"}, after.output
    print(f"rehearsal on 5.4.2 and 6.1.1 in {time.monotonic() - started:.0f} s")


def test_a_host_the_upgrade_phase_calls_ready_keeps_its_stack_running_on_podman6(
    guests: dict[str, Guest], tmp_path: Path
) -> None:
    started = time.monotonic()
    control = guests[CONTROL]
    control.deploy("quadlet")
    ready = judge(control, tmp_path / "control-5.4", "upgrade")
    assert ready.verdicts == {"upgrade": "READY"}, ready.output
    assert not ready.failing(), ready.output

    upgraded = guests[CONTROL_6]
    stage_upgrade.move(CONTROL, CONTROL_6)
    wait_active(upgraded, (TARGET, POD, *(f"{s}.service" for s in STACK_SERVICES)))
    after = judge(upgraded, tmp_path / "control-6.1", "all,upgrade")
    assert after.verdicts == {**EVERY_PHASE, "upgrade": "READY"}, after.output
    print(f"control moved and judged in {time.monotonic() - started:.0f} s")


def test_the_blockers_staged_on_podman_5_8_fail_the_gate_and_migrate_db_fixes_the_store(
    guests: dict[str, Guest], tmp_path: Path
) -> None:
    staged = guests[STAGED_58]
    stage_upgrade.stage(STAGED_58)
    before = judge(staged, tmp_path / "staged-5.8", "all,upgrade")
    assert before.verdicts == {**EVERY_PHASE, "upgrade": "NOT READY"}, before.output
    assert before.failing("PHX-U.") == set(STAGED_BLOCKERS), before.output
    (boltdb,) = before.results("PHX-U.01")
    assert f"{CONF}:3" in boltdb["evidence"] and "podman system migrate --migrate-db" in boltdb["remediation"]

    # PHX-U.01's remediation as printed, on the release that has --migrate-db: the store is SQLite,
    # its image kept, and only the other blockers are left (the migration stops every container,
    # so PHX-U.03 may find none left on slirp4netns).
    sh(staged, f"sed -i 's/^database_backend/# &/' {CONF} && podman system migrate --migrate-db")
    assert sh(staged, "podman info --format '{{.Host.DatabaseBackend}}'").strip() == "sqlite"
    assert IMAGE in sh(staged, "podman images --format '{{.Repository}}:{{.Tag}}'")
    after = judge(staged, tmp_path / "migrated-5.8", "upgrade")
    assert [r["outcome"] for r in after.results("PHX-U.01")] == ["passed"], after.output
    left = set(STAGED_BLOCKERS) - {"PHX-U.01", "PHX-U.03"}
    assert left <= after.failing("PHX-U.") <= left | {"PHX-U.03"}, after.output
