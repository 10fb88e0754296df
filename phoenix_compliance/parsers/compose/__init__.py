"""Compose files as podman-compose reads them, with the line of everything.

A plain package (no pytest). Checks compare the running stack with what the
compose file asks for, and lint the file for what podman-compose would reject
only at `up` time; both need file:line, so every value keeps its line and every
problem is recorded (never raised) so that one run reports all of them.

The rules follow podman-compose (PyYAML, `parse_short_mount`) where it differs
from the compose spec, because podman-compose is what runs the file.

Split by role: ``model`` (what a project reads as), ``spec`` (the names and
spellings podman-compose reads), ``loading`` (one file read and substituted),
``merge`` (-f files, ``include:``, ``extends:``), ``syntax`` (ports and volumes),
``services`` (the services of the merged project), ``validation`` (keys and types
against the compose specification's JSON schema, shipped in ``schema/``) and ``project`` (``load`` and
``parse``). Callers use the names below, never the modules.
"""

from __future__ import annotations

from phoenix_compliance.parsers.compose.model import (
    LINE_STRIDE,
    ComposeFile,
    ComposeProblem,
    ComposeService,
    EnvVar,
    Override,
    PortMapping,
    Reset,
    Substitution,
    VolumeMount,
)
from phoenix_compliance.parsers.compose.project import load, parse
from phoenix_compliance.parsers.compose.syntax import port_spec, volume_spec
from phoenix_compliance.parsers.compose.validation import SERVICE_KEYS, TOP_LEVEL_KEYS

__all__ = [
    "LINE_STRIDE",
    "SERVICE_KEYS",
    "TOP_LEVEL_KEYS",
    "ComposeFile",
    "ComposeProblem",
    "ComposeService",
    "EnvVar",
    "Override",
    "PortMapping",
    "Reset",
    "Substitution",
    "VolumeMount",
    "load",
    "parse",
    "port_spec",
    "volume_spec",
]
