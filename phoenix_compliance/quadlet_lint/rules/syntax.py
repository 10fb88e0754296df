"""Syntax: what the unit-file parser found wrong in the lines themselves (QL001 to QL006).

Quadlet rejects a file over any of these; systemd skips a stray line of a
plain unit with a warning, which is reported as such. A Quadlet file its
parser fails on costs the whole folder: the generator then loads none of its
files (QL006 on each of the others).
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_compliance.quadlet.discovery import folder_losses
from phoenix_compliance.quadlet.unitfile import ParseProblem, UnitFile, drops_folder
from phoenix_compliance.quadlet.versions import Version, generator_reads
from phoenix_compliance.quadlet_lint.context import UnitContext, cross_file_rule, unit_rule
from phoenix_compliance.quadlet_lint.findings import Finding


@unit_rule(10, quadlet_only=False)
def syntax(out: UnitContext) -> None:
    for problem in out.unit.problems:
        if not out.unit.is_quadlet and _systemd_skips(problem):
            key = problem.text.split("=", 1)[0].strip() if problem.kind == "outside-section" else None
            out.add(
                "QL005",
                problem.line,
                key,
                f"'{problem.text[:60]}' is {'outside any section' if key else 'not Key=Value'}; "
                "systemd ignores the line",
                f"put {key}= under its section header" if key else "add the missing '=', or comment the line out",
            )
            continue
        out.add(*_syntax_finding(problem))


def _systemd_skips(problem: ParseProblem) -> bool:
    """systemd drops these lines with a warning; a broken [section] header fails the unit instead."""
    return problem.kind == "outside-section" or (
        problem.kind == "not-an-assignment" and not problem.text.startswith("[")
    )


def _syntax_finding(problem: ParseProblem) -> tuple[str, int, str | None, str, str]:
    shown = problem.text if len(problem.text) <= 60 else problem.text[:57] + "..."
    if problem.kind == "outside-section":
        key = problem.text.split("=", 1)[0].strip()
        return (
            "QL002",
            problem.line,
            key,
            f"'{shown}' comes before any [Section] header; Quadlet rejects the file "
            "('key file does not start with a group')",
            f"put {key}= under its section header",
        )
    if problem.kind == "eof-continuation":
        return (
            "QL003",
            problem.line,
            None,
            "the last line ends with a backslash, so the value continues into nothing",
            "remove the trailing backslash",
        )
    if problem.kind == "eof-continuation-dropped":
        return (
            "QL003",
            problem.line,
            None,
            f"'{shown}' ends with a backslash and only blank or comment lines follow; "
            "Quadlet silently drops the whole line",
            "remove the trailing backslash",
        )
    if problem.kind == "byte-order-mark":
        return (
            "QL004",
            problem.line,
            None,
            "the file starts with a UTF-8 byte order mark; Quadlet does not skip it and rejects "
            "the file (line 1 'is not a key-value pair, group, or comment')",
            "save the file as UTF-8 without a byte order mark",
        )
    if problem.kind in ("not-utf-8", "unreadable"):
        # Read by quadlet.unitfile.parse_bytes / unreadable_unit: the problem says what and where.
        return ("QL000", problem.line, None, problem.message, "make the file readable UTF-8 text")
    if problem.kind == "bad-section-name":
        return (
            "QL001",
            problem.line,
            None,
            f"'{shown}' is not a valid section header; Quadlet rejects the file ('invalid group name')",
            "write the header as [Name] with a non-empty name and no control characters",
        )
    return (
        "QL001",
        problem.line,
        None,
        f"'{shown}' is neither [Section], Key=Value nor a comment; Quadlet rejects the whole file",
        "add the missing '=' (Key=Value), or comment the line out with '#'",
    )


@cross_file_rule(290)
def folder_dropped(units: Sequence[UnitFile], version: Version) -> list[Finding]:
    """One file of a folder that the generator's parser fails on, and it generates no file of
    that folder (quadlet.discovery.folder_losses())."""
    loaded = [unit for unit in units if unit.is_quadlet and generator_reads(unit.kind, version)]
    broken = {unit.path: (unit, problem) for unit in loaded if (problem := drops_folder(unit)) is not None}
    losses = folder_losses(loaded, broken)
    findings: list[Finding] = []
    for unit in loaded:
        culprits = [broken[path] for path in losses.get(unit.path, [])]
        if not culprits:
            continue
        named = ", ".join(f"{other.name} (line {problem.line})" for other, problem in culprits)
        findings.append(
            Finding.of(
                "QL006",
                str(unit.path),
                1,
                None,
                f"{unit.name} is not generated: the generator cannot parse {named} in the same folder, and "
                f"then loads no file of {unit.path.parent} (without a word about the others)",
                f"fix {culprits[0][0].name} (its own finding says how), or move it out of {unit.path.parent}",
            )
        )
    return findings
