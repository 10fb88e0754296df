"""What a conversion is made of: its options, the units, the gaps, notes and secrets to create."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from phoenix_compliance.convert.names import dotenv_project_name
from phoenix_compliance.convert.units import Unit
from phoenix_compliance.grammar.labels import system_content
from phoenix_compliance.grammar.sockets import is_api_socket
from phoenix_compliance.parsers import compose
from phoenix_compliance.parsers.compose import ComposeFile
from phoenix_compliance.quadlet.versions import Version

DEFAULT_TARGET = "phoenix.target"


@dataclass(frozen=True)
class Gap:
    """A compose field the units do not express, and why."""

    path: str
    line: int
    service: str | None
    key: str
    why: str

    def __str__(self) -> str:
        where = f"service {self.service}: " if self.service else ""
        return f"{self.path}:{self.line}: {where}{self.key}: {self.why}"


@dataclass(frozen=True)
class SecretToCreate:
    """A Podman secret the units use: its name, what it holds (never the value) and how to create it."""

    name: str
    holds: str
    command: str


@dataclass(frozen=True)
class Options:
    """What the units are written for: the Podman release, the stack's names and where the files live."""

    version: Version
    target: str = DEFAULT_TARGET
    pod_name: str | None = None
    pod_unit: str | None = None
    # The compose file's folder on the host that runs the units (relative binds resolve against it):
    # `%h/phoenix-hydra/infra/podman`; None: the compose file's own folder here.
    compose_dir: str | None = None
    # Where the target, pod and pod unit were given (the manifest's path), for messages.
    origin: str = "the stack manifest"


@dataclass
class Conversion:
    units: dict[str, Unit]
    gaps: list[Gap]
    notes: list[str]
    secrets: list[SecretToCreate]
    problems: list[compose.ComposeProblem]
    target: str
    # Names refused as file names, each with its file:line: then nothing may be written.
    refused: list[str] = field(default_factory=list)

    def texts(self) -> dict[str, str]:
        return {name: unit.text() for name, unit in self.units.items()}


def read_compose(paths: Sequence[Path], env_files: Sequence[Path] = ()) -> ComposeFile:
    """The compose file(s), read only through the compose parser, as podman-compose reads them:
    variables substituted, `extends:` and `include:` resolved, several files merged in order.
    The project is named as podman-compose 1.6.0 names it: COMPOSE_PROJECT_NAME from the env
    files first, then `name:` (the converter normalises either)."""
    source = compose.load(list(paths), env_files=env_files)
    from_env = dotenv_project_name(paths[0], env_files)
    return dataclasses.replace(source, project_name=from_env) if from_env else source


def is_pinned(image: str) -> bool:
    name = image.rsplit("/", 1)[-1]
    return "@" in image or (":" in name and not name.endswith(":latest"))


def is_system_path(source: str) -> bool:
    """A host path that must never be relabelled: system trees, API sockets, a whole home
    (the lint's and the security rules' own judgement)."""
    return system_content(source) is not None or is_api_socket(source)
