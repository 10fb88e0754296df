"""Compose files as podman-compose reads them, with the line of everything.

A plain module (no pytest). Checks compare the running stack with what the
compose file asks for, and lint the file for what podman-compose would reject
only at `up` time; both need file:line, so every value keeps its line and every
problem is recorded (never raised) so that one run reports all of them.

The rules follow podman-compose (PyYAML, `parse_short_mount`) where it differs
from the compose spec, because podman-compose is what runs the file.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phoenix_compliance.grammar.ports import PROTOCOLS, port_range
from phoenix_compliance.grammar.volumes import RELABEL_OPTIONS, volume_fields
from phoenix_compliance.parsers import yamlmarks
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList, YamlError

TOP_LEVEL_KEYS = frozenset(
    {"version", "name", "services", "networks", "volumes", "configs", "secrets", "include", "models"}
)

# The keys of a service in the compose specification (schema/compose-spec.json,
# definitions.service.properties); `x-` keys are extensions and always allowed.
# podman-compose reads the same names and ignores the rest, so a typo (`imagee`,
# `prots`) silently drops what the line asked for.
SERVICE_KEYS = frozenset(
    {
        "annotations",
        "attach",
        "blkio_config",
        "build",
        "cap_add",
        "cap_drop",
        "cgroup",
        "cgroup_parent",
        "command",
        "configs",
        "container_name",
        "cpu_count",
        "cpu_percent",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
        "cpu_shares",
        "cpus",
        "cpuset",
        "credential_spec",
        "depends_on",
        "deploy",
        "develop",
        "device_cgroup_rules",
        "devices",
        "dns",
        "dns_opt",
        "dns_search",
        "domainname",
        "entrypoint",
        "env_file",
        "environment",
        "expose",
        "extends",
        "external_links",
        "extra_hosts",
        "gpus",
        "group_add",
        "healthcheck",
        "hostname",
        "image",
        "init",
        "ipc",
        "isolation",
        "label_file",
        "labels",
        "links",
        "logging",
        "mac_address",
        "mem_limit",
        "mem_reservation",
        "mem_swappiness",
        "memswap_limit",
        "models",
        "network_mode",
        "networks",
        "oom_kill_disable",
        "oom_score_adj",
        "pid",
        "pids_limit",
        "platform",
        "ports",
        "post_start",
        "pre_stop",
        "privileged",
        "profiles",
        "provider",
        "pull_policy",
        "pull_refresh_after",
        "read_only",
        "restart",
        "runtime",
        "scale",
        "secrets",
        "security_opt",
        "shm_size",
        "stdin_open",
        "stop_grace_period",
        "stop_signal",
        "storage_opt",
        "sysctls",
        "tmpfs",
        "tty",
        "ulimits",
        "use_api_socket",
        "user",
        "userns_mode",
        "uts",
        "volumes",
        "volumes_from",
        "working_dir",
    }
)

# podman-compose `parse_short_mount`: these are accepted, anything else raises
# "unknown mount option" when the stack is brought up.
_PLAIN_MOUNT_OPTIONS = frozenset({"ro", "rw", "consistent", "delegated", "cached"})
_PROPAGATION_RE = re.compile(
    r"^(z|Z|O|U|r?shared|r?slave|r?private|r?unbindable|r?bind|(no)?(exec|dev|suid))$",
)
# podman-compose's `dir_re`: only these prefixes make a short source a host path;
# `data:/x` is a named volume even if ./data exists.
_HOST_PATH_RE = re.compile(r"^[~/.]")

# Long-syntax types podman-compose turns into a mount in every release this
# suite meets. The spec's `npipe` and `cluster` (Windows, Swarm) and the later
# `image` / podman-only `glob` make podman-compose 1.0.x raise "unknown mount type".
_LONG_VOLUME_TYPES = frozenset({"bind", "volume", "tmpfs"})
_SPEC_ONLY_VOLUME_TYPES = frozenset({"npipe", "cluster", "image", "glob"})

# PyYAML follows YAML 1.1, where an unquoted `22:22` is the base-60 integer 1342;
# podman-compose then publishes port 1342. Docker compose (YAML 1.2) does not.
_BASE60_RE = re.compile(r"(?<![\w.:'\"])[1-9][0-9_]*(?::[0-5]?[0-9])+(?![\w.:'\"])")
_ENV_NAME_RE = re.compile(r"^[^\s=]+$")


@dataclass(frozen=True)
class ComposeProblem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class PortMapping:
    host_ip: str | None
    host_port: int | None
    container_port: int
    protocol: str
    line: int


@dataclass(frozen=True)
class VolumeMount:
    source: str | None
    target: str
    kind: str
    options: tuple[str, ...]
    selinux: str | None
    read_only: bool
    syntax: str
    line: int


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | None
    line: int


@dataclass(frozen=True)
class ComposeService:
    name: str
    line: int
    image: str | None
    has_build: bool
    container_name: str | None
    ports: tuple[PortMapping, ...]
    volumes: tuple[VolumeMount, ...]
    environment: tuple[EnvVar, ...]
    healthcheck: bool
    privileged: bool
    cap_add: tuple[str, ...]
    network_mode: str | None
    pid: str | None
    restart: str | None
    # Excluded from the hash so a service stays hashable despite the dict.
    key_lines: dict[str, int] = field(hash=False)
    # The words of `command:` and `entrypoint:` (a string split as a shell would), with their key.
    commands: tuple[tuple[str, tuple[str, ...]], ...] = ()
    labels: tuple[EnvVar, ...] = ()
    # The files `env_file:` names, as written, with the line naming each.
    env_files: tuple[tuple[str, int], ...] = ()
    security_opt: tuple[str, ...] = ()
    # The service's mapping as read (values with their lines), for readers that need more than the
    # fields above (the converter: healthcheck, depends_on, resources, ...).
    body: MarkedDict | None = field(default=None, hash=False, compare=False, repr=False)

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


@dataclass
class ComposeFile:
    path: str
    project_name: str | None
    services: dict[str, ComposeService]
    problems: list[ComposeProblem]
    # The env_file files, as read by whoever could (facts/files.py for a local compose file),
    # by the path as written: (where it was read, its text), so the secret rules can judge them.
    env_file_texts: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The top-level mapping as read (top-level volumes, networks, secrets), None when unreadable.
    document: MarkedDict | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems


def load(path: Path) -> ComposeFile:
    """Read and parse a compose file; an unreadable file is a problem at line 1."""
    try:
        text = yamlmarks.read_source(path)
    except yamlmarks.SourceError as exc:
        return ComposeFile(str(path), None, {}, [ComposeProblem(exc.path, exc.line, exc.message)])
    return parse(text, str(path))


def parse(text: str, path: str) -> ComposeFile:
    """Parse compose text; never raises, every problem is recorded with its line."""
    result = ComposeFile(path, None, {}, [])
    try:
        document = yamlmarks.loads(text, path)
    except YamlError as exc:
        result.problems.append(ComposeProblem(path, exc.line, exc.message))
        return result
    _Parser(result, text.splitlines()).document(document)
    # Services are read key by key, not line by line; report in file order.
    result.problems.sort(key=lambda problem: problem.line)
    return result


def port_spec(spec: str) -> tuple[list[PortMapping], list[str]]:
    """One `[IP:]HOST:CONTAINER[/proto]` spec, as podman's -p (and Quadlet's PublishPort=) reads it."""
    parser = _Parser(ComposeFile("<spec>", None, {}, []), [])
    mappings = list(parser.short_port("-", spec, 0))
    return mappings, [problem.message for problem in parser.result.problems]


def volume_spec(spec: str) -> tuple[VolumeMount | None, list[str]]:
    """One `SOURCE:TARGET[:OPTIONS]` spec, as podman's -v (and Quadlet's Volume=) reads it."""
    parser = _Parser(ComposeFile("<spec>", None, {}, []), [])
    mount = parser.short_volume("-", spec, 0)
    return mount, [problem.message for problem in parser.result.problems]


class _Parser:
    def __init__(self, result: ComposeFile, lines: list[str]) -> None:
        self.result = result
        # Kept only to see how a scalar was spelled (the base-60 port trap).
        self.lines = lines

    def problem(self, line: int, message: str) -> None:
        self.result.problems.append(ComposeProblem(self.result.path, line, message))

    def document(self, document: Any) -> None:
        if not isinstance(document, MarkedDict):
            line = document.line if isinstance(document, MarkedList) else 1
            self.problem(line, "top level is not a mapping")
            return
        self.result.document = document
        for key in document:
            if key not in TOP_LEVEL_KEYS and not key.startswith("x-"):
                self.problem(document.line_of(key), f"unknown top-level key {key!r}{_guess(key, TOP_LEVEL_KEYS)}")
        if "name" in document:
            self.result.project_name = self.text(document["name"], document.line_of("name"), "name")
        if "services" not in document:
            self.problem(document.line, "no 'services' key")
            return
        services = document["services"]
        if not isinstance(services, MarkedDict):
            self.problem(document.line_of("services"), "'services' is not a mapping")
            return
        for name, body in services.items():
            service = self.service(name, body, services.line_of(name))
            if service is not None:
                self.result.services[name] = service

    def text(self, value: Any, line: int, what: str) -> str | None:
        """A scalar as text; YAML turns `8.0` or `yes` into other types."""
        if value is None:
            return None
        if isinstance(value, (MarkedDict, MarkedList)):
            self.problem(line, f"{what}: expected a string")
            return None
        return str(value)

    def service(self, name: str, body: Any, line: int) -> ComposeService | None:
        if not isinstance(body, MarkedDict):
            self.problem(line, f"service {name}: not a mapping")
            return None
        where = f"service {name}"
        for key in body:
            if key not in SERVICE_KEYS and not key.startswith("x-"):
                self.problem(
                    body.line_of(key),
                    f"{where}: unknown key {key!r}{_guess(key, SERVICE_KEYS)}; podman-compose ignores the line",
                )
        image = self.text(body.get("image"), body.line_of("image"), f"{where}: image")
        has_build = body.get("build") is not None
        if image is None and not has_build:
            self.problem(line, f"{where}: neither 'image' nor 'build'")
        return ComposeService(
            name=name,
            line=line,
            image=image,
            has_build=has_build,
            container_name=self.text(
                body.get("container_name"), body.line_of("container_name"), f"{where}: container_name"
            ),
            ports=tuple(self.ports(name, body)),
            volumes=tuple(self.volumes(name, body)),
            environment=tuple(self.environment(name, body)),
            healthcheck=_has_healthcheck(body.get("healthcheck")),
            privileged=body.get("privileged") is True,
            cap_add=tuple(str(cap) for cap in _as_list(body.get("cap_add"))),
            network_mode=self.text(body.get("network_mode"), body.line_of("network_mode"), f"{where}: network_mode"),
            pid=self.text(body.get("pid"), body.line_of("pid"), f"{where}: pid"),
            restart=self.text(body.get("restart"), body.line_of("restart"), f"{where}: restart"),
            key_lines=dict(body.key_lines),
            commands=tuple(
                (key, _command_words(body[key])) for key in ("command", "entrypoint") if body.get(key) is not None
            ),
            labels=tuple(self.labels(name, body)),
            env_files=tuple(self.env_files(body)),
            security_opt=tuple(str(option) for option in _as_list(body.get("security_opt"))),
            body=body,
        )

    def labels(self, service: str, body: MarkedDict) -> Iterator[EnvVar]:
        labels = body.get("labels")
        if isinstance(labels, MarkedDict):
            for name, value in labels.items():
                if not isinstance(value, (MarkedDict, MarkedList)):
                    yield EnvVar(name, None if value is None else str(value), labels.line_of(name))
        elif isinstance(labels, MarkedList):
            for index, item in enumerate(labels):
                if isinstance(item, str):
                    name, equals, value = item.partition("=")
                    yield EnvVar(name, value if equals else None, labels.line_of(index))

    def env_files(self, body: MarkedDict) -> Iterator[tuple[str, int]]:
        value = body.get("env_file")
        if isinstance(value, str):
            yield value, body.line_of("env_file")
        elif isinstance(value, MarkedList):
            for index, item in enumerate(value):
                # The long form: {path: ..., required: ...}.
                path = item.get("path") if isinstance(item, MarkedDict) else item
                if isinstance(path, str):
                    yield path, value.line_of(index)

    # -- ports ---------------------------------------------------------------

    def ports(self, service: str, body: MarkedDict) -> Iterator[PortMapping]:
        items = body.get("ports")
        if items is None:
            return
        if not isinstance(items, MarkedList):
            self.problem(body.line_of("ports"), f"service {service}: 'ports' is not a list")
            return
        for index, item in enumerate(items):
            line = items.line_of(index)
            if isinstance(item, MarkedDict):
                yield from self.long_port(service, item, line)
            elif isinstance(item, (str, int)) and not isinstance(item, bool):
                spelled = self.base60_spelling(line, item) if isinstance(item, int) else None
                if spelled is not None:
                    self.problem(
                        line,
                        f"service {service}: port {spelled} must be quoted: "
                        f"YAML 1.1 (PyYAML, podman-compose) reads it as the number {item}",
                    )
                    continue
                yield from self.short_port(service, str(item), line)
            else:
                self.problem(line, f"service {service}: port {item!r} is not a string or mapping")

    def base60_spelling(self, line: int, value: int) -> str | None:
        """How `value` was written on `line` if YAML read it as a base-60 number."""
        if not 0 < line <= len(self.lines):
            return None
        for match in _BASE60_RE.finditer(self.lines[line - 1]):
            number = 0
            for digits in match.group().replace("_", "").split(":"):
                number = number * 60 + int(digits)
            if number == value:
                return match.group()
        return None

    def short_port(self, service: str, spec: str, line: int) -> Iterator[PortMapping]:
        def bad(reason: str) -> None:
            self.problem(line, f"service {service}: port {spec!r}: {reason}")

        rest, _, protocol = spec.partition("/")
        protocol = protocol or "tcp"
        if protocol not in PROTOCOLS:
            bad(f"unknown protocol {protocol!r}")
            return
        # rsplit keeps an IPv6 host address (`::1:6000:6000`) in one piece.
        parts = rest.rsplit(":", 2)
        host_ip: str | None = None
        host: str | None = None
        if len(parts) == 3:
            host_ip, host, container = parts
            host_ip = host_ip.removeprefix("[").removesuffix("]") or None
        elif len(parts) == 2:
            host, container = parts
        else:
            container = parts[0]
        yield from self.port_ranges(host_ip, host or None, container, protocol, line, bad)

    def long_port(self, service: str, item: MarkedDict, line: int) -> Iterator[PortMapping]:
        def bad(reason: str) -> None:
            self.problem(line, f"service {service}: port: {reason}")

        if "target" not in item:
            bad("long syntax needs 'target'")
            return
        protocol = str(item.get("protocol") or "tcp")
        if protocol not in PROTOCOLS:
            bad(f"unknown protocol {protocol!r}")
            return
        published = item.get("published")
        host_ip = item.get("host_ip")
        yield from self.port_ranges(
            None if host_ip is None else str(host_ip),
            None if published in (None, "") else str(published),
            str(item["target"]),
            protocol,
            line,
            bad,
        )

    def port_ranges(
        self,
        host_ip: str | None,
        host: str | None,
        container: str,
        protocol: str,
        line: int,
        bad: Callable[[str], None],
    ) -> Iterator[PortMapping]:
        container_ports = _port_range(container)
        if container_ports is None:
            bad(f"container port {container!r} is not a port or range 1-65535")
            return
        if host is None:
            for port in container_ports:
                yield PortMapping(host_ip, None, port, protocol, line)
            return
        host_ports = _port_range(host)
        if host_ports is None:
            bad(f"host port {host!r} is not a port or range 1-65535")
            return
        if len(host_ports) != len(container_ports):
            # Docker picks one free port from `8000-8010:80`; podman rejects it
            # (containers/podman#22980), and unequal ranges fail in both.
            bad("host and container port ranges differ in length")
            return
        for host_port, container_port in zip(host_ports, container_ports, strict=True):
            yield PortMapping(host_ip, host_port, container_port, protocol, line)

    # -- volumes -------------------------------------------------------------

    def volumes(self, service: str, body: MarkedDict) -> Iterator[VolumeMount]:
        items = body.get("volumes")
        if items is None:
            return
        if not isinstance(items, MarkedList):
            self.problem(body.line_of("volumes"), f"service {service}: 'volumes' is not a list")
            return
        for index, item in enumerate(items):
            line = items.line_of(index)
            if isinstance(item, str):
                mount = self.short_volume(service, item, line)
            elif isinstance(item, MarkedDict):
                mount = self.long_volume(service, item, line)
            else:
                self.problem(line, f"service {service}: volume {item!r} is not a string or mapping")
                mount = None
            if mount is not None:
                yield mount

    def short_volume(self, service: str, spec: str, line: int) -> VolumeMount | None:
        """Mirror podman-compose's `parse_short_mount`, including its quirks."""

        def bad(reason: str) -> None:
            self.problem(line, f"service {service}: volume {spec!r}: {reason}")

        parts = volume_fields(spec)
        source: str | None
        opts = ""
        if parts is None:
            bad("too many ':' (podman-compose cannot parse it)")
            return None
        if len(parts) == 1:
            source, target = None, spec
        elif len(parts) == 2:
            source, target = parts
            # podman-compose reads `/data:ro` as an anonymous volume with options,
            # because a second field without a leading / cannot be a target.
            if not target.startswith("/"):
                source, target, opts = None, parts[0], parts[1]
        else:
            source, target, opts = parts
        if not target.startswith("/"):
            bad(f"container path {target!r} is not absolute")
            return None
        options = tuple(opt for opt in opts.split(",") if opt)
        read_only = False
        selinux: str | None = None
        for opt in options:
            if opt in ("ro", "rw"):
                read_only = opt == "ro"
            elif opt in RELABEL_OPTIONS:
                selinux = opt
            elif opt not in _PLAIN_MOUNT_OPTIONS and not _PROPAGATION_RE.match(opt):
                bad(f"unknown mount option {opt!r}")
        if not source:
            kind = "anonymous"
        elif _HOST_PATH_RE.match(source):
            kind = "bind"
        else:
            kind = "volume"
        return VolumeMount(source or None, target, kind, options, selinux, read_only, "short", line)

    def long_volume(self, service: str, item: MarkedDict, line: int) -> VolumeMount | None:
        def bad(reason: str) -> None:
            self.problem(line, f"service {service}: volume: {reason}")

        kind = item.get("type")
        target = item.get("target")
        if not target:
            bad("long syntax needs 'target'")
        if kind is None:
            bad("long syntax needs 'type'")
            return None
        kind = str(kind)
        if kind in _SPEC_ONLY_VOLUME_TYPES:
            bad(f"type {kind!r} is not supported by podman-compose (bind, volume, tmpfs)")
            return None
        if kind not in _LONG_VOLUME_TYPES:
            bad(f"unknown type {kind!r}")
            return None
        if not target:
            return None
        source = item.get("source")
        source = None if source in (None, "") else str(source)
        if kind == "bind" and source is None:
            bad("bind mount needs 'source'")
            return None
        if kind == "volume" and source is None:
            kind = "anonymous"
        options: tuple[str, ...] = ()
        selinux: str | None = None
        bind = item.get("bind")
        if isinstance(bind, MarkedDict):
            if bind.get("propagation"):
                options = (str(bind["propagation"]),)
            if "selinux" in bind:
                value = str(bind["selinux"])
                if value in ("z", "Z"):
                    selinux = value
                else:
                    self.problem(
                        bind.line_of("selinux"),
                        f"service {service}: volume: bind.selinux must be 'z' or 'Z', got {value!r}",
                    )
        return VolumeMount(source, str(target), kind, options, selinux, item.get("read_only") is True, "long", line)

    # -- environment ---------------------------------------------------------

    def environment(self, service: str, body: MarkedDict) -> Iterator[EnvVar]:
        env = body.get("environment")
        if env is None:
            return
        if isinstance(env, MarkedDict):
            for name, value in env.items():
                line = env.line_of(name)
                if not _ENV_NAME_RE.match(name):
                    self.problem(line, f"service {service}: environment name {name!r} is malformed")
                elif isinstance(value, (MarkedDict, MarkedList)):
                    self.problem(line, f"service {service}: environment {name}: value must be a scalar")
                else:
                    # str() as podman-compose does: `DEBUG: true` reaches the container as `True`.
                    yield EnvVar(name, None if value is None else str(value), line)
        elif isinstance(env, MarkedList):
            for index, item in enumerate(env):
                line = env.line_of(index)
                # Values are never quoted in a problem: an entry is as likely to hold a secret as any.
                if isinstance(item, MarkedDict):
                    names = ", ".join(item)
                    self.problem(
                        line,
                        f"service {service}: environment entry for {names} is a mapping inside a list,"
                        " not a 'NAME=value' string",
                    )
                    continue
                if not isinstance(item, str):
                    self.problem(line, f"service {service}: environment entry is not a 'NAME=value' string")
                    continue
                name, equals, value = item.partition("=")
                if not _ENV_NAME_RE.match(name):
                    self.problem(line, f"service {service}: environment entry {name!r} has no valid name")
                    continue
                yield EnvVar(name, value if equals else None, line)
        else:
            self.problem(body.line_of("environment"), f"service {service}: 'environment' is not a list or mapping")


def _command_words(value: Any) -> tuple[str, ...]:
    if isinstance(value, MarkedList):
        return tuple(str(item) for item in value if not isinstance(item, (MarkedDict, MarkedList)))
    if isinstance(value, (MarkedDict,)):
        return ()
    try:
        return tuple(shlex.split(str(value)))
    except ValueError:
        return tuple(str(value).split())


def _guess(word: str, choices: frozenset[str]) -> str:
    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {found[0]!r}?)" if found else ""


def _port_range(text: str) -> range | None:
    found = port_range(text.strip())
    return None if found is None else range(found[0], found[1] + 1)


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, MarkedList) else []


def _has_healthcheck(value: Any) -> bool:
    """A test that runs: `disable: true` and `test: ["NONE"]` both turn it off."""
    if not isinstance(value, MarkedDict) or value.get("disable") is True:
        return False
    test = value.get("test")
    if isinstance(test, MarkedList):
        return bool(test) and test[0] != "NONE"
    return isinstance(test, str) and bool(test.strip())
