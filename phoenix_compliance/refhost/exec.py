"""Running a command inside a guest: nsenter into its systemd, as root or as a user with the
environment of an ssh login, from within the guest's own cgroup tree."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import IO

from . import paths
from ._util import RefhostError, require_root, run
from .guest_state import GuestState, guest_cgroup, guest_systemd, state, up_hint

HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


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
    cgroup = guest_cgroup(st.name)
    scope = None if cgroup is None else cgroup / "payload" / "init.scope"
    return run(
        guest_argv(st, argv, user),
        timeout=timeout,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cgroup=scope if scope is not None and scope.is_dir() else None,
    )


def running(name: str, task: str) -> GuestState:
    """The state of a guest that is up, for a task that needs root (named in the refusal)."""
    require_root(task)
    st = state(name)
    if st is None:
        raise RefhostError(f"{name} is down; run `{up_hint(name)}` first")
    return st


def run_in_guest(
    argv: list[str],
    user: str | None = None,
    timeout: float = 60,
    name: str = paths.DEFAULT_GUEST,
) -> subprocess.CompletedProcess[str]:
    """Run argv inside the guest (as root, or as user) and capture its output."""
    return guest_run(running(name, "running a command in the guest"), argv, user, timeout=timeout)


# A staging step's shell command in a guest (refhost/stage_upgrade.py, stage_plan.py).
SHELL_TIMEOUT = 120


def checked(result: subprocess.CompletedProcess[str], what: str) -> subprocess.CompletedProcess[str]:
    """The result of a step that succeeded; else RefhostError naming it with its last output lines."""
    if result.returncode != 0:
        text = ((result.stderr or "") + (result.stdout or "")).strip().splitlines()[-5:]
        raise RefhostError(f"{what} failed (exit {result.returncode}): {' | '.join(text) or 'no output'}")
    return result


def guest_shell(
    st: GuestState, script: str, what: str, user: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """A shell script run in the guest as root (or as user), bounded; checked unless check=False."""
    result = guest_run(st, ["sh", "-c", script], user, timeout=SHELL_TIMEOUT)
    return checked(result, what) if check else result


def staged(name: str) -> GuestState:
    """The state of a guest a staging step changes (refhost/stage_upgrade.py, stage_plan.py)."""
    return running(name, "staging a guest")


def user_shell(st: GuestState, script: str, what: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """guest_shell as the guest's rootless user."""
    return guest_shell(st, script, what, user=paths.USER, check=check)
