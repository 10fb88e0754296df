"""Boot, reach and stop a guest: systemd-nspawn over an overlay of the cached base.

Each ``up`` mounts a fresh, empty upper layer over the read-only base, so every boot
starts from the clean provisioned tree and drifts applied by selftests never reach
the cache. The default guest shares the machine's network namespace (its sshd
listens on 127.0.0.1:PORT); fleet guests (``up_fleet``) have a namespace each, holding
only loopback, and are reached by ssh through a ProxyCommand that enters it. Commands
run inside a guest through nsenter into its systemd.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from . import paths
from ._util import (
    RefhostError,
    acquire_all,
    alive,
    cgroup2_root,
    children,
    is_mountpoint,
    locked,
    proc_stat,
    read_or_empty,
    remove_cgroup,
    remove_tree,
    require_root,
    run,
    say,
    tail,
)
from .rootfs import build as build_base
from .rootfs import package_version, release

SSHD_DROP_IN = "etc/ssh/sshd_config.d/50-phoenix-refhost.conf"
# The rootless user's container storage, relative to the guest's root.
CONTAINER_STORAGE = Path("home", paths.USER, ".local", "share", "containers")
HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
POLL = 0.5

# How a guest is networked: "host" shares the machine's network namespace, "private"
# has its own (systemd-nspawn --private-network) and is reached through nsenter.
NETWORK_HOST = "host"
NETWORK_PRIVATE = "private"


@dataclass
class GuestState:
    """What state.json records about a booted guest."""

    name: str
    pid: int  # systemd-nspawn
    starttime: int  # of pid, in clock ticks: tells a recycled PID apart
    port: int
    root: str
    log: str
    started_at: str
    systemd_pid: int | None = None
    systemd_starttime: int | None = None
    # The defaults keep state.json files written before fleets and releases existed readable.
    network: str = NETWORK_HOST
    release: str = paths.DEFAULT_RELEASE

    @classmethod
    def load(cls, path: Path) -> GuestState | None:
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.rename(path)

    @property
    def running(self) -> bool:
        return alive(self.pid, self.starttime) and b"systemd-nspawn" in _cmdline(self.pid)

    @property
    def private(self) -> bool:
        return self.network == NETWORK_PRIVATE


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _guest(name: str) -> paths.GuestLayout:
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", name):
        # The name becomes a directory, a hostname and an ssh Host alias.
        raise RefhostError(f"invalid guest name {name!r}: use lowercase letters, digits and -")
    return paths.layout().guest(name)


def state(name: str = paths.DEFAULT_GUEST) -> GuestState | None:
    """The recorded state of a running guest, or None when it is down."""
    recorded = GuestState.load(_guest(name).state)
    return recorded if recorded is not None and recorded.running else None


def up_hint(name: str) -> str:
    """The command that boots this guest, for error messages."""
    if name == paths.DEFAULT_GUEST:
        return f"{paths.PROG} up"
    for known in paths.RELEASES.values():
        if name == known.guest:
            return f"{paths.PROG} up --release {known.name}"
    fleet = re.fullmatch(r"(.+)-(\d+)", name)
    if fleet:
        prefix = "" if fleet[1] == paths.FLEET_PREFIX else f" --prefix {fleet[1]}"
        return f"{paths.PROG} up --count {fleet[2]}{prefix}"
    return f"{paths.PROG} --name {name} up"


def is_up(name: str = paths.DEFAULT_GUEST) -> bool:
    return state(name) is not None


def guest_systemd(st: GuestState) -> int | None:
    """PID (on the machine) of the guest's systemd: the child of systemd-nspawn."""
    if st.systemd_pid is not None and alive(st.systemd_pid, st.systemd_starttime):
        return st.systemd_pid
    for pid, comm in children(st.pid):
        if comm == "systemd":
            return pid
    return None


# --- running commands inside ------------------------------------------------------


def _passwd_entry(systemd_pid: int, user: str) -> tuple[int, int, str]:
    """(uid, gid, home) of user, read from the guest's own /etc/passwd."""
    passwd = Path(f"/proc/{systemd_pid}/root/etc/passwd")
    for line in passwd.read_text().splitlines():
        fields = line.split(":")
        if len(fields) >= 7 and fields[0] == user:
            return int(fields[2]), int(fields[3]), fields[5]
    raise RefhostError(f"no user {user!r} in the guest")


def guest_argv(st: GuestState, argv: list[str], user: str | None = None) -> list[str]:
    """The machine-side command line that runs argv inside the guest.

    The environment is rebuilt from scratch: the caller's (a venv PATH, say) means
    nothing inside. For a user, the XDG/D-Bus variables are those pam_systemd would
    set on an ssh login, so `systemctl --user` and rootless podman find the user's
    manager; setpriv avoids PAM, which would try to open a session.
    """
    if not argv:
        raise RefhostError("no command given")
    sd = guest_systemd(st)
    if sd is None:
        raise RefhostError(f"{st.name}: guest systemd not found (still booting or stopping?)")
    env = ["LANG=C.UTF-8", f"PATH={HOST_PATH}", "SYSTEMD_PAGER=cat"]
    if "TERM" in os.environ:
        env.append(f"TERM={os.environ['TERM']}")
    prefix: list[str] = []
    if user is None or user == "root":
        home = "/root"
        env += ["HOME=/root", "USER=root", "LOGNAME=root"]
    else:
        uid, gid, home = _passwd_entry(sd, user)
        prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", "--"]
        env += [
            f"HOME={home}", f"USER={user}", f"LOGNAME={user}",
            f"XDG_RUNTIME_DIR=/run/user/{uid}",
            f"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/{uid}/bus",
        ]  # fmt: skip
    return ["nsenter", "-t", str(sd), "-a", "--", *prefix, "env", "-i", "-C", home, *env, *argv]


def guest_run(
    st: GuestState,
    argv: list[str],
    user: str | None = None,
    *,
    timeout: float,
    stdin: int | IO[str] | None = subprocess.DEVNULL,
    stdout: int | IO[str] | None = subprocess.PIPE,
    stderr: int | IO[str] | None = subprocess.PIPE,
) -> subprocess.CompletedProcess[str]:
    """Run argv inside the guest, from within the guest's own cgroup tree.

    nsenter does not change cgroups: a command left in the machine's cgroup sees
    a path like /../.. in /proc/self/cgroup, and logind then refuses it
    (`loginctl enable-linger`: "Protocol driver not attached"). The guest's
    init.scope is where a process started by its PID 1 would sit.
    """
    cgroup = _cgroup(st.name)
    scope = None if cgroup is None else cgroup / "payload" / "init.scope"
    return run(
        guest_argv(st, argv, user),
        timeout=timeout,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cgroup=scope if scope is not None and scope.is_dir() else None,
    )


def run_in_guest(
    argv: list[str],
    user: str | None = None,
    timeout: float = 60,
    name: str = paths.DEFAULT_GUEST,
) -> subprocess.CompletedProcess[str]:
    """Run argv inside the guest (as root, or as user) and capture its output."""
    require_root("running a command in the guest")
    st = state(name)
    if st is None:
        raise RefhostError(f"{name} is down; run `{up_hint(name)}` first")
    return guest_run(st, argv, user, timeout=timeout)


# --- up ----------------------------------------------------------------------------


def up(
    name: str | None = None,
    *,
    timeout: float = 120,
    port: int | None = None,
    release_name: str = paths.DEFAULT_RELEASE,
) -> GuestState:
    """Boot the guest from the release's base and return once it is ready; if it is already
    up, return its state. Without a name, the release's own guest (refhost for trixie) on
    its own port, so every release can be up at once."""
    require_root("up")
    chosen = release(release_name)
    name = chosen.guest if name is None else name
    guest = _guest(name)
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
        if chosen.private_network:
            if port is not None:
                raise RefhostError(
                    f"{chosen.name} guests have sshd on port {paths.FLEET_SSH_PORT} in their own network"
                )
            network, port = NETWORK_PRIVATE, paths.FLEET_SSH_PORT
        else:
            network, port = NETWORK_HOST, paths.DEFAULT_SSH_PORT if port is None else port
            _claim_port(guest, port)
        started = time.monotonic()
        st = _boot(guest, base, port, network, chosen.name)
        say(f"booting {name} (systemd-nspawn pid {st.pid}, log {guest.log})")
        try:
            _wait_ready([st], started + timeout, timeout)
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
        _teardown(guest)
        released = time.monotonic() + 10
        while _port_taken(port) and time.monotonic() < released:
            time.sleep(POLL)
    if _ssh_banner(port, 1.0) is not None or _port_taken(port):
        raise RefhostError(
            f"127.0.0.1:{port} is already in use on this machine; the guest shares "
            f"its network, so pick another port (up --port)"
        )


def fleet_names(count: int, prefix: str = paths.FLEET_PREFIX) -> list[str]:
    if count < 1:
        raise RefhostError(f"a fleet needs at least one guest, not {count}")
    names = [f"{prefix}-{number}" for number in range(1, count + 1)]
    for name in names:
        _guest(name)  # rejects a prefix that makes no valid guest name
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
    guests = [_guest(name) for name in names]
    base = build_base(release_name=chosen.name)
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
            _wait_ready(booted, started + timeout, timeout)
        except RefhostError as exc:
            _abandon(booted)
            raise RefhostError(f"{exc}. The guests this command booted were stopped again.") from None
        except BaseException:
            _abandon(booted)
            raise
        ready.update((st.name, st) for st in booted)
        say(f"{_guests(len(names))} up in {time.monotonic() - started:.1f} s ({len(booted)} booted now)")
        return [ready[name] for name in names]


def _guests(count: int) -> str:
    return f"{count} guest" if count == 1 else f"{count} guests"


def _abandon(booted: list[GuestState]) -> None:
    """Stop and clean up guests of a failed fleet boot; a second failure must not hide the first."""
    with contextlib.suppress(RefhostError, OSError):
        _stop_all(booted, 10)
    for st in booted:
        with contextlib.suppress(RefhostError, OSError):
            _teardown(_guest(st.name))


def _boot(guest: paths.GuestLayout, base: Path, port: int, network: str, release_name: str) -> GuestState:
    """Mount a fresh overlay for the guest and start systemd-nspawn on it; the caller
    holds the guest's lock and waits for readiness."""
    _teardown(guest)  # whatever a crashed earlier boot left behind
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


def _port_taken(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _ssh_banner(port: int, timeout: float) -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            banner = conn.recv(64).decode(errors="replace")
    except OSError:
        return None
    return banner if banner.startswith("SSH-") else None


def _proxied_banner(st: GuestState, timeout: float) -> str | None:
    """The sshd banner as ssh would get it: through the guest's ProxyCommand."""
    argv = proxy_argv(st)
    if argv is None:
        return None
    try:
        # socat sends the EOF of /dev/null on and waits half a second for the reply,
        # which sshd's banner, sent on accept, is.
        result = run(argv, timeout=timeout)
    except RefhostError:
        return None
    return result.stdout if result.stdout.startswith("SSH-") else None


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
    cgroup = _cgroup(guest.name)
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


def _cgroup(name: str) -> Path | None:
    root = cgroup2_root()
    return None if root is None else root / f"{paths.PROG}-{name}"


def freeze(name: str, frozen: bool = True) -> None:
    """Freeze (or thaw) every process of a guest: a host that accepts connections and
    then never answers, the way a hung machine does. For tests of hanging hosts."""
    require_root("freezing a guest")
    cgroup = _cgroup(name)
    if cgroup is None or not (cgroup / "cgroup.freeze").exists():
        raise RefhostError(f"{name} has no cgroup to freeze (is it up?)")
    (cgroup / "cgroup.freeze").write_text("1" if frozen else "0")


class _Readiness:
    """How far one booting guest is on the way to ready; step() moves it on by at most
    one check, so one thread can take turns over a whole fleet."""

    def __init__(self, st: GuestState) -> None:
        self.st = st
        where = " inside, through the ProxyCommand" if st.private else ""
        self.checks = [
            "guest systemd (child of systemd-nspawn)",
            f"user@{paths.UID}.service active",
            f"sshd answering on 127.0.0.1:{st.port}{where}",
            f"podman.socket _ping as {paths.USER} printing OK",
        ]
        self.passed = 0

    @property
    def ready(self) -> bool:
        return self.passed == len(self.checks)

    def step(self, deadline: float) -> None:
        st = self.st
        if not alive(st.pid, st.starttime):
            raise RefhostError(
                f"{st.name}: systemd-nspawn exited during boot, before: {self.checks[self.passed]}. "
                f"Last lines of {st.log}:\n{tail(Path(st.log))}"
            )
        left = max(deadline - time.monotonic(), 0.5)
        if self.passed == 0:
            sd = guest_systemd(st)
            if sd is not None:
                stat = proc_stat(sd)
                st.systemd_pid, st.systemd_starttime = sd, stat[3] if stat else None
                self.passed = 1
        elif self.passed == 1:
            if self._run(["systemctl", "is-active", f"user@{paths.UID}.service"], None, left) == "active":
                self.passed = 2
        elif self.passed == 2:
            banner = _proxied_banner(st, min(left, 5)) if st.private else _ssh_banner(st.port, min(left, 2))
            if banner is not None:
                self.passed = 3
        elif self.passed == 3:
            ping = ["curl", "-s", "--max-time", "5", "--unix-socket",
                    f"/run/user/{paths.UID}/podman/podman.sock", "http://localhost/_ping"]  # fmt: skip
            if self._run(ping, paths.USER, left) == "OK":
                self.passed = 4

    def _run(self, argv: list[str], user: str | None, left: float) -> str:
        """The command's stripped output; a command that hangs while eight guests boot
        on two cores is one more round to wait, not a failed boot."""
        try:
            return guest_run(self.st, argv, user, timeout=min(left, 10)).stdout.strip()
        except RefhostError:
            return ""

    def timed_out(self, timeout: float) -> str:
        return (
            f"{self.st.name} was not ready after {timeout:g} s: waited for "
            f"{'; '.join(self.checks)}; done: {self.passed} of {len(self.checks)}, stuck at: "
            f"{self.checks[self.passed]}. Last lines of {self.st.log}:\n{tail(Path(self.st.log))}"
        )


def _wait_ready(states: list[GuestState], deadline: float, timeout: float) -> None:
    """Poll until every guest can serve the suite; fail at the first guest that dies,
    or at the deadline naming every guest still not ready. Each ready guest's state
    (with its systemd's PID) is saved as soon as it is ready."""
    pending = [_Readiness(st) for st in states]
    while pending:
        for readiness in pending:
            # Several checks in a row while they pass: a ready guest costs no extra round.
            before = -1
            while not readiness.ready and readiness.passed != before:
                before = readiness.passed
                readiness.step(deadline)
            if readiness.ready:
                readiness.st.save(_guest(readiness.st.name).state)
        pending = [r for r in pending if not r.ready]
        if not pending:
            return
        if time.monotonic() >= deadline:
            if len(states) == 1:
                raise RefhostError(pending[0].timed_out(timeout))
            # A fleet's error stays short: where each guest is stuck, and its log.
            stuck = "; ".join(
                f"{r.st.name} at {r.checks[r.passed]} ({r.passed} of {len(r.checks)} checks passed, log {r.st.log})"
                for r in pending
            )
            raise RefhostError(f"not ready after {timeout:g} s: {stuck}")
        time.sleep(POLL)


# --- down --------------------------------------------------------------------------


def down(name: str = paths.DEFAULT_GUEST, *, timeout: float = 30) -> bool:
    """Stop the guest and drop its upper layer; return whether it was up."""
    require_root("down")
    guest = _guest(name)
    with locked(guest.lock):
        st = state(name)
        if st is None:
            left = guest.state.exists() or is_mountpoint(guest.merged)
            _teardown(guest)
            say(f"{name} was down; removed what it left (overlay, processes)" if left else f"{name} is already down")
            return False
        started = time.monotonic()
        _stop_all([st], timeout)
        _teardown(guest)
        say(f"{name} is down in {time.monotonic() - started:.1f} s")
        return True


def down_all(*, timeout: float = 30, prefix: str | None = None) -> list[str]:
    """Stop every guest (or only PREFIX-N ones) at once and drop their overlays, also of
    guests that died without a `down`; return the names of those that were up."""
    require_root("down")
    names = [n for n in _known_guests() if prefix is None or re.fullmatch(rf"{re.escape(prefix)}-\d+", n)]
    guests = [_guest(name) for name in names]
    with acquire_all([g.lock for g in guests]):
        running = [st for name in names if (st := state(name)) is not None]
        started = time.monotonic()
        _stop_all(running, timeout)
        for guest in guests:
            _teardown(guest)
    stopped = [st.name for st in running]
    if stopped:
        say(f"{_guests(len(stopped))} down in {time.monotonic() - started:.1f} s: {', '.join(stopped)}")
    else:
        say("no guest was up" + (f" named {prefix}-N" if prefix else ""))
    return stopped


def _known_guests() -> Iterator[str]:
    """Guests with something to clean up: a state file, a mounted overlay or an upper layer."""
    root = paths.layout().guests
    if not root.is_dir():
        return
    for entry in sorted(root.iterdir(), key=lambda p: guest_order(p.name)):
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", entry.name):
            continue
        guest = paths.layout().guest(entry.name)
        if guest.state.exists() or guest.upper.exists() or is_mountpoint(guest.merged):
            yield entry.name


def _stop_all(states: list[GuestState], timeout: float) -> None:
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
    cgroup = _cgroup(st.name)
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


def _teardown(guest: paths.GuestLayout) -> None:
    """Unmount the overlay and forget the upper layer, so the next boot starts clean."""
    cgroup = _cgroup(guest.name)
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


# --- listing -------------------------------------------------------------------------


def guest_order(name: str) -> tuple[int, str, int]:
    """The default guest first, then by name with fleet-2 before fleet-10."""
    stem, _, number = name.rpartition("-")
    if name == paths.DEFAULT_GUEST:
        return (0, "", 0)
    if stem and number.isdigit():
        return (1, stem, int(number))
    return (1, name, -1)


def list_guests() -> list[GuestState]:
    """Every guest with a state file, up or not (check ``.running``): a guest that was
    killed, or whose machine command died, still has one until `down` cleans it up."""
    root = paths.layout().guests
    found: list[GuestState] = []
    if root.is_dir():
        for entry in root.iterdir():
            recorded = GuestState.load(entry / "state.json")
            if recorded is not None and recorded.name == entry.name:
                found.append(recorded)
    return sorted(found, key=lambda st: guest_order(st.name))


def reach(st: GuestState) -> str:
    """How ssh gets to the guest, for status lines."""
    if not st.private:
        return f"ssh 127.0.0.1:{st.port}"
    command = proxy_command(st)
    if command is None:
        return f"own network namespace, sshd 127.0.0.1:{st.port} inside (guest systemd not found)"
    return f"own network namespace, ssh through: {command}"


def _upstream(version: str) -> str:
    """5.4.2 of Debian's 5.4.2+ds1-2+b2: the release Podman calls itself."""
    return re.split(r"[+~-]", version.split(":", 1)[-1], maxsplit=1)[0]


def describe(st: GuestState) -> str:
    """One status line, naming the guest's release and its Podman."""
    if st.running:
        podman = _upstream(package_version(st.release, "podman") or "unknown")
        return f"{st.name}: up ({st.release}, Podman {podman}, pid {st.pid}, {reach(st)})"
    return f"{st.name}: down (stopped without `down`; `{paths.PROG} down --name {st.name}` cleans up)"


# --- ssh ---------------------------------------------------------------------------


def proxy_argv(st: GuestState) -> list[str] | None:
    """The command that connects stdin/stdout to sshd inside a private-network guest:
    nsenter into the network namespace of its systemd (nspawn itself stays outside),
    socat to 127.0.0.1 there. None while the guest has no systemd."""
    sd = guest_systemd(st)
    if sd is None:
        return None
    return ["nsenter", f"--net=/proc/{sd}/ns/net", "socat", "-", f"TCP:127.0.0.1:{st.port}"]


def proxy_command(st: GuestState) -> str | None:
    argv = proxy_argv(st)
    return None if argv is None else " ".join(argv)


def _host_block(name: str, port: int, proxy: str | None = None, alias: str | None = None) -> str:
    key = paths.layout().key
    proxy_line = "" if proxy is None else f"    ProxyCommand {proxy}\n"
    return (
        f"Host {alias or name}\n"
        f"    HostName 127.0.0.1\n"
        f"    Port {port}\n"
        f"{proxy_line}"
        f"    User {paths.USER}\n"
        f"    IdentityFile {key}\n"
        f"    IdentitiesOnly yes\n"
        # Every boot may come from a rebuilt base; host keys are not worth pinning.
        f"    StrictHostKeyChecking no\n"
        f"    UserKnownHostsFile /dev/null\n"
        f"    LogLevel ERROR\n"
        # One connection per host and run, as testinfra's own ControlMaster default means
        # to: each probe after the first then costs a channel, not a handshake. The guest's
        # name is in the path because %C alone cannot tell fleet guests apart: they all
        # are phoenix@127.0.0.1:22 behind their ProxyCommand.
        f"    ControlMaster auto\n"
        f"    ControlPath /tmp/phx-ssh-{name}-%C\n"
        f"    ControlPersist 30s\n"
    )


def ssh_config_text(name: str = paths.DEFAULT_GUEST, alias: str | None = None) -> str:
    """An OpenSSH client config for testinfra's --ssh-config: `ssh://NAME` logs in as phoenix
    (`ssh://ALIAS` with an alias, so one run's host ids can name guests of every release alike).

    The default guest's entry is written even while it is down (it only names a port);
    a private-network guest's names the PID of its running systemd.
    """
    recorded = GuestState.load(_guest(name).state)
    if recorded is None and name != paths.DEFAULT_GUEST:
        # Only the default guest's port is known before it boots.
        raise RefhostError(f"{name} is down; run `{up_hint(name)}` first")
    if recorded is not None and recorded.private:
        proxy = proxy_command(recorded) if recorded.running else None
        if proxy is None:
            raise RefhostError(f"{name} is down; run `{up_hint(name)}` first")
        return _host_block(name, recorded.port, proxy, alias)
    port = recorded.port if recorded is not None else paths.DEFAULT_SSH_PORT
    return _host_block(name, port, alias=alias)


def ssh_config_all() -> str:
    """Entries for the default guest (as ssh_config_text writes it) and every other guest
    that is up; a guest that is down gets a comment, so ssh://NAME fails to resolve."""
    blocks = [ssh_config_text(paths.DEFAULT_GUEST)]
    for st in list_guests():
        if st.name == paths.DEFAULT_GUEST:
            continue
        proxy = proxy_command(st) if st.running and st.private else None
        if not st.running:
            blocks.append(f"# {st.name}: down (stopped without `{paths.PROG} down`)\n")
        elif st.private and proxy is None:
            blocks.append(f"# {st.name}: up, but its systemd was not found (booting or stopping)\n")
        else:
            blocks.append(_host_block(st.name, st.port, proxy))
    return "\n".join(blocks)


def write_ssh_config(
    path: str | os.PathLike[str], name: str | None = paths.DEFAULT_GUEST, alias: str | None = None
) -> Path:
    """Write the entry of one guest (named ALIAS if given), or with name None of every guest
    (ssh_config_all)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(ssh_config_all() if name is None else ssh_config_text(name, alias))
    return target
