"""Booting guests: systemd-nspawn over a fresh overlay of the release's cached base, one guest on
the machine's network or a fleet with a network namespace each, all or nothing; freezing one.

Each ``up`` mounts a fresh, empty upper layer over the read-only base, so every boot
starts from the clean provisioned tree and drifts applied by selftests never reach
the cache. The default guest shares the machine's network namespace (its sshd
listens on 127.0.0.1:PORT); fleet guests (``up_fleet``) have a namespace each, holding
only loopback, and are reached by ssh through a ProxyCommand that enters it
(ssh_config). Commands run inside a guest through nsenter into its systemd (exec).
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from pathlib import Path

from . import paths
from ._util import (
    RefhostError,
    acquire_all,
    is_mountpoint,
    locked,
    proc_stat,
    require_root,
    run,
    say,
)
from .exec import HOST_PATH
from .guest_state import (
    NETWORK_HOST,
    NETWORK_PRIVATE,
    POLL,
    GuestState,
    guest_cgroup,
    guest_layout,
    guest_order,
    guests_text,
    state,
)
from .readiness import port_taken, ssh_banner, wait_ready
from .rootfs import build as build_base
from .rootfs import release
from .ssh_config import reach
from .teardown import stop_all, teardown

SSHD_DROP_IN = "etc/ssh/sshd_config.d/50-phoenix-refhost.conf"
# The rootless user's container storage, relative to the guest's root.
CONTAINER_STORAGE = Path("home", paths.USER, ".local", "share", "containers")


def up(
    name: str | None = None,
    *,
    timeout: float = 120,
    port: int | None = None,
    release_name: str = paths.DEFAULT_RELEASE,
    private: bool = False,
) -> GuestState:
    """Boot the guest from the release's base and return once it is ready; if it is already
    up, return its state. Without a name, the release's own guest (refhost for trixie) on
    its own port, so every release can be up at once. private: a network namespace of its
    own even for a release whose guests share the machine's (its published ports then clash
    with no other guest's), as every guest of a release that needs one has."""
    require_root("up")
    chosen = release(release_name)
    name = chosen.guest if name is None else name
    guest = guest_layout(name)
    with locked(guest.lock):
        current = state(name)
        if current is not None:
            if current.release != chosen.name:
                raise RefhostError(
                    f"{name} is up with {current.release}, not {chosen.name}; "
                    f"run `{paths.PROG} down --name {name}` first"
                )
            say(f"{name} is already up (pid {current.pid}, {reach(current)})")
            return current
        base = build_base(release_name=chosen.name)
        if chosen.private_network or private:
            if port is not None:
                raise RefhostError(f"guests with a network of their own have sshd on port {paths.FLEET_SSH_PORT} there")
            network, port = NETWORK_PRIVATE, paths.FLEET_SSH_PORT
        else:
            network, port = NETWORK_HOST, paths.DEFAULT_SSH_PORT if port is None else port
            _claim_port(guest, port)
        started = time.monotonic()
        st = _boot(guest, base, port, network, chosen.name)
        say(f"booting {name} (systemd-nspawn pid {st.pid}, log {guest.log})")
        try:
            wait_ready([st], started + timeout, timeout)
        except RefhostError as exc:
            _abandon([st])
            raise RefhostError(f"{exc}\nThe guest was stopped again.") from None
        except BaseException:
            _abandon([st])
            raise
        say(f"{name} is up in {time.monotonic() - started:.1f} s (pid {st.pid}, {reach(st)})")
        return st


def _claim_port(guest: paths.GuestLayout, port: int) -> None:
    """Make sure the machine's port is free for a guest on the machine's network."""
    if guest.state.exists() or is_mountpoint(guest.merged):
        # Killed without `down` (a CI run ends every process of the session it follows,
        # but the guest's own processes live in a cgroup of their own): its sshd may
        # still hold the port. Clear what it left before judging the port.
        say(f"{guest.name} was stopped without `down`; removing what it left (processes, overlay)")
        teardown(guest)
        released = time.monotonic() + 10
        while port_taken(port) and time.monotonic() < released:
            time.sleep(POLL)
    if ssh_banner(port, 1.0) is not None or port_taken(port):
        raise RefhostError(
            f"127.0.0.1:{port} is already in use on this machine; the guest shares "
            f"its network, so pick another port (up --port)"
        )


def fleet_names(count: int, prefix: str = paths.FLEET_PREFIX) -> list[str]:
    if count < 1:
        raise RefhostError(f"a fleet needs at least one guest, not {count}")
    names = [f"{prefix}-{number}" for number in range(1, count + 1)]
    for name in names:
        guest_layout(name)  # rejects a prefix that makes no valid guest name
    if paths.DEFAULT_GUEST in names:
        raise RefhostError(f"{paths.DEFAULT_GUEST} shares the machine's network; it cannot be a fleet guest")
    return names


def up_fleet(
    count: int,
    prefix: str = paths.FLEET_PREFIX,
    *,
    timeout: float = 120,
    release_name: str = paths.DEFAULT_RELEASE,
) -> list[GuestState]:
    """Boot PREFIX-1 ... PREFIX-count, each in its own network namespace, and return once
    every one is ready; guests already up are kept. All or nothing: if one fails, the
    guests this call booted are stopped again and the error names the one that failed.

    The boots run at once (each nspawn is its own process tree); the readiness checks
    take turns in this one thread, which keeps subprocesses and cgroup moves out of
    threads.
    """
    require_root("up")
    chosen = release(release_name)
    names = fleet_names(count, prefix)
    guests = [guest_layout(name) for name in names]
    base = build_base(release_name=chosen.name)
    raise_shared_limits(names)
    # The locks are taken in one order everywhere (acquire_all sorts), so a fleet up
    # and a `down --all` never hold one each of what the other waits for.
    with acquire_all([g.lock for g in guests]):
        ready: dict[str, GuestState] = {}
        booted: list[GuestState] = []
        started = time.monotonic()
        try:
            for guest in guests:
                current = state(guest.name)
                if current is not None and not current.private:
                    raise RefhostError(
                        f"{guest.name} is up on the machine's own network (`{paths.PROG} up --name`); "
                        f"run `{paths.PROG} down --name {guest.name}` first"
                    )
                if current is not None and current.release != chosen.name:
                    raise RefhostError(
                        f"{guest.name} is up with {current.release}, not {chosen.name}; "
                        f"run `{paths.PROG} down --name {guest.name}` first"
                    )
                if current is not None:
                    ready[guest.name] = current
                    continue
                booted.append(_boot(guest, base, paths.FLEET_SSH_PORT, NETWORK_PRIVATE, chosen.name))
            if ready:
                say(f"already up: {', '.join(sorted(ready, key=guest_order))}")
            if booted:
                say(f"booting {', '.join(st.name for st in booted)} (logs in {paths.layout().root})")
            wait_ready(booted, started + timeout, timeout)
        except RefhostError as exc:
            _abandon(booted)
            raise RefhostError(f"{exc}. The guests this command booted were stopped again.") from None
        except BaseException:
            _abandon(booted)
            raise
        ready.update((st.name, st) for st in booted)
        say(f"{guests_text(len(names))} up in {time.monotonic() - started:.1f} s ({len(booted)} booted now)")
        return [ready[name] for name in names]


# Kernel limits every guest draws on together: the guests' processes all run as the machine's
# root (no user namespace), so each guest's systemd, user manager, journald, logind and dbus
# take inotify instances from root's one allowance (128 by default: the 27th guest failed to
# boot), and watches from its one pool. Raised, never lowered, before a fleet boots: per guest
# 16 instances (about 10 seen in use per guest with its stack) and 8,192 watches, above a floor
# for the machine's own programs.
SHARED_LIMITS = {
    "fs.inotify.max_user_instances": (256, 16),
    "fs.inotify.max_user_watches": (65536, 8192),
}


def raise_shared_limits(names: list[str]) -> list[str]:
    """Raise the machine's shared kernel limits for these guests besides every other guest
    (up or not, each has a folder); return what changed."""
    changed = []
    folder = paths.layout().guests
    others = {entry.name for entry in os.scandir(folder) if entry.is_dir()} if folder.is_dir() else set()
    count = len(set(names) | others)
    for key, (floor, per_guest) in SHARED_LIMITS.items():
        path = Path("/proc/sys") / key.replace(".", "/")
        try:
            current = int(path.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        wanted = floor + per_guest * count
        if current >= wanted:
            continue
        try:
            path.write_text(f"{wanted}\n")
        except OSError as exc:
            raise RefhostError(
                f"{count} guests need {key} >= {wanted} (it is {current}) and it cannot be raised: {exc}; "
                f"as root: sysctl -w {key}={wanted}"
            ) from None
        changed.append(f"{key} {current} -> {wanted}")
    if changed:
        say(f"raised for {count} guests (shared by every guest): {', '.join(changed)}")
    return changed


def _abandon(booted: list[GuestState]) -> None:
    """Stop and clean up guests of a failed fleet boot; a second failure must not hide the first."""
    with contextlib.suppress(RefhostError, OSError):
        stop_all(booted, 10)
    for st in booted:
        with contextlib.suppress(RefhostError, OSError):
            teardown(guest_layout(st.name))


def _boot(guest: paths.GuestLayout, base: Path, port: int, network: str, release_name: str) -> GuestState:
    """Mount a fresh overlay for the guest and start systemd-nspawn on it; the caller
    holds the guest's lock and waits for readiness."""
    teardown(guest)  # whatever a crashed earlier boot left behind
    for directory in (guest.upper, guest.work, guest.merged):
        # merged survives a teardown as an empty mount point; upper and work do not.
        directory.mkdir(parents=True, exist_ok=directory == guest.merged)
    mounted = run(
        ["mount", "-t", "overlay", "overlay", "-o",
         f"lowerdir={base},upperdir={guest.upper},workdir={guest.work}",
         str(guest.merged)],
        timeout=30,
    )  # fmt: skip
    if mounted.returncode != 0:
        raise RefhostError(f"{guest.name}: cannot mount the overlay: {mounted.stderr.strip()}")
    _set_ssh_port(guest.merged, port)
    _prepare_storage(guest.merged)
    st = _spawn(guest, port, network, release_name)
    st.save(guest.state)
    return st


def _set_ssh_port(root: Path, port: int) -> None:
    """Give this guest's sshd its own port; the write lands in the guest's upper layer."""
    drop_in = root / SSHD_DROP_IN
    text = re.sub(r"(?m)^Port .*$", f"Port {port}", drop_in.read_text())
    drop_in.write_text(text)


def _prepare_storage(root: Path) -> None:
    """Create the mount point of the user's container storage, owned by the user.

    nspawn would create missing parents of a --tmpfs mount point as root, and a
    root-owned ~/.local/share breaks the user's programs; the writes land in the
    guest's upper layer.
    """
    path = root
    for part in CONTAINER_STORAGE.parts:
        path = path / part
        if not path.exists():
            path.mkdir(mode=0o700)
            os.chown(path, paths.UID, paths.UID)


def _spawn(guest: paths.GuestLayout, port: int, network: str, release_name: str) -> GuestState:
    env = {
        "PATH": HOST_PATH,
        # A pure cgroup v2 tree for the guest on this hybrid machine.
        "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1",
    }
    argv = [
        "systemd-nspawn",
        "--register=no",  # no systemd-machined on this machine
        "--keep-unit",  # no systemd as PID 1 to create a scope unit
        f"--machine={guest.name}",  # also the guest's hostname
        "-D", str(guest.merged),
        "-b",
        "--console=read-only",
        # The guest's root is an overlay, where rootless Podman cannot use native
        # overlay and falls back to fuse-overlayfs, and the guest has no /dev/fuse:
        # every container failed to mount. On a tmpfs (user xattrs) native overlay
        # works, and the storage is dropped at down like the rest of the guest.
        f"--tmpfs=/{CONTAINER_STORAGE}:mode=0700,uid={paths.UID},gid={paths.UID}",
    ]  # fmt: skip
    if network == NETWORK_PRIVATE:
        # Its own network namespace, loopback only: nothing it opens clashes with
        # another guest or reaches beyond it. nspawn then makes /proc/sys/net (all
        # netavark writes) writable on its own, so the rest of /proc/sys can stay
        # read-only and the guest cannot change the machine's kernel settings.
        argv.append("--private-network")
    else:
        # A writable /proc/sys: netavark (podman-compose networks) sets sysctls.
        env["SYSTEMD_NSPAWN_API_VFS_WRITABLE"] = "1"
    cgroup = guest_cgroup(guest.name)
    if cgroup is not None:
        cgroup.mkdir(exist_ok=True)
    procs = None if cgroup is None else str(cgroup / "cgroup.procs")

    def enter_cgroup() -> None:
        # With --keep-unit, nspawn splits the cgroup it starts in into supervisor/ and
        # payload/; started from the machine's root cgroup, two guests would share them.
        if procs is not None:
            with open(procs, "w") as handle:
                handle.write("0")

    with open(guest.log, "w") as log:
        try:
            proc = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: the guest outlives this command and its terminal.
                start_new_session=True,
                preexec_fn=enter_cgroup,
            )
        except FileNotFoundError as exc:
            raise RefhostError("systemd-nspawn not found; apt-get install systemd-container") from exc
    stat = proc_stat(proc.pid)
    return GuestState(
        name=guest.name,
        pid=proc.pid,
        starttime=stat[3] if stat else 0,
        port=port,
        root=str(guest.merged),
        log=str(guest.log),
        started_at=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        network=network,
        release=release_name,
    )


def freeze(name: str, frozen: bool = True) -> None:
    """Freeze (or thaw) every process of a guest: a host that accepts connections and
    then never answers, the way a hung machine does. For tests of hanging hosts."""
    require_root("freezing a guest")
    cgroup = guest_cgroup(name)
    if cgroup is None or not (cgroup / "cgroup.freeze").exists():
        raise RefhostError(f"{name} has no cgroup to freeze (is it up?)")
    (cgroup / "cgroup.freeze").write_text("1" if frozen else "0")
