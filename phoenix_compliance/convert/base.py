"""The converter's state and its reporting: gaps, notes, where a line is, the one key writer
(``write()``) and the one way a name becomes a file name (``file_name()``)."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from phoenix_compliance import redact
from phoenix_compliance.convert.mapping import read_of, since
from phoenix_compliance.convert.model import DEFAULT_TARGET, Conversion, Gap, Options, SecretToCreate
from phoenix_compliance.convert.names import (
    NameRefused,
    check_name,
    given_unit_name,
    normalise_project,
    unit_file_name,
)
from phoenix_compliance.convert.units import Specifier, Text, Unit, Unrepresentable, escape
from phoenix_compliance.convert.values import SECRET_NAME_BAD, empty_mapping, home_relative
from phoenix_compliance.grammar import secrets
from phoenix_compliance.parsers.compose import ComposeFile, ComposeProblem, VolumeMount
from phoenix_compliance.parsers.yamlmarks import MarkedDict
from phoenix_compliance.quadlet.versions import FILE_TYPE_SINCE, QUADLET_KEYS, format_version, keys_for

# (service, compose field, line of the compose model) a written value comes from.
Where = tuple[str | None, str, int]


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
        self.conversion = Conversion({}, [], [], [], list(source.problems), DEFAULT_TARGET)
        self.document: MarkedDict = source.document if source.document is not None else empty_mapping()
        origin = options.origin
        target = options.target if options.target.endswith(".target") else f"{options.target}.target"
        self.target = self.given(target, "target", f"{origin}: target") or DEFAULT_TARGET
        self.conversion.target = self.target
        project = self.project_name()
        pod_name = project
        if options.pod_name is not None:
            pod_name = self.checked(options.pod_name, f"{origin}: pod") or project
        pod = None
        if FILE_TYPE_SINCE["pod"] <= self.version:
            if options.pod_unit is not None:
                pod = self.given(options.pod_unit, "pod", f"{origin}: pod_unit")
            else:
                pod = self.file_name(pod_name, "pod", "the pod's name", self.name_line)
            pod = pod or "stack.pod"
        self.stack = _Stack(project, pod, pod_name)
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
        self.pod_shm_line = 1
        self.pod_keys: dict[str, list[tuple[str, Where]]] = {}

    # -- reporting -----------------------------------------------------------

    def gap(self, line: int, service: str | None, key: str, why: str) -> None:
        self.conversion.gaps.append(Gap(*self.source.locate(line), service, key, why))

    def problem(self, line: int, message: str) -> None:
        """A compose value of the wrong type or shape, with its file and line."""
        path, within = self.source.locate(line)
        self.conversion.problems.append(ComposeProblem(path, within, message))

    def where(self, line: int) -> str:
        """file:line of a line of the compose model (an override, included or extended file's too)."""
        path, within = self.source.locate(line)
        return f"{Path(path).name}:{within}"

    def note(self, text: str) -> None:
        self.conversion.notes.append(text)

    # -- the one writer of keys and of file names ----------------------------

    def has_key(self, section: str, key: str) -> bool:
        return key in keys_for(section, self.version)

    def write(
        self,
        unit: Unit,
        section: str,
        key: str,
        value: Text | Sequence[Text],
        where: Where,
        comment: str | None = None,
    ) -> bool:
        """The one way a key reaches a unit: written only if the release has it (else a gap naming
        the release that does), never from a line podman-compose cannot substitute, and escaped
        so that it reads back as it is (else a gap naming why, and nothing written)."""
        service, field_name, line = where
        if section in QUADLET_KEYS and not self.has_key(section, key):
            known = since(section, key)
            later = f"{key}= arrived in Podman {format_version(known)}" if known else f"Quadlet has no {section} {key}="
            self.gap(line, service, field_name, f"{later}; not written for {format_version(self.version)}")
            return False
        if line in self.source.unresolved:
            self.gap(line, service, field_name, "podman-compose cannot substitute its value (see the problems)")
            return False
        try:
            text = escape(value, read_of(section, key))
        except Unrepresentable as error:
            self.gap(line, service, field_name, f"{error}; not written")
            return False
        # Secret= names a podman secret the converter made (from compose names), not a value.
        if key not in secrets.REFERENCE_NAMES and self.substitutes_secret(line, [text, *_plain_parts(value)]):
            # A secret substituted from the environment or a `.env` (redact.withhold): a unit
            # file is no place for it; environment variables become podman secrets instead.
            self.gap(line, service, field_name, "its value holds a substituted secret; not written as a literal")
            return False
        unit.add(section, key, text, comment)
        return True

    def substitutes_secret(self, line: int, texts: Sequence[str]) -> bool:
        """Whether the texts hold a secret value that substitution put on this line (a value the
        file spells out itself, `image: postgres` beside POSTGRES_PASSWORD=postgres, is the file's)."""
        substituted = {
            value
            for substitution in self.source.substitutions.get(line, [])
            for value in redact.withheld_in(substitution.resolved)
            if value not in substitution.written
        }
        return any(value in text for value in substituted for text in texts)

    def file_name(self, name: str, suffix: str, what: str, line: int) -> str | None:
        """The one way a compose name becomes a unit's file name (names.unit_file_name()); a
        refused name is kept with its file:line, and then nothing is written."""
        try:
            return unit_file_name(name, suffix, what)
        except NameRefused as error:
            self.refuse(f"{self.where(line)}: {error}")
            return None

    def given(self, file_name: str, suffix: str, what: str) -> str | None:
        """A unit file name the stack manifest gives whole (its target, its pod unit)."""
        try:
            return given_unit_name(file_name, suffix, what)
        except NameRefused as error:
            self.refuse(str(error))
            return None

    def checked(self, name: str, what: str, line: int | None = None) -> str | None:
        try:
            return check_name(name, what)
        except NameRefused as error:
            self.refuse(f"{self.where(line)}: {error}" if line is not None else str(error))
            return None

    def refuse(self, message: str) -> None:
        if message not in self.conversion.refused:
            self.conversion.refused.append(message)

    # -- names ---------------------------------------------------------------

    @property
    def name_line(self) -> int:
        return self.document.line_of("name") if "name" in self.document else 1

    def project_name(self) -> str:
        """The project's name as podman-compose 1.6.0 makes it (read_compose() puts the env files'
        COMPOSE_PROJECT_NAME over `name:`; the folder's name when neither is set). The stack
        manifest's pod name, when given, names the units instead."""
        if self.options.pod_name:
            return self.checked(self.options.pod_name, f"{self.options.origin}: pod") or "stack"
        given = self.source.project_name
        written = given if given else Path(self.source.path).resolve().parent.name.lower()
        name = normalise_project(written)
        if given and name != written:
            self.note(
                f"project name {written!r} ({self.where(self.name_line)}) is {name!r} as podman-compose 1.6.0 "
                "normalises it (1.3.0 keeps a `name:` as written, which Podman refuses in volume names)"
            )
        if not name:
            self.refuse(f"{self.where(self.name_line)}: project name {written!r} is empty once normalised")
            return "stack"
        return self.checked(name, "the project name", self.name_line) or "stack"

    def secret_name(self, service: str, what: str) -> str:
        return SECRET_NAME_BAD.sub("-", f"{self.stack.project}-{service}-{what}".lower()).strip("-.")

    def create_secret(self, name: str, holds: str, command: str) -> None:
        if all(secret.name != name for secret in self.conversion.secrets):
            self.conversion.secrets.append(SecretToCreate(name, holds, command))

    # -- paths ---------------------------------------------------------------

    def host_path(self, path: str) -> str:
        """A path of the compose file as the host that runs the units sees it (`%h`: the home)."""
        if path.startswith("~/") or path == "~":
            return "%h" + path[1:]
        if path.startswith("/"):
            return path
        return posixpath.normpath(posixpath.join(self.compose_dir, path))

    def bind_source(self, mount: VolumeMount) -> str:
        assert mount.source is not None
        return self.host_path(mount.source)


def _plain_parts(value: Text | Sequence[Text]) -> list[str]:
    """The literal text of a value as given, before escaping (`%` doubled, say) changes it."""
    texts = [value] if isinstance(value, (str, tuple)) else list(value)
    return [part for text in texts for part in ((text,) if isinstance(text, str) else text) if isinstance(part, str)]


def spliced(path: str) -> Text:
    """A host path for a unit value: a leading `%h` or `%t` (the converter's own, host_path())
    is a specifier, the rest literal text."""
    for prefix in ("%h", "%t"):
        if path == prefix or path.startswith(prefix + "/"):
            return (Specifier(prefix), path[len(prefix) :])
    return path
