"""The converter's state and its reporting: gaps, notes, where a line is, and the one key writer."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from phoenix_compliance.convert.model import Conversion, Gap, Options, SecretToCreate
from phoenix_compliance.convert.units import Unit, systemd_literal
from phoenix_compliance.convert.values import SECRET_NAME_BAD, empty_mapping, home_relative
from phoenix_compliance.parsers.compose import ComposeFile, VolumeMount
from phoenix_compliance.parsers.yamlmarks import MarkedDict
from phoenix_compliance.quadlet_lint.versions import FILE_TYPE_SINCE, QUADLET_KEYS, format_version, keys_for


@dataclass
class _Stack:
    project: str
    pod: str | None  # the pod's unit file name, None where the release has no .pod
    pod_name: str
    networks: dict[str, str] = field(default_factory=dict)  # compose name -> .network file
    volumes: dict[str, str] = field(default_factory=dict)  # compose name -> .volume file or external name


class Base:
    def __init__(self, source: ComposeFile, options: Options) -> None:
        self.source = source
        self.options = options
        self.version = options.version
        target = options.target if options.target.endswith(".target") else f"{options.target}.target"
        self.target = target
        self.conversion = Conversion({}, [], [], [], list(source.problems), target)
        self.document: MarkedDict = source.document if source.document is not None else empty_mapping()
        project = options.pod_name or source.project_name or Path(source.path).resolve().parent.name or "stack"
        pod = None
        if FILE_TYPE_SINCE["pod"] <= self.version:
            pod = options.pod_unit or f"{project}.pod"
        self.stack = _Stack(project, pod, options.pod_name or project)
        if options.compose_dir is not None:
            self.compose_dir = options.compose_dir
        else:
            self.compose_dir = home_relative(Path(source.path).resolve().parent)
        # Sources bound by more than one service get the shared label (:z), the others the private one (:Z).
        binds: dict[str, int] = {}
        for service in source.services.values():
            for mount in {self.bind_source(m) for m in service.volumes if m.kind == "bind" and m.source}:
                binds[mount] = binds.get(mount, 0) + 1
        self.shared_binds = {path for path, count in binds.items() if count > 1}
        self.healthy_wanted: set[str] = set()
        self.pod_shm: int | None = None
        self.pod_keys: dict[str, list[str]] = {}

    # -- reporting -----------------------------------------------------------

    def gap(self, line: int, service: str | None, key: str, why: str) -> None:
        self.conversion.gaps.append(Gap(*self.source.locate(line), service, key, why))

    def where(self, line: int) -> str:
        """file:line of a line of the compose model (an override, included or extended file's too)."""
        path, within = self.source.locate(line)
        return f"{Path(path).name}:{within}"

    def note(self, text: str) -> None:
        self.conversion.notes.append(text)

    def raw(self, value: str, where: tuple[str | None, str, int]) -> str:
        """A value Quadlet takes whole (Lookup()): never quoted, and quotes at its ends are trimmed
        by the generator (every one before 5.8.2), so such a value is a gap."""
        if value.startswith('"') or value.endswith('"'):
            service, field_name, line = where
            self.gap(line, service, field_name, "starts or ends with a double quote, which Quadlet trims")
        return systemd_literal(value)

    def has_key(self, section: str, key: str) -> bool:
        return key in keys_for(section, self.version)

    def put(self, unit: Unit, section: str, key: str, value: str, where: tuple[str | None, str, int]) -> bool:
        """Write a Quadlet key if the release has it, else record the gap naming the release that does."""
        if self.has_key(section, key):
            unit.add(section, key, value)
            return True
        service, field_name, line = where
        since = QUADLET_KEYS.get(section, {}).get(key)
        later = f"{key}= arrived in Podman {format_version(since)}" if since else f"Quadlet has no {section} {key}="
        self.gap(line, service, field_name, f"{later}; not written for {format_version(self.version)}")
        return False

    # -- the whole stack -----------------------------------------------------

    def secret_name(self, service: str, what: str) -> str:
        return SECRET_NAME_BAD.sub("-", f"{self.stack.project}-{service}-{what}".lower()).strip("-.")

    def create_secret(self, name: str, holds: str, command: str) -> None:
        if all(secret.name != name for secret in self.conversion.secrets):
            self.conversion.secrets.append(SecretToCreate(name, holds, command))

    def host_path(self, path: str) -> str:
        """A path of the compose file as the host that runs the units sees it."""
        if path.startswith("~"):
            return "%h" + path[1:]
        if path.startswith("/"):
            return path
        return posixpath.normpath(posixpath.join(self.compose_dir, path))

    def bind_source(self, mount: VolumeMount) -> str:
        assert mount.source is not None
        return self.host_path(mount.source)
