"""The upgrade probe read (Podman 6): the containers.conf files as Podman reads them, and what
podman itself says when a removed setting stops it (a 6.x host with a BoltDB store)."""

from __future__ import annotations

import json
from functools import cached_property

from phoenix_compliance.facts.groups import CouldNotCheck, GroupReader, ProbeGroup, unreadable
from phoenix_compliance.facts.identity import HostIdentity
from phoenix_compliance.grammar import containers_conf
from phoenix_compliance.grammar.containers_conf import ContainersConf, Layout, Problem, Setting
from phoenix_compliance.grammar.versions import PodmanVersion, find_version

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
    def podman_release(self) -> PodmanVersion | None:
        """Podman's version as `podman info` names it (version.Version); raise CouldNotCheck as
        the info does."""
        value = self._host.info_value("version", "Version")
        return find_version(value) if isinstance(value, str) else None

    @cached_property
    def layout(self) -> Layout | None:
        """The order the host's Podman reads its files in, None when its release is unknown (podman
        refusing every command, as over a BoltDB store on 6.x: its files are still read).
        A hint only, so read from whichever of podman info and podman version answered."""
        for name in ("podman_info", "podman_version"):
            section = self._host.probe.raw(name)
            try:
                payload = json.loads(section.out) if section.rc == 0 else None
            except ValueError:
                continue
            part = payload.get("version" if name == "podman_info" else "Client") if isinstance(payload, dict) else None
            version = part.get("Version") if isinstance(part, dict) else None
            if version is None:
                continue
            found = find_version(str(version))
            if found is not None:
                return containers_conf.layout_of(found)
        return None

    def setting(self, table: str, key: str) -> tuple[Setting | None, list[Problem]]:
        """The value Podman ends with for [table] key, and the line that set it. With the release
        unknown, both orders are read: they must agree, else the value could not be checked."""
        conf = self.containers_conf
        if self.layout is not None:
            return conf.effective(table, key, self.layout)
        merged = conf.effective(table, key, containers_conf.MERGED)
        layered = conf.effective(table, key, containers_conf.LAYERED)
        if merged[0] != layered[0]:
            raise CouldNotCheck(
                f"[{table}] {key} in containers.conf",
                f"the Podman release is unknown and its two orders disagree: {merged[0]} (Podman 5), "
                f"{layered[0]} (Podman 6)",
            )
        return merged

    def config_where(self) -> str:
        conf = self.containers_conf
        if self.layout is not None:
            return self._host.where(conf.where(self.layout))
        merged, layered = conf.where(containers_conf.MERGED), conf.where(containers_conf.LAYERED)
        both = merged if merged == layered else f"{merged} (Podman 5's order); {layered} (Podman 6's order)"
        return self._host.where(f"{both}, the Podman release unknown")

    def podman_refusal(self) -> str | None:
        """podman's own message when `podman info` failed naming a removed BoltDB store, else None."""
        section = self._host.probe.raw("podman_info")
        said = " ".join((section.err or section.out).split())
        if section.rc != 0 and (BOLTDB_REMOVED in said or BOLTDB_LEFT in said):
            return said
        return None
