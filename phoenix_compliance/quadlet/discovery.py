"""Finding Quadlet files the way the generator finds them, in a folder on disk or in a host's listing.

One reading for the lint, the facts and the drift checks (cmd/quadlet/main.go and
pkg/systemd/quadlet/unitdirs.go, 5.4.2 to 5.8; both real generators agree):

- each unit folder is searched depth first: its own files by name, then its
  subfolders by name; drop-in folders (``*.d``) are not searched for units, a
  folder reached twice (a symlink) is searched once;
- of the files of one name the first loaded wins (the generator loads one file
  per name); a file its parser fails on is not loaded, so a later one of that name
  can be, and it costs its whole folder (``unitfile.drops_folder()``);
- each unit is merged with the ``.conf`` files of its drop-in folders
  (``dropin_dir_names()``), by file name; of two drop-ins of one name the first
  found wins, and which is found first changed in 5.6 (``DROPIN_NAME_FIRST_SINCE``).

The files are read through a ``Tree``: ``DiskTree`` for a folder here, ``ListingTree``
for the files a host sent (its tar). Every read is bounded and never raises: a file
that cannot be read is a unit with an "unreadable" problem; a special file (a FIFO, a
device such as ``/dev/zero``, a socket) is refused by its type before it is opened.

The walk follows symbolic links to folders, as the generator does (appendSubPaths()
resolves each entry with filepath.EvalSymlinks and reads it with os.ReadDir, 5.4.2 to
5.8; a folder reached twice is searched once), so a link to ``/`` inside a unit folder
makes the generator search the whole file system too. The suite's walk is bounded where
the generator's is not (the MAX_WALK_* bounds: folders, files, depth, entries of one folder and
seconds); a bound reached, and a folder that cannot be listed (the generator skips it
with a debug line), are ``Scan.limits``, which the lint and the checks report.
"""

from __future__ import annotations

import io
import os
import stat
import tarfile
import time
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Protocol

from phoenix_compliance.parsers.yamlmarks import MAX_BYTES
from phoenix_compliance.quadlet.unitfile import UnitFile, drops_folder, merge_dropins, parse_bytes, unreadable_unit
from phoenix_compliance.quadlet.versions import (
    DEFAULT_PODMAN_VERSION,
    DROPIN_NAME_FIRST_SINCE,
    FILE_TYPE_SINCE,
    PLAIN_UNIT_SECTIONS,
    Version,
)

# A unit file is a few KB; anything larger is not read (the file is then unreadable, and says so).
MAX_UNIT_BYTES = MAX_BYTES

QUADLET_SUFFIXES = tuple(f".{kind}" for kind in FILE_TYPE_SINCE)
# The files the lint judges: Quadlet's, and the plain systemd units beside them (the target).
LINTED_SUFFIXES = QUADLET_SUFFIXES + tuple(f".{kind}" for kind in PLAIN_UNIT_SECTIONS)

# The walk's bounds: a unit folder holds tens of files in a few folders, so these are far
# beyond any real one, and a link to `/` stops within them.
MAX_WALK_FOLDERS = 2000
MAX_WALK_FILES = 10_000
# Deep enough for the 1,200 nested folders issue 24 found (walked, iteratively, as the generator does).
MAX_WALK_DEPTH = 2000
MAX_FOLDER_ENTRIES = 10_000
MAX_WALK_SECONDS = 10.0

# Problems that leave (part of) a file unread.
UNREAD_PROBLEMS = ("unreadable", "not-utf-8")


@dataclass(frozen=True)
class Node:
    """One entry of a folder: its name, and whether it is a folder (symlinks followed)."""

    name: str
    is_dir: bool


class Tree(Protocol):
    """Where the files are: listed and read, never raising."""

    # Folders that could not be listed (or only in part), and why.
    unlisted: dict[Path, str]

    def entries(self, folder: Path) -> list[Node]:
        """The folder's entries by name; none when it cannot be listed."""
        ...

    def read(self, path: Path) -> bytes | str:
        """The file's bytes (at most MAX_UNIT_BYTES + 1), or why it cannot be read."""
        ...

    def identity(self, folder: Path) -> Hashable:
        """What makes two spellings of a folder one folder (through a symlink, say)."""
        ...

    def is_folder(self, path: Path) -> bool: ...


class DiskTree:
    """A folder on this machine."""

    def __init__(self) -> None:
        self.unlisted: dict[Path, str] = {}

    def entries(self, folder: Path) -> list[Node]:
        found: list[os.DirEntry[str]] = []
        try:
            with os.scandir(folder) as listing:
                for entry in listing:
                    if len(found) >= MAX_FOLDER_ENTRIES:
                        self.unlisted[folder] = f"more than {MAX_FOLDER_ENTRIES} entries; only the first are read"
                        break
                    found.append(entry)
        except OSError as exc:
            if not isinstance(exc, FileNotFoundError | NotADirectoryError):
                self.unlisted[folder] = exc.strerror or str(exc)
            return []
        return [Node(entry.name, _is_dir(entry)) for entry in sorted(found, key=lambda entry: entry.name)]

    def read(self, path: Path) -> bytes | str:
        try:
            # stat's target: a dangling symlink has none, and a FIFO would block an open().
            mode = path.stat().st_mode
        except OSError as exc:
            return f"{exc.strerror or exc} (a dangling symbolic link?)"
        if not stat.S_ISREG(mode):
            return f"{_special_kind(mode)}, not a regular file"
        try:
            with path.open("rb") as handle:
                return handle.read(MAX_UNIT_BYTES + 1)
        except OSError as exc:
            return exc.strerror or str(exc)

    def identity(self, folder: Path) -> Hashable:
        # The folder itself (one stat), not its resolved path: resolving costs a call per
        # component, which a deep tree pays per folder.
        try:
            found = folder.stat()
        except OSError:
            return folder
        return (found.st_dev, found.st_ino)

    def is_folder(self, path: Path) -> bool:
        return path.is_dir()


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a folder" if stat.S_ISDIR(mode) else "a special file"


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


class ListingTree:
    """Files a host sent: relative path -> bytes, or why the host could not send them (a link it
    did not follow, a FIFO), laid out under `root` as they are on the host."""

    def __init__(self, root: Path, files: Mapping[str, bytes | str], folders: Iterable[str] = ()) -> None:
        self.root = root
        self.unlisted: dict[Path, str] = {}
        self._files = {root / name: data for name, data in files.items()}
        self._folders: dict[Path, dict[str, bool]] = {root: {}}
        for path in self._files:
            self._add(path, is_dir=False)
        for name in folders:
            self._folders.setdefault(root / name, {})
            self._add(root / name, is_dir=True)

    def _add(self, path: Path, is_dir: bool) -> None:
        """An entry and each folder above it, up to the root."""
        child = path
        while self.root in child.parents:
            self._folders.setdefault(child.parent, {})[child.name] = is_dir or child != path
            child = child.parent

    @classmethod
    def from_tar(cls, root: Path, data: bytes) -> ListingTree:
        """A folder's tar (`tar -cf - .` on the host); raises tarfile.TarError on a broken one."""
        files: dict[str, bytes | str] = {}
        folders: list[str] = []
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive.getmembers():
                name = str(PurePosixPath(member.name.removeprefix("./")))
                if name in ("", ".") or name.startswith("../") or PurePosixPath(name).is_absolute():
                    continue
                if member.isdir():
                    folders.append(name)
                elif member.isfile() or member.islnk():
                    # A hard link is the file it links to (tarfile reads the earlier member).
                    try:
                        extracted = archive.extractfile(member)
                    except KeyError:  # a hard link to a file the tar does not hold
                        extracted = None
                    files[name] = extracted.read(MAX_UNIT_BYTES + 1) if extracted is not None else _member_kind(member)
                else:
                    files[name] = _member_kind(member)
        return cls(root, files, folders)

    def entries(self, folder: Path) -> list[Node]:
        return [Node(name, is_dir) for name, is_dir in sorted(self._folders.get(folder, {}).items())]

    def read(self, path: Path) -> bytes | str:
        return self._files.get(path, "no such file")

    def identity(self, folder: Path) -> Hashable:
        return folder

    def is_folder(self, path: Path) -> bool:
        return path in self._folders


def _member_kind(member: tarfile.TarInfo) -> str:
    if member.issym() or member.islnk():
        return f"a link to {member.linkname} that the host could not follow"
    if member.isfifo():
        return "a FIFO, not a regular file"
    return "not a regular file"


def read_unit(tree: Tree, path: Path, kind: str | None = None) -> UnitFile:
    """A unit (or a drop-in, read as its unit's kind) from the tree, bounded; never raises."""
    data = tree.read(path)
    if isinstance(data, str):
        return unreadable_unit(path, data, kind)
    if len(data) > MAX_UNIT_BYTES:
        return unreadable_unit(path, f"larger than {MAX_UNIT_BYTES // 1024} KB", kind)
    return parse_bytes(data, path, kind)


def dropin_dir_names(file_name: str) -> list[str]:
    """The drop-in folder names the generator searches for a unit file, most specific first
    (UnitFile.GetUnitDropinPaths()). For foo-bar@x.container: foo-bar@x.container.d,
    foo-bar@.container.d, foo-@.container.d, foo-.container.d, container.d."""
    dot = file_name.rfind(".")
    extension = file_name[dot:] if dot >= 0 else ""
    base = file_name[: len(file_name) - len(extension)]
    unit_name, at, instance = base.partition("@")
    dropin_extension = extension + ".d"
    names = [dropin_extension.lstrip(".")]
    parts = unit_name.split("-")[:-1]
    for count in range(1, len(parts) + 1):
        truncated = "-".join(parts[:count]) + "-"
        names.append(truncated + dropin_extension)
        if at:
            names.append(truncated + "@" + dropin_extension)
    if instance:
        names.append(unit_name + "@" + dropin_extension)
    names.append(file_name + ".d")
    return names[::-1]


@dataclass(frozen=True)
class Hidden:
    """A file the generator never loads: an earlier file of its name was loaded."""

    path: Path
    first: Path


@dataclass(frozen=True)
class WalkLimit:
    """Where the walk stopped short, or a folder it could not list: the units below are unjudged."""

    path: Path
    message: str


@dataclass
class Scan:
    """The folders the generator searches, each listed once: its unit files and its drop-in folders."""

    tree: Tree = field(default_factory=DiskTree)
    # Folders in the generator's order (depth first, by name), and the files found in that order.
    folders: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    # The folders searched for units (their identity), as opposed to a given file's folder,
    # searched for drop-ins only.
    walked: set[Hashable] = field(default_factory=set)
    # Drop-in folder name ("web.container.d") -> (folder order, path), for every folder searched.
    dropin_folders: dict[str, list[tuple[int, Path]]] = field(default_factory=dict)
    # Bounds reached and folders not listed (in the order met).
    limits: list[WalkLimit] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    _listed: dict[Path, list[Node]] = field(default_factory=dict)
    _dropins: dict[tuple[tuple[str, ...], bool], list[Path]] = field(default_factory=dict)

    def _list(self, directory: Path) -> list[Node]:
        """A folder's entries by name, read once; its drop-in folders noted when first read."""
        if directory not in self._listed:
            entries = self.tree.entries(directory)
            why = self.tree.unlisted.get(directory)
            if why is not None:
                self.limits.append(WalkLimit(directory, f"cannot list the folder: {why}"))
            self._listed[directory] = entries
            order = len(self.folders)
            self.folders.append(directory)
            for entry in entries:
                if entry.name.endswith(".d") and entry.is_dir:
                    self.dropin_folders.setdefault(entry.name, []).append((order, directory / entry.name))
        return self._listed[directory]

    def walk(self, directory: Path, suffixes: tuple[str, ...] = LINTED_SUFFIXES) -> None:
        """A folder and its subfolders in the generator's order (each folder's files, then its
        subfolders, depth first), leaving out drop-in folders (*.d). Iterative: a deep tree is
        walked, not a RecursionError; bounded (MAX_WALK_*), a bound reached is a WalkLimit."""
        pending = [(directory, 0)]
        while pending:
            current, depth = pending.pop()
            identity = self.tree.identity(current)
            if identity in self.walked:
                continue
            stop = self._bound(directory, current, depth)
            if stop == "prune":
                continue
            if stop == "stop":
                return
            self.walked.add(identity)
            children: list[Path] = []
            for entry in self._list(current):
                path = current / entry.name
                if entry.is_dir:
                    if not entry.name.endswith(".d"):
                        children.append(path)
                elif path.suffix in suffixes:
                    # A dangling link or a FIFO too: the generator tries to load it and fails.
                    self.files.append(path)
            pending.extend((child, depth + 1) for child in reversed(children))

    def _bound(self, top: Path, current: Path, depth: int) -> str | None:
        """'stop' (the walk ends), 'prune' (this folder is left out) or None, noting the bound reached."""
        if depth > MAX_WALK_DEPTH:
            self._limit(current, f"more than {MAX_WALK_DEPTH} folders deep below {top}; not searched")
            return "prune"
        reached = None
        if len(self.walked) >= MAX_WALK_FOLDERS:
            reached = f"{MAX_WALK_FOLDERS} folders"
        elif len(self.files) >= MAX_WALK_FILES:
            reached = f"{MAX_WALK_FILES} unit files"
        elif time.monotonic() - self.started > MAX_WALK_SECONDS:
            reached = f"{MAX_WALK_SECONDS:g} seconds"
        if reached is None:
            return None
        self._limit(
            current,
            f"the search of {top} stopped after {reached} (a symbolic link to / or a large tree?): "
            "this folder and the rest are not searched",
        )
        return "stop"

    def _limit(self, path: Path, message: str) -> None:
        if all(limit.message != message for limit in self.limits):
            self.limits.append(WalkLimit(path, message))

    def add_file(self, path: Path) -> None:
        """A file given on its own: taken as it is, its folder searched for drop-ins only."""
        self.files.append(path)
        self._list(path.parent)

    def searched(self, path: Path) -> bool:
        """Whether a Quadlet file lies in a folder the generator searches (not one given on its own)."""
        return path.suffix in QUADLET_SUFFIXES and self.tree.identity(path.parent) in self.walked

    def dropins(self, file_name: str, version: Version = DEFAULT_PODMAN_VERSION) -> list[Path]:
        """The .conf drop-ins the generator merges into a unit of this name, in merge order (by
        file name; of two of one name, the one found first: up to 5.5 the earlier unit folder,
        from 5.6 the more specific drop-in folder name)."""
        # A container.d/ of any folder searched reaches every container: units whose drop-in
        # folders are the same share one answer, so each drop-in folder is listed once.
        names = tuple(name for name in dropin_dir_names(file_name) if name in self.dropin_folders)
        name_first = version >= DROPIN_NAME_FIRST_SINCE
        if (names, name_first) not in self._dropins:
            candidates = sorted(
                ((specific, order) if name_first else (order, specific), folder)
                for specific, name in enumerate(names)
                for order, folder in self.dropin_folders[name]
            )
            chosen: dict[str, Path] = {}
            for _rank, folder in candidates:
                for entry in self.tree.entries(folder):
                    if not entry.is_dir and entry.name.endswith(".conf") and entry.name not in chosen:
                        chosen[entry.name] = folder / entry.name
            self._dropins[(names, name_first)] = [chosen[name] for name in sorted(chosen)]
        return self._dropins[(names, name_first)]


def scan(paths: Iterable[Path | str], tree: Tree | None = None) -> Scan:
    """Each folder given with its subfolders, and each file given (its folder searched for
    drop-ins only), each listed once; the files found in the generator's order."""
    found = Scan(tree or DiskTree())
    for item in paths:
        path = Path(item)
        if found.tree.is_folder(path):
            found.walk(path)
        else:
            found.add_file(path)
    return found


def read_units(found: Scan) -> Iterator[UnitFile | Hidden]:
    """Each file found, parsed, in the generator's order; a Hidden in the place of one the
    generator never loads since an earlier file of its name was loaded."""
    first_of_name: dict[str, Path] = {}
    for path in found.files:
        searched = found.searched(path)
        if searched and path.name in first_of_name:
            yield Hidden(path, first_of_name[path.name])
            continue
        unit = read_unit(found.tree, path)
        # The generator loads one file per name: the first its parser does not fail on.
        if searched and drops_folder(unit) is None:
            first_of_name[path.name] = path
        yield unit


def folder_losses(units: Iterable[UnitFile], broken: Iterable[Path]) -> dict[Path, list[Path]]:
    """The units the generator does not generate because another file of their folder cannot be
    parsed: loadUnitsFromDir() (cmd/quadlet/main.go, 5.4.2 to 5.8) then loads no file of that
    folder, says nothing about them, and a subfolder is a folder of its own. Unit path -> the
    broken files of its folder; a broken file itself is not listed."""
    culprits = list(dict.fromkeys(broken))
    by_folder: dict[Path, list[Path]] = {}
    for path in culprits:
        by_folder.setdefault(path.parent, []).append(path)
    return {
        unit.path: by_folder[unit.path.parent]
        for unit in units
        if unit.path not in culprits and unit.path.parent in by_folder
    }


def read_dropins(unit: UnitFile, found: Scan, version: Version = DEFAULT_PODMAN_VERSION) -> list[UnitFile]:
    """The drop-ins the generator merges into the unit, parsed as the unit's kind, in merge order."""
    return [read_unit(found.tree, path, unit.kind) for path in found.dropins(unit.name, version)]


def with_dropins(unit: UnitFile, dropins: list[UnitFile]) -> UnitFile:
    """The unit merged with its drop-ins; a drop-in that cannot be read is a problem of the
    unit (naming the drop-in), since the generator loses what it says."""
    unread = [
        replace(problem, message=f"{dropin.path}: {problem.message}")
        for dropin in dropins
        for problem in dropin.problems
        if problem.kind in UNREAD_PROBLEMS
    ]
    if unread:
        unit = replace(unit, problems=[*unit.problems, *unread])
    return merge_dropins(unit, dropins) if dropins else unit


def merged_units(
    found: Scan, version: Version = DEFAULT_PODMAN_VERSION, files: Iterable[UnitFile | Hidden] | None = None
) -> dict[str, UnitFile]:
    """The Quadlet units of the folders searched, by file name, each merged with its drop-ins as
    the generator merges them: of the files of one name the one the generator loads (the first
    its parser does not fail on; the first of them when it fails on all). What every check of
    a folder's units judges: a drop-in's key is the unit's key, at the drop-in's file:line.
    `files`: what read_units(found) gave, when the caller has read them already."""
    chosen: dict[str, UnitFile] = {}
    for unit in read_units(found) if files is None else files:
        if isinstance(unit, Hidden) or not unit.is_quadlet or not found.searched(unit.path):
            continue
        if unit.name not in chosen or (drops_folder(chosen[unit.name]) is not None and drops_folder(unit) is None):
            chosen[unit.name] = unit
    return {name: with_dropins(unit, read_dropins(unit, found, version)) for name, unit in chosen.items()}


def merged_folder(
    folder: Path, version: Version = DEFAULT_PODMAN_VERSION, tree: Tree | None = None
) -> dict[str, UnitFile]:
    """merged_units() of one unit folder (with its subfolders), on disk or in a host's listing."""
    return merged_units(scan([folder], tree), version)
