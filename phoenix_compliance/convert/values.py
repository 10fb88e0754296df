"""Compose values read for the units: ports, pairs, sizes, durations, paths (no unit is written here)."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from phoenix_compliance.parsers import compose
from phoenix_compliance.parsers.compose import ComposeService
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList

RESTART = {"no": "no", "always": "always", "unless-stopped": "always", "on-failure": "on-failure"}
SECRET_NAME_BAD = re.compile(r"[^a-z0-9_.-]+")
MEMORY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)b?\s*$", re.I)

# A variable name a printed shell command may name (POSIX: letters, digits, underscores).
SHELL_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SINGLE_IN_POD = frozenset({"HostName", "UserNS"})
DOCKER_SOCKETS = frozenset({"/var/run/docker.sock", "/run/docker.sock"})
PODMAN_SOCKET = "%t/podman/podman.sock"


def labels_disabled(service: ComposeService) -> bool:
    options = service.body.get("security_opt") if service.body is not None else None
    return isinstance(options, MarkedList) and any(str(o).replace("=", ":") == "label:disable" for o in options)


def shell_path(path: str) -> str:
    """A host path for a command the user runs in a shell (%h is systemd's, $HOME the shell's)."""
    if path.startswith("%h"):
        return '"$HOME"' + (shlex.quote(path[2:]) if path[2:] else "")
    return shlex.quote(path)


def empty_mapping() -> MarkedDict:
    empty = MarkedDict()
    empty.line, empty.key_lines = 1, {}
    return empty


def home_relative(folder: Path) -> str:
    home = Path.home()
    try:
        return "%h/" + folder.relative_to(home).as_posix() if folder != home else "%h"
    except ValueError:
        return folder.as_posix()


def publish_spec(port: compose.PortMapping) -> str:
    parts = [f"[{port.host_ip}]" if port.host_ip and ":" in port.host_ip else port.host_ip or ""]
    spec = f"{port.host_port}:{port.container_port}" if port.host_port is not None else f"{port.container_port}"
    if parts[0]:
        spec = f"{parts[0]}:{spec}" if port.host_port is not None else f"{parts[0]}::{port.container_port}"
    return spec if port.protocol == "tcp" else f"{spec}/{port.protocol}"


def pairs(value: Any) -> Iterable[str]:
    if isinstance(value, MarkedDict):
        return [f"{key}={'' if item is None else item}" for key, item in value.items()]
    if isinstance(value, MarkedList):
        return [str(item) for item in value]
    return []


def byte_size(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = MEMORY.match(str(value))
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * 1024 ** " kmgt".index(unit or " "))


def memory_size(value: Any) -> str | None:
    size = byte_size(value)
    return None if size is None or size < 0 else str(size)


DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(us|ms|s|m|h)")


def duration_seconds(value: Any) -> int | None:
    """A compose duration (`1m30s`, `10s`, a number of seconds) in whole seconds, rounded up;
    None for what is not one (a list, `²`, a negative number)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    if isinstance(value, (int, float)):
        return int(-(-value // 1)) if math.isfinite(value) and value >= 0 else None
    text = value.strip()
    if re.fullmatch("[0-9]+", text):
        return int(text)
    parts = DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    factor = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    total = sum(float(number) * factor[unit] for number, unit in parts)
    return int(-(-total // 1))


def _number(value: Any) -> float | None:
    """A finite number from a compose value (a number or its text); None for the rest."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        number = float(value) if isinstance(value, (int, float)) or re.fullmatch(r"\s*[0-9.eE+-]+\s*", value) else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def cpu_quota(value: Any) -> str | None:
    """`cpus` as systemd's CPUQuota= (a percentage of one CPU)."""
    number = _number(value)
    return None if number is None or number < 0 or number > 1e6 else f"{round(number * 100)}%"


def tasks_max(value: Any) -> str | None:
    """`pids_limit` as systemd's TasksMax= (-1 and 0: no limit)."""
    number = _number(value)
    if number is None or number != int(number) or number < -1:
        return None
    return "infinity" if number in (-1, 0) else str(int(number))


def cpu_weight(value: Any) -> str | None:
    """`cpu_shares` (2..262144) as systemd's CPUWeight= (1..10000), as runc maps them."""
    number = _number(value)
    if number is None or number != int(number):
        return None
    return str(max(1, min(10000, 1 + (int(number) - 2) * 9999 // 262142)))
