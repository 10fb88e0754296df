"""PHX-3.14 offline: what systemd-analyze verify said of the generated services, read back to the
Quadlet files; and the probe's systemd sections run for real on this machine's systemd."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, ClassVar

import pytest
from checks_cases import AS_USER, CORE_UNIT, Arrange, Family, both, case, fail, setting
from checks_cases import pytest_generate_tests as pytest_generate_tests
from fakehost import (
    COULD_NOT_CHECK,
    FAILED,
    GENERATOR_DIR,
    HOST_ID,
    PASSED,
    SKIPPED,
    FakeHost,
    reference_quadlet_files,
)

from phoenix_compliance.facts import probes
from phoenix_compliance.facts.groups import ProbeGroup
from phoenix_compliance.facts.systemd import UserSystemd
from phoenix_compliance.transport.runner import Section, parse_sections, prelude
from tests.phase3 import test_quadlet_units as phase3

VERIFY = f"(systemd-analyze --user verify {GENERATOR_DIR}/phoenix-core.service {AS_USER})"
# systemd 257's words, seen on the trixie guest (252 says "Failed to parse service restart specifier,
# ignoring: unless-stopped"); the line numbers are those of the generator's phoenix-core.service there.
RESTART_NOT_PARSED = "Failed to parse Restart=unless-stopped, ignoring: Invalid argument"


def deployed(*said: str, core: tuple[str, str] | None = None, extra: dict[str, str] | None = None) -> Arrange:
    """The Quadlet files deployed (phoenix-core.container changed old -> new, `extra` files beside),
    their services generated at the last daemon-reload, and what systemd-analyze verify said."""

    def arrange(host: FakeHost) -> None:
        files = reference_quadlet_files()
        if core is not None:
            assert core[0] in files["phoenix-core.container"]
            files["phoenix-core.container"] = files["phoenix-core.container"].replace(*core, 1)
        host.quadlet_files({**files, **(extra or {})})
        generated = dict(files)
        for name, text in (extra or {}).items():  # the generator merges a drop-in into its unit
            owner = name.split(".d/", 1)[0]
            generated[owner] = generated[owner] + text
        host.verify_says(*said, files=generated)

    return arrange


class TestSystemdVerify(Family):
    """PHX-3.14: what systemd itself says of each generated service, read back to the Quadlet files."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-3.14-pass",
            phase3.test_generated_service_verified,
            PASSED,
            f"systemd reads all 38 lines of phoenix-core.service {VERIFY}",
        ),
        case(
            # Docker's restart policy added: systemd ignores the line and starts the unit without it.
            "PHX-3.14-fail-ignored",
            phase3.test_generated_service_verified,
            FAILED,
            "expected systemd to read every line of phoenix-core.service, got 1 it ignores or refuses:\n"
            f'  {CORE_UNIT}:18 (Restart=unless-stopped): systemd said "{RESTART_NOT_PARSED}"'
            f" ({GENERATOR_DIR}/phoenix-core.service:26)\n  {VERIFY}",
            deployed(
                f"{GENERATOR_DIR}/phoenix-core.service:26: {RESTART_NOT_PARSED}",
                core=("[Service]\n", "[Service]\nRestart=unless-stopped\n"),
            ),
        ),
        case(
            # The line came from a drop-in: its own file and line are named.
            "PHX-3.14-fail-dropin",
            phase3.test_generated_service_verified,
            FAILED,
            f'  {CORE_UNIT}.d/10-restart.conf:2 (Restart=unless-stopped): systemd said "{RESTART_NOT_PARSED}"'
            f" ({GENERATOR_DIR}/phoenix-core.service:27)",
            deployed(
                f"{GENERATOR_DIR}/phoenix-core.service:27: {RESTART_NOT_PARSED}",
                extra={"phoenix-core.container.d/10-restart.conf": "[Service]\nRestart=unless-stopped\n"},
            ),
        ),
        case(
            "PHX-3.14-fail-unknown-key",
            phase3.test_generated_service_verified,
            FAILED,
            f"  {CORE_UNIT}:6 (MemoryReservation=512m): systemd said"
            " \"Unknown key 'MemoryReservation' in section [Unit], ignoring.\"",
            deployed(
                f"{GENERATOR_DIR}/phoenix-core.service:10:"
                " Unknown key 'MemoryReservation' in section [Unit], ignoring.",
                core=("PartOf=phoenix.target\n", "MemoryReservation=512m\nPartOf=phoenix.target\n"),
            ),
        ),
        case(
            # A line systemd refuses the unit for: the unit is not loaded at all.
            "PHX-3.14-fail-fatal",
            phase3.test_generated_service_verified,
            FAILED,
            'phoenix-core.service: systemd said "Unit configuration has fatal error, unit will not be started."',
            deployed(
                f"{GENERATOR_DIR}/phoenix-core.service:26: Neither a valid executable name nor an absolute path: true",
                "phoenix-core.service: Unit configuration has fatal error, unit will not be started.",
                core=("[Service]\n", "[Service]\nExecStartPre=true\n"),
            ),
        ),
        case(
            # The Quadlet folder could not be read: systemd's verdict stands, at the generated line.
            "PHX-3.14-fail-folder-unread",
            phase3.test_generated_service_verified,
            FAILED,
            f"  Restart=unless-stopped, from {CORE_UNIT} (not read here: its line unknown): systemd said"
            f' "{RESTART_NOT_PARSED}" ({GENERATOR_DIR}/phoenix-core.service:26)',
            both(
                deployed(
                    f"{GENERATOR_DIR}/phoenix-core.service:26: {RESTART_NOT_PARSED}",
                    core=("[Service]\n", "[Service]\nRestart=unless-stopped\n"),
                ),
                fail("quadlet_tar", "timeout"),
            ),
        ),
        case(
            # A line the generator wrote itself is named as such (an older systemd than Quadlet expects).
            "PHX-3.14-fail-generator-line",
            phase3.test_generated_service_verified,
            FAILED,
            f'  a line Quadlet wrote (KillMode=mixed), not in {CORE_UNIT}: systemd said "Failed to parse kill mode,'
            f' ignoring: mixed" ({GENERATOR_DIR}/phoenix-core.service:28)',
            deployed(f"{GENERATOR_DIR}/phoenix-core.service:28: Failed to parse kill mode, ignoring: mixed"),
        ),
        case(
            # Another service's ignored line is that service's failure, not this one's.
            "PHX-3.14-pass-other-service",
            phase3.test_generated_service_verified,
            PASSED,
            "systemd reads all 38 lines of phoenix-core.service",
            deployed(f"{GENERATOR_DIR}/nca-toolkit.service:12: {RESTART_NOT_PARSED}"),
        ),
        case(
            # What systemd says beyond ignored lines is shown, and does not fail the check.
            "PHX-3.14-pass-with-notes",
            phase3.test_generated_service_verified,
            PASSED,
            "not blocking, systemd said: phoenix-core.service: Command /usr/bin/podman is not executable:",
            deployed("phoenix-core.service: Command /usr/bin/podman is not executable: No such file or directory"),
        ),
        case(
            "PHX-3.14-not-generated",
            phase3.test_generated_service_verified,
            SKIPPED,
            f"phoenix-core.service is not in {GENERATOR_DIR}/ (not generated), see PHX-3.03",
            lambda host: host.verify_says(
                rc=0, files={k: v for k, v in reference_quadlet_files().items() if k != "phoenix-core.container"}
            ),
        ),
        case(
            "PHX-3.14-timeout",
            phase3.test_generated_service_verified,
            COULD_NOT_CHECK,
            f"probe section systemd_verify (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("systemd_verify", "timeout"),
        ),
        case(
            "PHX-3.14-missing",
            phase3.test_generated_service_verified,
            COULD_NOT_CHECK,
            f"probe section systemd_verify (probe_quadlet.sh on {HOST_ID}): command not found"
            " (systemd-analyze: command not found)",
            setting("systemd_verify", "", 127, "systemd-analyze: command not found"),
        ),
        case(
            "PHX-3.14-empty",
            phase3.test_generated_service_verified,
            COULD_NOT_CHECK,
            f"probe section systemd_verify (probe_quadlet.sh on {HOST_ID}): exit 0 but no output",
            fail("systemd_verify", "empty"),
        ),
        case(
            "PHX-3.14-unreadable",
            phase3.test_generated_service_verified,
            COULD_NOT_CHECK,
            "probe section systemd_verify: unreadable as the generated services and systemd-analyze verify's words",
            setting("systemd_verify", "Welcome to the host!"),
        ),
        case(
            # Failed, and said nothing: no verdict on any line.
            "PHX-3.14-failed-silently",
            phase3.test_generated_service_verified,
            COULD_NOT_CHECK,
            "unreadable as systemd-analyze verify's words (it failed and said nothing)",
            lambda host: host.verify_says(rc=1),
        ),
        case(
            "PHX-3.14-no-manager",
            phase3.test_generated_service_verified,
            COULD_NOT_CHECK,
            "systemd-analyze verify could not load the units: Failed to initialize manager: Permission denied",
            lambda host: host.verify_says("Failed to initialize manager: Permission denied"),
        ),
    ]


class LocalRunner:
    """Runs a probe script here, as HostRunner runs it on a host (the prelude, then the body)."""

    host_id = "local"
    timeout = 30.0

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ

    def run_script(self, name: str, body: str, env: dict[str, str]) -> dict[str, Section]:
        done = subprocess.run(
            ["sh", "-c", prelude() + body],
            env={**os.environ, **self.environ, **env, "PHX_TIMEOUT": "20"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return parse_sections(done.stdout)


class TestSystemdVerifySection:
    """The Quadlet probe's systemd sections run for real on this machine's systemd (252 on Debian 12),
    over a generator folder of its own: what the script prints, the fact reads."""

    def test_the_script_and_the_fact_agree(self, tmp_path: Path) -> None:
        if shutil.which("systemd-analyze") is None:
            pytest.skip("no systemd-analyze on this machine")
        generator = tmp_path / "systemd" / "generator"
        generator.mkdir(parents=True)
        tmp_path.chmod(0o700)
        (generator / "web.service").write_text(
            "[Unit]\nDescription=web\n\n[Service]\nExecStart=/bin/true\nRestart=unless-stopped\n", encoding="utf-8"
        )
        group = ProbeGroup(
            LocalRunner({"XDG_RUNTIME_DIR": str(tmp_path), "HOME": str(tmp_path)}),  # type: ignore[arg-type]
            probes.QUADLET,
            {"PHX_QUADLET_DIR": str(tmp_path / "q"), "PHX_TARGET": "x.target", "PHX_UNITS": "web.service gone.service"},
        )
        systemd = UserSystemd(group, "x.target")
        verified = systemd.verified
        if any("Failed to initialize manager" in m.text for m in verified.messages):
            pytest.skip("this machine's systemd-analyze cannot verify user units")
        assert verified.folder == str(generator)
        assert list(verified.services) == ["web.service"]
        assert verified.services["web.service"][5] == "Restart=unless-stopped"
        ignored = [m for m in verified.about("web.service") if m.ignored]
        assert [(m.unit, m.line) for m in ignored] == [("web.service", 6)], verified.messages
        assert "ignoring: unless-stopped" in ignored[0].text
        assert systemd.systemd_release >= 230
