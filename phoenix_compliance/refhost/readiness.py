"""When a booting guest can serve the suite: its systemd, the user's manager, sshd answering (through
the ProxyCommand for a private-network guest), and the user's podman socket; a whole fleet polled
in turns by one thread."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from . import paths
from ._util import RefhostError, alive, proc_stat, run, tail
from .exec import guest_run
from .guest_state import POLL, GuestState, guest_layout, guest_systemd
from .ssh_config import proxy_argv


def port_taken(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def ssh_banner(port: int, timeout: float) -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            banner = conn.recv(64).decode(errors="replace")
    except OSError:
        return None
    return banner if banner.startswith("SSH-") else None


def proxied_banner(st: GuestState, timeout: float) -> str | None:
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
            banner = proxied_banner(st, min(left, 5)) if st.private else ssh_banner(st.port, min(left, 2))
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


def wait_ready(states: list[GuestState], deadline: float, timeout: float) -> None:
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
                readiness.st.save(guest_layout(readiness.st.name).state)
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
