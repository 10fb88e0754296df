"""The vocabulary of the check catalogue: phases, severities, what blocks a gate, a check's metadata.

Plain data, no pytest: the report model reads it as well as the checks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    """A phase of the catalogue and how its gate relates to the others."""

    name: str
    title: str
    # A gate of its own: no other phase blocks it and it blocks none (phases 1-3 chain, each
    # READY only when the one before it, when run, is READY too).
    standalone: bool = False
    # Part of `--phase=all`, the migration's phases; a phase outside it runs only when named.
    in_all: bool = True


PHASE_LIST = (
    Phase("1", "Phase 1: base install"),
    Phase("2", "Phase 2: podman-compose"),
    Phase("3", "Phase 3: Quadlet and systemd"),
    Phase("security", "Security and compatibility", standalone=True),
    # Is this host ready for Podman 6? Asked before an upgrade, not part of the migration.
    Phase("upgrade", "Upgrade to Podman 6", standalone=True, in_all=False),
)
PHASES = tuple(phase.name for phase in PHASE_LIST)
PHASE_TITLES = {phase.name: phase.title for phase in PHASE_LIST}
# What `--phase=all` (the default) runs.
ALL_PHASES = tuple(phase.name for phase in PHASE_LIST if phase.in_all)
STANDALONE = frozenset(phase.name for phase in PHASE_LIST if phase.standalone)
SEVERITIES = ("critical", "high", "medium", "low")
# Severities that block a phase gate; medium and low are findings only.
BLOCKING = ("critical", "high")


# Who takes a plan's step: root (through sudo) or the stack's user (the one the plan runs as).
ROOT, USER = "root", "user"
# The guide's order of dependencies (../phoenix-podman-guide.md): a plan's steps run in it.
ORDER_PACKAGES = 10
ORDER_SUBIDS = 20
ORDER_LINGER = 30
ORDER_USER_STORAGE = 35
ORDER_SOCKET = 40
ORDER_QUADLET_DIR = 50
ORDER_UNITS = 60
ORDER_RELOAD = 70
ORDER_TARGET = 80
ORDER_SERVICES = 90


@dataclass(frozen=True)
class Step:
    """One step of the shell plan that puts a failing check right (`phoenix-compliance plan`).

    `done` is a POSIX shell test, true when the step is in place: the plan runs `command` only
    when it is false (so a second run changes nothing) and runs it again afterwards as the
    re-check. Both are templates: {user}, {quadlet_dir}, {target}, {subject}, {service},
    {unit_path}, {unit_text}, {units} are filled with values quoted for the shell (never
    code); `$SUDO` runs a root step's commands. Steps that render alike are taken once.
    """

    order: int
    who: str
    what: str
    done: str
    command: str


@dataclass(frozen=True)
class CheckSpec:
    id: str
    phase: str
    severity: str
    title: str
    remediation: str
    # Reads only files (compose, Quadlet), so it can judge a repository with no host.
    files: bool = False
    # How a failure is put right, in shell steps; none: the plan names the check and its remediation.
    fix: tuple[Step, ...] = ()

    @property
    def blocking(self) -> bool:
        return self.severity in BLOCKING


def phase_choices() -> str:
    """The `--phase` values in words: "1, 2, 3, security, upgrade or all"."""
    return ", ".join(PHASES) + " or all"


def standalone_words() -> str:
    """The standalone phases in words, for the help and the report: "security and upgrade"."""
    names = [p for p in PHASES if p in STANDALONE]
    return " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]


def parse_phases(value: str) -> tuple[str, ...]:
    """`--phase` value to phases; raise ValueError naming the allowed values. `all` is the
    migration's phases (ALL_PHASES); a phase outside it is added by naming it (`all,upgrade`)."""
    chosen: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        if part == "all":
            chosen.extend(p for p in ALL_PHASES if p not in chosen)
            continue
        if part not in PHASES:
            raise ValueError(
                f"--phase: {part!r} is not a phase; use {phase_choices()}, or a comma-separated list such as 1,2"
            )
        if part not in chosen:
            chosen.append(part)
    return tuple(p for p in PHASES if p in chosen)


# A simulated host's mark, the first of its facts in every output (facts.host writes it, the
# report shows it): its answers are a recording replayed by the benchmark, not a host's state.
SIMULATED = "Simulated"
SIMULATED_NOTE = "yes: answers recorded from a reference guest, replayed; not this host's state"
