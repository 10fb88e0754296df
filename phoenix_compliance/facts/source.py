"""The repository's infra folder (--source-dir) and how the host's units differ from it.

GitOps (guide section 6): the host runs what the repository says. Both sides are read the
way the generator reads them: parsed (comments, blank lines, whitespace around keys and
values and line continuations gone, repeated sections merged) and with their .conf
drop-ins merged; then each unit is a table of section and key to the values in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from phoenix_compliance.facts.files import QuadletFolder, parse_unit_bytes
from phoenix_compliance.parsers import quadlet
from phoenix_compliance.parsers.quadlet import UnitFile
from phoenix_compliance.quadlet_lint import DEFAULT_PODMAN_VERSION, discovery
from phoenix_compliance.quadlet_lint.readers import SPLIT_ARGS, split_words
from phoenix_compliance.quadlet_lint.versions import single_valued_keys
from phoenix_compliance.redact import redact

# Keys whose values carry secrets or environment values: only the names that differ are shown.
_WITHHELD = frozenset({"Environment", "Secret"})

# Problems that leave (part of) a file unread, so that it cannot be compared.
_UNREADABLE = ("unreadable", "not-utf-8")

Table = dict[tuple[str, str], list[str]]


def merged_units(folder: QuadletFolder) -> dict[str, UnitFile]:
    """The folder's Quadlet units by file name, each with its drop-ins merged as the
    generator merges them (the first file of a name wins, as in the generator); merged once
    per folder, since PHX-3.11 asks for every service and PHX-3.09 again. Read-only: copy it
    to change it."""
    if folder.merged is None:
        folder.merged = _merge_folder(folder)
    return folder.merged


def _merge_folder(folder: QuadletFolder) -> dict[str, UnitFile]:
    root = Path(folder.folder)
    listing: dict[Path, list[Path]] | None = None
    found: discovery.Scan | None = None
    directories: list[Path] = []
    if folder.dropins is None:
        found = discovery.scan([root])
    else:
        files = [root / name for name in folder.dropins]
        listing = {}
        for path in files:
            listing.setdefault(path.parent, []).append(path)
        # The folder and its subfolders (not the drop-in folders), depth first by name.
        subfolders = {root} | {root / PurePosixPath(name).parent for name in folder.units}
        subfolders |= {path.parent.parent for path in files}
        directories = sorted(subfolders, key=lambda p: p.parts)
    merged: dict[str, UnitFile] = {}
    for name in sorted(folder.units, key=lambda n: PurePosixPath(n).parts):
        unit = folder.units[name]
        if unit.name in merged:
            continue
        dropins: list[UnitFile] = []
        if found is not None:
            for dropin in discovery.read_dropins(unit, found):
                dropins.append(
                    dropin if isinstance(dropin, UnitFile) else quadlet.unreadable_unit(dropin.path, dropin.message)
                )
        else:
            assert folder.dropins is not None
            for path in quadlet.find_dropins(unit.name, directories, listing):
                dropins.append(parse_unit_bytes(folder.dropins[str(path.relative_to(root))], path, unit.kind))
        # A drop-in that cannot be read is a problem of the unit it belongs to, shown as such.
        unreadable = [
            replace(problem, message=f"{dropin.path}: {problem.message}")
            for dropin in dropins
            for problem in dropin.problems
            if problem.kind in _UNREADABLE
        ]
        if unreadable:
            unit = replace(unit, problems=[*unit.problems, *unreadable])
        merged[unit.name] = quadlet.merge_dropins(unit, dropins) if dropins else unit
    return merged


def table(unit: UnitFile) -> Table:
    """A unit as the generator sees it: (section, key) -> its values, in order; of a key
    Quadlet reads once (Image=, Pod=, ...) only the last value, the one it uses, so that a
    drop-in repeating the unit's value changes nothing."""
    values: Table = {}
    for section in unit.sections:
        single = (
            single_valued_keys(section.name, DEFAULT_PODMAN_VERSION) if section.name == unit.main_section_name else ()
        )
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


def unit_differences(repository: UnitFile, host: UnitFile) -> list[str]:
    """What the host's unit says differently from the repository's, one key a line; secret
    values are withheld (only the key, or the variable names, are named)."""
    differences = [
        f"cannot be read: line {p.line}: {p.message}"
        for p in host.problems
        if p.kind in _UNREADABLE and p not in repository.problems
    ]
    ours, theirs = table(repository), table(host)
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


def compare(repository: QuadletFolder, host: QuadletFolder, not_deployed: Iterable[str] = ()) -> Drift:
    """The repository's units against the host's, both merged with their drop-ins; the target
    too when the repository has one. `not_deployed`: units of optional groups the host has no
    trace of, which it need not have (optional means not deployed is fine)."""
    ours, theirs = dict(merged_units(repository)), dict(merged_units(host))
    for name in set(not_deployed) - theirs.keys():
        ours.pop(name, None)
    if repository.target is not None:
        ours[repository.target.name] = repository.target
        if host.target is not None:
            theirs[repository.target.name] = host.target
    changed = {
        name: differences
        for name in sorted(ours.keys() & theirs.keys())
        if (differences := unit_differences(ours[name], theirs[name]))
    }
    return Drift(
        missing=sorted(ours.keys() - theirs.keys()),
        extra=sorted(theirs.keys() - ours.keys()),
        changed=changed,
        compared=len(ours.keys() | theirs.keys()),
    )
