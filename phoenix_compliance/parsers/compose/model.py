"""What a compose project reads as: the services, their ports, mounts and variables, and the problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from phoenix_compliance.parsers.yamlmarks import MarkedDict


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
    # The words of `command:` and `entrypoint:` with their key: a string split by shlex before it is
    # substituted, as podman-compose does (loading.normalise_service).
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
