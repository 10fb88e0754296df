"""The trace an optional service group (the guide's observability stack) leaves on a host:
its compose file, its Quadlet units, its services' containers. Read from the facts the other
checks read (the stack probe, the Quadlet folder's listing, the Podman API): nothing more is
asked of the host."""

from __future__ import annotations

from dataclasses import dataclass

from phoenix_compliance.facts.files import ComposeSource, FileSources
from phoenix_compliance.facts.podman import PodmanFacts
from phoenix_compliance.parsers.manifest import ServiceGroup


@dataclass(frozen=True)
class GroupTrace:
    """What of a group the host has; `live` False when judged from local files alone (no containers)."""

    group: ServiceGroup
    compose: ComposeSource
    folder: str
    units: tuple[str, ...]
    containers: tuple[str, ...]
    live: bool
    containers_where: str

    @property
    def present(self) -> bool:
        return self.compose.parsed is not None or bool(self.units) or bool(self.containers)

    def parts(self) -> list[tuple[str, bool]]:
        """Every part of the group, and whether the host has it."""
        parts = [(f"compose file {self.compose.where}", self.compose.parsed is not None)]
        parts += [(f"unit {unit} in {self.folder}", unit in self.units) for unit in self.group.units]
        if self.live:
            parts += [(f"container of {s}", s in self.containers) for s in self.group.service_names()]
        return parts

    def found(self) -> list[str]:
        return [part for part, here in self.parts() if here]

    def missing(self) -> list[str]:
        return [part for part, here in self.parts() if not here]

    def absent_reason(self) -> str:
        """Why the group's checks do not apply: the host has no part of it."""
        checked = f"; containers from {self.containers_where}" if self.live else ""
        return f"the optional group {self.group.name} is not deployed (no {', no '.join(self.missing())}{checked})"


class OptionalGroups:
    """Each optional group's trace on the host, read once from the shared facts."""

    def __init__(self, files: FileSources, podman: PodmanFacts) -> None:
        self.files = files
        self.podman = podman
        self._traces: dict[tuple[str, bool], GroupTrace] = {}

    def trace(self, group: ServiceGroup, live: bool = True) -> GroupTrace:
        key = (group.name, live)
        if key not in self._traces:
            folder = self.files.quadlet
            containers = (
                tuple(s for s in group.service_names() if self.podman.container_for(s) is not None) if live else ()
            )
            self._traces[key] = GroupTrace(
                group=group,
                compose=self.files.group_compose(group),
                folder=folder.where,
                units=tuple(unit for unit in group.units if unit in folder.units),
                containers=containers,
                live=live,
                containers_where=self.podman.where if live else "",
            )
        return self._traces[key]
