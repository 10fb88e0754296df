"""Who and what the host is: the checked user, the OS, Podman and its helpers,
the subordinate ids and the paths the base probe stats."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from phoenix_compliance.facts.groups import CouldNotCheck, GroupReader, ProbeGroup, unreadable
from phoenix_compliance.facts.systemd import UnitSwitches
from phoenix_compliance.grammar.versions import find_version
from phoenix_compliance.parsers.manifest import Manifest
from phoenix_compliance.transport.runner import Section


@dataclass(frozen=True)
class PathStat:
    owner: str
    uid: int
    mode: int
    kind: str
    path: str


def parse_stat(section: Section) -> PathStat | None:
    """A `stat -c '%U|%u|%a|%F|%n'` line, or None when the path is absent (stat's exit 1);
    raise CouldNotCheck when the line cannot be read."""
    if not section.ok:
        return None
    try:
        owner, uid, mode, kind, path = section.out.strip().split("|", 4)
        return PathStat(owner, int(uid), int(mode, 8), kind, path)
    except ValueError:
        raise unreadable(section, "a stat line (owner|uid|mode|kind|path)") from None


def parse_version(text: str) -> tuple[int, ...] | None:
    match = re.match(r"\d+\.\d+", text.strip())
    return find_version(text.strip()) if match else None


@dataclass(frozen=True)
class IdRange:
    owner: str
    start: int
    count: int
    line: int


def parse_id_ranges(text: str, user: str, uid: int) -> list[IdRange]:
    """The /etc/subuid or /etc/subgid lines that belong to a user (by name or uid)."""
    ranges = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.strip().split(":")
        if len(fields) != 3 or fields[0] not in (user, str(uid)):
            continue
        try:
            ranges.append(IdRange(fields[0], int(fields[1]), int(fields[2]), number))
        except ValueError:
            continue
    return ranges


@dataclass(frozen=True)
class Linger:
    """Whether systemd keeps the user's manager running without a session."""

    file_present: bool  # /var/lib/systemd/linger/USER, which logind reads
    loginctl: str  # what `loginctl show-user --property=Linger` said: Linger=yes, or its failure


def first_line(section: Section, default: str) -> str:
    """The first line a program printed, or `default` when it printed nothing."""
    return (section.out.strip().splitlines() or [default])[0]


class HostIdentity(GroupReader):
    """The base probe read: the checked account and what is installed for it."""

    def __init__(self, base: ProbeGroup, stack: ProbeGroup, manifest: Manifest, host_id: str) -> None:
        super().__init__(base)
        self._stack = stack
        self.manifest = manifest
        self.host_id = host_id

    @cached_property
    def _whoami(self) -> tuple[str, int, str]:
        section = self.section("whoami")
        lines = section.out.splitlines()
        if len(lines) < 2 or not lines[1].strip().isdigit():
            raise unreadable(section, "user, uid and home")
        return lines[0], int(lines[1]), lines[2] if len(lines) > 2 else f"/home/{lines[0]}"

    @property
    def user(self) -> str:
        return self._whoami[0]

    @property
    def uid(self) -> int:
        return self._whoami[1]

    @property
    def home(self) -> str:
        return self._whoami[2]

    def where(self, what: str) -> str:
        """How evidence names its source: 'podman info as ops on ssh://web1'."""
        return f"{what} as {self.user} on {self.host_id}"

    @cached_property
    def os_name(self) -> str:
        for line in self.section("os_release").out.splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
        return "unknown"

    @cached_property
    def kernel(self) -> str:
        return self.section("kernel").out.strip() or "unknown"

    @cached_property
    def podman_version(self) -> tuple[int, ...] | None:
        """Podman's version, or None when podman is not installed; raise CouldNotCheck when
        `podman version` answered something that is not a version."""
        section = self.section("podman_version")
        if not section.ok:
            return None
        try:
            payload = json.loads(section.out)
            version = parse_version(str(payload["Client"]["Version"]))
        except (ValueError, KeyError, TypeError):
            version = parse_version(section.out)
        if version is None:
            raise unreadable(section, "a Podman version")
        return version

    @property
    def podman_version_text(self) -> str:
        version = self.podman_version
        return ".".join(map(str, version)) if version else "not installed"

    @cached_property
    def podman_info(self) -> dict[str, Any]:
        """`podman info` as JSON; raise CouldNotCheck when it did not answer one."""
        section = self.section("podman_info")
        try:
            payload = json.loads(section.out)
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise unreadable(section, "podman info JSON")
        return payload

    def info_value(self, *path: str) -> Any:
        node: Any = self.podman_info
        for key in path:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node

    @cached_property
    def tools(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for line in self.section("tools").out.splitlines():
            name, _, path = line.partition("=")
            if path and name not in found:
                found[name] = path
        return found

    @property
    def compose_version(self) -> Section:
        """`podman-compose version`, from the stack probe."""
        return self._stack.section("compose_version")

    @property
    def podman_socket(self) -> UnitSwitches:
        """The user's podman.socket unit."""
        return UnitSwitches("podman.socket", self.section("socket_enabled"), self.section("socket_active"))

    @property
    def linger(self) -> Linger:
        loginctl = self.section("linger_loginctl")
        said = loginctl.out.strip() if loginctl.ok else loginctl.describe_failure()
        if loginctl.ok and not said.startswith("Linger="):
            raise unreadable(loginctl, "Linger=yes|no")
        return Linger(self.section("linger_file").ok, said)

    def id_ranges(self, kind: str) -> list[IdRange]:
        return parse_id_ranges(self.section(kind).out, self.user, self.uid)

    def stat(self, section: str) -> PathStat | None:
        return parse_stat(self.section(section))

    @property
    def quadlet_dir(self) -> str:
        configured = self.manifest.quadlet_dir
        if configured == "~" or configured.startswith("~/"):
            return self.home + configured[1:]
        return configured

    @property
    def api_socket_path(self) -> str:
        return f"/run/user/{self.uid}/podman/podman.sock"

    def summary(self) -> dict[str, str]:
        """Host facts for the report's header; safe on an unreachable host."""
        if self.probe.failure is not None or not self.probe.probed:
            return {}
        try:
            return self._summary()
        except CouldNotCheck:
            return {}

    def _summary(self) -> dict[str, str]:
        return {
            "OS": self.os_name,
            "Kernel": self.kernel,
            "Podman": self.podman_version_text,
            "User": f"{self.user} (uid {self.uid})",
        }
