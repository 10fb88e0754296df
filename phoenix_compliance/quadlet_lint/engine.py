"""Running the rules: over one unit, over units judged together, over files and folders.

``lint_unit()`` runs every declared unit rule in order on one unit's context;
``lint_units()`` does so for each unit, then runs the cross-file rules;
``lint_paths()`` finds and reads the files first, as Quadlet would, with their
drop-ins. Every problem of every file is returned, sorted by place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from phoenix_compliance.grammar.specifiers import NOTHING_KNOWN, Known
from phoenix_compliance.quadlet.discovery import Scan, read_dropins, read_units, scan
from phoenix_compliance.quadlet.unitfile import UnitFile, kind_of, merge_dropins
from phoenix_compliance.quadlet.versions import (
    DEFAULT_PODMAN_VERSION,
    Version,
    generator_reads,
    newer_than_known,
    parse_version,
)
from phoenix_compliance.quadlet_lint import rules  # noqa: F401  (importing the families declares their rules)
from phoenix_compliance.quadlet_lint.context import UnitContext, cross_file_rules, unit_rules
from phoenix_compliance.quadlet_lint.discovery import lint_inputs, walk_findings
from phoenix_compliance.quadlet_lint.findings import Finding, StackRules, beyond_the_tables
from phoenix_compliance.quadlet_lint.rules.syntax import syntax

# Declared when the rules package was imported above; fixed from here on.
UNIT_RULES = unit_rules()
CROSS_FILE_RULES = cross_file_rules()


def _by_place(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.path, f.line, f.rule_id, f.key or ""))


def _with_dropins(unit: UnitFile, found: Scan, version: Version) -> tuple[UnitFile, list[Finding]]:
    """The unit with its .conf drop-ins merged, as the generator converts it, and what is
    wrong in the drop-ins' own syntax (the generator fails the run for it)."""
    dropins: list[UnitFile] = []
    findings: list[Finding] = []
    for dropin in read_dropins(unit, found, version):
        # One that cannot be read is QL000 at its own path (the syntax rule), and adds nothing.
        context = UnitContext(dropin, version, frozenset(), {})
        syntax(context)
        # Named as a drop-in of this unit, as the merged rules name it (UnitContext.add), so that
        # the unit's own check (PHX-3.02) sees a drop-in it loses (a FIFO, a device, bad syntax).
        findings.extend(replace(f, message=f"{f.message} [drop-in of {unit.name}]") for f in context.findings)
        dropins.append(replace(dropin, problems=[]))
    return (merge_dropins(unit, dropins) if dropins else unit), findings


def lint_paths(
    paths: Iterable[Path | str],
    podman_version: Version | str = DEFAULT_PODMAN_VERSION,
    stack: StackRules | None = None,
    known: Known = NOTHING_KNOWN,
) -> list[Finding]:
    """Lint unit files (or directories of them, searched recursively like Quadlet does),
    each with the drop-ins Quadlet would merge into it.

    Every problem of every file is returned, sorted by path and line.
    """
    found = scan(paths)
    return lint_found(found, lint_inputs(read_units(found), undecodable_unread=True), podman_version, stack, known)


def lint_found(
    found: Scan,
    files: Iterable[UnitFile | Finding],
    podman_version: Version | str = DEFAULT_PODMAN_VERSION,
    stack: StackRules | None = None,
    known: Known = NOTHING_KNOWN,
    beside: Sequence[UnitFile] = (),
) -> list[Finding]:
    """Lint the files a scan found, already read (``lint_inputs()``), each Quadlet unit with the
    drop-ins the generator merges into it; ``beside``: units judged with them that lie
    elsewhere (the stack's target in the user's systemd folder)."""
    version = parse_version(podman_version)
    findings: list[Finding] = walk_findings(found)
    units: list[UnitFile] = []
    for unit in files:
        if isinstance(unit, Finding):
            findings.append(unit)
            continue
        if unit.is_quadlet:
            unit, dropin_findings = _with_dropins(unit, found, version)
            findings.extend(dropin_findings)
        units.append(unit)
    findings.extend(lint_units([*units, *beside], version, stack, known))
    return _by_place(findings)


def lint_units(
    units: Sequence[UnitFile],
    podman_version: Version | str = DEFAULT_PODMAN_VERSION,
    stack: StackRules | None = None,
    known: Known = NOTHING_KNOWN,
) -> list[Finding]:
    """Lint parsed units together (cross-file rules see all of them). A release newer than
    the tables know is said once, on the first unit. ``known``: what systemd will put in
    place of specifiers (%h, ...) and variables, as far as the host says."""
    version = parse_version(podman_version)
    by_name = {unit.name: unit for unit in units}
    findings: list[Finding] = []
    note = newer_than_known(version)
    if note is not None and units:
        findings.append(
            Finding.of(
                "QL009",
                str(units[0].path),
                1,
                None,
                note,
                "check the release notes of the newer Podman, or judge with --podman-version",
            )
        )
    # The generator only loads file types it knows, so only those can be referenced.
    present = frozenset(name for name, unit in by_name.items() if generator_reads(unit.kind, version))
    for unit in units:
        findings.extend(_lint_one(unit, version, stack, present, by_name, known))
    for rule in CROSS_FILE_RULES:
        findings.extend(rule.check(units, version))
    return _by_place([beyond_the_tables(finding, version) for finding in findings])


def lint_unit(
    unit: UnitFile,
    podman_version: Version | str = DEFAULT_PODMAN_VERSION,
    stack: StackRules | None = None,
    linted_names: Iterable[str] = (),
    linted_units: Mapping[str, UnitFile] | None = None,
) -> list[Finding]:
    """Lint one unit. ``linted_names`` are file names linted alongside it, which count
    as present when resolving Pod=/Volume=/Network=/Image= references; ``linted_units``
    are those parsed, for rules that look inside a referenced unit."""
    version = parse_version(podman_version)
    # The generator only loads file types it knows, so only those can be referenced.
    present = frozenset(name for name in linted_names if generator_reads(kind_of(Path(name)), version))
    found = _lint_one(unit, version, stack, present, linted_units or {}, NOTHING_KNOWN)
    return [beyond_the_tables(finding, version) for finding in found]


def _lint_one(
    unit: UnitFile,
    version: Version,
    stack: StackRules | None,
    present: frozenset[str],
    others: Mapping[str, UnitFile],
    known: Known,
) -> list[Finding]:
    context = UnitContext(unit, version, present, others, stack, known)
    for rule in UNIT_RULES:
        if unit.is_quadlet or not rule.quadlet_only:
            rule.check(context)
    return context.findings
