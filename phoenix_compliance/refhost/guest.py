"""Boot, reach and stop a guest: systemd-nspawn over an overlay of the cached base.

Each ``up`` mounts a fresh, empty upper layer over the read-only base, so every boot
starts from the clean provisioned tree and drifts applied by selftests never reach
the cache. The guest shares the machine's network namespace (its sshd listens on
127.0.0.1:PORT), and commands run inside it through nsenter into its systemd.
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from . import paths
from ._util import (
    RefhostError,
    alive,
    cgroup2_root,
    children,
    is_mountpoint,
    locked,
    proc_stat,
    remove_cgroup,
    remove_tree,
    require_root,
    run,
    say,
    tail,
)
from .rootfs import build as build_base

SSHD_DROP_IN = "etc/ssh/sshd_config.d/50-phoenix-refhost.conf"
# The rootless user's container storage, relative to the guest's root.
CONTAINER_STORAGE = Path("home", paths.USER, ".local", "share", "containers")
HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
POLL = 0.5


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
    return f"{paths.PROG} up" if name == paths.DEFAULT_GUEST else f"{paths.PROG} --name {name} up"


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
    name: str = paths.DEFAULT_GUEST,
    *,
    timeout: float = 120,
    port: int | None = None,
) -> GuestState:
    """Boot the guest and return once it is ready; if it is already up, return its state."""
    require_root("up")
    guest = _guest(name)
    with locked(guest.lock):
        current = state(name)
        if current is not None:
            say(f"{name} is already up (pid {current.pid}, ssh 127.0.0.1:{current.port})")
            return current
        base = build_base()
        port = paths.DEFAULT_SSH_PORT if port is None else port
        if _ssh_banner(port, 1.0) is not None or _port_taken(port):
            raise RefhostError(
                f"127.0.0.1:{port} is already in use on this machine; the guest shares "
                f"its network, so pick another port (up --port)"
            )
        _teardown(guest)  # whatever a crashed earlier boot left behind
        started = time.monotonic()
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
            raise RefhostError(f"cannot mount the overlay: {mounted.stderr.strip()}")
        _set_ssh_port(guest.merged, port)
        _prepare_storage(guest.merged)
        st = _spawn(guest, port)
        st.save(guest.state)
        say(f"booting {name} (systemd-nspawn pid {st.pid}, log {guest.log})")
        try:
            _wait_ready(st, started + timeout, timeout)
        except BaseException:
            _stop(st, 10)
            _reap(st.pid)
            _teardown(guest)
            raise
        st.save(guest.state)
        say(f"{name} is up in {time.monotonic() - started:.1f} s (pid {st.pid}, ssh 127.0.0.1:{port})")
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


def _spawn(guest: paths.GuestLayout, port: int) -> GuestState:
    env = {
        "PATH": HOST_PATH,
        # A pure cgroup v2 tree for the guest on this hybrid machine.
        "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1",
        # A writable /proc/sys: netavark (podman-compose networks) sets sysctls.
        "SYSTEMD_NSPAWN_API_VFS_WRITABLE": "1",
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
    )


def _cgroup(name: str) -> Path | None:
    root = cgroup2_root()
    return None if root is None else root / f"{paths.PROG}-{name}"


def _wait_ready(st: GuestState, deadline: float, timeout: float) -> None:
    """Poll until the guest can serve the suite, or fail with what is still missing."""
    checks = [
        "guest systemd (child of systemd-nspawn)",
        f"user@{paths.UID}.service active",
        f"sshd answering on 127.0.0.1:{st.port}",
        f"podman.socket _ping as {paths.USER} printing OK",
    ]
    passed = 0
    while True:
        if not alive(st.pid, st.starttime):
            raise RefhostError(
                f"{st.name}: systemd-nspawn exited during boot, before: {checks[passed]}. "
                f"Last lines of {st.log}:\n{tail(Path(st.log))}"
            )
        left = max(deadline - time.monotonic(), 0.5)
        if passed == 0:
            sd = guest_systemd(st)
            if sd is not None:
                stat = proc_stat(sd)
                st.systemd_pid, st.systemd_starttime = sd, stat[3] if stat else None
                passed = 1
        if passed == 1:
            result = guest_run(
                st,
                ["systemctl", "is-active", f"user@{paths.UID}.service"],
                timeout=min(left, 10),
            )
            if result.stdout.strip() == "active":
                passed = 2
        if passed == 2 and _ssh_banner(st.port, min(left, 2)) is not None:
            passed = 3
        if passed == 3:
            result = guest_run(
                st,
                ["curl", "-s", "--max-time", "5", "--unix-socket",
                 f"/run/user/{paths.UID}/podman/podman.sock", "http://localhost/_ping"],
                user=paths.USER,
                timeout=min(left, 10),
            )  # fmt: skip
            if result.stdout.strip() == "OK":
                return
        if time.monotonic() >= deadline:
            raise RefhostError(
                f"{st.name} was not ready after {timeout:g} s: waited for "
                f"{'; '.join(checks)}; done: {passed} of {len(checks)}, stuck at: "
                f"{checks[passed]}. The guest was stopped again. Last lines of {st.log}:\n"
                f"{tail(Path(st.log))}"
            )
        time.sleep(POLL)


# --- down --------------------------------------------------------------------------


def down(name: str = paths.DEFAULT_GUEST, *, timeout: float = 30) -> bool:
    """Stop the guest and drop its upper layer; return whether it was up."""
    require_root("down")
    guest = _guest(name)
    with locked(guest.lock):
        st = state(name)
        if st is None:
            _teardown(guest)
            say(f"{name} is already down")
            return False
        started = time.monotonic()
        _stop(st, timeout)
        _reap(st.pid)
        _teardown(guest)
        say(f"{name} is down in {time.monotonic() - started:.1f} s")
        return True


def _stop(st: GuestState, timeout: float) -> None:
    """Power the guest off; past the bound, kill it (stop timeouts of running containers
    can hold a clean shutdown for minutes)."""
    deadline = time.monotonic() + timeout
    if guest_systemd(st) is not None:
        # The guest may be dying already; the wait below decides either way.
        with contextlib.suppress(RefhostError):
            guest_run(st, ["systemctl", "poweroff", "--no-block"], timeout=10)
    else:
        # No systemd to ask yet (a boot that just failed): nspawn turns SIGTERM into
        # an orderly shutdown signal for the guest's init.
        with contextlib.suppress(ProcessLookupError):
            os.kill(st.pid, signal.SIGTERM)
    while alive(st.pid, st.starttime) and time.monotonic() < deadline:
        time.sleep(POLL)
    if not alive(st.pid, st.starttime):
        return
    say(f"{st.name} did not power off in {timeout:g} s; killing systemd-nspawn and the guest")
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
    if alive(st.pid, st.starttime):
        raise RefhostError(f"systemd-nspawn pid {st.pid} survived SIGKILL; check {st.log}")


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
    cgroup = _cgroup(guest.name)
    if cgroup is not None:
        remove_cgroup(cgroup)
    guest.state.unlink(missing_ok=True)


# --- ssh ---------------------------------------------------------------------------


def ssh_config_text(name: str = paths.DEFAULT_GUEST) -> str:
    """An OpenSSH client config for testinfra's --ssh-config: `ssh://NAME` logs in as phoenix."""
    recorded = GuestState.load(_guest(name).state)
    port = recorded.port if recorded is not None else paths.DEFAULT_SSH_PORT
    key = paths.layout().key
    return (
        f"Host {name}\n"
        f"    HostName 127.0.0.1\n"
        f"    Port {port}\n"
        f"    User {paths.USER}\n"
        f"    IdentityFile {key}\n"
        f"    IdentitiesOnly yes\n"
        # Every boot may come from a rebuilt base; host keys are not worth pinning.
        f"    StrictHostKeyChecking no\n"
        f"    UserKnownHostsFile /dev/null\n"
        f"    LogLevel ERROR\n"
    )


def write_ssh_config(path: str | os.PathLike[str], name: str = paths.DEFAULT_GUEST) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(ssh_config_text(name))
    return target
