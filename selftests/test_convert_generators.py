"""Converted units against the reference guests (marked refhost): the real generator of each release (5.4.2 on
trixie, 5.8.6 on forky), every case in one guest command per batch (quadlet_generator's run_generator), and
the converted stand-in stack deployed end to end.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from convert_cases import (
    QUADLET_UNITS,
    REFERENCE_STACK,
    STAND_IN,
    USER_UNITS,
    assert_generator_accepts,
    convert_file,
    feature_units,
    guest_generator,
    lint_errors,
    stand_in_options,
)
from convert_drawn import (
    drawn_units,
)
from suite_runner import HOST, Guest, run_suite, verdict

from phoenix_compliance.parsers import compose
from phoenix_compliance.quadlet_lint import parse_version


@pytest.mark.refhost
class TestRealGenerators:
    def test_every_unit_is_accepted(self, refhost_guest_name: str) -> None:
        generator = guest_generator(refhost_guest_name)
        assert_generator_accepts(generator, drawn_units(generator.version), "(drawn, stand-in, guide)")

    def test_the_compose_features_are_accepted(self, refhost_guest_name: str, tmp_path: Path) -> None:
        """The feature cases the guest's podman-compose accepts, and the real-world stack: linted
        (stack profile) and run through the guest's generator."""
        generator = guest_generator(refhost_guest_name)
        units = feature_units(generator.version, tmp_path / "cases")
        errors = [
            str(error)
            for number, texts in enumerate(units)
            for error in lint_errors(texts, tmp_path / f"u{number}", generator.version, "phoenix.target")
        ]
        print(f"compose features at {generator.release}: {len(units)} cases, {len(errors)} lint errors")
        assert errors == []
        assert_generator_accepts(generator, units, "(compose features)")


@pytest.mark.refhost
class TestEndToEnd:
    def test_the_converted_stand_in_stack_is_ready(self, refhost_guest: Guest, tmp_path: Path) -> None:
        """The stand-in compose file converted, installed in place of the reference units and the
        target enabled: every phase READY and PHX-3.07 passing on the converted units."""
        refhost_guest.deploy("quadlet")  # the project folder synced, the reference units running
        done = refhost_guest.run(["podman", "--version"], user="phoenix")
        version = parse_version(done.stdout.split()[-1])
        conversion = convert_file(STAND_IN, version, stand_in_options(version))
        assert conversion.gaps == []
        user = ["systemctl", "--user"]
        try:
            for argv in ([*user, "disable", "--now", "phoenix.target"], [*user, "stop", "phoenix-hydra-pod.service"]):
                refhost_guest.run(argv, user="phoenix", timeout=120)
            for name, text in conversion.texts().items():
                folder = USER_UNITS if name.endswith(".target") else QUADLET_UNITS
                refhost_guest.write(f"{folder}/{name}", text)
            for argv in ([*user, "daemon-reload"], [*user, "enable", "--now", "phoenix.target"]):
                started = refhost_guest.run(argv, user="phoenix", timeout=120)
                assert started.returncode == 0, started.stderr
            result = run_suite(
                tmp_path,
                f"--hosts={HOST}",
                f"--ssh-config={refhost_guest.ssh_config}",
                f"--stack={REFERENCE_STACK}",
                "--health-wait=60",
            )
            parity = {f"test_compose_quadlet_parity[{name}-{HOST}]" for name in compose.load(STAND_IN).services}
            print(
                f"end to end on {refhost_guest.release}: {verdict(result.html)}, PHX-3.07 passed: "
                f"{len(parity & result.passed)}/{len(parity)}"
            )
            assert verdict(result.html) == [HOST, "READY", "READY", "READY", "READY"], result.output[-3000:]
            assert parity <= result.passed, result.output[-3000:]
            assert result.returncode == 0 and not result.failed, result.output[-3000:]
        finally:
            refhost_guest.deploy("quadlet")  # the reference units back (it replaces what differs, restarts)
