"""The stack's files: the compose file and the Quadlet folder, as read from the host
(the stack and Quadlet probes) or from a local override, parsed, and what each
declares in the terms the parity check compares."""

from __future__ import annotations

import base64
import binascii
import re
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath

from phoenix_compliance import quadlet_lint
from phoenix_compliance.facts import probes
from phoenix_compliance.facts.groups import ProbeGroup
from phoenix_compliance.facts.memo import cached_fact
from phoenix_compliance.grammar.images import qualified_image
from phoenix_compliance.grammar.ports import read_publish
from phoenix_compliance.grammar.specifiers import NOTHING_KNOWN, Known
from phoenix_compliance.grammar.versions import read_version
from phoenix_compliance.parsers import compose, yamlmarks
from phoenix_compliance.parsers.compose import ComposeFile
from phoenix_compliance.parsers.manifest import Manifest, ServiceGroup
from phoenix_compliance.parsers.yamlmarks import MAX_BYTES
from phoenix_compliance.quadlet import discovery
from phoenix_compliance.quadlet import unitfile as quadlet
from phoenix_compliance.quadlet.readers import SPLIT_ARGS, SPLIT_SYSTEMD_ENVIRONMENT, lookup, split_words
from phoenix_compliance.quadlet.systemd_values import judging_systemd
from phoenix_compliance.quadlet.versions import DEFAULT_PODMAN_VERSION, Version
from phoenix_compliance.transport.runner import HostRunner, Section

# A unit file is a few KB; anything larger is read only this far, and said so.
_MAX_UNIT_BYTES = MAX_BYTES


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
    # The folder as the generator finds it (on disk, or in the host's listing: the Quadlet
    # layer's discovery), and each file found there, read once: `units` are those of them the
    # generator loads; the others are hidden by an earlier file of their name.
    found: discovery.Scan | None = field(default=None, repr=False, compare=False)
    files: list[quadlet.UnitFile | discovery.Hidden] = field(default_factory=list, repr=False, compare=False)
    # Its units with their drop-ins merged, per release (drop-in order changed in 5.6), once asked for.
    _merged: dict[Version, dict[str, quadlet.UnitFile]] = field(default_factory=dict, repr=False, compare=False)
    # The folder linted once per Podman version, target, known values and systemd release: PHX-3.02
    # asks once per unit file.
    _linted: dict[tuple[tuple[int, ...], str, str, int | None], list[quadlet_lint.Finding]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def merged_units(self, version: Version = DEFAULT_PODMAN_VERSION) -> dict[str, quadlet.UnitFile]:
        """The units the generator loads, by file name, each merged with its drop-ins as the
        generator of this release merges them (discovery.merged_units()). Read-only: copy to change."""
        if self.found is None:
            return {}
        if version not in self._merged:
            self._merged[version] = discovery.merged_units(self.found, version, self.files)
        return self._merged[version]

    def lint(
        self, version: tuple[int, ...], target: str, known: Known = NOTHING_KNOWN, systemd: int | None = None
    ) -> list[quadlet_lint.Finding]:
        """The folder linted as `phoenix-compliance lint` lints it (drop-ins merged, files hidden by
        an earlier one of their name named), with the stack's target beside it; the systemd
        sections judged at the `systemd` release (None: ignored only when every tabled release
        ignores the line)."""
        key = (version, target, repr(known), systemd)
        if key not in self._linted:
            beside = [self.target] if self.target and not any(f is self.target for f in self.files) else []
            with judging_systemd(systemd):
                self._linted[key] = quadlet_lint.lint_found(
                    self.found or discovery.Scan(),
                    quadlet_lint.lint_inputs(self.files),
                    version,
                    quadlet_lint.StackRules(target=target),
                    known,
                    beside,
                )
        return self._linted[key]


class FileSources:
    """Where the checks read the stack's files from: the host, or the local overrides."""

    def __init__(
        self,
        stack: ProbeGroup,
        quadlet_probe: ProbeGroup,
        manifest: Manifest,
        host_id: str,
        compose_override: Path | Sequence[Path] | None,
        quadlet_override: Path | None,
        source_dir: Path | None = None,
        env_files: Sequence[Path] = (),
    ) -> None:
        self._stack = stack
        self._quadlet = quadlet_probe
        self.manifest = manifest
        self.host_id = host_id
        self.compose_files = [compose_override] if isinstance(compose_override, Path) else list(compose_override or [])
        self.compose_override = self.compose_files[0] if self.compose_files else None
        self.quadlet_override = quadlet_override
        self.source_dir = source_dir
        self._group_sources: dict[str, ComposeSource] = {}
        self.env_files = list(env_files)

    @cached_fact
    def compose(self) -> ComposeSource:
        if self.compose_override is not None:
            where = "local file " + ", ".join(str(path) for path in self.compose_files)
            parsed = compose.load(self.compose_files, env_files=self.env_files)
            _attach_env_files(parsed, self.compose_override.parent)
            return ComposeSource(where, parsed, None)
        path = self._stack.section("compose_path").out
        where = f"{path} on {self.host_id}"
        section = self._stack.section("compose_file")
        if not section.ok:
            return ComposeSource(where, None, section.describe_failure())
        parsed_or_error = self._parse_on_host(section.out, path)
        if isinstance(parsed_or_error, str):
            return ComposeSource(where, None, parsed_or_error)
        parsed = parsed_or_error
        named = {
            reference: resolved
            for service in parsed.services.values()
            for reference, _line in service.env_files
            if (resolved := _named_path(reference, str(PurePosixPath(path).parent), on_host=True)) is not None
        }
        texts = read_host_files(self._stack.runner, self._stack, sorted(set(named.values())))
        for reference, resolved in named.items():
            if resolved in texts:
                parsed.env_file_texts[reference] = (f"{self.host_id}:{resolved}", texts[resolved])
        return ComposeSource(where, parsed, None)

    def _parse_on_host(self, text: str, path: str) -> ComposeFile | str:
        """A compose file of the host read as podman-compose reads it there: the account's login
        environment, the .env beside the stack's compose file (or --env-file), files it names
        read on the host; the reason instead when an env file given here cannot be read."""
        environ, unread = _login_environment(self._stack.section("compose_env"))
        dotenvs: list[tuple[str, str]] = []
        if self.env_files:
            for env_file in self.env_files:
                try:
                    dotenvs.append((str(env_file), yamlmarks.read_source(env_file, "the env file")))
                except yamlmarks.SourceError as exc:
                    return str(exc)
        elif (dotenv := self._stack.section("compose_dotenv")).ok:
            stack_folder = PurePosixPath(self._stack.section("compose_path").out).parent
            dotenvs.append((f"{self.host_id}:{stack_folder / '.env'}", dotenv.out))
        prefix = f"{self.host_id}:"

        def read(name: str) -> str:
            on_host = name.removeprefix(prefix)
            texts = read_host_files(self._stack.runner, self._stack, [on_host])
            if on_host not in texts:
                raise yamlmarks.SourceError(
                    name, 1, "cannot read the file on the host (absent, unreadable or too large)"
                )
            return texts[on_host]

        parsed = compose.parse(
            text,
            f"{prefix}{path}",
            environ=environ,
            dotenvs=dotenvs,
            read=read,
            # Advisory: without an answer (podman-compose missing is PHX-2.03's), the newest rules.
            release=_compose_release(self._stack.raw("compose_version")),
        )
        if unread:
            parsed.warnings.insert(0, compose.ComposeProblem(parsed.path, 1, unread))
        return parsed

    def group_compose(self, group: ServiceGroup) -> ComposeSource:
        """An optional group's compose file; `parsed` None when the host has none (its `error` says why).
        Beside a local --compose-file, the group's file is looked for in the same folder."""
        if group.name not in self._group_sources:
            self._group_sources[group.name] = self._read_group_compose(group)
        return self._group_sources[group.name]

    def _read_group_compose(self, group: ServiceGroup) -> ComposeSource:
        index = self.manifest.groups.index(group)
        if self.compose_override is not None:
            path = self.compose_override.parent / PurePosixPath(group.compose_file).name
            if not path.is_file():
                return ComposeSource(f"local file {path}", None, "no such file")
            return ComposeSource(f"local file {path}", compose.load(path, env_files=self.env_files), None)
        path_text = self._stack.section(f"group_compose_path_{index}").out
        where = f"{path_text} on {self.host_id}"
        section = self._stack.section(f"group_compose_{index}")
        if not section.ok:
            return ComposeSource(where, None, section.describe_failure())
        parsed = self._parse_on_host(section.out, path_text)
        if isinstance(parsed, str):
            return ComposeSource(where, None, parsed)
        return ComposeSource(where, parsed, None)

    def compose_for(self, service: str) -> ComposeSource:
        """The compose file that declares a service: its optional group's, else the stack's."""
        group = self.manifest.group_of(service)
        return self.group_compose(group) if group is not None else self.compose

    def present_group_composes(self) -> list[ComposeSource]:
        """The optional groups' compose files the host has."""
        return [source for g in self.manifest.groups if (source := self.group_compose(g)).parsed is not None]

    @cached_property
    def repository(self) -> QuadletFolder | None:
        """The repository's Quadlet folder (--source-dir DIR: DIR/systemd), or None when not given."""
        if self.source_dir is None:
            return None
        return local_quadlet_folder(self.source_dir / "systemd", self.manifest.target)

    @cached_fact
    def quadlet(self) -> QuadletFolder:
        if self.quadlet_override is not None:
            return local_quadlet_folder(self.quadlet_override, self.manifest.target)
        folder = self._quadlet.section("quadlet_dir_path").out
        where = f"{folder} on {self.host_id}"
        target_path = self._quadlet.section("target_path").out
        target_where = f"{target_path} on {self.host_id}"
        target_section = self._quadlet.section("target_file")
        target = quadlet.parse_text(target_section.out, target_path) if target_section.ok else None
        listing = self._quadlet.section("quadlet_tar")
        if not listing.ok:
            return QuadletFolder(where, folder, {}, listing.describe_failure(), target, target_where)
        try:
            tree = discovery.ListingTree.from_tar(Path(folder), base64.b64decode(listing.out))
        except (binascii.Error, tarfile.TarError, ValueError) as exc:
            return QuadletFolder(where, folder, {}, f"the folder's listing cannot be read: {exc}", target, target_where)
        found, files = read_quadlet_folder(Path(folder), tree)
        units = quadlet_units(Path(folder), files)
        named = [
            (unit, resolved)
            for unit, reference in _environment_file_owners(found, files, units)
            if (resolved := _named_path(reference, str(PurePosixPath(unit.path).parent), on_host=True)) is not None
        ]
        texts = read_host_files(self._quadlet.runner, self._quadlet, sorted({resolved for _, resolved in named}))
        for unit, resolved in named:
            if resolved in texts:
                unit.environment_files[f"{self.host_id}:{resolved}"] = texts[resolved]
        return QuadletFolder(where, folder, units, None, target, target_where, found, files)


def read_quadlet_folder(
    folder: Path, tree: discovery.Tree | None = None
) -> tuple[discovery.Scan, list[quadlet.UnitFile | discovery.Hidden]]:
    """A Quadlet folder found and read as the generator finds it (the Quadlet layer's discovery),
    each file read once and bounded: one that cannot be read is a unit with a problem."""
    found = discovery.scan([folder], tree)
    return found, list(discovery.read_units(found))


def quadlet_units(folder: Path, files: Sequence[quadlet.UnitFile | discovery.Hidden]) -> dict[str, quadlet.UnitFile]:
    """The Quadlet files the generator loads, by their path in the folder, in its order."""
    return {
        str(PurePosixPath(item.path.relative_to(folder))): item
        for item in files
        if isinstance(item, quadlet.UnitFile) and item.is_quadlet
    }


def local_quadlet_folder(folder: Path, target: str) -> QuadletFolder:
    """A repository's Quadlet folder (--quadlet-dir); the target unit may sit beside the units.

    Every entry with a unit's name is taken, whatever it is: one that exists but cannot be
    read (a dangling symlink, a FIFO, a file with no read permission) is a unit with a problem."""
    where = f"local folder {folder}"
    if not folder.is_dir():
        return QuadletFolder(where, str(folder), {}, "not a directory", None, where)
    found, files = read_quadlet_folder(folder)
    units = quadlet_units(folder, files)
    target_unit = next((f for f in files if isinstance(f, quadlet.UnitFile) and f.name == target), None)
    for unit, reference in _environment_file_owners(found, files, units):
        _attach_environment_file(unit, reference)
    return QuadletFolder(where, str(folder), units, None, target_unit, f"{folder / target}", found, files)


def _environment_file_owners(
    found: discovery.Scan, files: list[quadlet.UnitFile | discovery.Hidden], units: dict[str, quadlet.UnitFile]
) -> list[tuple[quadlet.UnitFile, str]]:
    """Each unit with each EnvironmentFile= it names, its drop-ins' included (the generator and
    systemd read the merged unit): what the secret rules then read beside the unit."""
    merged = {unit.path: unit for unit in discovery.merged_units(found, DEFAULT_PODMAN_VERSION, files).values()}
    return [
        (unit, reference)
        for unit in units.values()
        for reference in _environment_file_references(merged.get(unit.path, unit))
    ]


# -- the env files the stack's files name, read where they are local, for the secret rules --------


def _read_small_text(path: Path) -> str | None:
    """A file a stack file names, read as the Quadlet layer reads unit files (a regular file,
    within the bound); None when it cannot be."""
    data = discovery.DiskTree().read(path)
    return None if isinstance(data, str) or len(data) > _MAX_UNIT_BYTES else data.decode("utf-8", "replace")


def _named_path(reference: str, folder: str, on_host: bool) -> str | None:
    """The path of a file a stack file names: absolute, ~/ (the user's home), or relative to the
    naming file's folder. systemd's %h is the home on the host; any other specifier, or %h in
    a repository's file, is only known to systemd there, and the file is left alone (None)."""
    if on_host and reference.startswith("%h/"):
        reference = "~/" + reference[3:]
    if not reference or "%" in reference:
        return None
    if reference.startswith(("/", "~")):
        return reference
    return f"{folder.rstrip('/')}/{reference}"


def _environment_file_references(unit: quadlet.UnitFile) -> list[str]:
    """EnvironmentFile= of a unit ([Container] or [Service]); a leading '-' only makes it optional."""
    return [
        value.strip().strip('"').removeprefix("-")
        for section in ("Container", "Service")
        for value in unit.values(section, "EnvironmentFile")
    ]


def _login_environment(section: Section) -> tuple[dict[str, str] | None, str | None]:
    """The account's login environment from the compose_env section, or why it could not be read."""
    if not section.ok or "@@ENV@@\n" not in section.out:
        return (
            None,
            f"the login environment could not be read ({section.describe_failure()}): variables resolved without it",
        )
    try:
        data = base64.b64decode(section.out.rsplit("@@ENV@@\n", 1)[1].strip(), validate=True)
    except (binascii.Error, ValueError):
        return None, "the login environment could not be read (not base64): variables resolved without it"
    pairs = (entry.partition("=") for entry in data.decode("utf-8", "replace").split("\0") if entry)
    return {name: value for name, equals, value in pairs if equals}, None


def _compose_release(section: Section) -> tuple[int, ...] | None:
    """podman-compose's version from `podman-compose version` (None: the newest rules)."""
    found = re.search(r"podman-compose version:? v?(\d+(?:\.\d+)+)", section.out) if section.ok else None
    return read_version(found.group(1)) if found else None


def _attach_env_files(parsed: compose.ComposeFile, base: Path) -> None:
    """The env_file files of a local compose file, relative to its folder as podman-compose reads them."""
    for service in parsed.services.values():
        for reference, _line in service.env_files:
            named = _named_path(reference, str(base), on_host=False)
            path = Path(named).expanduser() if named is not None else None
            text = _read_small_text(path) if path is not None else None
            if path is not None and text is not None:
                parsed.env_file_texts[reference] = (str(path), text)


def _attach_environment_file(unit: quadlet.UnitFile, reference: str) -> None:
    """An EnvironmentFile= of a local unit, relative to the unit's folder."""
    named = _named_path(reference, str(unit.path.parent), on_host=False)
    path = Path(named).expanduser() if named is not None else None
    text = _read_small_text(path) if path is not None else None
    if path is not None and text is not None:
        unit.environment_files[str(path)] = text


def read_host_files(runner: HostRunner, after: ProbeGroup, paths: list[str]) -> dict[str, str]:
    """The files the stack's files name, read on the host in one command (none when no file is
    named); a file absent, unreadable or over the size bound is left out."""
    if not paths:
        return {}
    env = {"PHX_FILES": "\n".join(paths), "PHX_MAX_BYTES": str(_MAX_UNIT_BYTES + 1)}
    group = ProbeGroup(runner, probes.files(len(paths)), env, after=after)
    texts: dict[str, str] = {}
    for index, path in enumerate(paths):
        section = group.section(f"file_{index}")
        if section.ok and len(section.out.encode()) <= _MAX_UNIT_BYTES:
            texts[path] = section.out
    return texts


# -- what a service declares, in the terms the compose/Quadlet parity compares -----------

Declarations = dict[str, set[str]]


def compose_declarations(service: compose.ComposeService) -> Declarations:
    """A compose service's image, ports, volume targets with their labels and variable names."""
    return {
        # Both sides as Docker names images: the converter writes `postgres:16` as docker.io/library/postgres:16.
        "image": {qualified_image(service.image)} if service.image else set(),
        "ports": {f"{p.host_port}:{p.container_port}/{p.protocol}" for p in service.ports},
        "volumes": {f"{v.target}:{v.selinux or 'no label'}" for v in service.volumes},
        "environment": {e.name for e in service.environment},
    }


def quadlet_declarations(
    unit: quadlet.UnitFile, pod: quadlet.UnitFile | None, version: Version = DEFAULT_PODMAN_VERSION
) -> Declarations:
    """What a container unit declares, in the terms compose uses; a pod member's ports are its pod's.
    Image= is read as the given release's Lookup() reads it."""
    ports_from = pod if unit.values("Container", "Pod") and pod is not None else unit
    section = "Pod" if ports_from is pod else "Container"
    # PublishPort= as podman's --publish reads it (grammar's one reading), as PHX-S.04 reads it.
    published = [read_publish(spec) for spec in ports_from.values(section, "PublishPort")]
    ports = {
        f"{host}:{container}/{protocol}"
        for found in published
        if not isinstance(found, str)
        for host, container, protocol in found.mappings()
    }
    volumes = set()
    for spec in unit.values("Container", "Volume"):
        mount, _ = compose.volume_spec(spec)
        if mount is not None:
            volumes.add(f"{mount.target}:{mount.selinux or 'no label'}")
    # Environment= takes several NAME=value words, split as Quadlet splits them. A line Quadlet
    # cannot split, or one with an unclosed quote (which Quadlet reads leniently), is named as it
    # is, so that the parity check shows it instead of failing on it.
    env: set[str] = set()
    for entry in unit.entries_for("Container", "Environment"):
        words = split_words(entry.value, SPLIT_ARGS)
        # Quadlet reads an unclosed quote leniently; systemd's strict reading names the line.
        if words is None or split_words(entry.value, SPLIT_SYSTEMD_ENVIRONMENT) is None:
            env.add(f"(Environment= at line {entry.line} cannot be read: unclosed quote or bad escape)")
        env.update(word.split("=", 1)[0] for word in words or [])
    # A variable passed as a Podman secret (Secret=NAME,type=env,target=VAR) is in the environment all the same.
    for entry in unit.entries_for("Container", "Secret"):
        fields = dict(part.partition("=")[::2] for part in entry.value.split(",")[1:])
        if fields.get("type") == "env":
            env.add(fields.get("target") or entry.value.split(",")[0])
    return {
        # Image= is read once (Lookup(): the last value, a drop-in's over the unit's).
        "image": {qualified_image(image[1])} if (image := lookup(unit, "Container", "Image", version)) else set(),
        "ports": ports,
        "volumes": volumes,
        "environment": env,
    }
