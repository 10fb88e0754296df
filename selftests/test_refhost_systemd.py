"""PHX-3.14 on the reference guests of every release: systemd's own verdict on the stack's generated
services, seen failing on a drifted unit and passing once it is restored (issue 26).

The drift is the Docker-ism the issue measured most: `Restart=unless-stopped` added to
phoenix-core.container, then a daemon-reload, so that the generator writes it into
phoenix-core.service and systemd loads the unit without the line (the `Restart=always` after it
still holds, so only the two checks that read the line fail: PHX-3.14 with systemd's words and
the Quadlet file's line, and PHX-3.02 with the lint judged at the guest's own systemd release).
Staged and restored as test_refhost_stack.py stages its drifts (its Drift and check_drift: the
revert runs whatever the suite said).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from suite_runner import HOST, REFERENCE_STACK, Guest, run_suite
from test_refhost_stack import CORE_UNIT, Drift, check_drift, quadlet_deployed, sh

from phoenix_compliance.parsers import manifest

pytestmark = pytest.mark.refhost
__all__ = ["quadlet_deployed"]  # the fixture, deploying the stack as Quadlet units once per class

CHECK = "test_generated_service_verified"
RELOAD = ["systemctl", "--user", "daemon-reload"]
# The line sits right under [Service]: line 18 of the reference phoenix-core.container.
IGNORED_RESTART = Drift(
    [sh(f"sed -i '/^\\[Service\\]/a Restart=unless-stopped' {CORE_UNIT}"), RELOAD],
    [sh(f"sed -i '/^Restart=unless-stopped$/d' {CORE_UNIT}"), RELOAD],
    {f"{CHECK}[phoenix-core.service-{HOST}]", f"test_unit_file_lint[phoenix-core.container-{HOST}]"},
    [
        "expected systemd to read every line of phoenix-core.service, got 1 it ignores or refuses",
        # systemd's words differ between releases ("Failed to parse service restart specifier, ignoring:
        # unless-stopped" on 252); the check fails only on a line systemd says it ignores.
        f'{CORE_UNIT}:18 (Restart=unless-stopped): systemd said "',
        "/run/user/1000/systemd/generator/phoenix-core.service:",
        "phoenix-core.container:18: QL073 error: Restart=unless-stopped",
        "[Unit], [Service] and [Install] judged as systemd ",
    ],
)


class TestSystemdVerifyOnTheGuests:
    def test_an_ignored_line_fails_with_systemds_words_and_passes_restored(
        self, quadlet_deployed: Guest, tmp_path: Path
    ) -> None:
        for folder in ("drifted", "restored"):
            (tmp_path / folder).mkdir()
        check_drift(IGNORED_RESTART, "3", quadlet_deployed, tmp_path / "drifted")
        restored = run_suite(
            tmp_path / "restored",
            f"--hosts={HOST}",
            f"--ssh-config={quadlet_deployed.ssh_config}",
            "--phase=3",
            f"--stack={REFERENCE_STACK}",
            "-k",
            CHECK,
        )
        services = manifest.load(REFERENCE_STACK).generated_services()
        assert not restored.failed, restored.output
        assert restored.passed == {f"{CHECK}[{service}-{HOST}]" for service in services}, restored.output
        assert "systemd reads all" in restored.html.get_text(" ")
        assert "Traceback" not in restored.output
