"""Stopping guests: power-off (killed past the bound), the overlay unmounted and the upper layer
dropped, so the next boot starts clean; also what a guest killed without `down` left."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time

from . import paths
from ._util import (
    RefhostError,
    acquire_all,
    alive,
    children,
    is_mountpoint,
    locked,
    read_or_empty,
    remove_cgroup,
    remove_tree,
    require_root,
    run,
    say,
)
from .exec import guest_run
from .guest_state import POLL, GuestState, guest_cgroup, guest_layout, guest_systemd, guests_text, known_guests, state


def down(name: str = paths.DEFAULT_GUEST, *, timeout: float = 30) -> bool:
    """Stop the guest and drop its upper layer; return whether it was up."""
    require_root("down")
    guest = guest_layout(name)
    with locked(guest.lock):
        st = state(name)
        if st is None:
            left = guest.state.exists() or is_mountpoint(guest.merged)
            teardown(guest)
            say(f"{name} was down; removed what it left (overlay, processes)" if left else f"{name} is already down")
            return False
        started = time.monotonic()
        stop_all([st], timeout)
        teardown(guest)
        say(f"{name} is down in {time.monotonic() - started:.1f} s")
        return True


def down_all(*, timeout: float = 30, prefix: str | None = None) -> list[str]:
    """Stop every guest (or only PREFIX-N ones) at once and drop their overlays, also of
    guests that died without a `down`; return the names of those that were up."""
    require_root("down")
    names = [n for n in known_guests() if prefix is None or re.fullmatch(rf"{re.escape(prefix)}-\d+", n)]
    guests = [guest_layout(name) for name in names]
    with acquire_all([g.lock for g in guests]):
        running = [st for name in names if (st := state(name)) is not None]
        started = time.monotonic()
        stop_all(running, timeout)
        for guest in guests:
            teardown(guest)
    stopped = [st.name for st in running]
    if stopped:
        say(f"{guests_text(len(stopped))} down in {time.monotonic() - started:.1f} s: {', '.join(stopped)}")
    else:
        say("no guest was up" + (f" named {prefix}-N" if prefix else ""))
    return stopped


def stop_all(states: list[GuestState], timeout: float) -> None:
    """Power the guests off together; past the bound, kill those still running (stop
    timeouts of running containers can hold a clean shutdown for minutes)."""
    deadline = time.monotonic() + timeout
    for st in states:
        if guest_systemd(st) is not None:
            # The guest may be dying already; the wait below decides either way.
            with contextlib.suppress(RefhostError):
                guest_run(st, ["systemctl", "poweroff", "--no-block"], timeout=10)
        else:
            # No systemd to ask yet (a boot that just failed): nspawn turns SIGTERM into
            # an orderly shutdown signal for the guest's init.
            with contextlib.suppress(ProcessLookupError):
                os.kill(st.pid, signal.SIGTERM)
    while any(alive(st.pid, st.starttime) for st in states) and time.monotonic() < deadline:
        time.sleep(POLL)
    survivors = []
    for st in states:
        if alive(st.pid, st.starttime):
            say(f"{st.name} did not power off in {timeout:g} s; killing systemd-nspawn and the guest")
            _kill(st)
            if alive(st.pid, st.starttime):
                survivors.append(f"systemd-nspawn pid {st.pid} ({st.name}) survived SIGKILL; check {st.log}")
        _reap(st.pid)
    if survivors:
        raise RefhostError("; ".join(survivors))


def _kill(st: GuestState) -> None:
    cgroup = guest_cgroup(st.name)
    if cgroup is not None and (cgroup / "cgroup.kill").exists():
        # Also catches anything that left the process tree (double-forked daemons).
        with contextlib.suppress(OSError):
            (cgroup / "cgroup.kill").write_text("1")
    for pid in [*_descendants(st.pid)[::-1], st.pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    kill_deadline = time.monotonic() + 10
    while alive(st.pid, st.starttime) and time.monotonic() < kill_deadline:
        time.sleep(0.1)


def _reap(pid: int) -> None:
    """Collect nspawn's exit status if this process started it (API use: up then down
    in one pytest session); a zombie would keep its cgroup from being removed."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def _descendants(pid: int) -> list[int]:
    """All descendants, parents before children."""
    found: list[int] = []
    queue = [pid]
    while queue:
        for child, _ in children(queue.pop(0)):
            found.append(child)
            queue.append(child)
    return found


def teardown(guest: paths.GuestLayout) -> None:
    """Unmount the overlay and forget the upper layer, so the next boot starts clean."""
    cgroup = guest_cgroup(guest.name)
    if (
        cgroup is not None
        and (cgroup / "cgroup.kill").exists()
        and "populated 1" in read_or_empty(cgroup / "cgroup.events")
    ):
        # Its nspawn is gone (killed) but processes of the guest are left, and they
        # keep the overlay busy: the caller has already found the guest down.
        with contextlib.suppress(OSError):
            (cgroup / "cgroup.kill").write_text("1")
    if is_mountpoint(guest.merged):
        for attempt in range(20):
            result = run(["umount", str(guest.merged)], timeout=30)
            if result.returncode == 0:
                break
            if attempt == 19:
                # Still busy (a process of ours cwd'd there?): detach it anyway.
                run(["umount", "--lazy", str(guest.merged)], timeout=30)
            time.sleep(0.25)
    for directory in (guest.upper, guest.work):
        remove_tree(directory)
    if cgroup is not None:
        remove_cgroup(cgroup)
    guest.state.unlink(missing_ok=True)
