"""GitOps on the reference host (guide section 6): the stand-in stack deployed with Quadlet
must be the repository's (fixtures/infra/podman, as --source-dir), and systemd must run the
unit files as they are on disk. Each drift fails its checks and names what differs; the
guest is deployed again (`deploy quadlet`) and the checks are green again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from suite_runner import HOST, REFERENCE_STACK, REPO, Guest, Run, run_suite

pytestmark = pytest.mark.refhost
SOURCE = REPO / "fixtures" / "infra" / "podman"
CORE_UNIT = "/home/phoenix/.config/containers/systemd/phoenix-core.container"
IMAGE = "localhost/phoenix-standin:1.0"
COMPARISON = f"test_units_match_repository[{HOST}]"
CORE_RELOADED = f"test_unit_reloaded[phoenix-core.service-{HOST}]"
GITOPS = "units_match_repository or unit_reloaded"


@pytest.fixture
def deployed(refhost_guest: Guest) -> Iterator[Guest]:
    """The stand-in stack deployed with Quadlet, and deployed again afterwards (whatever a
    test changed in the units is put back, and systemd reloaded)."""
    refhost_guest.deploy("quadlet")
    try:
        yield refhost_guest
    finally:
        refhost_guest.deploy("quadlet")


def gitops_run(guest: Guest, reports: Path) -> Run:
    return run_suite(
        reports,
        f"--hosts={HOST}",
        f"--ssh-config={guest.ssh_config}",
        "--phase=3",
        f"--stack={REFERENCE_STACK}",
        f"--source-dir={SOURCE}",
        "-k",
        GITOPS,
    )


def edit(guest: Guest, sed: str) -> None:
    done = guest.run(["sed", "-i", sed, CORE_UNIT], user="phoenix")
    assert done.returncode == 0, done.stderr


class TestGitOps:
    def test_the_deployed_units_are_the_repositorys_and_loaded(self, deployed: Guest, tmp_path: Path) -> None:
        result = gitops_run(deployed, tmp_path / "clean")
        assert not result.failed, result.output
        assert COMPARISON in result.passed and CORE_RELOADED in result.passed, result.output
        assert "7 units the same" in result.html.get_text()

    def test_an_image_tag_changed_on_the_host_fails_naming_the_key_then_green_again(
        self, deployed: Guest, tmp_path: Path
    ) -> None:
        edit(deployed, "s#^Image=.*#Image=localhost/phoenix-standin:2.0#")
        drifted = gitops_run(deployed, tmp_path / "drifted")
        # Changed and not reloaded: the repository's unit is not the host's, and systemd
        # still runs the version it loaded before the edit.
        assert drifted.failed == {COMPARISON, CORE_RELOADED}, drifted.output
        assert f"[Container] Image: repository {IMAGE}, host localhost/phoenix-standin:2.0" in drifted.output, (
            drifted.output
        )
        assert "systemd runs an older version of phoenix-core.service" in drifted.output
        deployed.deploy("quadlet")
        again = gitops_run(deployed, tmp_path / "again")
        assert not again.failed and COMPARISON in again.passed and CORE_RELOADED in again.passed, again.output

    def test_a_unit_file_changed_without_daemon_reload_fails_then_green_again(
        self, deployed: Guest, tmp_path: Path
    ) -> None:
        # A comment and blanks only: the generator reads the same unit, so the comparison
        # holds; but the file is newer than what systemd loaded.
        edit(deployed, "s#^Image=\\(.*\\)#Image =  \\1\\n\\# edited on the host#")
        drifted = gitops_run(deployed, tmp_path / "drifted")
        assert drifted.failed == {CORE_RELOADED}, drifted.output
        assert COMPARISON in drifted.passed, drifted.output
        assert (
            "systemd runs an older version of phoenix-core.service:"
            f" {CORE_UNIT} changed after the last daemon-reload (NeedDaemonReload=yes)" in drifted.output
        ), drifted.output
        done = deployed.run(["systemctl", "--user", "daemon-reload"], user="phoenix")
        assert done.returncode == 0, done.stderr
        again = gitops_run(deployed, tmp_path / "again")
        assert not again.failed and CORE_RELOADED in again.passed, again.output


UPDATES = "/home/phoenix/.config/containers/systemd/container.d"


class TestRegistryAndUpdates:
    def test_images_from_another_registry_fail_naming_them(self, deployed: Guest, tmp_path: Path) -> None:
        # The stand-in images are localhost/...: a stack whose registry is another fails both checks.
        stack = tmp_path / "stack.yaml"
        stack.write_text(
            REFERENCE_STACK.read_text().replace(
                "name: phoenix-hydra\n", "name: phoenix-hydra\nregistry: registry.example.com/phoenix\n", 1
            )
        )
        result = run_suite(
            tmp_path / "elsewhere",
            f"--hosts={HOST}",
            f"--ssh-config={deployed.ssh_config}",
            f"--stack={stack}",
            "-k",
            "images_from_registry",
        )
        assert result.failed == {
            f"test_files_images_from_registry[{HOST}]",
            f"test_live_images_from_registry[{HOST}]",
        }, result.output
        assert f"image {IMAGE}" in result.output and "registry.example.com/phoenix" in result.output, result.output

    def test_the_stacks_registry_and_automatic_updates_on_the_real_host(self, deployed: Guest, tmp_path: Path) -> None:
        # The stand-in images are built in the guest as localhost/...: localhost is their registry.
        stack = tmp_path / "stack.yaml"
        stack.write_text(
            REFERENCE_STACK.read_text().replace(
                "name: phoenix-hydra\n", "name: phoenix-hydra\nregistry: localhost\nauto_update: registry\n", 1
            )
        )
        args = (
            f"--hosts={HOST}",
            f"--ssh-config={deployed.ssh_config}",
            f"--stack={stack}",
            f"--source-dir={SOURCE}",
            "-k",
            "registry or auto_update or units_match_repository",
        )
        asked = run_suite(tmp_path / "asked", *args)
        assert asked.passed >= {f"test_files_images_from_registry[{HOST}]", f"test_live_images_from_registry[{HOST}]"}
        assert asked.failed == {f"test_auto_update_timer[{HOST}]"} | {
            f"test_unit_auto_update[{service}-{HOST}]"
            for service in ("phoenix-core", "nca-toolkit", "n8n-phoenix", "windmill-phoenix", "revenue-db")
        }, asked.output
        assert "got no AutoUpdate=" in asked.output
        try:
            # One drop-in for every container unit, as a site would add it.
            deployed.run(["mkdir", "-p", UPDATES], user="phoenix")
            deployed.write(f"{UPDATES}/50-auto-update.conf", "[Container]\nAutoUpdate=registry\n")
            for argv in (
                ["systemctl", "--user", "daemon-reload"],
                ["systemctl", "--user", "enable", "--now", "podman-auto-update.timer"],
            ):
                done = deployed.run(argv, user="phoenix")
                assert done.returncode == 0, done.stderr
            updating = run_suite(tmp_path / "updating", *args)
            # The drop-in is the host's, not the repository's: the comparison names it, merged into each unit.
            assert updating.failed == {COMPARISON}, updating.output
            assert "[Container] AutoUpdate: repository none, host registry" in updating.output
            assert f"test_auto_update_timer[{HOST}]" in updating.passed, updating.output
        finally:
            for argv in (
                ["rm", "-rf", UPDATES],
                ["systemctl", "--user", "disable", "--now", "podman-auto-update.timer"],
                ["systemctl", "--user", "daemon-reload"],
            ):
                deployed.run(argv, user="phoenix")
