"""Names that become file names, and the project's name as podman-compose makes it.

A unit file's name comes from a compose service, volume or network name, the project's name,
or the stack manifest's target and pod unit: all of them input the user did not necessarily
write. ``unit_file_name()`` is the only way such a name becomes a file name: it takes what both
Podman and podman-compose accept as a name and refuses the rest (a `/`, `..`, an absolute path,
a control character, a specifier), so every file lands directly in the folder asked for.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path

from phoenix_compliance.grammar.names import PODMAN_NAME
from phoenix_compliance.parsers.interpolation import parse_dotenv
from phoenix_compliance.parsers.yamlmarks import SourceError, read_source

# The file types the converter writes.
UNIT_SUFFIXES = frozenset({"container", "pod", "volume", "network", "target"})
# A file name's limit on Linux (NAME_MAX), in bytes.
_NAME_MAX = 255
# podman-compose's norm_re (podman_compose.py at v1.3.0 and v1.6.0): what it removes from a project
# name made from the folder (1.3.0) or from any source (1.6.0); capitals are removed, not lowered.
_PROJECT_DROPPED = re.compile(r"[^-_a-z0-9]")


class NameRefused(ValueError):
    """A name that must not become a file name; the message says why."""


def check_name(name: str, what: str) -> str:
    """A name Podman accepts for a container, pod, volume or network (libpod's NameRegex), which
    podman-compose also takes; anything else is refused."""
    if not isinstance(name, str) or not PODMAN_NAME.match(name) or name.endswith("\n"):
        raise NameRefused(
            f"{what} {name!r} is not a name Podman accepts ([a-zA-Z0-9][a-zA-Z0-9_.-]*); "
            "it would not become a file inside the output folder"
        )
    return name


def unit_file_name(name: str, suffix: str, what: str) -> str:
    """The file name of a unit: `NAME.SUFFIX`, NAME a name Podman accepts; a plain file name,
    never a path."""
    if suffix not in UNIT_SUFFIXES:
        raise NameRefused(f"{what}: .{suffix} is not a unit the converter writes")
    file_name = f"{check_name(name, what)}.{suffix}"
    if len(file_name.encode("utf-8")) > _NAME_MAX:
        raise NameRefused(f"{what} {name!r} is longer than a file name may be")
    assert "/" not in file_name and posixpath.basename(file_name) == file_name
    return file_name


def given_unit_name(file_name: str, suffix: str, what: str) -> str:
    """A unit file name given whole (the manifest's target or pod unit): `NAME.SUFFIX` as above."""
    stem, dot, given = file_name.rpartition(".")
    if not dot or given != suffix:
        raise NameRefused(f"{what} {file_name!r} is not a NAME.{suffix} file name")
    return unit_file_name(stem, suffix, what)


def normalise_project(name: str) -> str:
    """podman-compose 1.6.0's project name: characters outside [-_a-z0-9] removed (1.3.0 does
    the same to a name from the folder or COMPOSE_PROJECT_NAME, and keeps a `name:` as written,
    which Podman then refuses in volume names when it holds other characters)."""
    return _PROJECT_DROPPED.sub("", name)


def dotenv_project_name(compose_path: Path, env_files: Sequence[Path] = ()) -> str | None:
    """COMPOSE_PROJECT_NAME as the env files set it (the `.env` beside the first compose file, or
    the --env-file files instead, a later one winning); podman-compose 1.6.0 takes it over `name:`."""
    found: str | None = None
    for env_file in env_files or [compose_path.parent / ".env"]:
        if not env_files and not env_file.is_file():
            continue
        try:
            values = parse_dotenv(read_source(env_file, "the env file"), {})
        except SourceError:
            continue  # read_compose() reports an unreadable env file
        found = values.get("COMPOSE_PROJECT_NAME") or found
    return found
