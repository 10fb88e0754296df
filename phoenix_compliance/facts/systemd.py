"""The user's systemd as the Quadlet probe saw it: the generator's dry run, the
stack's target and the states of the generated services."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from phoenix_compliance.facts.groups import GroupReader, ProbeGroup
from phoenix_compliance.transport.runner import Section


@dataclass(frozen=True)
class UnitSwitches:
    """`systemctl --user is-enabled` and `is-active` of one unit."""

    unit: str
    enabled: Section
    active: Section

    @property
    def enabled_state(self) -> str:
        return self.enabled.out.strip()

    @property
    def said(self) -> str:
        """What each answered (its output, else its error): 'enabled=enabled, active=inactive'."""
        enabled = self.enabled_state or self.enabled.err.strip()
        return f"enabled={enabled}, active={self.active.out.strip() or self.active.err.strip()}"


@dataclass(frozen=True)
class GeneratorRun:
    """Quadlet's generator and what its `-dryrun -user` said."""

    path: str  # "" when no generator is installed
    dryrun: Section

    @property
    def clean(self) -> bool:
        """Exit 0 and no line of its stderr names an error."""
        return self.dryrun.ok and not any("error" in line.lower() for line in self.dryrun.err.splitlines())

    @property
    def problems(self) -> str:
        """The stderr lines naming an error or an unsupported key, else all of stderr."""
        lines = self.dryrun.err.strip().splitlines()
        return (
            "\n".join(line for line in lines if "error" in line.lower() or "unsupported" in line.lower())
            or self.dryrun.err.strip()
        )

    @property
    def generated(self) -> list[str]:
        """The units it would write (its ---name--- lines)."""
        return [line.strip("-") for line in self.dryrun.out.splitlines() if line.startswith("---")]


class UserSystemd(GroupReader):
    """The Quadlet probe read for the user's systemd."""

    def __init__(self, quadlet_probe: ProbeGroup, target: str) -> None:
        super().__init__(quadlet_probe)
        self.manifest_target = target

    @property
    def target(self) -> UnitSwitches:
        """The stack's target."""
        return UnitSwitches(self.manifest_target, self.section("target_enabled"), self.section("target_active"))

    @property
    def generator(self) -> GeneratorRun:
        return GeneratorRun(self.section("generator_path").out, self.section("generator_dryrun"))

    @cached_property
    def unit_states(self) -> dict[str, dict[str, str]]:
        """systemctl --user show of the expected services, by unit name."""
        states: dict[str, dict[str, str]] = {}
        for block in self.section("units_show").out.split("\n\n"):
            fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            if "Id" in fields:
                states[fields["Id"]] = fields
        return states
