"""The stack manifest: what the suite expects to find on a migrated host.

A plain module (no pytest): the plugin turns ManifestError into a usage error.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phoenix_compliance.parsers import yamlmarks
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList
from phoenix_compliance.quadlet.names import default_service_name


class ManifestError(yamlmarks.SourceError):
    """A manifest that cannot be used, with file and line."""


# What YAML refuses to read raw (YAML 1.1 and 1.2, section 5.1: the printable set): a control
# byte, a lone surrogate. PyYAML raises it as a ReaderError at a character offset; the user's
# own file is owed file:line and the character, never a traceback.
_NOT_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def refuse_control_bytes(text: str, path: str, error: type[yamlmarks.SourceError]) -> None:
    """Raise `error` at the line of the first character YAML does not read raw (a control byte)."""
    found = _NOT_PRINTABLE.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
        code = ord(found.group())
        kind = (
            "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character" if code < 0xA0 else "no character"
        )
        raise error(
            path,
            line,
            f"column {column}: the raw character U+{code:04X} ({kind}) is not allowed in YAML;"
            " write it as an escape in a double-quoted string, or remove it",
        )


# The keys each level of the manifest takes; any other key is an error, at every level.
TOP_KEYS = (
    "name",
    "pod",
    "target",
    "quadlet",
    "project_dir",
    "compose_file",
    "services",
    "endpoints",
    "optional_groups",
    "capabilities_allowed",
    "registry",
    "auto_update",
)
QUADLET_KEYS = ("dir", "pod_unit")
SERVICE_KEYS = ("name", "image", "ports", "healthcheck")
ENDPOINT_KEYS = ("service", "url", "status")
GROUP_KEYS = ("compose_file", "units", "services", "endpoints")
# The Quadlet files a group may name (the target stays the stack's own).
QUADLET_SUFFIXES = (".container", ".pod", ".volume", ".network", ".kube", ".image", ".build")
PORT_PROTOCOLS = ("tcp", "udp", "sctp")
# Quadlet's AutoUpdate= values (podman-auto-update(1)).
AUTO_UPDATE_POLICIES = ("registry", "local")


def nearest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    """The valid word a misspelt one most likely meant (difflib), or None when none is close."""
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not found:
        found = difflib.get_close_matches(word.lower(), [c.lower() for c in choices], n=1, cutoff=0.6)
        found = [c for c in choices if found and c.lower() == found[0]]
    return found[0] if found else None


def unknown_key_message(key: str, known: tuple[str, ...] | list[str], where: str) -> str:
    guess = nearest(key, known)
    hint = f"; did you mean '{guess}'?" if guess else ""
    return f"{where}unknown key '{key}'{hint} (known: {', '.join(sorted(known))})"


@dataclass(frozen=True)
class Port:
    host: int
    container: int
    protocol: str = "tcp"


@dataclass(frozen=True)
class Service:
    name: str
    image: str | None
    ports: tuple[Port, ...] = ()
    healthcheck: bool = False


@dataclass(frozen=True)
class Endpoint:
    service: str
    url: str
    status: int | None = None


def generated_service(unit: str) -> str:
    """The service Quadlet generates from a file the manifest names (the Quadlet layer's names:
    foo.container and foo.kube give foo.service, foo.pod foo-pod.service, foo.volume
    foo-volume.service). The manifest holds file names, not their ServiceName=."""
    service = default_service_name(unit)
    return service if service is not None else unit


@dataclass(frozen=True)
class ServiceGroup:
    """An optional part of the stack (the guide's observability stack): not deployed is
    fine, deployed it is held to the stack's rules, deployed in part it fails."""

    name: str
    compose_file: str
    units: tuple[str, ...]
    services: tuple[Service, ...]
    endpoints: tuple[Endpoint, ...] = ()

    def service_names(self) -> list[str]:
        return [service.name for service in self.services]

    def generated_services(self) -> list[str]:
        return [generated_service(unit) for unit in self.units]


@dataclass(frozen=True)
class Manifest:
    path: Path
    name: str
    pod: str | None
    target: str
    quadlet_dir: str
    pod_unit: str | None
    project_dir: str
    compose_file: str
    services: tuple[Service, ...]
    endpoints: tuple[Endpoint, ...]
    groups: tuple[ServiceGroup, ...] = ()
    cap_allow: tuple[str, ...] = field(default=())
    # GitOps (guide section 6): the registry every image of the stack comes from
    # (`registry.example.com/phoenix`), and the AutoUpdate= policy its container units carry.
    registry: str | None = None
    auto_update: str | None = None

    @property
    def min_podman_version(self) -> tuple[int, int]:
        """Quadlet arrived in 4.4; .pod units need 5.0."""
        return (5, 0) if self.pod_unit else (4, 4)

    def service_names(self) -> list[str]:
        return [service.name for service in self.services]

    def unit_files(self) -> list[str]:
        """The Quadlet files of the stack (one .container per service, the .pod) and its target."""
        files = [f"{name}.container" for name in self.service_names()]
        return [*files, *([self.pod_unit] if self.pod_unit else []), self.target]

    def generated_services(self) -> list[str]:
        """The services Quadlet generates: foo.container gives foo.service, foo.pod foo-pod.service."""
        services = [generated_service(f"{name}.container") for name in self.service_names()]
        if self.pod_unit:
            services.append(generated_service(self.pod_unit))
        return services

    # The stack with its optional groups: what the checks that apply per service, unit or
    # endpoint are parametrized with (a group's part is judged only where the group has a trace).

    def every_service(self) -> list[Service]:
        return [*self.services, *(service for group in self.groups for service in group.services)]

    def every_endpoint(self) -> list[Endpoint]:
        return [*self.endpoints, *(endpoint for group in self.groups for endpoint in group.endpoints)]

    def every_unit_file(self) -> list[str]:
        return [*self.unit_files(), *(unit for group in self.groups for unit in group.units)]

    def every_generated_service(self) -> list[str]:
        return [*self.generated_services(), *(s for group in self.groups for s in group.generated_services())]

    def service(self, name: str) -> Service:
        return next(service for service in self.every_service() if service.name == name)

    def group_of(self, subject: str | Endpoint) -> ServiceGroup | None:
        """The optional group a service, unit file, generated service or endpoint belongs to (None: the stack's own)."""
        for group in self.groups:
            if isinstance(subject, Endpoint):
                if subject in group.endpoints:
                    return group
            elif subject in (*group.service_names(), *group.units, *group.generated_services()):
                return group
        return None


class _Reader:
    """Typed access to a marked mapping that fails with file:line."""

    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, line: int, message: str) -> ManifestError:
        return ManifestError(self.path, line, message)

    def mapping(self, value: Any, line: int, what: str, known: tuple[str, ...]) -> MarkedDict:
        if not isinstance(value, MarkedDict):
            raise self.error(line, f"{what}: expected a mapping, got {_kind(value)}")
        for key in value:
            if key not in known:
                where = "" if what == "manifest" else f"{what}: "
                raise self.error(value.line_of(key), unknown_key_message(key, known, where))
        return value

    def text(self, parent: MarkedDict, key: str, what: str, required: bool = True) -> str | None:
        if key not in parent or parent[key] is None:
            if required:
                raise self.error(parent.line, f"{what}: missing required key '{key}'")
            return None
        value = parent[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(parent.line_of(key), f"{what}.{key}: expected a non-empty string, got {_kind(value)}")
        return value

    def sequence(self, parent: MarkedDict, key: str, what: str, required: bool) -> MarkedList:
        if key not in parent or parent[key] is None:
            if required:
                raise self.error(parent.line, f"{what}: missing required key '{key}'")
            empty = MarkedList()
            empty.line = parent.line
            empty.item_lines = []
            return empty
        value = parent[key]
        if not isinstance(value, MarkedList):
            raise self.error(parent.line_of(key), f"{what}.{key}: expected a list, got {_kind(value)}")
        return value


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _port(reader: _Reader, raw: Any, line: int, what: str) -> Port:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise reader.error(line, f"{what}: expected 'HOST:CONTAINER[/proto]', got {_kind(raw)}")
    text = str(raw)
    spec, _, protocol = text.partition("/")
    host, sep, container = spec.rpartition(":")
    if not sep:
        host = container
    host = host.rpartition(":")[2]
    protocol = protocol or "tcp"
    if protocol not in PORT_PROTOCOLS:
        raise reader.error(line, f"{what}: protocol {protocol!r} is not one of {', '.join(PORT_PROTOCOLS)}")
    numbers = []
    for part in (host, container):
        if not part.isdigit() or not 1 <= int(part) <= 65535:
            raise reader.error(line, f"{what}: expected 'HOST:CONTAINER[/proto]' with ports 1-65535, got {text!r}")
        numbers.append(int(part))
    return Port(numbers[0], numbers[1], protocol)


def parse(text: str, path: str) -> Manifest:
    """Parse manifest text; raise ManifestError naming path and line."""
    refuse_control_bytes(text, path, ManifestError)
    try:
        document = yamlmarks.loads(text, path)
    except yamlmarks.YamlError as exc:
        raise ManifestError(exc.path, exc.line, exc.message) from None
    reader = _Reader(path)
    top = reader.mapping(document, 1, "manifest", TOP_KEYS)
    name = reader.text(top, "name", "manifest")
    target = reader.text(top, "target", "manifest")
    quadlet = reader.mapping(top.get("quadlet"), top.line_of("quadlet"), "quadlet", QUADLET_KEYS)
    quadlet_dir = reader.text(quadlet, "dir", "quadlet")
    pod_unit = reader.text(quadlet, "pod_unit", "quadlet", required=False)

    raw_services = reader.sequence(top, "services", "manifest", required=True)
    services = _services(reader, raw_services, "services")
    names = [service.name for service in services]
    endpoints = _endpoints(reader, reader.sequence(top, "endpoints", "manifest", required=False), "endpoints", names)
    groups = _groups(reader, top, names)

    caps = reader.sequence(top, "capabilities_allowed", "manifest", required=False)
    for index, cap in enumerate(caps):
        if not isinstance(cap, str) or not cap.strip():
            raise reader.error(caps.line_of(index), f"capabilities_allowed[{index}]: expected a capability name")
    registry = reader.text(top, "registry", "manifest", required=False)
    if registry is not None and (registry != registry.strip() or "://" in registry or registry.endswith("/")):
        raise reader.error(
            top.line_of("registry"),
            f"registry: expected HOST[/PATH] such as registry.example.com/phoenix, got {registry!r}",
        )
    auto_update = reader.text(top, "auto_update", "manifest", required=False)
    if auto_update is not None and auto_update not in AUTO_UPDATE_POLICIES:
        raise reader.error(
            top.line_of("auto_update"),
            f"auto_update: expected one of {', '.join(AUTO_UPDATE_POLICIES)} (Quadlet's AutoUpdate=),"
            f" got {auto_update!r}",
        )
    return Manifest(
        path=Path(path),
        name=str(name),
        pod=reader.text(top, "pod", "manifest", required=False),
        target=str(target),
        quadlet_dir=str(quadlet_dir),
        pod_unit=pod_unit,
        project_dir=reader.text(top, "project_dir", "manifest", required=False) or "~",
        compose_file=reader.text(top, "compose_file", "manifest", required=False) or "infra/podman/compose.yaml",
        services=tuple(services),
        endpoints=tuple(endpoints),
        groups=groups,
        cap_allow=tuple(str(cap) for cap in caps),
        registry=registry,
        auto_update=auto_update,
    )


def _services(reader: _Reader, raw_services: MarkedList, what_list: str) -> list[Service]:
    if not raw_services:
        raise reader.error(raw_services.line, f"{what_list}: at least one service is needed")
    services: list[Service] = []
    for index, raw in enumerate(raw_services):
        what = f"{what_list}[{index}]"
        entry = reader.mapping(raw, raw_services.line_of(index), what, SERVICE_KEYS)
        service_name = reader.text(entry, "name", what)
        ports = reader.sequence(entry, "ports", what, required=False)
        healthcheck = entry.get("healthcheck", False)
        if not isinstance(healthcheck, bool):
            raise reader.error(entry.line_of("healthcheck"), f"{what}.healthcheck: expected true or false")
        services.append(
            Service(
                name=str(service_name),
                image=reader.text(entry, "image", what, required=False),
                ports=tuple(
                    _port(reader, port, ports.line_of(i), f"{what}.ports[{i}]") for i, port in enumerate(ports)
                ),
                healthcheck=healthcheck,
            )
        )
    names = [service.name for service in services]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise reader.error(raw_services.line, f"{what_list}: duplicate names {', '.join(duplicates)}")
    return services


def _endpoints(reader: _Reader, raw_endpoints: MarkedList, what_list: str, names: list[str]) -> list[Endpoint]:
    endpoints: list[Endpoint] = []
    for index, raw in enumerate(raw_endpoints):
        what = f"{what_list}[{index}]"
        entry = reader.mapping(raw, raw_endpoints.line_of(index), what, ENDPOINT_KEYS)
        service_name = str(reader.text(entry, "service", what))
        if service_name not in names:
            raise reader.error(entry.line_of("service"), f"{what}.service: '{service_name}' is not a declared service")
        url = str(reader.text(entry, "url", what))
        if not url.startswith(("http://", "https://")):
            raise reader.error(entry.line_of("url"), f"{what}.url: expected an http(s) URL, got {url!r}")
        status = entry.get("status")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599):
            raise reader.error(entry.line_of("status"), f"{what}.status: expected an HTTP status code 100-599")
        endpoints.append(Endpoint(service_name, url, status))
    return endpoints


def _groups(reader: _Reader, top: MarkedDict, stack_names: list[str]) -> tuple[ServiceGroup, ...]:
    """optional_groups: NAME: {compose_file, units, services, endpoints}; a group's services
    are its own (no name shared with the stack or another group), its endpoints name them."""
    if top.get("optional_groups") is None:
        return ()
    line = top.line_of("optional_groups")
    raw_groups = top["optional_groups"]
    if not isinstance(raw_groups, MarkedDict):
        raise reader.error(line, f"optional_groups: expected a mapping of group names, got {_kind(raw_groups)}")
    groups: list[ServiceGroup] = []
    taken = {name: "the stack" for name in stack_names}
    units_taken: dict[str, str] = {}
    for group_name, raw in raw_groups.items():
        what = f"optional_groups.{group_name}"
        if not isinstance(group_name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", group_name):
            raise reader.error(raw_groups.line_of(group_name), f"optional_groups: {group_name!r} is not a group name")
        entry = reader.mapping(raw, raw_groups.line_of(group_name), what, GROUP_KEYS)
        compose_file = str(reader.text(entry, "compose_file", what))
        raw_services = reader.sequence(entry, "services", what, required=True)
        services = _services(reader, raw_services, f"{what}.services")
        for index, service in enumerate(services):
            if service.name in taken:
                raise reader.error(
                    raw_services.line_of(index),
                    f"{what}.services[{index}]: '{service.name}' is already a service of {taken[service.name]}",
                )
            taken[service.name] = f"the group {group_name}"
        names = [service.name for service in services]
        raw_units = reader.sequence(entry, "units", what, required=False)
        units: list[str] = []
        for index, unit in enumerate(raw_units):
            unit_line = raw_units.line_of(index)
            if not isinstance(unit, str) or not unit.endswith(QUADLET_SUFFIXES) or "/" in unit:
                raise reader.error(
                    unit_line,
                    f"{what}.units[{index}]: expected a Quadlet file name ending in"
                    f" {', '.join(QUADLET_SUFFIXES)}, got {_kind(unit)}",
                )
            if unit in units_taken:
                raise reader.error(unit_line, f"{what}.units[{index}]: {unit} is already a unit of {units_taken[unit]}")
            units_taken[unit] = f"the group {group_name}"
            units.append(unit)
        endpoints = _endpoints(
            reader, reader.sequence(entry, "endpoints", what, required=False), f"{what}.endpoints", names
        )
        groups.append(
            ServiceGroup(
                name=str(group_name),
                compose_file=compose_file,
                # Without units: one .container per service, as the stack's own.
                units=tuple(units) or tuple(f"{name}.container" for name in names),
                services=tuple(services),
                endpoints=tuple(endpoints),
            )
        )
    return tuple(groups)


def load(path: Path) -> Manifest:
    return parse(yamlmarks.read_source(path, "the stack manifest"), str(path))
