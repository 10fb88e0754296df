"""The lint's view of Quadlet's file discovery (``phoenix_compliance.quadlet.discovery``):
what the generator never loads or cannot read, as findings.

A file hidden by an earlier one of its name is QL039; a unit file that is not UTF-8
text is QL000 in place of the unit; a drop-in's own problems are judged by the
syntax rule like any file's (engine.py). Where the search stopped short (a bound of the
walk reached, a folder that cannot be listed: ``Scan.limits``) is QL000 at that folder:
the units below it are not judged, so the run is no verdict on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from phoenix_compliance.quadlet.discovery import LINTED_SUFFIXES, Hidden, scan
from phoenix_compliance.quadlet.discovery import Scan as Scan
from phoenix_compliance.quadlet.unitfile import UnitFile
from phoenix_compliance.quadlet_lint.findings import Finding

__all__ = ["LINTED_SUFFIXES", "Scan", "collect_files", "lint_inputs", "walk_findings"]


def collect_files(paths: Iterable[Path | str]) -> list[Path]:
    """Files to lint: each file given, and the unit files in each directory and its
    subdirectories (drop-in folders excepted, as Quadlet does), in Quadlet's order."""
    return scan(paths).files


def _hidden(hidden: Hidden) -> Finding:
    return Finding.of(
        "QL039",
        str(hidden.path),
        1,
        None,
        f"Quadlet reads only the first {hidden.path.name} it finds ({hidden.first}) and ignores this one",
        "rename one of the two files, or remove the one that is not meant to be used",
    )


def walk_findings(found: Scan) -> list[Finding]:
    """QL000 for each place the search of the folders stopped short or could not list."""
    return [
        Finding.of(
            "QL000",
            str(limit.path),
            1,
            None,
            limit.message,
            "make the folder readable, and keep links to folders outside the unit folders out of them",
        )
        for limit in found.limits
    ]


def lint_inputs(files: Iterable[UnitFile | Hidden], undecodable_unread: bool = False) -> Iterator[UnitFile | Finding]:
    """Each file found (``quadlet.discovery.read_units()``), in Quadlet's order; a finding in its
    place where the file is hidden by an earlier one of the same name, and with
    `undecodable_unread` (the command line) where it is not UTF-8 text."""
    for unit in files:
        if isinstance(unit, Hidden):
            yield _hidden(unit)
            continue
        not_text = next((p for p in unit.problems if p.kind == "not-utf-8"), None) if undecodable_unread else None
        if not_text is not None:
            yield Finding.of(
                "QL000",
                str(unit.path),
                1,
                None,
                f"cannot read the file: {not_text.message}",
                "make the file readable UTF-8 text",
            )
            continue
        yield unit
