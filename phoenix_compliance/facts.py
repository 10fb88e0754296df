"""Per-host facts, gathered once per run and shared by every check.

A fact group (the base install, the API) is probed on first use; a host that
cannot be reached raises HostUnreachable from every group, once probed.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import tarfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import requests

from phoenix_compliance import podman_api, quadlet_lint
from phoenix_compliance.parsers import compose, quadlet
from phoenix_compliance.parsers.manifest import Endpoint, Manifest
from phoenix_compliance.probe import HostRunner, HostUnreachable, Section, pick


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


@dataclass(frozen=True)
class ComposeSource:
    """The compose file as read (from the host, or a local override) and parsed."""

    where: str
    parsed: compose.ComposeFile | None
    error: str | None


@dataclass
class QuadletFolder:
    """The Quadlet files as read (from the host, or a local folder) and parsed."""

    where: str
    folder: str
    units: dict[str, quadlet.UnitFile]
    error: str | None
    target: quadlet.UnitFile | None
    target_where: str

    def lint(self, version: tuple[int, ...], target: str) -> list[quadlet_lint.Finding]:
        everything = list(self.units.values()) + ([self.target] if self.target else [])
        return quadlet_lint.lint_units(everything, version, quadlet_lint.StackRules(target=target))


@dataclass(frozen=True)
class EndpointAnswer:
    status: int | None
    where: str
    error: str | None


class HostFacts:
    """Everything the checks know about one host, probed lazily and once."""

    def __init__(
        self,
        runner: HostRunner,
        manifest: Manifest,
        backend: Any,
        compose_override: Path | None = None,
        quadlet_override: Path | None = None,
    ) -> None:
        self.runner = runner
        self.manifest = manifest
        self.backend = _transport(backend)
        self.compose_override = compose_override
        self.quadlet_override = quadlet_override
        self.host_id = runner.host_id
        self._lock = threading.Lock()
        self._forward: podman_api.SocketForward | None = None
        self._unreachable: HostUnreachable | None = None
        self._inspected: dict[str, dict[str, Any] | None] = {}

    # -- the base install (Phase 1) ------------------------------------------------

    @cached_property
    def _base_sections(self) -> dict[str, Section]:
        if self._unreachable is not None:
            raise self._unreachable
        try:
            return self.runner.run_script("probe_base.sh", {"PHX_QUADLET_DIR": self.manifest.quadlet_dir})
        except HostUnreachable as exc:
            self._unreachable = exc
            raise

    def section(self, name: str) -> Section:
        return pick(self._base_sections, name)

    # -- the deployed stack (Phase 2) -------------------------------------------------

    @cached_property
    def _stack_sections(self) -> dict[str, Section]:
        self._base_sections  # noqa: B018 - an unreachable host is known from the first probe
        return self.runner.run_script(
            "probe_stack.sh",
            {"PHX_PROJECT_DIR": self.manifest.project_dir, "PHX_COMPOSE_FILE": self.manifest.compose_file},
        )

    def stack_section(self, name: str) -> Section:
        return pick(self._stack_sections, name)

    @cached_property
    def compose_file(self) -> ComposeSource:
        if self.compose_override is not None:
            where = f"local file {self.compose_override}"
            parsed = compose.load(self.compose_override)
            return ComposeSource(where, parsed, None)
        path = self.stack_section("compose_path").out
        where = f"{path} on {self.host_id}"
        section = self.stack_section("compose_file")
        if not section.ok:
            return ComposeSource(where, None, section.describe_failure())
        return ComposeSource(where, compose.parse(section.out, f"{self.host_id}:{path}"), None)

    # -- security and compatibility (guide section 6) --------------------------------

    @cached_property
    def _security_sections(self) -> dict[str, Section]:
        self._base_sections  # noqa: B018 - an unreachable host is known from the first probe
        return self.runner.run_script("probe_security.sh", {})

    def security_section(self, name: str) -> Section:
        return pick(self._security_sections, name)

    def inspect_all(self) -> list[dict[str, Any]]:
        """Inspect documents of every container of the user, each read once."""
        documents = []
        for container in self.containers:
            name = (container.get("Names") or [container.get("Id", "")])[0]
            document = self.inspect(name)
            if document is not None:
                documents.append(document)
        return documents

    # -- Quadlet and the user's systemd (Phase 3) -----------------------------------

    @cached_property
    def _quadlet_sections(self) -> dict[str, Section]:
        self._base_sections  # noqa: B018 - an unreachable host is known from the first probe
        return self.runner.run_script(
            "probe_quadlet.sh",
            {
                "PHX_QUADLET_DIR": self.manifest.quadlet_dir,
                "PHX_TARGET": self.manifest.target,
                "PHX_UNITS": " ".join(self.manifest.generated_services()),
            },
        )

    def quadlet_section(self, name: str) -> Section:
        return pick(self._quadlet_sections, name)

    @cached_property
    def quadlet_folder(self) -> QuadletFolder:
        if self.quadlet_override is not None:
            return _local_quadlet_folder(self.quadlet_override, self.manifest.target)
        folder = self.quadlet_section("quadlet_dir_path").out
        where = f"{folder} on {self.host_id}"
        target_path = self.quadlet_section("target_path").out
        target_where = f"{target_path} on {self.host_id}"
        target_section = self.quadlet_section("target_file")
        target = quadlet.parse_text(target_section.out, target_path) if target_section.ok else None
        listing = self.quadlet_section("quadlet_tar")
        if not listing.ok:
            return QuadletFolder(where, folder, {}, listing.describe_failure(), target, target_where)
        units: dict[str, quadlet.UnitFile] = {}
        with tarfile.open(fileobj=io.BytesIO(base64.b64decode(listing.out)), mode="r:") as archive:
            for member in archive.getmembers():
                name = member.name.removeprefix("./")
                extracted = archive.extractfile(member) if member.isfile() else None
                if extracted is None or quadlet.kind_of(Path(name)) not in quadlet_lint.FILE_TYPE_SINCE:
                    continue
                text = extracted.read().decode("utf-8", "replace")
                units[name] = quadlet.parse_text(text, f"{folder}/{name}")
        return QuadletFolder(where, folder, units, None, target, target_where)

    @cached_property
    def unit_states(self) -> dict[str, dict[str, str]]:
        """systemctl --user show of the expected services, by unit name."""
        states: dict[str, dict[str, str]] = {}
        for block in self.quadlet_section("units_show").out.split("\n\n"):
            fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            if "Id" in fields:
                states[fields["Id"]] = fields
        return states

    @cached_property
    def suite_route(self) -> str | None:
        """How the machine running the suite reaches the host's published ports: "" for
        the URLs as they are (a local host), a hostname to put in them, or None when only
        the host itself can ask (an ssh ProxyCommand or ProxyJump: 127.0.0.1 here is not
        the host's network)."""
        backend_name = getattr(self.backend, "NAME", "")
        if backend_name == "local":
            return ""
        name = str(self.backend.host.name)
        if backend_name not in ("ssh", "safe-ssh"):
            return name
        # An ssh alias (Host refhost) only means something to ssh: ask it.
        argv = ["ssh", "-G"] + (["-F", self.backend.ssh_config] if self.backend.ssh_config else []) + [name]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return name
        settings = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
        if settings.get("proxycommand", "none") != "none" or settings.get("proxyjump", "none") != "none":
            return None
        return settings.get("hostname", name).strip()

    @cached_property
    def _host_side_answers(self) -> dict[str, Section]:
        """Every endpoint of the manifest asked from the host, in one command."""
        urls = [endpoint.url for endpoint in self.manifest.endpoints]
        sections = self.runner.run_script(
            "probe_http.sh", {"PHX_URLS": " ".join(urls), "PHX_RETRIES": "3", "PHX_HTTP_TIMEOUT": "5"}
        )
        return {url: pick(sections, f"http_{i}") for i, url in enumerate(urls)}

    def endpoint(self, endpoint: Endpoint, retries: int = 3, timeout: float = 5.0) -> EndpointAnswer:
        """Ask from the machine running the suite; when that cannot connect, from the host."""
        route = self.suite_route
        suite_error = "not reachable from the machine running the suite (ssh proxy)"
        url = endpoint.url
        if route is not None:
            parts = urllib.parse.urlsplit(url)
            if route and parts.hostname in ("localhost", "127.0.0.1", "::1"):
                netloc = route + (f":{parts.port}" if parts.port else "")
                url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
            for attempt in range(retries):
                try:
                    response = requests.get(url, timeout=timeout, allow_redirects=False)
                    return EndpointAnswer(response.status_code, f"{url} from the machine running the suite", None)
                except requests.RequestException as exc:
                    suite_error = f"{url} from the suite: {podman_api.short_error(exc)}"
                    if attempt + 1 < retries:
                        time.sleep(1)
            if route == "":
                return EndpointAnswer(None, f"{url} from the machine running the suite", suite_error)
        answer = self._host_side_answers.get(endpoint.url)
        if answer is None:  # an endpoint the manifest does not list: ask for it alone
            answer = pick(
                self.runner.run_script(
                    "probe_http.sh",
                    {"PHX_URLS": endpoint.url, "PHX_RETRIES": str(retries), "PHX_HTTP_TIMEOUT": str(int(timeout))},
                ),
                "http_0",
            )
        status, _, detail = answer.out.strip().partition(" ")
        where = f"{endpoint.url} from {self.host_id} itself{' ' + detail if detail else ''} ({suite_error})"
        if answer.ok and status.isdigit():
            return EndpointAnswer(int(status), where, None)
        return EndpointAnswer(None, where, answer.describe_failure())

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
    def _api_client(self) -> podman_api.PodmanApi | podman_api.ApiUnavailable:
        """The host's API client, or why there is none; the forward is opened once."""
        self._base_sections  # noqa: B018 - the user and uid come from the base probe
        remote = self.api_socket_path
        backend_name = getattr(self.backend, "NAME", "")
        timeout = self.runner.timeout / 4
        if backend_name == "local":
            return podman_api.PodmanApi(Path(remote), f"API socket {remote} on {self.host_id}", timeout)
        where = f"API socket {remote} on {self.host_id}, through an ssh-forwarded socket"
        if backend_name not in ("ssh", "safe-ssh"):
            reason = f"the {backend_name or 'unknown'} backend cannot forward a unix socket; use ssh://"
            return podman_api.ApiUnavailable(reason)
        try:
            self._forward = podman_api.SocketForward(
                podman_api.SshTarget.from_backend(self.backend), remote, wait=self.runner.timeout / 2
            )
        except podman_api.ApiUnavailable as exc:
            return exc
        return podman_api.PodmanApi(self._forward.local, where, timeout)

    def api_client(self) -> podman_api.PodmanApi:
        """The API client; raise ApiUnavailable when the host's socket cannot be reached."""
        with self._lock:
            client = self._api_client
        if isinstance(client, podman_api.ApiUnavailable):
            raise client
        return client

    @cached_property
    def api(self) -> podman_api.ApiFacts:
        try:
            return self.api_client().probe()
        except podman_api.ApiUnavailable as exc:
            return podman_api.ApiFacts.unavailable(f"API socket {self.api_socket_path} on {self.host_id}", str(exc))

    @cached_property
    def containers(self) -> list[dict[str, Any]]:
        """Every container of the user (libpod list, all=true); read once."""
        return self.api_client().containers()

    @cached_property
    def pods(self) -> list[dict[str, Any]]:
        return self.api_client().pods()

    def inspect(self, name: str, fresh: bool = False) -> dict[str, Any] | None:
        """A container's inspect document, cached unless a fresh one is asked for."""
        if fresh or name not in self._inspected:
            self._inspected[name] = self.api_client().inspect(name)
        return self._inspected[name]

    def container_for(self, service: str) -> dict[str, Any] | None:
        """The container of a stack service: by name, else by its compose service label."""
        for container in self.containers:
            if service in (container.get("Names") or []):
                return container
        for container in self.containers:
            labels = container.get("Labels") or {}
            if labels.get("io.podman.compose.service") == service and labels.get("io.podman.compose.project") in (
                self.manifest.name,
                None,
            ):
                return container
        return None

    def close(self) -> None:
        client = self.__dict__.get("_api_client")
        if isinstance(client, podman_api.PodmanApi):
            client.close()
        if self._forward is not None:
            self._forward.close()
            self._forward = None


def _local_quadlet_folder(folder: Path, target: str) -> QuadletFolder:
    """A repository's Quadlet folder (--quadlet-dir); the target unit may sit beside the units."""
    where = f"local folder {folder}"
    if not folder.is_dir():
        return QuadletFolder(where, str(folder), {}, "not a directory", None, where)
    units: dict[str, quadlet.UnitFile] = {}
    target_unit: quadlet.UnitFile | None = None
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        name = str(path.relative_to(folder))
        if path.name == target:
            target_unit = quadlet.parse_file(path)
        elif quadlet.kind_of(path) in quadlet_lint.FILE_TYPE_SINCE:
            units[name] = quadlet.parse_file(path)
    return QuadletFolder(where, str(folder), units, None, target_unit, f"{folder / target}")


def _transport(backend: Any) -> Any:
    """The backend that really reaches the host. testinfra's ansible:// hosts run their
    commands through the ssh, paramiko or local backend the inventory describes; the API
    forward and the endpoint route need that one."""
    if getattr(backend, "NAME", "") != "ansible" or getattr(backend, "force_ansible", False):
        return backend
    try:
        host = backend.ansible_runner.get_host(
            backend.host, ssh_config=backend.ssh_config, ssh_identity_file=backend.ssh_identity_file
        )
    except Exception:  # an unusable inventory is reported by the first probe
        return backend
    return host.backend if host is not None else backend
