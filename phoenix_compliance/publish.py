"""Publishing files whole: atomic, never over another run's file, with no pytest in it.

A file is written into an unnamed file of its folder (O_TMPFILE) and linked to its name, so a
process killed mid-write leaves nothing behind, not even an empty file. A set of files (a run's
reports, a merge, a trend) is first written into a private staging folder, then published in one
step per file: files under a default base name are created exclusively, and when another run
took the name (two runs in the same second), the whole set moves to the next free suffix,
`-2`, `-3`, ...; a path given explicitly (--json FILE) is replaced atomically, as its user asked
for that name. A folder that is full, read-only or cannot be created is one ReportsUnwritten
naming it, and the files the set had published already are taken back.

The run's report formats and the pytest glue that points pytest-html and junitxml at the staging
folder are in run/writers.py; convert, merge and trend write through here without loading pytest.
convert's units are a set written whole or not at all straight into the folder the user named
(write_whole_set), never through a symbolic link.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

# The exit code when the verdicts stand but no report file could be kept
# (pytest's own codes are 0-5; the readiness codes are in run/reporter.py).
EXIT_REPORTS_UNWRITTEN = 14

# Tried before giving up on a free name: far more runs than start in one second.
_MAX_SUFFIX = 1000


class ReportsUnwritten(Exception):
    """The reports folder would not take the files (full, read-only, missing); none was kept."""

    def __init__(self, folder: Path, reason: str) -> None:
        super().__init__(f"cannot write the reports to {folder}: {reason}; no report file was kept")
        self.folder = folder


@dataclass
class StagedSet:
    """Where a set of files is written before it is published, and what each becomes."""

    folder: Path
    # The staged file of each format, by name.
    staged: dict[str, Path] = field(default_factory=dict)
    # Names whose final path is the default base name (published exclusively, with a suffix).
    defaults: set[str] = field(default_factory=set)


def write_set(folder: Path, base: str, formats: Iterable[tuple[str, str, Callable[[Path], None]]]) -> dict[str, Path]:
    """Files a command writes outside a pytest run (merge, trend), each format (name, suffix,
    writer) under one new base name in `folder`, staged and published as a run's are: whole,
    never over another file (the next free suffix instead). The paths written, by name."""
    staging = StagedSet(Path(tempfile.mkdtemp(prefix="phoenix-reports-")))
    files: dict[str, Path] = {}
    try:
        for name, suffix, write in formats:
            files[name] = folder / f"{base}{suffix}"
            staging.staged[name] = staging.folder / f"{base}{suffix}"
            staging.defaults.add(name)
            write(staging.staged[name])
        return publish(files, staging)
    finally:
        shutil.rmtree(staging.folder, ignore_errors=True)


def publish(files: dict[str, Path], staging: StagedSet) -> dict[str, Path]:
    """Move each staged file to its final path (see the module docstring); the paths written.
    On ReportsUnwritten, the files this set had published already are taken back."""
    ready = {name: path for name, path in files.items() if staging.staged[name].exists()}
    payloads = {name: staging.staged[name].read_bytes() for name in ready}
    written: list[Path] = []
    try:
        published = _publish_defaults({n: p for n, p in ready.items() if n in staging.defaults}, payloads, written)
        for name, path in ready.items():
            if name in staging.defaults:
                continue
            try:
                write_file(path, [payloads[name]], exclusive=False)
            except OSError as exc:
                raise ReportsUnwritten(path.parent, _reason(exc)) from None
            written.append(path)
            published[name] = path
    except ReportsUnwritten:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return {name: published[name] for name in files if name in published}


def _publish_defaults(paths: dict[str, Path], payloads: dict[str, bytes], written: list[Path]) -> dict[str, Path]:
    """Publish the default-named files under the first base name that none of them has yet."""
    if not paths:
        return {}
    folder = next(iter(paths.values())).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ReportsUnwritten(folder, "it is a file, not a folder") from None
    except OSError as exc:
        raise ReportsUnwritten(folder, _reason(exc)) from None
    for attempt in range(1, _MAX_SUFFIX + 1):
        chosen = {name: _with_suffix(path, attempt) for name, path in paths.items()}
        taken: list[Path] = []
        try:
            for name, path in chosen.items():
                write_file(path, [payloads[name]], exclusive=True)
                taken.append(path)
        except FileExistsError:
            # Another run holds this name: give back what this attempt took, try the next suffix.
            for path in taken:
                path.unlink(missing_ok=True)
            continue
        except OSError as exc:
            for path in taken:
                path.unlink(missing_ok=True)
            raise ReportsUnwritten(folder, _reason(exc)) from None
        written.extend(taken)
        return chosen
    raise ReportsUnwritten(folder, f"no free report name after {_MAX_SUFFIX} tries")


def _with_suffix(path: Path, attempt: int) -> Path:
    if attempt == 1:
        return path
    return path.with_name(f"{path.name.removesuffix(path.suffix)}-{attempt}{path.suffix}")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the folder is full (no space left on device)"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"the folder is not writable ({exc.strerror})"
    if exc.errno == errno.EEXIST:
        return f"{exc.filename} is in the way"
    return exc.strerror or str(exc)


def write_file(path: Path, chunks: Iterable[bytes], *, exclusive: bool) -> None:
    """Write a file whole or not at all: into an unnamed file of its folder, then linked to its name.

    exclusive: fail with FileExistsError when the name exists; otherwise replace it atomically.
    Where the filesystem has no O_TMPFILE, a hidden temporary name is used and renamed instead."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            raise
        _write_named(path, chunks, exclusive=exclusive)
        return
    try:
        _write_all(fd, chunks)
        # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N gives the unnamed file its name; os.link
        # passes that flag only when it calls linkat, which a directory fd makes it do.
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if exclusive:
                os.link(f"/proc/self/fd/{fd}", path.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            else:
                # An unnamed file cannot replace a name: it gets a hidden one first (it is whole by now).
                hidden = f".{path.name}.{os.getpid()}.tmp"
                os.link(f"/proc/self/fd/{fd}", hidden, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
                os.replace(hidden, path.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        finally:
            os.close(folder_fd)
    finally:
        os.close(fd)


def _write_named(path: Path, chunks: Iterable[bytes], *, exclusive: bool) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        _write_all(fd, chunks)
        if exclusive:
            os.link(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        os.close(fd)
        Path(temporary).unlink(missing_ok=True)


def _write_all(fd: int, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]
    os.fsync(fd)


# A set of files written whole or not at all directly into one folder, every name opened
# relative to the folder's descriptor and never through a symbolic link (convert's units).


class Refused(OSError):
    """A folder cannot take a set safely (a symbolic link or other non-file in the way, a
    name that is not a plain file name); nothing was written."""


@contextmanager
def folder_descriptor(folder: Path, create: bool) -> Iterator[int | None]:
    """The folder as a descriptor every name is opened relative to (None: it does not exist)."""
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        if create:
            raise
        yield None
        return
    try:
        yield fd
    finally:
        os.close(fd)


def write_whole_set(folder_fd: int, texts: dict[str, str], new: set[str]) -> None:
    """Every file into a hidden name first; then each new one linked to its name (failing if the
    name appeared meanwhile) and each replaced one renamed over the old; any failure undoes
    what was done."""
    hidden: dict[str, str] = {}
    done: list[tuple[str, str | None]] = []  # (name, backup of what it replaced)
    try:
        for name, text in texts.items():
            temporary = f".{name}.{os.getpid()}.tmp"
            fd = os.open(
                temporary,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o644,
                dir_fd=folder_fd,
            )
            hidden[name] = temporary
            try:
                os.write(fd, text.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
        for name, temporary in hidden.items():
            if name in new:
                os.link(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
                done.append((name, None))
            else:
                if stat.S_ISLNK(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode):
                    raise Refused(f"{name} became a symbolic link while writing")
                old = f".{name}.{os.getpid()}.old"
                os.link(name, old, src_dir_fd=folder_fd, dst_dir_fd=folder_fd, follow_symlinks=False)
                os.replace(temporary, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
                done.append((name, old))
    except OSError:
        for name, backup in reversed(done):
            if backup is None:
                os.unlink(name, dir_fd=folder_fd)
            else:
                os.replace(backup, name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        raise
    finally:
        for temporary in hidden.values():
            _unlink(temporary, folder_fd)
        for _name, backup in done:
            if backup is not None:
                _unlink(backup, folder_fd)


def _unlink(name: str, folder_fd: int) -> None:
    with suppress(FileNotFoundError):
        os.unlink(name, dir_fd=folder_fd)
