"""Per-host facts, gathered once per run and shared by every check.

A fact group (the base install, the API) is probed on first use; a host that
cannot be reached raises HostUnreachable from every group, once probed.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from phoenix_compliance import podman_api
from phoenix_compliance.manifest import Manifest
from phoenix_compliance.probe import HostRunner, HostUnreachable, Section


@dataclass(frozen=True)
class PathStat:
    owner: str
    uid: int
    mode: int
    kind: str
    path: str


def parse_stat(section: Section) -> PathStat | None:
    if not section.ok:
        return None
    owner, uid, mode, kind, path = section.out.strip().split("|", 4)
    return PathStat(owner, int(uid), int(mode, 8), kind, path)


def parse_version(text: str) -> tuple[int, ...] | None:
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text.strip())
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


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


class HostFacts:
    """Everything the checks know about one host, probed lazily and once."""

    def __init__(self, runner: HostRunner, manifest: Manifest, backend: Any) -> None:
        self.runner = runner
        self.manifest = manifest
        self.backend = backend
        self.host_id = runner.host_id
        self._lock = threading.Lock()
        self._forward: podman_api.SocketForward | None = None
        self._unreachable: HostUnreachable | None = None

    # -- the base install (Phase 1) ------------------------------------------------

    @cached_property
    def _base_sections(self) -> dict[str, Section]:
        if self._unreachable is not None:
            raise self._unreachable
        try:
            return self.runner.run_script(
                "probe_base.sh", {"PHX_QUADLET_DIR": self.manifest.quadlet_dir}
            )
        except HostUnreachable as exc:
            self._unreachable = exc
            raise

    def section(self, name: str) -> Section:
        sections = self._base_sections
        return sections.get(name, Section(name, 127, "", "probe section missing"))

    @property
    def unreachable(self) -> HostUnreachable | None:
        return self._unreachable

    @cached_property
    def user(self) -> str:
        return self.section("whoami").out.splitlines()[0]

    @cached_property
    def uid(self) -> int:
        return int(self.section("whoami").out.splitlines()[1])

    @cached_property
    def home(self) -> str:
        lines = self.section("whoami").out.splitlines()
        return lines[2] if len(lines) > 2 else f"/home/{self.user}"

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
        section = self.section("podman_version")
        if not section.ok:
            return None
        try:
            payload = json.loads(section.out)
            return parse_version(str(payload["Client"]["Version"]))
        except (ValueError, KeyError, TypeError):
            return parse_version(section.out)

    @property
    def podman_version_text(self) -> str:
        version = self.podman_version
        return ".".join(map(str, version)) if version else "not installed"

    @cached_property
    def podman_info(self) -> dict[str, Any] | None:
        section = self.section("podman_info")
        if not section.ok:
            return None
        try:
            payload = json.loads(section.out)
        except ValueError:
            return None
        return payload if isinstance(payload, dict) else None

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
        if self._unreachable is not None or "_base_sections" not in self.__dict__:
            return {}
        return {
            "OS": self.os_name,
            "Kernel": self.kernel,
            "Podman": self.podman_version_text,
            "User": f"{self.user} (uid {self.uid})",
        }

    # -- the API (through the host's own socket) ------------------------------------

    @cached_property
    def api(self) -> podman_api.ApiFacts:
        self._base_sections  # noqa: B018 - the user and uid come from the base probe
        remote = self.api_socket_path
        backend_name = getattr(self.backend, "NAME", "")
        if backend_name == "local":
            where = f"API socket {remote} on {self.host_id}"
            return podman_api.query(Path(remote), where, self.runner.timeout / 4)
        if backend_name in ("ssh", "safe-ssh"):
            where = f"API socket {remote} on {self.host_id}, through an ssh-forwarded socket"
            try:
                with self._lock:
                    if self._forward is None:
                        self._forward = podman_api.SocketForward(
                            podman_api.SshTarget.from_backend(self.backend),
                            remote,
                            wait=self.runner.timeout / 2,
                        )
                return podman_api.query(self._forward.local, where, self.runner.timeout / 4)
            except podman_api.ApiUnavailable as exc:
                return podman_api.ApiFacts(where, None, str(exc), None, str(exc), None, str(exc))
        reason = f"the {backend_name or 'unknown'} backend cannot forward a unix socket; use ssh://"
        return podman_api.ApiFacts(remote, None, reason, None, reason, None, reason)

    def close(self) -> None:
        if self._forward is not None:
            self._forward.close()
            self._forward = None
