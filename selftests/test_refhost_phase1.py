"""Phase 1 against real hosts: the reference host (compliant, then drifted one way
at a time) and this machine's stock Podman 4.3 (an unmigrated host)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from suite_runner import HOST, Guest, run_suite, verdict

from phoenix_compliance.refhost import paths
from phoenix_compliance.run.reporter import EXIT_NOT_READY

pytestmark = pytest.mark.refhost
QUADLET_DIR = "/home/phoenix/.config/containers/systemd"


class TestReferenceHostPhase1:
    def test_every_phase1_check_passes_and_the_report_says_ready(self, refhost_guest: Guest, tmp_path: Path) -> None:
        result = run_suite(
            tmp_path,
            f"--hosts={HOST}",
            f"--ssh-config={refhost_guest.ssh_config}",
            "--phase=1",
            paths=("tests/phase1",),
        )
        assert result.returncode == 0, result.output
        assert not result.failed
        assert len(result.passed) == 13
        assert verdict(result.html) == [HOST, "READY"]
        facts = result.html.select_one("#readiness table.facts")
        assert facts is not None
        text = facts.get_text(" ", strip=True)
        # The guest's own Podman, exactly (5.4.2, 5.8.6, 6.1.1), and the Debian suite its base is
        # (podman6 is a forky base with Podman 6 from experimental).
        said = refhost_guest.run(["podman", "--version"], user="phoenix")
        assert said.returncode == 0, said.stderr
        podman = said.stdout.split()[-1]
        suite = paths.RELEASES[refhost_guest.release].debian_suite
        assert podman.startswith(("5.", "6.")), said.stdout
        assert f"Podman {podman}" in text and "User phoenix" in text and suite in text


@dataclass(frozen=True)
class Drift:
    apply: list[str]
    revert: list[str]
    user: str | None
    failing: set[str]
    remediation: str


DRIFTS = {
    "linger-disabled": Drift(
        ["loginctl", "disable-linger", "phoenix"],
        ["loginctl", "enable-linger", "phoenix"],
        None,
        {f"test_linger[{HOST}]"},
        "loginctl enable-linger $USER",
    ),
    "socket-stopped-and-disabled": Drift(
        ["systemctl", "--user", "disable", "--now", "podman.socket"],
        ["systemctl", "--user", "enable", "--now", "podman.socket"],
        "phoenix",
        {f"test_podman_socket_unit[{HOST}]", f"test_api_ping[{HOST}]"},
        "systemctl --user enable --now podman.socket",
    ),
    "quadlet-dir-removed": Drift(
        ["mv", QUADLET_DIR, QUADLET_DIR + ".drift"],
        ["mv", QUADLET_DIR + ".drift", QUADLET_DIR],
        None,
        {f"test_quadlet_dir[{HOST}]"},
        "mkdir -p ~/.config/containers/systemd",
    ),
    "network-helper-missing": Drift(
        ["mv", "/usr/bin/pasta", "/usr/bin/pasta.drift"],
        ["mv", "/usr/bin/pasta.drift", "/usr/bin/pasta"],
        None,
        {f"test_rootless_network_helper[{HOST}]"},
        "apt-get install -y passt",
    ),
    "idmap-helper-missing": Drift(
        ["mv", "/usr/bin/newuidmap", "/usr/bin/newuidmap.drift"],
        ["mv", "/usr/bin/newuidmap.drift", "/usr/bin/newuidmap"],
        None,
        {f"test_idmap_helpers[{HOST}]"},
        "apt-get install -y uidmap",
    ),
    "podman-compose-missing": Drift(
        ["mv", "/usr/bin/podman-compose", "/usr/bin/podman-compose.drift"],
        ["mv", "/usr/bin/podman-compose.drift", "/usr/bin/podman-compose"],
        None,
        {f"test_podman_compose_installed[{HOST}]"},
        "dnf install -y podman-compose",
    ),
    "subuid-line-removed": Drift(
        ["sh", "-c", "cp -p /etc/subuid /etc/subuid.drift && sed -i '/^phoenix:/d' /etc/subuid"],
        ["mv", "/etc/subuid.drift", "/etc/subuid"],
        None,
        {f"test_subordinate_ids[{HOST}-subuid]"},
        "usermod --add-subuids",
    ),
}


class TestReferenceHostDrifts:
    @pytest.mark.parametrize("name", sorted(DRIFTS))
    def test_a_drift_fails_exactly_its_checks(self, name: str, refhost_guest: Guest, tmp_path: Path) -> None:
        drift = DRIFTS[name]
        applied = refhost_guest.run(drift.apply, user=drift.user)
        assert applied.returncode == 0, applied.stderr
        try:
            result = run_suite(
                tmp_path,
                f"--hosts={HOST}",
                f"--ssh-config={refhost_guest.ssh_config}",
                "--phase=1",
                paths=("tests/phase1",),
            )
        finally:
            reverted = refhost_guest.run(drift.revert, user=drift.user)
        assert reverted.returncode == 0, reverted.stderr
        assert result.failed == drift.failing, result.output
        assert drift.remediation in result.output
        assert "Traceback" not in result.output
        assert verdict(result.html) == [HOST, "NOT READY"]


class TestUnmigratedHost:
    def test_stock_podman_43_is_not_ready_for_quadlet(self, plain_user: str, tmp_path: Path) -> None:
        result = run_suite(tmp_path, f"--podman-user={plain_user}", "--phase=1", paths=("tests/phase1",))
        assert result.returncode == EXIT_NOT_READY
        assert "test_podman_version[local]" in result.failed
        assert "expected podman >= 5.0 for phoenix-hydra.pod, got 4.3" in result.output
        assert verdict(result.html) == ["local", "NOT READY"]
