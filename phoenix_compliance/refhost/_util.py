"""Shared plumbing: errors, progress lines, bounded subprocesses, /proc lookups."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from .paths import PROG


class RefhostError(Exception):
    """An expected failure, shown to the user as a message rather than a traceback."""


def say(message: str) -> None:
    """Print a progress line on stderr, where it never mixes with command output."""
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def require_root(action: str) -> None:
    if os.geteuid() != 0:
        raise RefhostError(
            f"{action} needs root (it mounts overlays, runs debootstrap and systemd-nspawn); run it with sudo"
        )


def run(
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
    stdin: int | IO[str] | None = subprocess.DEVNULL,
    stdout: int | IO[str] | None = subprocess.PIPE,
    stderr: int | IO[str] | None = subprocess.PIPE,
    cgroup: Path | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run argv with a hard time limit, optionally inside cgroup (a v2 directory).

    The child gets its own process group so that a timeout kills everything it
    started: nsenter forks to enter a PID namespace, and killing only nsenter
    would leave the command running inside the guest.
    """
    procs = None if cgroup is None else str(cgroup / "cgroup.procs")

    def enter_cgroup() -> None:
        if procs is not None:
            with open(procs, "w") as handle:
                handle.write("0")  # "0" is the writing process itself

    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            env=None if env is None else dict(env),
            cwd=cwd,
            text=True,
            process_group=0,
            preexec_fn=enter_cgroup if procs is not None else None,
        )
    except FileNotFoundError as exc:
        raise RefhostError(f"{argv[0]} not found; install it (apt-get install ...)") from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc.pid)
        proc.communicate()
        raise RefhostError(f"timed out after {timeout:g} s: {' '.join(argv)}") from None
    except BaseException:
        # Ctrl-C or similar: do not leave the group running behind us.
        _kill_group(proc.pid)
        proc.wait()
        raise
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def proc_stat(pid: int) -> tuple[str, str, int, int] | None:
    """(comm, state, ppid, starttime) of a process, or None if it is gone.

    comm sits in parentheses and may hold spaces, so split at the last ')'.
    """
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    head, _, tail = raw.rpartition(")")
    comm = head.partition("(")[2]
    fields = tail.split()
    # fields[0] is field 3 of proc(5): state, ppid, ..., starttime is field 22.
    return comm, fields[0], int(fields[1]), int(fields[19])


def alive(pid: int, starttime: int | None = None) -> bool:
    """True for a running process; a zombie counts as gone (PID 1 here may not reap),
    and a matching start time guards against a recycled PID."""
    stat = proc_stat(pid)
    if stat is None or stat[1] in ("Z", "X"):
        return False
    return starttime is None or stat[3] == starttime


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, comm) of the direct children of pid."""
    found: list[tuple[int, str]] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = proc_stat(int(entry))
        if stat is not None and stat[2] == pid and stat[1] not in ("Z", "X"):
            found.append((int(entry), stat[0]))
    return found


def is_mountpoint(path: Path) -> bool:
    """Whether path is a mount point in this mount namespace (by /proc/self/mountinfo,
    which, unlike os.path.ismount, also sees an overlay over its own parent's device)."""
    target = str(path)
    with open("/proc/self/mountinfo") as info:
        for line in info:
            # Field 5 is the mount point, with spaces etc. octal-escaped.
            mount_point = line.split()[4].encode().decode("unicode_escape")
            if mount_point == target:
                return True
    return False


def mounts_under(path: Path) -> list[Path]:
    """Mount points at or below path, deepest first (the order to unmount them)."""
    prefix = str(path).rstrip("/") + "/"
    found: list[Path] = []
    with open("/proc/self/mountinfo") as info:
        for line in info:
            mount_point = line.split()[4].encode().decode("unicode_escape")
            if mount_point == str(path) or mount_point.startswith(prefix):
                found.append(Path(mount_point))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def remove_tree(path: Path) -> None:
    """Remove a root file system tree without ever descending into a mount.

    A killed debootstrap can leave proc and sys mounted in its target; removing
    through them would be a disaster, so unmount first and let rm refuse to
    cross file systems.
    """
    if not path.exists():
        return
    for mount_point in mounts_under(path):
        run(["umount", "--lazy", str(mount_point)], timeout=30)
    left = mounts_under(path)
    if left:
        raise RefhostError(f"cannot remove {path}: still mounted: {', '.join(map(str, left))}")
    result = run(["rm", "-rf", "--one-file-system", "--", str(path)], timeout=600)
    if result.returncode != 0:
        raise RefhostError(f"cannot remove {path}: {result.stderr.strip()}")


def tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock, so two commands (or xdist workers) never build or boot
    the same thing at once; the lock dies with the process, so no stale lock files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def acquire_all(paths: Sequence[Path]) -> Iterator[None]:
    """Hold several locks; taken in sorted order, so two callers that want overlapping
    sets (a fleet up, a down --all) cannot each hold one the other waits for."""
    with contextlib.ExitStack() as stack:
        for path in sorted(set(paths)):
            stack.enter_context(locked(path))
        yield


def cgroup2_root() -> Path | None:
    """Where the cgroup v2 hierarchy is mounted: /sys/fs/cgroup/unified on this hybrid
    machine, /sys/fs/cgroup on a pure v2 one."""
    with open("/proc/self/mountinfo") as info:
        for line in info:
            before, _, after = line.partition(" - ")
            if after.split()[0] == "cgroup2":
                return Path(before.split()[4].encode().decode("unicode_escape"))
    return None


def remove_cgroup(path: Path) -> None:
    """rmdir a cgroup and its (emptied) children, deepest first; cgroupfs refuses rm -r."""
    if not path.is_dir():
        return
    # Killed tasks leave the cgroup a moment after the kill; rmdir fails until then.
    events = path / "cgroup.events"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "populated 1" in read_or_empty(events):
        time.sleep(0.1)
    for sub in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):
            sub.rmdir()
    with contextlib.suppress(OSError):
        path.rmdir()


def read_or_empty(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
