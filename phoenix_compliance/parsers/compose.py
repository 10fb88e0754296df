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
import posixpath
import re
import shlex
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from phoenix_compliance.grammar.ports import publish_fields, read_publish
from phoenix_compliance.grammar.volumes import RELABEL_OPTIONS, volume_fields
from phoenix_compliance.parsers import yamlmarks
from phoenix_compliance.parsers.interpolation import (
    TOKENIZER_SINCE,
    InterpolationError,
    Release,
    interpolate,
    parse_dotenv,
)
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList, SourceError, YamlError

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
    # podman-compose itself stops on it when it loads the file (`config` fails), rather
    # than a finding of this suite's (a key it ignores, a port podman refuses at `up`).
    refused: bool = False

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


# The k-th file read (the first, an override, an included or extended file) numbers its
# lines from k * LINE_STRIDE, so one int still says file and line; ComposeFile.locate reads it back.
LINE_STRIDE = 100_000_000


@dataclass(frozen=True)
class Substitution:
    """A string podman-compose substitutes: as written and as it resolves."""

    line: int
    written: str
    resolved: str
    # The mapping key it is the value of (an environment variable's name), none for a list item.
    key: str | None = None

    def describe(self) -> str:
        """`'WRITTEN' -> 'RESOLVED'`, as KEY=... under a key, so the redaction layer (redact.py)
        withholds the value of a variable whose name says secret."""

        def shown(text: str) -> str:
            text = text if len(text) <= 80 else text[:80] + "..."
            return f"{self.key}={text!r}" if self.key else repr(text)

        return f"{shown(self.written)} -> {shown(self.resolved)}"


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
    # What podman-compose accepts but says (an unset variable made empty): never a failure.
    warnings: list[ComposeProblem] = field(default_factory=list)
    # Every file read, in order: the first is `path`; then -f files, included and extended ones.
    files: list[str] = field(default_factory=list)
    # Substituted strings by (encoded) line.
    substitutions: dict[int, list[Substitution]] = field(default_factory=dict)
    # The top-level `networks:` names, and each service's networks (podman-compose's default
    # network when it names none), as podman-compose resolves them.
    networks: tuple[str, ...] = ()
    service_networks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Lines (of the model, see LINE_STRIDE) whose text podman-compose cannot substitute (a required
    # variable unset, a `${` it cannot read): their values are left as written.
    unresolved: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def refused(self) -> bool:
        """Whether podman-compose itself refuses to load the file."""
        return any(problem.refused for problem in self.problems)

    def locate(self, line: int) -> tuple[str, int]:
        """The file and line of a line number of this model (see LINE_STRIDE)."""
        index, within = divmod(line, LINE_STRIDE)
        files = self.files or [self.path]
        return (files[index] if index < len(files) else self.path), within

    def written(self, line: int) -> str:
        """' (written ...)' for a line whose values were substituted, to follow a resolved value."""
        found = self.substitutions.get(line)
        if not found:
            return ""
        return " (written " + ", ".join(substitution.describe() for substitution in found) + ")"

    def as_written(self, line: int, value: str | None) -> str | None:
        """The text a resolved value on `line` was written as (itself if nothing was substituted)."""
        for substitution in self.substitutions.get(line, []):
            if substitution.resolved == value:
                return substitution.written
            name, equals, written = substitution.written.partition("=")
            if equals and value is not None and substitution.resolved == f"{name}={value}":
                return written
        return value


# Reads a further file (an -f file, `include:`, `extends: file:`) by path: its text, or SourceError.
Reader = Callable[[str], str]


def _read_local(path: str) -> str:
    return yamlmarks.read_source(Path(path))


def load(
    path: Path | Sequence[Path],
    *,
    environ: Mapping[str, str] | None = None,
    env_files: Sequence[Path] = (),
    release: Release | None = None,
) -> ComposeFile:
    """Read and parse compose files as `podman-compose -f A -f B ...` does; never raises.

    `environ` is the environment podman-compose would run in (none: only the env files);
    `env_files` replace the `.env` beside the first file, as `--env-file` does; `release`
    is podman-compose's version (default: the newest rules)."""
    paths = [path] if isinstance(path, Path) else list(path)
    first = paths[0]
    dotenvs: list[tuple[str, str]] = []
    for env_file in env_files or [first.parent / ".env"]:
        if not env_files and not env_file.exists():
            continue
        try:
            dotenvs.append((str(env_file), yamlmarks.read_source(env_file, "the env file")))
        except SourceError as exc:
            return ComposeFile(str(first), None, {}, [ComposeProblem(exc.path, exc.line, exc.message)])
    try:
        text = yamlmarks.read_source(first)
    except SourceError as exc:
        return ComposeFile(str(first), None, {}, [ComposeProblem(exc.path, exc.line, exc.message)])
    return parse(
        text,
        str(first),
        environ=environ,
        dotenvs=dotenvs,
        extra_files=[str(p) for p in paths[1:]],
        read=_read_local,
        release=release,
    )


def parse(
    text: str,
    path: str,
    *,
    environ: Mapping[str, str] | None = None,
    dotenvs: Sequence[tuple[str, str]] = (),
    extra_files: Sequence[str] = (),
    read: Reader | None = None,
    release: Release | None = None,
) -> ComposeFile:
    """Parse compose text (the first file) as podman-compose does; never raises, every problem has its line.

    `dotenvs` are (where, text) of the env files in order (later ones win; the environment
    wins over all); `extra_files` are read with `read` and merged over the first in order,
    as are the files `include:` names; `extends: file:` is read with `read` too (without a
    reader, naming one is a problem)."""
    result = ComposeFile(path, None, {}, [], files=[path])
    loader = _Loader(result, environ, dotenvs, read, release, list(extra_files))
    merged = loader.load_all(text, list(extra_files))
    if merged is not None:
        loader.extends(merged)
        left: list[tuple[int, str]] = []
        _untag(merged, left)
        for line, what in left:
            loader.problem(line, f"{what} with nothing to merge into (podman-compose 1.6 stops on it)")
        _Parser(result, loader.line_text).document(merged)
        if not result.refused:
            _networks(result, merged)
            _named_volumes(result, merged)
    for problem_list in (result.problems, result.warnings):
        problem_list[:] = [
            ComposeProblem(*result.locate(p.line), p.message + result.written(p.line), p.refused) for p in problem_list
        ]
    # Services are read key by key, not line by line; report in file order.
    order = {name: index for index, name in enumerate(result.files)}
    result.problems.sort(key=lambda problem: (order.get(problem.path, 0), problem.line))
    result.warnings.sort(key=lambda problem: (order.get(problem.path, 0), problem.line))
    return result


def port_spec(spec: str) -> tuple[list[PortMapping], list[str]]:
    """One `[IP:]HOST:CONTAINER[/proto]` spec, as podman's -p (and Quadlet's PublishPort=) reads it."""
    parser = _Parser(ComposeFile("<spec>", None, {}, []), lambda _line: "")
    mappings = list(parser.short_port("-", spec, 0))
    return mappings, [problem.message for problem in parser.result.problems]


def volume_spec(spec: str) -> tuple[VolumeMount | None, list[str]]:
    """One `SOURCE:TARGET[:OPTIONS]` spec, as podman's -v (and Quadlet's Volume=) reads it."""
    parser = _Parser(ComposeFile("<spec>", None, {}, []), lambda _line: "")
    mount = parser.short_volume("-", spec, 0)
    return mount, [problem.message for problem in parser.result.problems]


@dataclass(frozen=True)
class Reset:
    """`!reset`: the key is dropped when files are merged (podman-compose 1.6)."""

    line: int


@dataclass(frozen=True)
class Override:
    """`!override VALUE`: VALUE replaces the key's value instead of being merged into it (1.6).

    As 1.6 reads it: the items of a list, or the values of a mapping (a list's items for a
    list), as the text written, neither typed nor substituted."""

    value: Any


def _override(loader: yamlmarks.MarkedLoader, node: yaml.Node) -> Override:
    def raw(child: yaml.Node) -> Any:
        if isinstance(child, yaml.SequenceNode):
            items = MarkedList(item.value for item in child.value)
            items.line, items.item_lines = child.start_mark.line + 1, [i.start_mark.line + 1 for i in child.value]
            return items
        return child.value

    if isinstance(node, yaml.MappingNode):
        mapping = MarkedDict()
        mapping.line, mapping.key_lines = node.start_mark.line + 1, {}
        for key, value in node.value:
            mapping[str(key.value)] = raw(value)
            mapping.key_lines[str(key.value)] = key.start_mark.line + 1
        return Override(mapping)
    return Override(raw(node))


class _TagLoader(yamlmarks.MarkedLoader):
    """podman-compose 1.6 reads the !reset and !override tags; earlier releases refuse them."""


_TagLoader.add_constructor("!reset", lambda loader, node: Reset(node.start_mark.line + 1))
_TagLoader.add_constructor("!override", _override)


class _Loader:
    """Reads, substitutes and merges the files of one project, as podman-compose does before it looks at them."""

    def __init__(
        self,
        result: ComposeFile,
        environ: Mapping[str, str] | None,
        dotenvs: Sequence[tuple[str, str]],
        read: Reader | None,
        release: Release | None,
        extra_files: list[str],
    ) -> None:
        self.result = result
        self.read = read
        self.release = release
        self.texts: list[list[str]] = []
        host = dict(environ or {})
        self.env: dict[str, str | None] = {}
        for _where, dotenv_text in dotenvs:
            self.env.update(parse_dotenv(dotenv_text, {**host, **self.env}))
        # The invoking environment wins over every env file (podman-compose updates it last).
        self.env.update(host)
        self.first_dir = posixpath.dirname(result.path)
        # Set by podman-compose over any environment, before it substitutes.
        self.env["COMPOSE_PROJECT_DIR"] = self.first_dir
        self.env["COMPOSE_FILE"] = ":".join([result.path, *extra_files])
        self.env["COMPOSE_PATH_SEPARATOR"] = ":"

    @property
    def newest(self) -> bool:
        return self.release is None or self.release >= TOKENIZER_SINCE

    def problem(self, line: int, message: str) -> None:
        problem = ComposeProblem(self.result.path, line, message, refused=True)
        # A service's environment is resolved twice (as variables, then as values): say it once.
        if problem not in self.result.problems:
            self.result.problems.append(problem)

    def line_text(self, line: int) -> str:
        index, within = divmod(line, LINE_STRIDE)
        if index < len(self.texts) and 0 < within <= len(self.texts[index]):
            return self.texts[index][within - 1]
        return ""

    def document(self, text: str, name: str) -> MarkedDict | None:
        """One file parsed, its lines numbered for its place, normalised and substituted."""
        index = len(self.texts)
        if index:
            self.result.files.append(name)
        self.texts.append(text.splitlines())
        offset = index * LINE_STRIDE
        try:
            document = yamlmarks.loads(text, name, _TagLoader if self.newest else None)
        except YamlError as exc:
            self.problem(offset + exc.line, exc.message)
            return None
        if offset:
            _shift(document, offset)
        if not isinstance(document, MarkedDict):
            line = document.line if isinstance(document, MarkedList) else 1
            self.problem(offset + line, "top level is not a mapping")
            return None
        services = document.get("services")
        if isinstance(services, MarkedDict):
            for body in services.values():
                if isinstance(body, MarkedDict):
                    _normalise_service(body)
        if index == 0 and self.newest:
            self.project_name(document)
        substituted = self.substitute(document, self.env)
        assert isinstance(substituted, MarkedDict)
        return substituted

    def project_name(self, document: MarkedDict) -> None:
        """1.6 names the project before it substitutes, and offers the name as COMPOSE_PROJECT_NAME."""
        written = self.env.get("COMPOSE_PROJECT_NAME") or document.get("name")
        given = isinstance(written, str) and bool(written)
        if not isinstance(written, str) or not written:
            # The folder's name (unknown for bare text: then no problem is made of it).
            written = posixpath.basename(self.first_dir).lower()
        name = re.sub(r"[^-_a-z0-9]", "", self.resolve(written, self.env, document.line_of("name"), record=False))
        if not name and (given or self.first_dir):
            self.problem(document.line_of("name"), f"project name {written!r} is empty once normalised")
        self.env["COMPOSE_PROJECT_NAME"] = name

    def substitute(self, node: Any, env: Mapping[str, str | None]) -> Any:
        if isinstance(node, MarkedDict):
            environment = node.get("environment")
            if isinstance(environment, MarkedDict):
                env = self.service_scope(environment, env)
            copy = _marked_dict(node)
            for key, value in node.items():
                line = node.line_of(key)
                new_key = self.resolve(key, env, line) if self.newest and "$" in key else key
                copy[new_key] = self.substitute_value(value, env, line, new_key)
                copy.key_lines[new_key] = line
            return copy
        if isinstance(node, MarkedList):
            items = MarkedList(self.substitute_value(item, env, node.line_of(i)) for i, item in enumerate(node))
            items.line, items.item_lines = node.line, list(node.item_lines)
            return items
        return node

    def service_scope(self, environment: MarkedDict, outer: Mapping[str, str | None]) -> dict[str, str | None]:
        """The variables of a service: its own environment values fill what the invoking one lacks (rec_subs).

        1.6 resolves those values against the invoking environment alone; earlier releases
        against it plus the values as written, so `TAG: ${TAG}` stays `${TAG}` there."""
        own = {
            name: value if isinstance(value, str) or value is None else str(value)
            for name, value in environment.items()
            if name not in outer
        }
        scope: Mapping[str, str | None] = outer if self.newest else {**outer, **own}
        env = dict(outer)
        for name, value in own.items():
            env[name] = None if value is None else self.resolve(value, scope, environment.line_of(name), record=False)
        return env

    def substitute_value(self, value: Any, env: Mapping[str, str | None], line: int, key: str | None = None) -> Any:
        if isinstance(value, str):
            return self.resolve(value, env, line, key=key)
        return self.substitute(value, env)

    def resolve(
        self, text: str, env: Mapping[str, str | None], line: int, record: bool = True, key: str | None = None
    ) -> str:
        if "$" not in text:
            return text
        try:
            resolved = interpolate(text, env, self.release)
        except InterpolationError as exc:
            self.problem(line, f"{exc} (podman-compose stops here)")
            self.result.unresolved.add(line)
            return text
        if record and resolved.value != text:
            self.result.substitutions.setdefault(line, []).append(Substitution(line, text, resolved.value, key))
        for name in dict.fromkeys(resolved.unset):
            if record:
                self.result.warnings.append(
                    ComposeProblem(self.result.path, line, f"variable {name} is not set: substituted an empty string")
                )
        return resolved.value

    def load_all(self, text: str, extra: list[str]) -> MarkedDict | None:
        """The files merged in order, each `include:` appended to the list as it is met."""
        merged = self.document(text, self.result.path)
        if merged is None:
            return None
        if self.newest and merged.get("services", {}) is None:
            # 1.6 reads `services:` left empty as no services (earlier releases stop on it).
            merged["services"] = _marked_dict(merged)
        pending = list(extra)
        self.take_includes(merged, self.result.path, pending)
        seen = {self.result.path}
        while pending:
            name = pending.pop(0)
            if name in seen:
                # podman-compose would read it again and again; one merge says the same.
                continue
            seen.add(name)
            other_text = self.fetch(name, merged.line)
            if other_text is None:
                return None
            other = self.document(other_text, name)
            if other is None:
                return None
            self.take_includes(other, name, pending)
            if not self.merge(merged, other, ""):
                return None
        return merged

    def fetch(self, name: str, line: int) -> str | None:
        if self.read is None:
            self.problem(line, f"{name}: another file is named but cannot be read here")
            return None
        try:
            return self.read(name)
        except SourceError as exc:
            self.problem(line, f"{exc.path}: {exc.message}")
            return None

    def take_includes(self, document: MarkedDict, name: str, pending: list[str]) -> None:
        include = document.pop("include", None)
        if include is None:
            return
        line = document.key_lines.pop("include", document.line)
        if not isinstance(include, MarkedList):
            self.problem(line, "'include' is not a list")
            return
        for index, item in enumerate(include):
            # 1.6 reads `{path: ...}` and resolves against the including file; earlier
            # releases take plain strings only, relative to the first file's folder.
            target = item.get("path") if isinstance(item, MarkedDict) and self.newest else item
            if not isinstance(target, str) or not target:
                self.problem(include.line_of(index), "include: an entry podman-compose cannot read as a file path")
                continue
            base = posixpath.dirname(name) if self.newest else self.first_dir
            pending.append(posixpath.normpath(posixpath.join(base, target)))

    def merge(self, target: MarkedDict, source: MarkedDict, where: str) -> bool:
        """rec_merge: new keys added, mappings merged, lists appended, anything else replaced."""
        for key, value in source.items():
            line = source.line_of(key)
            if key not in target:
                target[key] = value
                target.key_lines[key] = line
                continue
            old = target[key]
            if isinstance(old, Reset) or isinstance(value, Reset):
                del target[key]
                continue
            if isinstance(old, Override) or isinstance(value, Override):
                target[key] = old.value if isinstance(old, Override) else value.value
                target.key_lines[key] = line
                continue
            if key in ("command", "entrypoint"):
                target[key] = value
                target.key_lines[key] = line
                continue
            if old is None and isinstance(value, MarkedDict) and self.newest:
                # 1.6 merges a mapping into an empty key (`vol:` then `vol: {driver: x}`).
                old = target[key] = _marked_dict(value)
            if isinstance(old, MarkedDict) and isinstance(value, MarkedDict):
                if not self.merge(old, value, f"{where}{key}."):
                    return False
            elif isinstance(old, MarkedList) and isinstance(value, MarkedList):
                if key == "volumes":
                    # An override's mount replaces the base's mount of the same target.
                    targets = {item.split(":", 2)[1] for item in value if isinstance(item, str) and ":" in item}
                    kept = [
                        (item, old.line_of(i))
                        for i, item in enumerate(old)
                        if not (isinstance(item, str) and ":" in item and item.split(":", 2)[1] in targets)
                    ]
                    old[:] = [item for item, _ in kept]
                    old.item_lines = [item_line for _, item_line in kept]
                old.extend(value)
                old.item_lines = [*old.item_lines, *value.item_lines]
            elif not isinstance(value, type(old)):
                self.problem(
                    line, f"{where}{key}: cannot merge a {_kind(value)} over a {_kind(old)} (podman-compose stops here)"
                )
                return False
            else:
                target[key] = value
                target.key_lines[key] = line
        return True

    def extends(self, document: MarkedDict) -> None:
        services = document.get("services")
        if not isinstance(services, MarkedDict):
            return
        done: set[str] = set()
        for name in list(services):
            self.extend_one(services, name, done, [])

    def extend_one(self, services: MarkedDict, name: str, done: set[str], chain: list[str]) -> None:
        body = services.get(name)
        if name in done or not isinstance(body, MarkedDict):
            return
        if name in chain:
            self.problem(services.line_of(name), f"service {name}: extends itself through {' -> '.join(chain)}")
            done.add(name)
            return
        done.add(name)
        extends = body.get("extends")
        if not isinstance(extends, MarkedDict) or not extends.get("service"):
            return
        line = body.line_of("extends")
        parent_name = str(extends["service"])
        file_name = extends.get("file")
        if isinstance(file_name, str) and file_name:
            parent = self.extended_from_file(file_name, parent_name, line)
            if parent is None:
                return
        else:
            done.discard(name)
            self.extend_one(services, parent_name, done, [*chain, name])
            done.add(name)
            found = services.get(parent_name)
            if parent_name not in services:
                self.problem(line, f"service {name}: extends service {parent_name!r}, which the file does not define")
                return
            parent = _marked_dict(found) if isinstance(found, MarkedDict) else _marked_dict(MarkedDict())
            if isinstance(found, MarkedDict):
                parent.update(found)
                parent.key_lines.update(found.key_lines)
            parent.pop("extends", None)
        merged = _deep_copy(parent)
        if self.merge(merged, _deep_copy(body), f"service {name}: "):
            services[name] = merged

    def extended_from_file(self, file_name: str, service: str, line: int) -> MarkedDict | None:
        # 1.6 reads the file beside the one that says `extends:`; earlier releases beside the first file.
        base = posixpath.dirname(self.result.locate(line)[0]) if self.newest else self.first_dir
        path = posixpath.normpath(posixpath.join(base, file_name))
        text = self.fetch(path, line)
        if text is None:
            return None
        document = self.document(text, path)
        if document is None:
            return None
        services = document.get("services", document)
        found = services.get(service) if isinstance(services, MarkedDict) else None
        return found if isinstance(found, MarkedDict) else _marked_dict(MarkedDict())


def _untag(node: Any, found: list[tuple[int, str]]) -> None:
    """Tags no merge consumed, removed; each named in `found` with its line: 1.6 keeps them in
    its model and then fails on them (`'ResetTag' object has no attribute 'get'`)."""
    if isinstance(node, MarkedDict):
        for key, value in list(node.items()):
            if isinstance(value, (Reset, Override)):
                found.append((node.line_of(key), f"{key}: !{'reset' if isinstance(value, Reset) else 'override'}"))
                del node[key]
            else:
                _untag(value, found)
    elif isinstance(node, MarkedList):
        for value in node:
            _untag(value, found)


def _marked_dict(node: MarkedDict) -> MarkedDict:
    copy = MarkedDict()
    copy.line = getattr(node, "line", 1)
    copy.key_lines = {}
    return copy


def _deep_copy(node: Any) -> Any:
    if isinstance(node, MarkedDict):
        copy = _marked_dict(node)
        for key, value in node.items():
            copy[key] = _deep_copy(value)
        copy.key_lines = dict(node.key_lines)
        return copy
    if isinstance(node, MarkedList):
        items = MarkedList(_deep_copy(item) for item in node)
        items.line, items.item_lines = node.line, list(node.item_lines)
        return items
    return node


def _shift(node: Any, offset: int) -> None:
    if isinstance(node, MarkedDict):
        node.line += offset
        node.key_lines = {key: line + offset for key, line in node.key_lines.items()}
        for value in node.values():
            _shift(value, offset)
    elif isinstance(node, MarkedList):
        node.line += offset
        node.item_lines = [line + offset for line in node.item_lines]
        for value in node:
            _shift(value, offset)


def _kind(value: Any) -> str:
    if isinstance(value, MarkedDict):
        return "mapping"
    if isinstance(value, MarkedList):
        return "list"
    return "null" if value is None else type(value).__name__


def _normalise_service(body: MarkedDict) -> None:
    """The forms podman-compose turns into one before it merges (normalize_service)."""
    for key in ("volumes", "env_file", "security_opt"):
        if isinstance(body.get(key), str):
            single = MarkedList([body[key]])
            single.line = body.line_of(key)
            single.item_lines = [single.line]
            body[key] = single
    extends = body.get("extends")
    if isinstance(extends, str):
        as_dict = _marked_dict(body)
        as_dict["service"] = extends
        as_dict.line = body.line_of("extends")
        as_dict.key_lines = {"service": as_dict.line}
        body["extends"] = as_dict
    for key in ("environment", "labels"):
        entries = body.get(key)
        if isinstance(entries, MarkedList) and all(isinstance(item, str) for item in entries):
            as_dict = MarkedDict()
            as_dict.line, as_dict.key_lines = entries.line, {}
            for index, item in enumerate(entries):
                name, equals, value = item.partition("=")
                as_dict[name] = value if equals else None
                as_dict.key_lines[name] = entries.line_of(index)
            body[key] = as_dict


def _named_volumes(result: ComposeFile, document: MarkedDict) -> None:
    """A named volume a service mounts must be declared (podman-compose: "not defined in top level")."""
    declared = document.get("volumes")
    names = set(declared) if isinstance(declared, MarkedDict) else set()
    for service in result.services.values():
        for mount in service.volumes:
            if mount.kind == "volume" and mount.source and mount.source not in names:
                result.problems.append(
                    ComposeProblem(
                        result.path,
                        mount.line,
                        f"service {service.name}: volume {mount.source!r} is not declared under the top-level"
                        " 'volumes' (podman-compose refuses the file)",
                        refused=True,
                    )
                )


def _networks(result: ComposeFile, document: MarkedDict) -> None:
    """Every network a service joins must be declared (podman-compose: "missing networks")."""
    declared = document.get("networks")
    names = list(declared) if isinstance(declared, MarkedDict) else []
    result.networks = tuple(names)
    known = names or ["default"]
    default = known[0] if len(known) == 1 else ("default" if "default" in known else None)
    services = document.get("services")
    if not isinstance(services, MarkedDict):
        return
    for name, body in services.items():
        if not isinstance(body, MarkedDict):
            continue
        joined = body.get("networks", default)
        if isinstance(joined, MarkedDict):
            wanted = [str(key) for key in joined]
        elif isinstance(joined, MarkedList):
            wanted = [str(item) for item in joined]
        elif joined is None:
            wanted = []
        else:
            wanted = [str(joined)]
        result.service_networks[name] = tuple(wanted)
        for network in wanted:
            if network not in known:
                result.problems.append(
                    ComposeProblem(
                        result.path,
                        body.line_of("networks"),
                        f"service {name}: network {network!r} is not declared under the top-level 'networks'"
                        " (podman-compose refuses the file: missing networks)",
                        refused=True,
                    )
                )


class _Parser:
    def __init__(self, result: ComposeFile, line_text: Callable[[int], str]) -> None:
        self.result = result
        # Kept only to see how a scalar was spelled (the base-60 port trap).
        self.line_text = line_text

    def problem(self, line: int, message: str, refused: bool = False) -> None:
        self.result.problems.append(ComposeProblem(self.result.path, line, message, refused))

    def document(self, document: Any) -> None:
        if not isinstance(document, MarkedDict):
            line = document.line if isinstance(document, MarkedList) else 1
            self.problem(line, "top level is not a mapping", refused=True)
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
            self.problem(document.line_of("services"), "'services' is not a mapping", refused=True)
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
            self.problem(line, f"service {name}: not a mapping", refused=True)
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
        for match in _BASE60_RE.finditer(self.line_text(line)):
            number = 0
            for digits in match.group().replace("_", "").split(":"):
                number = number * 60 + int(digits)
            if number == value:
                return match.group()
        return None

    def short_port(self, service: str, spec: str, line: int) -> Iterator[PortMapping]:
        found = read_publish(spec, compose_short=True)
        if isinstance(found, str):
            self.problem(line, f"service {service}: port {spec!r}: {found}")
            return
        for host_port, container_port, protocol in found.mappings():
            yield PortMapping(found.host_ip, host_port, container_port, protocol, line)

    def long_port(self, service: str, item: MarkedDict, line: int) -> Iterator[PortMapping]:
        if "target" not in item:
            self.problem(line, f"service {service}: port: long syntax needs 'target'")
            return
        published = item.get("published")
        host_ip = item.get("host_ip")
        found = publish_fields(
            None if host_ip is None else str(host_ip).strip(),
            None if published in (None, "") else str(published).strip(),
            str(item["target"]).strip(),
            str(item.get("protocol") or "tcp"),
        )
        if isinstance(found, str):
            self.problem(line, f"service {service}: port: {found}")
            return
        for host_port, container_port, protocol in found.mappings():
            yield PortMapping(found.host_ip, host_port, container_port, protocol, line)

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
            # parse_short_mount runs while podman-compose loads the file: it stops on these.
            self.problem(line, f"service {service}: volume {spec!r}: {reason}", refused=True)

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
                        refused=True,
                    )
                    continue
                if not isinstance(item, str):
                    self.problem(
                        line, f"service {service}: environment entry is not a 'NAME=value' string", refused=True
                    )
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
