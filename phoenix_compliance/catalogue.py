"""The vocabulary of the check catalogue: phases, severities, what blocks a gate, a check's metadata.

Plain data, no pytest: the report model reads it as well as the checks.
"""

from __future__ import annotations

from dataclasses import dataclass

PHASES = ("1", "2", "3", "security")
SEVERITIES = ("critical", "high", "medium", "low")
# Severities that block a phase gate; medium and low are findings only.
BLOCKING = ("critical", "high")


@dataclass(frozen=True)
class CheckSpec:
    id: str
    phase: str
    severity: str
    title: str
    remediation: str
    # Reads only files (compose, Quadlet), so it can judge a repository with no host.
    files: bool = False

    @property
    def blocking(self) -> bool:
        return self.severity in BLOCKING


def parse_phases(value: str) -> tuple[str, ...]:
    """`--phase` value to phases; raise ValueError naming the allowed values."""
    chosen: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        if part == "all":
            return PHASES
        if part not in PHASES:
            raise ValueError(
                f"--phase: {part!r} is not a phase; use 1, 2, 3, security or all, or a comma-separated list such as 1,2"
            )
        if part not in chosen:
            chosen.append(part)
    return tuple(p for p in PHASES if p in chosen)


# A simulated host's mark, the first of its facts in every output (facts.host writes it, the
# report shows it): its answers are a recording replayed by the benchmark, not a host's state.
SIMULATED = "Simulated"
SIMULATED_NOTE = "yes: answers recorded from a reference guest, replayed; not this host's state"
