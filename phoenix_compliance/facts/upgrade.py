"""The upgrade probe read (Podman 6): the containers.conf files as Podman reads them, and what
podman itself says when a removed setting stops it (a 6.x host with a BoltDB store)."""

from __future__ import annotations

from functools import cached_property

from phoenix_compliance.facts.groups import GroupReader, ProbeGroup, unreadable
from phoenix_compliance.facts.identity import HostIdentity
from phoenix_compliance.grammar import containers_conf
from phoenix_compliance.grammar.containers_conf import ContainersConf, Layout, Problem, Setting

# What Podman 6 prints for each command while the store is BoltDB (libpod/runtime.go, v6.0.0).
BOLTDB_REMOVED = "the BoltDB database backend was removed"
BOLTDB_LEFT = "a BoltDB database exists but is no longer being used"


class UpgradeFacts(GroupReader):
    """The containers.conf files, read once, and podman's own refusal, if any."""

    def __init__(self, probe: ProbeGroup, host: HostIdentity) -> None:
        super().__init__(probe)
        self._host = host

    @cached_property
    def containers_conf(self) -> ContainersConf:
        section = self.section("containers_conf")
        conf = containers_conf.parse_probe(section.out)
        if conf.uid is None:
            raise unreadable(section, "the containers.conf files (an @@UID line first)")
        return conf

    @property
    def layout(self) -> Layout:
        """The order the host's Podman reads its files in (Podman 5's when its version is unknown)."""
        try:
            version = self._host.podman_version
        except Exception:  # podman refusing every command (BoltDB on 6.x) still has its files read
            version = None
        return containers_conf.layout_of(version)

    def setting(self, table: str, key: str) -> tuple[Setting | None, list[Problem]]:
        """The value Podman ends with for [table] key, and the line that set it."""
        return self.containers_conf.effective(table, key, self.layout)

    def config_where(self) -> str:
        return self._host.where(self.containers_conf.where(self.layout))

    def podman_refusal(self) -> str | None:
        """podman's own message when `podman info` failed naming a removed BoltDB store, else None."""
        section = self._host.probe.raw("podman_info")
        said = " ".join((section.err or section.out).split())
        if section.rc != 0 and (BOLTDB_REMOVED in said or BOLTDB_LEFT in said):
            return said
        return None
