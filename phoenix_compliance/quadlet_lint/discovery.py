"""Finding the files to lint the way Quadlet finds them: unit folders, drop-ins, hidden duplicates.

Quadlet searches each unit folder depth first by name, skips drop-in folders
(``*.d``) when looking for units, loads only the first file of a name (QL039
for the others) and merges the ``.conf`` drop-ins of each unit. A file that
cannot be read is a finding (QL000), never an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from phoenix_compliance.parsers.quadlet import UnitFile, find_dropins, parse_file, parse_text
from phoenix_compliance.quadlet_lint.findings import Finding
from phoenix_compliance.quadlet_lint.versions import FILE_TYPE_SINCE, PLAIN_UNIT_SECTIONS

_QUADLET_SUFFIXES = tuple(f".{kind}" for kind in FILE_TYPE_SINCE)
LINTED_SUFFIXES = _QUADLET_SUFFIXES + tuple(f".{kind}" for kind in PLAIN_UNIT_SECTIONS)


def _walk(directory: Path) -> Iterator[Path]:
    """A directory and its subdirectories in Quadlet's order (depth first, by name),
    leaving out drop-in folders (*.d), which Quadlet does not search for units."""
    yield directory
    for child in sorted(directory.iterdir()):
        if child.is_dir() and not child.name.endswith(".d"):
            yield from _walk(child)


def unit_dirs(paths: Iterable[Path | str]) -> list[Path]:
    """The directories Quadlet would search: each folder given with its subfolders, and
    the folder of each file given (drop-ins may sit beside it)."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        for directory in _walk(path) if path.is_dir() else [path.parent]:
            if directory not in found:
                found.append(directory)
    return found


def collect_files(paths: Iterable[Path | str]) -> list[Path]:
    """Files to lint: each file given, and the unit files in each directory and its
    subdirectories (drop-in folders excepted, as Quadlet does), in Quadlet's order."""
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for directory in _walk(path):
                files.extend(p for p in sorted(directory.iterdir()) if p.suffix in LINTED_SUFFIXES and p.is_file())
        else:
            files.append(path)
    return files


def _hidden(path: Path, first: Path) -> Finding:
    return Finding.of(
        "QL039",
        str(path),
        1,
        None,
        f"Quadlet reads only the first {path.name} it finds ({first}) and ignores this one",
        "rename one of the two files, or remove the one that is not meant to be used",
    )


def _unreadable(path: Path, error: Exception) -> Finding:
    return Finding.of(
        "QL000", str(path), 1, None, f"cannot read the file: {error}", "make the file readable UTF-8 text"
    )


def read_units(paths: Sequence[Path | str]) -> Iterator[UnitFile | Finding]:
    """Each file to lint, parsed, in Quadlet's order; a finding in its place where the file
    is hidden by an earlier one of the same name or cannot be read."""
    # Folders given are searched like Quadlet's unit folders; files given are taken as they are.
    walked = {folder.resolve() for item in paths if Path(item).is_dir() for folder in _walk(Path(item))}
    first_of_name: dict[str, Path] = {}
    for path in collect_files(paths):
        if path.suffix.lstrip(".") in FILE_TYPE_SINCE and path.parent.resolve() in walked:
            # Within the folders searched, the generator loads one file per name: the first.
            first = first_of_name.setdefault(path.name, path)
            if first != path:
                yield _hidden(path, first)
                continue
        try:
            unit = parse_file(path)
        except (OSError, UnicodeDecodeError) as error:
            yield _unreadable(path, error)
            continue
        yield unit


def read_dropins(unit: UnitFile, directories: list[Path]) -> Iterator[UnitFile | Finding]:
    """The .conf drop-ins Quadlet would merge into the unit, parsed as the unit's kind, in
    Quadlet's order; a finding in the place of one that cannot be read."""
    for path in find_dropins(unit.name, directories):
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            yield _unreadable(path, error)
            continue
        yield parse_text(text, path=path, kind=unit.kind)
