"""What every security rule shares: the rule and offence records, and how a unit's entries are read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from phoenix_compliance.grammar import podman_args
from phoenix_compliance.quadlet.readers import split_words as quadlet_split
from phoenix_compliance.quadlet.unitfile import Entry, UnitFile
from phoenix_compliance.rules import RuleSpec

# The security rules' records are the one rule schema's (the lint's rules are too).
RuleInfo = RuleSpec


@dataclass(frozen=True)
class Offence:
    """One breach: `subject` names the service/unit and the mount, port or variable."""

    rule: str
    path: str
    line: int
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule} {self.subject}: {self.message}"


# The sections whose mounts, ports and images reach a container or pod.
MOUNT_SECTIONS = ("Container", "Pod")
PORT_SECTIONS = ("Container", "Pod", "Kube")
NETWORK_SECTIONS = ("Container", "Pod", "Kube")


def split_words(value: str) -> list[str]:
    """The words of a value as Quadlet splits PodmanArgs=, Exec=, Environment= and Label=
    (systemd's rules: quotes, C escapes); a value Quadlet cannot split it ignores, and so do the rules."""
    return quadlet_split(value) or []


def podman_options(args: str) -> Iterator[tuple[str, str | None]]:
    """(option, value) pairs from a PodmanArgs= line, for `--opt=value` and `--opt value`."""
    return podman_args.podman_options(split_words(args))


def unit_offence(rule: RuleSpec, unit: UnitFile, entry: Entry, subject: str, message: str) -> Offence:
    # A drop-in's line is named in the drop-in's own file: the unit judged is the merged one.
    return Offence(rule.id, str(entry.source or unit.path), entry.line, f"{unit.name}, {subject}", message)


def entries(unit: UnitFile, sections: tuple[str, ...], key: str) -> list[Entry]:
    """Entries of `key` in the unit's own Quadlet section, if it is one of `sections`.

    Plain systemd sections are always included when asked for by name, so
    [Service] Environment= can be judged next to [Container].
    """
    found: list[Entry] = []
    for section in sections:
        if section == unit.main_section_name or section == "Service":
            found.extend(unit.entries_for(section, key))
    return sorted(found, key=lambda entry: entry.line)
