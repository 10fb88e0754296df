"""The stack's files: the compose file and the Quadlet folder, as read from the host
(the stack and Quadlet probes) or from a local override, parsed, and what each
declares in the terms the parity check compares."""

from __future__ import annotations

import base64
import io
import shlex
import tarfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from phoenix_compliance import quadlet_lint
from phoenix_compliance.facts.groups import ProbeGroup
from phoenix_compliance.parsers import compose, quadlet
from phoenix_compliance.parsers.manifest import Manifest


@dataclass(frozen=True)
class ComposeSource:
    """The compose file as read (from the host, or a local override) and parsed."""

    where: str
    parsed: compose.ComposeFile | None
    error: str | None


@dataclass
class QuadletFolder:
    """The Quadlet files as read (from the host, or a local folder) and parsed."""

    where: str
    folder: str
    units: dict[str, quadlet.UnitFile]
    error: str | None
    target: quadlet.UnitFile | None
    target_where: str

    def lint(self, version: tuple[int, ...], target: str) -> list[quadlet_lint.Finding]:
        everything = list(self.units.values()) + ([self.target] if self.target else [])
        return quadlet_lint.lint_units(everything, version, quadlet_lint.StackRules(target=target))


class FileSources:
    """Where the checks read the stack's files from: the host, or the local overrides."""

    def __init__(
        self,
        stack: ProbeGroup,
        quadlet_probe: ProbeGroup,
        manifest: Manifest,
        host_id: str,
        compose_override: Path | None,
        quadlet_override: Path | None,
    ) -> None:
        self._stack = stack
        self._quadlet = quadlet_probe
        self.manifest = manifest
        self.host_id = host_id
        self.compose_override = compose_override
        self.quadlet_override = quadlet_override

    @cached_property
    def compose(self) -> ComposeSource:
        if self.compose_override is not None:
            where = f"local file {self.compose_override}"
            parsed = compose.load(self.compose_override)
            return ComposeSource(where, parsed, None)
        path = self._stack.section("compose_path").out
        where = f"{path} on {self.host_id}"
        section = self._stack.section("compose_file")
        if not section.ok:
            return ComposeSource(where, None, section.describe_failure())
        return ComposeSource(where, compose.parse(section.out, f"{self.host_id}:{path}"), None)

    @cached_property
    def quadlet(self) -> QuadletFolder:
        if self.quadlet_override is not None:
            return _local_quadlet_folder(self.quadlet_override, self.manifest.target)
        folder = self._quadlet.section("quadlet_dir_path").out
        where = f"{folder} on {self.host_id}"
        target_path = self._quadlet.section("target_path").out
        target_where = f"{target_path} on {self.host_id}"
        target_section = self._quadlet.section("target_file")
        target = quadlet.parse_text(target_section.out, target_path) if target_section.ok else None
        listing = self._quadlet.section("quadlet_tar")
        if not listing.ok:
            return QuadletFolder(where, folder, {}, listing.describe_failure(), target, target_where)
        units: dict[str, quadlet.UnitFile] = {}
        with tarfile.open(fileobj=io.BytesIO(base64.b64decode(listing.out)), mode="r:") as archive:
            for member in archive.getmembers():
                name = member.name.removeprefix("./")
                extracted = archive.extractfile(member) if member.isfile() else None
                if extracted is None or quadlet.kind_of(Path(name)) not in quadlet_lint.FILE_TYPE_SINCE:
                    continue
                text = extracted.read().decode("utf-8", "replace")
                units[name] = quadlet.parse_text(text, f"{folder}/{name}")
        return QuadletFolder(where, folder, units, None, target, target_where)


def _local_quadlet_folder(folder: Path, target: str) -> QuadletFolder:
    """A repository's Quadlet folder (--quadlet-dir); the target unit may sit beside the units."""
    where = f"local folder {folder}"
    if not folder.is_dir():
        return QuadletFolder(where, str(folder), {}, "not a directory", None, where)
    units: dict[str, quadlet.UnitFile] = {}
    target_unit: quadlet.UnitFile | None = None
    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        name = str(path.relative_to(folder))
        if path.name == target:
            target_unit = quadlet.parse_file(path)
        elif quadlet.kind_of(path) in quadlet_lint.FILE_TYPE_SINCE:
            units[name] = quadlet.parse_file(path)
    return QuadletFolder(where, str(folder), units, None, target_unit, f"{folder / target}")


# -- what a service declares, in the terms the compose/Quadlet parity compares -----------

Declarations = dict[str, set[str]]


def compose_declarations(service: compose.ComposeService) -> Declarations:
    """A compose service's image, ports, volume targets with their labels and variable names."""
    return {
        "image": {service.image} if service.image else set(),
        "ports": {f"{p.host_port}:{p.container_port}/{p.protocol}" for p in service.ports},
        "volumes": {f"{v.target}:{v.selinux or 'no label'}" for v in service.volumes},
        "environment": {e.name for e in service.environment},
    }


def quadlet_declarations(unit: quadlet.UnitFile, pod: quadlet.UnitFile | None) -> Declarations:
    """What a container unit declares, in the terms compose uses; a pod member's ports are its pod's."""
    ports_from = pod if unit.values("Container", "Pod") and pod is not None else unit
    section = "Pod" if ports_from is pod else "Container"
    ports = {
        f"{m.host_port}:{m.container_port}/{m.protocol}"
        for spec in ports_from.values(section, "PublishPort")
        for m in compose.port_spec(spec)[0]
    }
    volumes = set()
    for spec in unit.values("Container", "Volume"):
        mount, _ = compose.volume_spec(spec)
        if mount is not None:
            volumes.add(f"{mount.target}:{mount.selinux or 'no label'}")
    # Environment= takes several NAME=value words, quoted as systemd quotes them.
    env = {word.split("=", 1)[0] for line in unit.values("Container", "Environment") for word in shlex.split(line)}
    return {
        "image": {quadlet.strip_matching_quotes(v) for v in unit.values("Container", "Image")},
        "ports": ports,
        "volumes": volumes,
        "environment": env,
    }
