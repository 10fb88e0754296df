"""The parts of the Podman API's documents the checks judge, read out of the JSON:
a container's health, its published ports, and the relabel options of its mounts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phoenix_compliance.grammar import volumes


@dataclass(frozen=True)
class Health:
    """A container's healthcheck as its inspect document shows it."""

    has_check: bool
    status: str
    last_output: str


def health(inspect: dict[str, Any] | None) -> Health:
    """Whether a healthcheck is defined, its status and its last output (exit code and text)."""
    if inspect is None:
        return Health(False, "", "")
    config = (inspect.get("Config") or {}).get("Healthcheck") or {}
    test = config.get("Test") or []
    has_check = bool(test) and test[0] != "NONE"
    state = (inspect.get("State") or {}).get("Health") or {}
    log = state.get("Log") or []
    last = log[-1] if log else {}
    output = f"exit {last.get('ExitCode')}: {str(last.get('Output', '')).strip()[:300]}" if last else ""
    return Health(has_check, str(state.get("Status") or ""), output)


def published(container: dict[str, Any]) -> set[tuple[int, int, str]]:
    """(host port, container port, protocol) of every port a listed container publishes, ranges expanded."""
    mappings: set[tuple[int, int, str]] = set()
    for port in container.get("Ports") or []:
        span = int(port.get("range") or 1)
        for offset in range(span):
            mappings.add(
                (
                    int(port["host_port"]) + offset,
                    int(port["container_port"]) + offset,
                    str(port.get("protocol") or "tcp"),
                )
            )
    return mappings


@dataclass(frozen=True)
class HostPort:
    """One Ports[] entry of a listed container: its ports as the API wrote them, and the host port's number."""

    host_port: Any
    container_port: Any
    number: int  # 0 when the entry names no host port


def host_ports(container: dict[str, Any]) -> list[HostPort]:
    ports = container.get("Ports") or []
    return [HostPort(p.get("host_port"), p.get("container_port"), int(p.get("host_port") or 0)) for p in ports]


def create_command_labels(document: dict[str, Any]) -> dict[str, str]:
    """Relabel options by container path, from the command that created the container.

    Podman 5.4 without SELinux drops :Z from Mounts[].Mode and HostConfig.Binds (seen on
    the reference host, contrary to older notes), but Config.CreateCommand keeps it.
    """
    words = [str(w) for w in (document.get("Config") or {}).get("CreateCommand") or []]
    labels: dict[str, str] = {}
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        spec = word.split("=", 1)[1] if word.startswith("--volume=") else None
        if word in ("-v", "--volume"):
            spec = following
        fields = volumes.volume_fields(spec) if spec is not None else None
        if fields is not None and len(fields) == 3:
            labels[fields[1]] = "".join(sorted(set(fields[2].split(",")) & volumes.RELABEL_OPTIONS))
        mount = volumes.parse_mount(following) if word == "--mount" and following is not None else None
        if mount is not None:
            labels[mount.target or ""] = mount.relabel or ""
    return labels


def mount_label(document: dict[str, Any], mount: dict[str, Any]) -> str:
    """The z/Z a mount of an inspect document carries: from Mounts[].Mode, else the create command."""
    recorded = {"z", "Z"} & set(str(mount.get("Mode") or "").split(","))
    if recorded:
        return "".join(sorted(recorded))
    return create_command_labels(document).get(str(mount.get("Destination")), "")


def is_infra(document: dict[str, Any]) -> bool:
    """A pod's infra container: it holds the pod's namespaces and runs no image of the stack
    (since Podman 5.5 none at all: its ImageName is empty)."""
    return bool(document.get("IsInfra"))


def name_of(document: dict[str, Any]) -> str:
    """An inspect document's container name, or the start of its id."""
    return str(document.get("Name") or document.get("Id", "?")[:12])
