"""The repository's infra folder (--source-dir) and how the host's units differ from it.

GitOps (guide section 6): the host runs what the repository says. Both sides are read the
way the generator reads them: parsed (comments, blank lines, whitespace around keys and
values and line continuations gone, repeated sections merged) and with their .conf
drop-ins merged; then each unit is a table of section and key to the values in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from phoenix_compliance.facts.files import QuadletFolder
from phoenix_compliance.quadlet.discovery import UNREAD_PROBLEMS
from phoenix_compliance.quadlet.readers import SPLIT_ARGS, split_words
from phoenix_compliance.quadlet.unitfile import UnitFile
from phoenix_compliance.quadlet.versions import DEFAULT_PODMAN_VERSION, Version, single_valued_keys
from phoenix_compliance.redact import redact

# Keys whose values carry secrets or environment values: only the names that differ are shown.
_WITHHELD = frozenset({"Environment", "Secret"})

Table = dict[tuple[str, str], list[str]]


def merged_units(folder: QuadletFolder, version: Version = DEFAULT_PODMAN_VERSION) -> dict[str, UnitFile]:
    """The folder's Quadlet units by file name, each with its drop-ins merged, found and merged
    as the generator of this release does (the Quadlet layer's discovery: the lint reads the
    same); merged once per folder and release, since PHX-3.11 asks for every service and
    PHX-3.09 again. Read-only: copy it to change it."""
    return folder.merged_units(version)


def table(unit: UnitFile, version: Version = DEFAULT_PODMAN_VERSION) -> Table:
    """A unit as the generator sees it: (section, key) -> its values, in order; of a key
    Quadlet reads once (Image=, Pod=, ...) only the last value, the one it uses, so that a
    drop-in repeating the unit's value changes nothing."""
    values: Table = {}
    for section in unit.sections:
        single = single_valued_keys(section.name, version) if section.name == unit.main_section_name else ()
        for entry in section.entries:
            if entry.key in single:
                values[(section.name, entry.key)] = [entry.value]
            else:
                values.setdefault((section.name, entry.key), []).append(entry.value)
    return values


def _environment(values: list[str]) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values:
        for word in split_words(value, SPLIT_ARGS) or [value]:
            name, _, text = word.partition("=")
            pairs[name] = text
    return pairs


def _shown(values: list[str] | None) -> str:
    if not values:
        return "none"
    return " | ".join(values)


def _difference(section: str, key: str, ours: list[str] | None, theirs: list[str] | None) -> str:
    where = f"[{section}] {key}"
    if key in _WITHHELD:
        if key == "Environment":
            mine, host = _environment(ours or []), _environment(theirs or [])
            names = sorted(n for n in mine.keys() | host.keys() if mine.get(n) != host.get(n))
            if not names:
                return f"{where}: the same variables in another order (values withheld)"
            return f"{where}: {', '.join(names)} {'differs' if len(names) == 1 else 'differ'} (values withheld)"
        return f"{where}: differs (values withheld)"
    shown_ours, shown_theirs = _shown(ours), _shown(theirs)
    if redact(shown_ours) != shown_ours or redact(shown_theirs) != shown_theirs:
        return f"{where}: differs (values withheld)"
    return f"{where}: repository {shown_ours}, host {shown_theirs}"


def unit_differences(repository: UnitFile, host: UnitFile, version: Version = DEFAULT_PODMAN_VERSION) -> list[str]:
    """What the host's unit says differently from the repository's, one key a line; secret
    values are withheld (only the key, or the variable names, are named)."""
    differences = [
        f"cannot be read: line {p.line}: {p.message}"
        for p in host.problems
        if p.kind in UNREAD_PROBLEMS and p not in repository.problems
    ]
    ours, theirs = table(repository, version), table(host, version)
    for section, key in sorted(ours.keys() | theirs.keys()):
        if ours.get((section, key)) != theirs.get((section, key)):
            differences.append(_difference(section, key, ours.get((section, key)), theirs.get((section, key))))
    return differences


@dataclass(frozen=True)
class Drift:
    """How the host's Quadlet folder (and target) differ from the repository's."""

    missing: list[str]
    extra: list[str]
    changed: dict[str, list[str]]
    compared: int

    @property
    def none(self) -> bool:
        return not (self.missing or self.extra or self.changed)

    def lines(self, host_where: str, repository_where: str) -> list[str]:
        lines = [f"{name}: missing on the host ({host_where})" for name in self.missing]
        lines += [f"{name}: on the host, not in the repository ({repository_where})" for name in self.extra]
        for name, differences in self.changed.items():
            lines.append(f"{name} differs:")
            lines += [f"    {difference}" for difference in differences]
        return lines


def compare(
    repository: QuadletFolder,
    host: QuadletFolder,
    not_deployed: Iterable[str] = (),
    version: Version = DEFAULT_PODMAN_VERSION,
) -> Drift:
    """The repository's units against the host's, both merged with their drop-ins; the target
    too when the repository has one. `not_deployed`: units of optional groups the host has no
    trace of, which it need not have (optional means not deployed is fine)."""
    ours, theirs = dict(merged_units(repository, version)), dict(merged_units(host, version))
    for name in set(not_deployed) - theirs.keys():
        ours.pop(name, None)
    if repository.target is not None:
        ours[repository.target.name] = repository.target
        if host.target is not None:
            theirs[repository.target.name] = host.target
    changed = {
        name: differences
        for name in sorted(ours.keys() & theirs.keys())
        if (differences := unit_differences(ours[name], theirs[name], version))
    }
    return Drift(
        missing=sorted(ours.keys() - theirs.keys()),
        extra=sorted(theirs.keys() - ours.keys()),
        changed=changed,
        compared=len(ours.keys() | theirs.keys()),
    )
