"""The plan's proof on reference guests (issue 28): take a guest back to a host the migration has
not reached yet, hand it a script the way an operator would, and record what the script may
change, so that a second run can be shown to change nothing.

Unmigrated, as the guide finds a host before its Podman steps:

- the stand-in stack down (``deploy none``: no stack container, no Quadlet unit, no target);
  the project folder and the stand-in image stay, as a host's images and checkout would;
- the user's podman.socket disabled and stopped;
- no Quadlet folder (~/.config/containers/systemd);
- no linger for the user (``loginctl disable-linger``): logind stops the user's manager once no
  session holds it (UserStopDelaySec, 10 s by default).

The user is given sudo (NOPASSWD: the reference user has no password), as the operator who runs a
plan's root steps has. ``hand_over`` copies a script into the user's home as scp would;
``run_script`` runs it there as the user with a login's environment.

``snapshot`` reads what a plan's steps touch: the linger file, podman.socket's enablement and
state, every file under the Quadlet folder and the user's unit folder with its digest and mtime,
and the stack's units (enabled, active, and the invocation id systemd gives each start, so a
restart shows even when the state reads the same).
"""

from __future__ import annotations

import base64
import shlex
import subprocess
from dataclasses import dataclass

from . import paths
from ._util import RefhostError
from .deploy import QUADLET_DIR, USER_UNIT_DIR, deploy, load_stack
from .exec import guest_run, guest_shell, staged, user_shell

HOME = f"/home/{paths.USER}"
LINGER_FILE = f"/var/lib/systemd/linger/{paths.USER}"
SOCKET = "podman.socket"
# Where a script handed to the guest is put: the operator's home, as a copied file would be.
SCRIPT_DIR = f"{HOME}/plans"
# The operator may use sudo, as the plan's root steps expect; the reference guest's user has no
# password, so the rule says NOPASSWD.
SUDOERS = "/etc/sudoers.d/50-phoenix-operator"
SUDOERS_TEXT = f"{paths.USER} ALL=(ALL) NOPASSWD: ALL\n"


def unmigrate(name: str) -> None:
    """Take the guest back to a host the migration has not reached (the module's docstring)."""
    st = staged(name)
    deploy("none", name)
    user_shell(
        st,
        f"systemctl --user disable --now {SOCKET} && rm -rf -- {HOME}/{QUADLET_DIR} && systemctl --user daemon-reload",
        f"disabling {SOCKET} and removing the Quadlet folder in {name}",
    )
    # Without linger, logind stops the user's manager once no session holds it.
    guest_shell(st, f"loginctl disable-linger {paths.USER} && rm -f {LINGER_FILE}", f"disabling linger in {name}")
    guest_shell(st, f"printf %s {shlex.quote(SUDOERS_TEXT)} > {SUDOERS} && chmod 0440 {SUDOERS}", "the operator's sudo")


def hand_over(name: str, filename: str, text: str) -> str:
    """Copy a script into the user's home in the guest (as scp would); return its path there."""
    st = staged(name)
    if "/" in filename:
        raise RefhostError(f"a file name, not a path: {filename!r}")
    where = f"{SCRIPT_DIR}/{filename}"
    encoded = base64.b64encode(text.encode()).decode()
    user_shell(
        st,
        f"mkdir -p {SCRIPT_DIR} && printf %s {encoded} | base64 -d > {where} && chmod 0755 {where}",
        f"copying {filename} into {name}",
    )
    return where


def run_script(
    name: str, path: str, *, user: str | None = paths.USER, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run a script handed over to the guest, as the user (default) or as root (user=None),
    with the environment of a login; the caller judges its exit status."""
    st = staged(name)
    return guest_run(st, ["sh", path], user=user, timeout=timeout)


@dataclass(frozen=True)
class Snapshot:
    """What a plan's steps touch, read in the guest (the module's docstring)."""

    linger: str  # the linger file's mtime, or "absent"
    socket: str  # "enabled active", say
    files: tuple[str, ...]  # "PATH SHA256 MTIME" under the Quadlet folder and the user's unit folder
    units: tuple[str, ...]  # "UNIT enabled-state active-state invocation-id"

    def changes(self, after: Snapshot) -> list[str]:
        """What differs from after, one line each (empty: nothing changed)."""
        said = []
        for field in ("linger", "socket"):
            if getattr(self, field) != getattr(after, field):
                said.append(f"{field}: {getattr(self, field)} -> {getattr(after, field)}")
        for field in ("files", "units"):
            before, now = set(getattr(self, field)), set(getattr(after, field))
            said += [f"{field}: - {line}" for line in sorted(before - now)]
            said += [f"{field}: + {line}" for line in sorted(now - before)]
        return said


def snapshot(name: str) -> Snapshot:
    st = staged(name)
    linger = guest_shell(st, f"stat -c %Y {LINGER_FILE} 2>/dev/null || echo absent", "reading linger").stdout.strip()
    folders = " ".join(f"{HOME}/{folder}" for folder in (QUADLET_DIR, USER_UNIT_DIR))
    files = guest_shell(
        st,
        f"for f in $(find {folders} -type f -o -type l 2>/dev/null | sort); do "
        f'echo "$f $(sha256sum < "$f" | cut -c1-16) $(stat -c %Y "$f")"; done',
        "listing the unit folders",
    ).stdout.splitlines()
    stack = load_stack()
    units = [SOCKET, stack.target, *stack.generated]
    # Without linger and a session there is no user manager to ask: that is a state too.
    shown = user_shell(
        st,
        "systemctl --user show --property=Id,UnitFileState,ActiveState,InvocationID -- "
        + " ".join(shlex.quote(unit) for unit in units),
        "systemctl --user show",
        check=False,
    )
    records = [_record(block) for block in shown.stdout.strip().split("\n\n")] if shown.returncode == 0 else []
    unit_lines = tuple(sorted(records)) if records else ("no user manager",)
    socket = next((line for line in unit_lines if line.startswith(f"{SOCKET} ")), "no user manager")
    return Snapshot(linger, socket.partition(" ")[2] or socket, tuple(files), unit_lines)


def _record(block: str) -> str:
    values = dict(line.partition("=")[::2] for line in block.splitlines() if "=" in line)
    return " ".join(values.get(key, "") or "-" for key in ("Id", "UnitFileState", "ActiveState", "InvocationID"))
