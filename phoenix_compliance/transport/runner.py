"""Running probe scripts on a checked host: one bounded command per fact group.

Checks never run commands themselves; they read HostFacts, which runs each
probe once per host and run. A script's sections come back in the wire format
of resources/probe_common.sh (prepended to every script). Every command is
bounded twice: timeout(1) on the host ends the probed program, and a wait
bound here ends our wait when the transport itself hangs (a frozen host keeps
its connection open and never answers). The command then runs on in a daemon
thread that never holds up the process's exit, and the host is unreachable for
the rest of the run: no later probe waits for it again.
"""

from __future__ import annotations

import base64
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, Protocol


class HostUnreachable(Exception):
    """The host could not be reached at all; every check of it is moot."""

    def __init__(self, host_id: str, reason: str) -> None:
        super().__init__(f"{host_id} unreachable: {reason}")
        self.host_id = host_id
        self.reason = reason


class _CommandResult(Protocol):
    rc: int
    stdout: str
    stderr: str


class _Host(Protocol):
    backend: Any

    def run(self, command: str, *args: str, **kwargs: Any) -> _CommandResult: ...


@dataclass(frozen=True)
class Section:
    """One probed program's outcome."""

    name: str
    rc: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def timed_out(self) -> bool:
        return self.rc == 124

    def describe_failure(self) -> str:
        if self.timed_out:
            return "timed out"
        if self.rc == 127:
            return "command not found"
        message = (self.err or self.out).strip().splitlines()
        return f"exit {self.rc}: {message[-1] if message else 'no output'}"


def prelude() -> str:
    """The shared start of every probe script: the section marker and ~ expansion."""
    return resources.files("phoenix_compliance.transport").joinpath("resources/probe_common.sh").read_text("utf-8")


def parse_sections(stdout: str) -> dict[str, Section]:
    """The sections a probe script printed: `@@PHX name rc base64(out) base64(err)`, or
    `@@PHT name rc out` for a one-line printable output with no error (probe_common.sh)."""
    sections: dict[str, Section] = {}
    for line in stdout.split("\n"):
        # A plain output holds no carriage return of its own: one here is the line's end.
        line = line.removesuffix("\r")
        if line.startswith("@@PHT "):
            fields = line.split(" ", 3)
            if len(fields) == 4 and fields[2].isdigit():
                _, name, rc, out = fields
                sections[name] = Section(name=name, rc=int(rc), out=out, err="")
            continue
        fields = line.split(" ")
        if len(fields) != 5 or fields[0] != "@@PHX":
            continue
        _, name, rc, out, err = fields
        sections[name] = Section(
            name=name,
            rc=int(rc),
            out=base64.b64decode(out).decode("utf-8", "replace"),
            err=base64.b64decode(err).decode("utf-8", "replace"),
        )
    return sections


class HostRunner:
    """Runs probe scripts on one testinfra host, as the checked account."""

    def __init__(self, host: _Host, host_id: str, podman_user: str | None, timeout: float) -> None:
        self.host = host
        self.host_id = host_id
        self.podman_user = podman_user
        self.timeout = timeout
        self.commands_run = 0
        self.unreachable: HostUnreachable | None = None
        # Called once before the first command: None, or why the host cannot be reached.
        self.connect: Callable[[], str | None] | None = None

    def _as_podman_user(self, command: str) -> str:
        if not self.podman_user:
            return command
        user = shlex.quote(self.podman_user)
        inner = shlex.quote(command)
        # An administrator may connect as root or a sudoer and check a service account.
        return (
            f'if [ "$(id -un)" = {user} ]; then sh -c {inner}; '
            f'elif [ "$(id -u)" = 0 ]; then runuser -u {user} -- sh -c {inner}; '
            f"else sudo -n -u {user} -- sh -c {inner}; fi"
        )

    def run_script(self, name: str, body: str, env: dict[str, str]) -> dict[str, Section]:
        """Run the probe script `name` (its `body`, after the prelude) once; return its sections by name."""
        assignments = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
        return self._run(name, f"{assignments} sh -c {shlex.quote(prelude() + body)}")

    def run_scripts(self, name: str, scripts: list[tuple[str, dict[str, str]]]) -> dict[str, Section]:
        """Run several probe scripts (body, env) as ONE command, each in a subshell of its own
        with its own variables, after one prelude; return the sections of all by name (the
        scripts declare distinct names: facts/probes holds them so)."""
        if len(scripts) == 1:
            return self.run_script(name, *scripts[0])
        parts = [prelude()]
        for body, env in scripts:
            exports = "".join(f"{key}={shlex.quote(value)}; export {key}\n" for key, value in env.items())
            parts.append(f"(\n{exports}{body}\n)\n")
        return self._run(name, f"sh -c {shlex.quote(''.join(parts))}")

    def _run(self, name: str, script_command: str) -> dict[str, Section]:
        per_program = max(1, int(self.timeout / 2))
        command = self._as_podman_user(f"PHX_TIMEOUT={per_program} {script_command}")
        if self.unreachable is not None:
            raise HostUnreachable(self.host_id, self.unreachable.reason)
        # Counted as sent even when the connection before it fails: the host was tried once.
        self.commands_run += 1
        if self.connect is not None:
            # The transport's own connection, opened before the first command (transport/reach.py).
            refused, self.connect = self.connect(), None
            if refused is not None:
                self.unreachable = HostUnreachable(self.host_id, refused)
                raise self.unreachable
        try:
            result = self._bounded(command, name)
        except HostUnreachable as exc:
            self.unreachable = exc
            raise
        sections = parse_sections(result.stdout)
        if not sections:
            detail = (result.stderr or result.stdout).strip().splitlines()
            reason = detail[-1] if detail else f"exit {result.rc}, no output"
            self.unreachable = HostUnreachable(self.host_id, f"probe {name} could not run: {reason}")
            raise self.unreachable
        return sections

    def _bounded(self, command: str, name: str) -> _CommandResult:
        """The command's result within the wait bound; else HostUnreachable."""
        outcome: list[_CommandResult | BaseException] = []
        done = threading.Event()

        def call() -> None:
            try:
                outcome.append(self.host.run(command))
            except Exception as exc:
                outcome.append(exc)
            finally:
                done.set()

        # A daemon thread: a transport that never returns must not hold up the exit.
        threading.Thread(target=call, name=f"probe {name} on {self.host_id}", daemon=True).start()
        if not done.wait(self.timeout):
            raise HostUnreachable(self.host_id, f"no answer within {self.timeout:g}s (probe {name})")
        answer = outcome[0]
        if isinstance(answer, BaseException):
            raise HostUnreachable(self.host_id, _transport_error(answer))
        return answer


def _transport_error(exc: BaseException) -> str:
    # testinfra's ssh backend raises RuntimeError(CommandResult) on ssh's exit 255.
    result = exc.args[0] if exc.args else None
    stderr = getattr(result, "stderr", None)
    if isinstance(stderr, str) and stderr.strip():
        return stderr.strip().splitlines()[-1]
    return str(exc) or type(exc).__name__
