"""Finding the files to lint the way Quadlet finds them: unit folders, drop-ins, hidden duplicates.

Quadlet searches each unit folder depth first by name, skips drop-in folders
(``*.d``) when looking for units, loads only the first file of a name (QL039
for the others) and merges the ``.conf`` drop-ins of each unit. A file that
cannot be read is a finding (QL000), never an exception.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from phoenix_compliance.parsers.quadlet import (
    UnitFile,
    dropin_dir_names,
    drops_folder,
    parse_file,
    parse_text,
    unreadable_unit,
)
from phoenix_compliance.quadlet_lint.findings import Finding
from phoenix_compliance.quadlet_lint.versions import FILE_TYPE_SINCE, PLAIN_UNIT_SECTIONS

_QUADLET_SUFFIXES = tuple(f".{kind}" for kind in FILE_TYPE_SINCE)
LINTED_SUFFIXES = _QUADLET_SUFFIXES + tuple(f".{kind}" for kind in PLAIN_UNIT_SECTIONS)


@dataclass
class Scan:
    """The folders Quadlet searches, each listed once: its unit files and its drop-in folders."""

    # Folders in Quadlet's order (depth first, by name), and the files to lint in that order.
    folders: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    # The folders searched for units (resolved), as opposed to a given file's folder, searched for drop-ins only.
    walked: set[Path] = field(default_factory=set)
    # Drop-in folder name ("web.container.d") -> (folder order, path), for every folder searched.
    dropin_folders: dict[str, list[tuple[int, Path]]] = field(default_factory=dict)
    _listed: dict[Path, list[os.DirEntry[str]]] = field(default_factory=dict)
    _merged: dict[tuple[str, ...], list[Path]] = field(default_factory=dict)

    def _list(self, directory: Path) -> list[os.DirEntry[str]]:
        """A folder's entries by name, read once; its drop-in folders noted when first read."""
        if directory not in self._listed:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
            self._listed[directory] = entries
            order = len(self.folders)
            self.folders.append(directory)
            for entry in entries:
                if entry.name.endswith(".d") and entry.is_dir():
                    self.dropin_folders.setdefault(entry.name, []).append((order, directory / entry.name))
        return self._listed[directory]

    def walk(self, directory: Path) -> None:
        """A folder and its subfolders in Quadlet's order, leaving out drop-in folders (*.d),
        which Quadlet does not search for units."""
        resolved = directory.resolve()
        if resolved in self.walked:
            return
        self.walked.add(resolved)
        children: list[Path] = []
        for entry in self._list(directory):
            path = directory / entry.name
            if entry.is_dir():
                if not entry.name.endswith(".d"):
                    children.append(path)
            elif path.suffix in LINTED_SUFFIXES:
                # A dangling link or a FIFO too: the generator tries to load it and fails (QL000).
                self.files.append(path)
        for child in children:
            self.walk(child)

    def dropins(self, file_name: str) -> list[Path]:
        """The .conf drop-ins Quadlet merges into a unit, in merge order (by file name; of two
        with one name, the one in the earlier unit folder or the more specific drop-in folder wins)."""
        # A container.d/ of any folder searched reaches every container: units whose drop-in
        # folders are the same share one answer, so each drop-in folder is listed once.
        names = tuple(name for name in dropin_dir_names(file_name) if name in self.dropin_folders)
        if names not in self._merged:
            candidates = sorted(
                (order, specific, folder)
                for specific, name in enumerate(names)
                for order, folder in self.dropin_folders[name]
            )
            chosen: dict[str, Path] = {}
            for _order, _specific, folder in candidates:
                for path in sorted(folder.iterdir()):
                    if path.suffix == ".conf" and path.name not in chosen:
                        chosen[path.name] = path
            self._merged[names] = [chosen[name] for name in sorted(chosen)]
        return self._merged[names]


def scan(paths: Iterable[Path | str]) -> Scan:
    """Each folder given with its subfolders, and the folder of each file given (drop-ins may
    sit beside it), each listed once; the files to lint in Quadlet's order."""
    found = Scan()
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found.walk(path)
        else:
            found.files.append(path)
            found._list(path.parent)
    return found


def unit_dirs(paths: Iterable[Path | str]) -> list[Path]:
    """The directories Quadlet would search: each folder given with its subfolders, and
    the folder of each file given (drop-ins may sit beside it)."""
    return scan(paths).folders


def collect_files(paths: Iterable[Path | str]) -> list[Path]:
    """Files to lint: each file given, and the unit files in each directory and its
    subdirectories (drop-in folders excepted, as Quadlet does), in Quadlet's order."""
    return scan(paths).files


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


def read_units(found: Scan) -> Iterator[UnitFile | Finding]:
    """Each file to lint, parsed, in Quadlet's order; a finding in its place where the file
    is hidden by an earlier one of the same name or is not UTF-8 text. Folders given are
    searched like Quadlet's unit folders; files given are taken as they are."""
    first_of_name: dict[str, Path] = {}
    for path in found.files:
        searched = path.suffix.lstrip(".") in FILE_TYPE_SINCE and path.parent.resolve() in found.walked
        if searched and path.name in first_of_name:
            # Within the folders searched, the generator loads one file per name: the first it could parse.
            yield _hidden(path, first_of_name[path.name])
            continue
        try:
            mode = path.stat().st_mode
            # Never opened unless a regular file: a FIFO would block.
            unit = parse_file(path) if stat.S_ISREG(mode) else unreadable_unit(path, "not a regular file")
        except OSError as error:
            # The generator fails to load it (and so its whole folder, see QL006).
            unit = unreadable_unit(path, f"{error.strerror or error} (a dangling symbolic link?)")
        except UnicodeDecodeError as error:
            yield _unreadable(path, error)
            continue
        if searched and not drops_folder(unit):
            first_of_name[path.name] = path
        yield unit


def read_dropins(unit: UnitFile, found: Scan) -> Iterator[UnitFile | Finding]:
    """The .conf drop-ins Quadlet would merge into the unit, parsed as the unit's kind, in
    Quadlet's order; a finding in the place of one that cannot be read."""
    for path in found.dropins(unit.name):
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as error:
            yield _unreadable(path, error)
            continue
        yield parse_text(text, path=path, kind=unit.kind)
