"""The user's systemd as the Quadlet probe saw it: the generator's dry run, the
stack's target and the states of the generated services."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from phoenix_compliance.facts.groups import ProbeGroup
from phoenix_compliance.transport.runner import Section


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


class UserSystemd:
    """The Quadlet probe read for the user's systemd."""

    def __init__(self, quadlet_probe: ProbeGroup) -> None:
        self.probe = quadlet_probe

    def section(self, name: str) -> Section:
        return self.probe.section(name)

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
