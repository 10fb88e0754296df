"""A compose file turned into Quadlet units for one Podman release.

One ``.pod`` holds every published port and the stack's networks, one
``.container`` per service joins it, named volumes and networks become
``.volume`` and ``.network`` units, and a target groups them all (PartOf= and
WantedBy= in each). A key the chosen release lacks is never written (the lint's
tables, quadlet_lint/versions.py, say which release has which key); what cannot
be written is a Gap, with the service and line, and the rest is still written.

Secrets never reach a unit: a secret-looking variable (security.secrets) becomes a
Podman secret passed with Secret=...,type=env, and the command that creates it
reads the value from the shell (``printf '%s' "$NAME" | podman secret create ...``).
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phoenix_compliance.convert.units import Unit, join_words, quote_word, systemd_literal
from phoenix_compliance.grammar.images import qualified_image
from phoenix_compliance.grammar.labels import system_content
from phoenix_compliance.parsers import compose
from phoenix_compliance.parsers.compose import ComposeFile, ComposeService, VolumeMount
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList
from phoenix_compliance.quadlet_lint.versions import (
    DEPENDENCY_TRANSLATION_SINCE,
    FILE_TYPE_SINCE,
    NOTIFY_HEALTHY_SINCE,
    QUADLET_KEYS,
    Version,
    format_version,
    keys_for,
)
from phoenix_compliance.security.secrets import is_secret_name, secret_options, secret_value_reason
from phoenix_compliance.security.sockets import is_api_socket

DEFAULT_TARGET = "phoenix.target"

_RESTART = {"no": "no", "always": "always", "unless-stopped": "always", "on-failure": "on-failure"}
_SECRET_NAME_BAD = re.compile(r"[^a-z0-9_.-]+")
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*$", re.I)


@dataclass(frozen=True)
class Gap:
    """A compose field the units do not express, and why."""

    path: str
    line: int
    service: str | None
    key: str
    why: str

    def __str__(self) -> str:
        where = f"service {self.service}: " if self.service else ""
        return f"{self.path}:{self.line}: {where}{self.key}: {self.why}"


@dataclass(frozen=True)
class SecretToCreate:
    """A Podman secret the units use: its name, what it holds (never the value) and how to create it."""

    name: str
    holds: str
    command: str


@dataclass(frozen=True)
class Options:
    """What the units are written for: the Podman release, the stack's names and where the files live."""

    version: Version
    target: str = DEFAULT_TARGET
    pod_name: str | None = None
    pod_unit: str | None = None
    # The compose file's folder on the host that runs the units (relative binds resolve against it):
    # `%h/phoenix-hydra/infra/podman`; None: the compose file's own folder here.
    compose_dir: str | None = None


@dataclass
class Conversion:
    units: dict[str, Unit]
    gaps: list[Gap]
    notes: list[str]
    secrets: list[SecretToCreate]
    problems: list[compose.ComposeProblem]
    target: str

    def texts(self) -> dict[str, str]:
        return {name: unit.text() for name, unit in self.units.items()}


def read_compose(paths: Sequence[Path], env_files: Sequence[Path] = ()) -> ComposeFile:
    """The compose file(s), read only through the compose parser, as podman-compose reads them:
    variables substituted, `extends:` and `include:` resolved, several files merged in order."""
    return compose.load(list(paths), env_files=env_files)


def is_pinned(image: str) -> bool:
    name = image.rsplit("/", 1)[-1]
    return "@" in image or (":" in name and not name.endswith(":latest"))


def is_system_path(source: str) -> bool:
    """A host path that must never be relabelled: system trees, API sockets, a whole home
    (the lint's and the security rules' own judgement)."""
    return system_content(source) is not None or is_api_socket(source)


def convert(source: ComposeFile, options: Options) -> Conversion:
    return _Converter(source, options).run()


@dataclass
class _Stack:
    project: str
    pod: str | None  # the pod's unit file name, None where the release has no .pod
    pod_name: str
    networks: dict[str, str] = field(default_factory=dict)  # compose name -> .network file
    volumes: dict[str, str] = field(default_factory=dict)  # compose name -> .volume file or external name


class _Converter:
    def __init__(self, source: ComposeFile, options: Options) -> None:
        self.source = source
        self.options = options
        self.version = options.version
        target = options.target if options.target.endswith(".target") else f"{options.target}.target"
        self.target = target
        self.conversion = Conversion({}, [], [], [], list(source.problems), target)
        self.document: MarkedDict = source.document if source.document is not None else _empty()
        project = options.pod_name or source.project_name or Path(source.path).resolve().parent.name or "stack"
        pod = None
        if FILE_TYPE_SINCE["pod"] <= self.version:
            pod = options.pod_unit or f"{project}.pod"
        self.stack = _Stack(project, pod, options.pod_name or project)
        if options.compose_dir is not None:
            self.compose_dir = options.compose_dir
        else:
            self.compose_dir = _home_relative(Path(source.path).resolve().parent)
        # Sources bound by more than one service get the shared label (:z), the others the private one (:Z).
        binds: dict[str, int] = {}
        for service in source.services.values():
            for mount in {self.bind_source(m) for m in service.volumes if m.kind == "bind" and m.source}:
                binds[mount] = binds.get(mount, 0) + 1
        self.shared_binds = {path for path, count in binds.items() if count > 1}
        self.healthy_wanted: set[str] = set()
        self.pod_shm: int | None = None
        self.pod_keys: dict[str, list[str]] = {}

    # -- reporting -----------------------------------------------------------

    def gap(self, line: int, service: str | None, key: str, why: str) -> None:
        self.conversion.gaps.append(Gap(*self.source.locate(line), service, key, why))

    def where(self, line: int) -> str:
        """file:line of a line of the compose model (an override, included or extended file's too)."""
        path, within = self.source.locate(line)
        return f"{Path(path).name}:{within}"

    def note(self, text: str) -> None:
        self.conversion.notes.append(text)

    def raw(self, value: str, where: tuple[str | None, str, int]) -> str:
        """A value Quadlet takes whole (Lookup()): never quoted, and quotes at its ends are trimmed
        by the generator (every one before 5.8.2), so such a value is a gap."""
        if value.startswith('"') or value.endswith('"'):
            service, field_name, line = where
            self.gap(line, service, field_name, "starts or ends with a double quote, which Quadlet trims")
        return systemd_literal(value)

    def has_key(self, section: str, key: str) -> bool:
        return key in keys_for(section, self.version)

    def put(self, unit: Unit, section: str, key: str, value: str, where: tuple[str | None, str, int]) -> bool:
        """Write a Quadlet key if the release has it, else record the gap naming the release that does."""
        if self.has_key(section, key):
            unit.add(section, key, value)
            return True
        service, field_name, line = where
        since = QUADLET_KEYS.get(section, {}).get(key)
        later = f"{key}= arrived in Podman {format_version(since)}" if since else f"Quadlet has no {section} {key}="
        self.gap(line, service, field_name, f"{later}; not written for {format_version(self.version)}")
        return False

    # -- the whole stack -----------------------------------------------------

    def run(self) -> Conversion:
        units = self.conversion.units
        services = dict(self.source.services)
        for name, service in list(services.items()):
            body = service.body or _empty()
            if body.get("profiles"):
                self.note(
                    f"service {name}: has profiles {list(body['profiles'])}; converted like the others "
                    "(podman-compose starts it only when a profile is asked for)"
                )
        self.top_level()
        containers = {name: self.container(service) for name, service in services.items()}
        for name in sorted(self.healthy_wanted):
            unit = containers.get(name)
            if unit is not None and not unit.values("Container", "Notify"):
                unit.add("Container", "Notify", "healthy")
        if self.stack.pod is not None:
            units[self.stack.pod] = self.pod(services)
            self.pod_settings(units[self.stack.pod])
        for unit in containers.values():
            units[unit.name] = unit
        units[self.target] = self.target_unit()
        return self.conversion

    def top_level(self) -> None:
        doc = self.document
        for key in doc:
            if key in ("services", "name", "version", "volumes", "networks", "secrets") or key.startswith("x-"):
                continue
            self.gap(doc.line_of(key), None, key, "not converted (top-level key)")
        networks = doc.get("networks")
        if isinstance(networks, MarkedDict):
            for name, spec in networks.items():
                self.network(name, spec if isinstance(spec, MarkedDict) else None, networks.line_of(name))
        volumes = doc.get("volumes")
        if isinstance(volumes, MarkedDict):
            for name, spec in volumes.items():
                self.volume(name, spec if isinstance(spec, MarkedDict) else None, volumes.line_of(name))

    def network(self, name: str, spec: MarkedDict | None, line: int) -> None:
        spec = spec or _empty()
        if spec.get("external"):
            self.stack.networks[name] = str(spec.get("name") or name)
            return
        file_name = f"{self.stack.project}-{name}.network"
        unit = Unit(file_name, [f"Network {name} of {Path(self.source.path).name} ({self.where(line)})"])
        unit.add("Network", "NetworkName", str(spec.get("name") or f"{self.stack.project}_{name}"))
        for key, value in spec.items():
            key_line = spec.line_of(key)
            if key == "driver":
                unit.add("Network", "Driver", str(value))
            elif key == "internal" and value is True:
                unit.add("Network", "Internal", "true")
            elif key == "enable_ipv6" and value is True:
                unit.add("Network", "IPv6", "true")
            elif key == "labels":
                for label in _pairs(value):
                    unit.add("Network", "Label", quote_word(systemd_literal(label)))
            elif key == "ipam" and isinstance(value, MarkedDict):
                for config in value.get("config") or []:
                    if isinstance(config, MarkedDict):
                        for ipam_key, quadlet_key in (
                            ("subnet", "Subnet"),
                            ("gateway", "Gateway"),
                            ("ip_range", "IPRange"),
                        ):
                            if config.get(ipam_key):
                                unit.add("Network", quadlet_key, str(config[ipam_key]))
            elif key == "name":
                continue
            else:
                self.gap(key_line, None, f"networks.{name}.{key}", "not converted")
        self.conversion.units[file_name] = unit
        self.stack.networks[name] = file_name

    def volume(self, name: str, spec: MarkedDict | None, line: int) -> None:
        spec = spec or _empty()
        if spec.get("external"):
            self.stack.volumes[name] = str(spec.get("name") or name)
            return
        file_name = f"{self.stack.project}-{name}.volume"
        unit = Unit(file_name, [f"Volume {name} of {Path(self.source.path).name} ({self.where(line)})"])
        # podman-compose's name for it: the data a Phase-2 deployment wrote is found again.
        volume_name = str(spec.get("name") or f"{self.stack.project}_{name}")
        self.put(unit, "Volume", "VolumeName", volume_name, (None, f"volumes.{name}", line))
        for key, value in spec.items():
            key_line = spec.line_of(key)
            if key == "driver":
                self.put(unit, "Volume", "Driver", str(value), (None, f"volumes.{name}.driver", key_line))
            elif key == "labels":
                for label in _pairs(value):
                    unit.add("Volume", "Label", quote_word(systemd_literal(label)))
            elif key == "driver_opts" and isinstance(value, MarkedDict):
                for opt, opt_value in value.items():
                    if opt in ("type", "device"):
                        unit.add("Volume", opt.capitalize(), str(opt_value))
                    elif opt == "o":
                        unit.add("Volume", "Options", str(opt_value))
                    else:
                        self.gap(value.line_of(opt), None, f"volumes.{name}.driver_opts.{opt}", "not converted")
            elif key == "name":
                continue
            else:
                self.gap(key_line, None, f"volumes.{name}.{key}", "not converted")
        self.conversion.units[file_name] = unit
        self.stack.volumes[name] = file_name

    def pod(self, services: dict[str, ComposeService]) -> Unit:
        assert self.stack.pod is not None
        unit = Unit(
            self.stack.pod,
            [
                f"The pod of {Path(self.source.path).name}: it publishes every service's ports,",
                "since containers in a pod share its network.",
            ],
        )
        unit.add("Unit", "Description", f"{self.stack.pod_name} pod (converted from {Path(self.source.path).name})")
        unit.add("Unit", "PartOf", self.target)
        unit.add("Pod", "PodName", self.stack.pod_name)
        for name, service in services.items():
            for port in service.ports:
                unit.add("Pod", "PublishPort", _port(port), name)
                self.low_port(name, port)
        for network in self.pod_networks(services):
            unit.add("Pod", "Network", network)
        unit.add("Install", "WantedBy", self.target)
        return unit

    def pod_settings(self, unit: Unit) -> None:
        """What the services asked for that their pod decides (collected while converting them)."""
        for key, values in self.pod_keys.items():
            if key in _SINGLE_IN_POD and len(values) > 1:
                self.gap(
                    1,
                    None,
                    key,
                    f"the services ask for different values ({', '.join(values)}); the pod takes the first",
                )
                values = values[:1]
            unit.sections["Pod"].extend((key, value, None) for value in values)
        if self.pod_shm is not None:
            unit.sections["Pod"].append(("ShmSize", str(self.pod_shm), None))

    def pod_networks(self, services: dict[str, ComposeService]) -> list[str]:
        """Containers of a pod share its network: the pod joins every network a service names."""
        wanted: list[str] = []
        for service in services.values():
            body = service.body or _empty()
            networks = body.get("networks")
            names = list(networks) if isinstance(networks, (MarkedDict, MarkedList)) else []
            for name in names:
                name = str(name)
                resolved = self.stack.networks.get(name)
                if resolved is None:
                    if name != "default":
                        self.gap(
                            body.line_of("networks"),
                            service.name,
                            "networks",
                            f"network {name} is not declared at the top level",
                        )
                    continue
                if resolved not in wanted:
                    wanted.append(resolved)
                if isinstance(networks, MarkedDict) and isinstance(networks.get(name), MarkedDict):
                    for key in networks[name]:
                        if key == "aliases":
                            self.note(
                                f"service {service.name}: network aliases ({self.where(networks[name].line_of(key))})"
                                " are not set: the pod's members reach each other on localhost"
                            )
                        else:
                            self.gap(
                                networks[name].line_of(key),
                                service.name,
                                f"networks.{name}.{key}",
                                "per-service network settings do not apply in a pod",
                            )
        return wanted

    def low_port(self, service: str, port: compose.PortMapping) -> None:
        if port.host_port is not None and port.host_port < 1024:
            self.note(
                f"service {service}: host port {port.host_port} ({self.where(port.line)}) is below 1024:"
                " rootless Podman needs net.ipv4.ip_unprivileged_port_start lowered, or publish a port from 1024 up"
            )

    def target_unit(self) -> Unit:
        unit = Unit(
            self.target,
            [
                f"Groups the units of {Path(self.source.path).name}: each is PartOf= and WantedBy= it,",
                f"so `systemctl --user enable --now {self.target}` starts the stack.",
            ],
        )
        unit.add("Unit", "Description", f"{self.stack.pod_name} stack")
        unit.add("Install", "WantedBy", "default.target")
        return unit

    # -- one service ---------------------------------------------------------

    def container(self, service: ComposeService) -> Unit:
        name = service.name
        body = service.body or _empty()
        unit = Unit(f"{name}.container", [f"Service {name} ({self.where(service.line)})"])
        unit.add("Unit", "Description", f"{name} (converted from {Path(self.source.path).name})")
        handled: set[str] = set()

        def line(key: str) -> int:
            return service.line_of(key)

        def where(key: str) -> tuple[str, str, int]:
            return (name, key, line(key))

        # [Unit]: dependencies, then membership of the target.
        self.dependencies(unit, service, body)
        handled.add("depends_on")
        unit.add("Unit", "PartOf", self.target)

        # [Container]
        unit.add("Container", "ContainerName", service.container_name or name)
        # The compose parser has merged what a service extends into its body already.
        handled.update(("container_name", "extends"))
        if service.image:
            image = qualified_image(service.image)
            unit.add("Container", "Image", image)
            if not is_pinned(image):
                self.note(f"service {name}: image {service.image} is not pinned to a tag or digest")
            if service.has_build:
                self.gap(line("build"), name, "build", "not converted: the image named by 'image' is run as it is")
        else:
            unit.add("Container", "Image", f"localhost/{self.stack.project}-{name}:latest")
            self.gap(
                line("build"),
                name,
                "build",
                f"not converted: build the image as localhost/{self.stack.project}-{name}:latest first",
            )
        handled.update(("image", "build"))
        if self.stack.pod is not None:
            unit.add("Container", "Pod", self.stack.pod)
        else:
            for port in service.ports:
                unit.add("Container", "PublishPort", _port(port))
                self.low_port(name, port)
            for network in self.pod_networks({name: service}):
                unit.add("Container", "Network", network)
        handled.update(("ports", "networks"))
        command = dict(service.commands)
        for key in ("entrypoint", "command"):
            if key not in command:
                continue
            words = list(command[key])
            options = secret_options(words)
            if options or any(secret_value_reason("", word) for word in words):
                # Never a literal secret in a unit: the service runs the image's own instead, until fixed.
                said = f"option {', '.join(options)}" if options else "a token or URL password"
                self.gap(
                    line(key),
                    name,
                    key,
                    f"passes a literal secret ({said}) on the command line; not written: "
                    "pass it as a file (podman secret create, compose secrets:) and convert again",
                )
            elif key == "command":
                unit.add("Container", "Exec", join_words(words))
            else:
                value = words[0] if len(words) == 1 else json.dumps(words)
                self.put(unit, "Container", "Entrypoint", self.raw(value, where(key)), where(key))
        handled.update(("command", "entrypoint"))
        self.environment(unit, service)
        handled.update(("environment", "env_file"))
        self.service_secrets(unit, service, body)
        handled.add("secrets")
        for label in service.labels:
            if secret_value_reason(label.name, label.value) is not None:
                self.gap(label.line, name, f"labels.{label.name}", "holds a literal secret; not written")
                continue
            text = label.name if label.value is None else f"{label.name}={label.value}"
            unit.add("Container", "Label", quote_word(systemd_literal(text)))
        handled.add("labels")
        self.volumes(unit, service)
        handled.add("volumes")
        self.healthcheck(unit, service, body.get("healthcheck"))
        handled.add("healthcheck")
        handled.update(self.simple_keys(unit, service, body))

        # [Service]
        handled.update(self.service_section(unit, service, body))
        unit.add("Install", "WantedBy", self.target)
        handled.update(("restart", "deploy"))
        for key in body:
            if key not in handled and not key.startswith("x-"):
                self.gap(line(key), name, key, "not converted")
        return unit

    def dependencies(self, unit: Unit, service: ComposeService, body: MarkedDict) -> None:
        value = body.get("depends_on")
        if value is None:
            return
        items: list[tuple[str, MarkedDict | None, int]] = []
        if isinstance(value, MarkedList):
            items = [(str(item), None, value.line_of(i)) for i, item in enumerate(value)]
        elif isinstance(value, MarkedDict):
            items = [(k, v if isinstance(v, MarkedDict) else None, value.line_of(k)) for k, v in value.items()]
        translated = self.version >= DEPENDENCY_TRANSLATION_SINCE
        for other, spec, line in items:
            if other not in self.source.services:
                self.gap(line, service.name, "depends_on", f"{other} is not a service of the file")
                continue
            # From 5.5 Quadlet translates its own file names; before, only the generated service is known.
            dependency = f"{other}.container" if translated else f"{other}.service"
            spec = spec or _empty()
            condition = str(spec.get("condition") or "service_started")
            required = spec.get("required", True) is not False
            unit.add("Unit", "Requires" if required else "Wants", dependency)
            unit.add("Unit", "After", dependency)
            if condition == "service_healthy":
                other_service = self.source.services[other]
                if other_service.healthcheck and self.version >= NOTIFY_HEALTHY_SINCE:
                    # The dependency counts as started only once healthy: After= then waits for that.
                    self.healthy_wanted.add(other)
                elif not other_service.healthcheck:
                    self.gap(line, service.name, "depends_on", f"condition service_healthy: {other} has no healthcheck")
                else:
                    since = format_version(NOTIFY_HEALTHY_SINCE)
                    self.gap(line, service.name, "depends_on", f"service_healthy needs Notify=healthy (Podman {since})")
            elif condition != "service_started":
                self.gap(line, service.name, "depends_on", f"condition {condition} is not converted (started only)")
            for key in spec:
                if key not in ("condition", "required"):
                    self.gap(spec.line_of(key), service.name, f"depends_on.{other}.{key}", "not converted")

    def environment(self, unit: Unit, service: ComposeService) -> None:
        for path, line in service.env_files:
            unit.add("Container", "EnvironmentFile", quote_word(systemd_literal(self.host_path(path))))
            self.note(
                f"service {service.name}: env_file {path} ({self.where(line)}) is read on the host; "
                "keep secrets out of it (podman secret create)"
            )
        for var in service.environment:
            if var.value is None:
                self.gap(
                    var.line,
                    service.name,
                    f"environment.{var.name}",
                    "takes its value from the environment of whoever runs compose; set it in an EnvironmentFile=",
                )
                continue
            if var.line in self.source.unresolved:
                self.gap(
                    var.line,
                    service.name,
                    f"environment.{var.name}",
                    "podman-compose cannot substitute its value (see the problems); not written",
                )
                continue
            if secret_value_reason(var.name, var.value) is not None or is_secret_name(var.name):
                secret = self.secret_name(service.name, var.name)
                self.create_secret(
                    secret,
                    f"environment {var.name} of service {service.name} ({self.where(var.line)})",
                    f"printf '%s' \"${var.name}\" | podman secret create {secret} -",
                )
                self.put(
                    unit,
                    "Container",
                    "Secret",
                    f"{secret},type=env,target={var.name}",
                    (service.name, f"environment.{var.name}", var.line),
                )
                continue
            unit.add("Container", "Environment", quote_word(systemd_literal(f"{var.name}={var.value}")))

    def secret_name(self, service: str, what: str) -> str:
        return _SECRET_NAME_BAD.sub("-", f"{self.stack.project}-{service}-{what}".lower()).strip("-.")

    def create_secret(self, name: str, holds: str, command: str) -> None:
        if all(secret.name != name for secret in self.conversion.secrets):
            self.conversion.secrets.append(SecretToCreate(name, holds, command))

    def service_secrets(self, unit: Unit, service: ComposeService, body: MarkedDict) -> None:
        """Compose's file secrets are Podman's: mounted under /run/secrets/ by default in both."""
        value = body.get("secrets")
        if not isinstance(value, MarkedList):
            return
        declared = self.document.get("secrets")
        declared = declared if isinstance(declared, MarkedDict) else _empty()
        for index, item in enumerate(value):
            line = value.line_of(index)
            source = str(item.get("source")) if isinstance(item, MarkedDict) else str(item)
            spec = declared.get(source)
            if not isinstance(spec, MarkedDict):
                self.gap(line, service.name, "secrets", f"secret {source} is not declared at the top level")
                continue
            if spec.get("external"):
                secret = str(spec.get("name") or source)
            else:
                secret = _SECRET_NAME_BAD.sub("-", f"{self.stack.project}-{source}".lower())
                if spec.get("file"):
                    command = f"podman secret create {secret} {_shell_path(self.host_path(str(spec['file'])))}"
                elif spec.get("environment"):
                    command = f"printf '%s' \"${spec['environment']}\" | podman secret create {secret} -"
                else:
                    self.gap(declared.line_of(source), None, f"secrets.{source}", "neither file nor environment")
                    continue
                self.create_secret(secret, f"secret {source} ({self.where(declared.line_of(source))})", command)
            options = [secret, f"target={source}"]
            if isinstance(item, MarkedDict):
                for key in ("target", "uid", "gid", "mode"):
                    if item.get(key) is not None:
                        text = f"{item[key]:o}" if key == "mode" and isinstance(item[key], int) else str(item[key])
                        options = [o for o in options if not o.startswith(f"{key}=")] + [f"{key}={text}"]
            self.put(unit, "Container", "Secret", ",".join(options), (service.name, "secrets", line))

    def host_path(self, path: str) -> str:
        """A path of the compose file as the host that runs the units sees it."""
        if path.startswith("~"):
            return "%h" + path[1:]
        if path.startswith("/"):
            return path
        return posixpath.normpath(posixpath.join(self.compose_dir, path))

    def bind_source(self, mount: VolumeMount) -> str:
        assert mount.source is not None
        return self.host_path(mount.source)

    def volumes(self, unit: Unit, service: ComposeService) -> None:
        for mount in service.volumes:
            options = [o for o in mount.options if o not in ("z", "Z", "ro", "rw")]
            if mount.read_only:
                options.append("ro")
            if mount.kind == "tmpfs":
                unit.add("Container", "Tmpfs", mount.target)
                continue
            if mount.kind == "anonymous" or mount.source is None:
                unit.add("Container", "Volume", ":".join([mount.target, *([",".join(options)] if options else [])]))
                continue
            if mount.kind == "volume":
                named = self.stack.volumes.get(mount.source)
                if named is None:
                    self.gap(
                        mount.line, service.name, "volumes", f"volume {mount.source} is not declared at the top level"
                    )
                    continue
                spec = ":".join([named, mount.target, *([",".join(options)] if options else [])])
                unit.add("Container", "Volume", spec)
                continue
            source = self.bind_source(mount)
            literal = source if source.startswith("%h") else systemd_literal(source)
            if source.startswith("%h"):
                literal = "%h" + systemd_literal(source[2:])
            if source.rstrip("/") in _DOCKER_SOCKETS:
                # Docker is gone after the migration; the user's Podman answers the same API here.
                literal = source = _PODMAN_SOCKET
                self.note(
                    f"service {service.name}: {mount.source} ({self.where(mount.line)}) is now the rootless Podman"
                    f" socket {_PODMAN_SOCKET} (systemctl --user enable --now podman.socket); whoever runs in the"
                    " container controls the account: drop the mount if you can"
                )
            if is_system_path(source):
                if mount.selinux:
                    self.gap(
                        mount.line,
                        service.name,
                        "volumes",
                        f":{mount.selinux} on {source} dropped: system content is never relabelled",
                    )
            elif mount.selinux is None and _labels_disabled(service):
                pass  # labelling is off for the container: nothing to relabel for
            else:
                label = mount.selinux or ("z" if source in self.shared_binds else "Z")
                if mount.selinux is None:
                    self.note(
                        f"service {service.name}: bind mount {mount.source} ({self.where(mount.line)}) gets :{label} "
                        "(SELinux); add it to the compose file too so both agree"
                    )
                options.append(label)
            unit.add(
                "Container", "Volume", ":".join([literal, mount.target, *([",".join(options)] if options else [])])
            )

    def healthcheck(self, unit: Unit, service: ComposeService, spec: Any) -> None:
        if not isinstance(spec, MarkedDict):
            return
        name = service.name
        if spec.get("disable") is True:
            self.put(unit, "Container", "HealthCmd", "none", (name, "healthcheck", service.line_of("healthcheck")))
            return
        test = spec.get("test")
        command: str | None = None
        if isinstance(test, MarkedList) and test:
            kind, words = str(test[0]), [str(word) for word in test[1:]]
            if kind == "NONE":
                command = "none"
            elif kind == "CMD-SHELL" and words:
                command = self.raw(" ".join(words), (name, "healthcheck.test", spec.line_of("test")))
            elif kind == "CMD" and words:
                # Podman reads a JSON array as the exec form: no shell needed in the image.
                command = self.raw(json.dumps(words), (name, "healthcheck.test", spec.line_of("test")))
        elif isinstance(test, str) and test.strip():
            command = self.raw(test, (name, "healthcheck.test", spec.line_of("test")))
        if command is not None and (secret_options(command.split()) or secret_value_reason("", command)):
            self.gap(spec.line_of("test"), name, "healthcheck.test", "passes a literal secret; not written")
            return
        if command is None:
            if test is not None:
                self.gap(spec.line_of("test"), name, "healthcheck.test", "not a command podman can run")
            return
        if not self.put(unit, "Container", "HealthCmd", command, (name, "healthcheck", spec.line_of("test"))):
            return
        for key, value in spec.items():
            quadlet = {
                "interval": "HealthInterval",
                "timeout": "HealthTimeout",
                "retries": "HealthRetries",
                "start_period": "HealthStartPeriod",
            }.get(key)
            if quadlet is not None:
                unit.add("Container", quadlet, str(value).strip())
            elif key not in ("test", "disable"):
                self.gap(spec.line_of(key), name, f"healthcheck.{key}", "Podman's healthcheck has no such setting")

    def simple_keys(self, unit: Unit, service: ComposeService, body: MarkedDict) -> set[str]:
        """Keys with one Quadlet key each, and those a pod decides for its members."""
        name = service.name
        handled: set[str] = set()
        in_pod = self.stack.pod is not None

        def words(key: str) -> list[str]:
            value = body.get(key)
            if isinstance(value, MarkedList):
                return [str(item) for item in value]
            return [] if value is None or isinstance(value, MarkedDict) else [str(value)]

        # Split into words by Quadlet (LookupAllStrv) or taken whole (LookupAll).
        one_each = {
            "cap_add": ("AddCapability", True),
            "cap_drop": ("DropCapability", True),
            "devices": ("AddDevice", True),
            "group_add": ("GroupAdd", False),
            "tmpfs": ("Tmpfs", False),
        }
        for key, (quadlet, split) in one_each.items():
            if key in body:
                handled.add(key)
                for word in words(key):
                    value = (
                        quote_word(systemd_literal(word)) if split else self.raw(word, (name, key, body.line_of(key)))
                    )
                    if not self.put(unit, "Container", quadlet, value, (name, key, body.line_of(key))):
                        break
        scalars = {"user": "User", "working_dir": "WorkingDir", "stop_signal": "StopSignal"}
        for key, quadlet in scalars.items():
            if body.get(key) is not None:
                handled.add(key)
                self.put(
                    unit,
                    "Container",
                    quadlet,
                    self.raw(str(body[key]), (name, key, body.line_of(key))),
                    (name, key, body.line_of(key)),
                )
        flags = {"read_only": "ReadOnly", "init": "RunInit"}
        for key, quadlet in flags.items():
            if key in body:
                handled.add(key)
                if body[key] is True:
                    unit.add("Container", quadlet, "true")
        if body.get("stop_grace_period") is not None:
            handled.add("stop_grace_period")
            seconds = _seconds(str(body["stop_grace_period"]))
            if seconds is None:
                self.gap(body.line_of("stop_grace_period"), name, "stop_grace_period", "not a duration")
            else:
                self.put(
                    unit,
                    "Container",
                    "StopTimeout",
                    str(seconds),
                    (name, "stop_grace_period", body.line_of("stop_grace_period")),
                )
        if body.get("privileged") is True:
            handled.add("privileged")
            unit.add("Container", "PodmanArgs", "--privileged")
            self.note(f"service {name}: privileged ({self.where(body.line_of('privileged'))}) kept; drop it if you can")
        elif "privileged" in body:
            handled.add("privileged")
        if "security_opt" in body:
            handled.add("security_opt")
            for option in words("security_opt"):
                self.security_opt(unit, name, option, body.line_of("security_opt"))
        if "ulimits" in body and isinstance(body["ulimits"], MarkedDict):
            handled.add("ulimits")
            for limit, value in body["ulimits"].items():
                if isinstance(value, MarkedDict):
                    text = f"{limit}={value.get('soft')}:{value.get('hard')}"
                else:
                    text = f"{limit}={value}"
                if not self.put(unit, "Container", "Ulimit", text, (name, "ulimits", body.line_of("ulimits"))):
                    break
        if "pull_policy" in body:
            handled.add("pull_policy")
            policy = {
                "always": "always",
                "missing": "missing",
                "if_not_present": "missing",
                "never": "never",
                "newer": "newer",
            }.get(str(body["pull_policy"]))
            if policy is None:
                self.gap(body.line_of("pull_policy"), name, "pull_policy", f"{body['pull_policy']} is not converted")
            else:
                self.put(unit, "Container", "Pull", policy, (name, "pull_policy", body.line_of("pull_policy")))
        if "logging" in body and isinstance(body["logging"], MarkedDict):
            handled.add("logging")
            logging = body["logging"]
            if logging.get("driver"):
                self.put(unit, "Container", "LogDriver", str(logging["driver"]), (name, "logging", logging.line))
            opts = logging.get("options")
            if isinstance(opts, MarkedDict):
                for opt, value in opts.items():
                    if not self.put(
                        unit,
                        "Container",
                        "LogOpt",
                        quote_word(f"{opt}={value}"),
                        (name, "logging.options", opts.line_of(opt)),
                    ):
                        break
        if "annotations" in body:
            handled.add("annotations")
            for pair in _pairs(body["annotations"]):
                unit.add("Container", "Annotation", quote_word(systemd_literal(pair)))
        if "sysctls" in body:
            handled.add("sysctls")
            for pair in _pairs(body["sysctls"]):
                if in_pod and pair.startswith("net."):
                    self.gap(
                        body.line_of("sysctls"),
                        name,
                        "sysctls",
                        f"{pair.split('=')[0]}: a pod's members share "
                        "its network namespace, where podman refuses per-container net.* sysctls",
                    )
                else:
                    self.put(unit, "Container", "Sysctl", quote_word(pair), (name, "sysctls", body.line_of("sysctls")))
        if body.get("shm_size") is not None:
            handled.add("shm_size")
            size = _memory(body["shm_size"])
            where = (name, "shm_size", body.line_of("shm_size"))
            if size is None:
                self.gap(where[2], name, "shm_size", "not a size")
            elif not in_pod:
                self.put(unit, "Container", "ShmSize", size, where)
            elif self.has_key("Pod", "ShmSize"):
                # The pod's members share its IPC namespace, and with it /dev/shm: the largest asked for.
                self.pod_shm = max(self.pod_shm or 0, int(size))
            else:
                self.gap(
                    where[2],
                    name,
                    "shm_size",
                    "a pod's members share its /dev/shm; [Pod] ShmSize= arrived "
                    f"in Podman 5.4, not written for {format_version(self.version)}",
                )
        if "expose" in body:
            handled.add("expose")
            self.note(
                f"service {name}: expose ({self.where(body.line_of('expose'))}) needs nothing: "
                "the pod's containers reach each other's ports on localhost"
            )
        if "links" in body:
            handled.add("links")
            self.note(f"service {name}: links ({self.where(body.line_of('links'))}) need nothing in a pod")
        for key, quadlet in _SHARED_IN_POD.items():
            if key not in body:
                continue
            handled.add(key)
            where = (name, key, body.line_of(key))
            for value in words(key) if key not in ("extra_hosts",) else list(_pairs(body[key])):
                value = value.replace("=", ":", 1) if key == "extra_hosts" else value
                if not in_pod:
                    self.put(unit, "Container", quadlet, self.raw(value, where), where)
                elif self.has_key("Pod", quadlet):
                    # A pod's members share its network, UTS and user namespaces: the pod carries them.
                    if value not in self.pod_keys.setdefault(quadlet, []):
                        self.pod_keys[quadlet].append(value)
                else:
                    self.gap(
                        where[2],
                        name,
                        key,
                        f"the pod decides it for its members; [Pod] {quadlet}= is "
                        f"not in Podman {format_version(self.version)}",
                    )
                    break
        for key in ("ipc", "pid", "uts", "network_mode", "cgroup"):
            if key in body and in_pod:
                handled.add(key)
                self.gap(body.line_of(key), name, key, "a pod's members share its namespaces; not converted")
        return handled

    def security_opt(self, unit: Unit, service: str, option: str, line: int) -> None:
        key, _sep, value = option.replace("=", ":", 1).partition(":")
        if key == "label" and value == "disable":
            unit.add("Container", "SecurityLabelDisable", "true")
        elif key == "label" and value.startswith("type:"):
            unit.add("Container", "SecurityLabelType", value.removeprefix("type:"))
        elif key == "no-new-privileges" and value in ("", "true"):
            unit.add("Container", "NoNewPrivileges", "true")
        elif key == "seccomp" and value:
            unit.add("Container", "SeccompProfile", self.host_path(value) if value != "unconfined" else value)
        else:
            self.gap(line, service, "security_opt", f"{option} is not converted")

    def service_section(self, unit: Unit, service: ComposeService, body: MarkedDict) -> set[str]:
        """Restart= and the resource limits: systemd's, on the service whose cgroup holds the container."""
        name = service.name
        handled: set[str] = set()
        restart = service.restart
        given = body.get("deploy")
        deploy: MarkedDict = given if isinstance(given, MarkedDict) else _empty()
        policy = deploy.get("restart_policy") if isinstance(deploy.get("restart_policy"), MarkedDict) else None
        if restart is None and policy is not None:
            restart = {"none": "no", "any": "always"}.get(str(policy.get("condition")), str(policy.get("condition")))
        if restart is not None:
            word, _sep, count = restart.partition(":")
            systemd = _RESTART.get(word)
            if systemd is None:
                self.gap(service.line_of("restart"), name, "restart", f"{restart} is not a restart policy")
            else:
                unit.add("Service", "Restart", systemd)
                if word == "unless-stopped":
                    self.note(
                        f"service {name}: restart unless-stopped is Restart=always "
                        "(a unit stopped with systemctl stays stopped)"
                    )
                if count:
                    self.gap(
                        service.line_of("restart"),
                        name,
                        "restart",
                        f"the retry count {count} is not converted (systemd's StartLimitBurst= counts differently)",
                    )
        limits: dict[str, Any] = {}
        reservations: dict[str, Any] = {}
        resources = deploy.get("resources")
        if isinstance(resources, MarkedDict):
            limits = dict(resources.get("limits") or {})
            reservations = dict(resources.get("reservations") or {})
        memory = body.get("mem_limit") or limits.get("memory")
        if memory is not None:
            handled.add("mem_limit")
            self.resource(unit, name, "MemoryMax", _memory(memory), "mem_limit", service.line_of("mem_limit"))
        low = body.get("mem_reservation") or reservations.get("memory")
        if low is not None:
            handled.add("mem_reservation")
            self.resource(unit, name, "MemoryLow", _memory(low), "mem_reservation", service.line_of("mem_reservation"))
        swap = body.get("memswap_limit")
        if swap is not None:
            handled.add("memswap_limit")
            total, mem = _bytes(swap), _bytes(memory) if memory is not None else None
            value = None if total is None or mem is None else ("infinity" if total < 0 else str(max(total - mem, 0)))
            self.resource(unit, name, "MemorySwapMax", value, "memswap_limit", service.line_of("memswap_limit"))
        cpus = body.get("cpus") or limits.get("cpus")
        if cpus is not None:
            handled.add("cpus")
            try:
                quota = f"{round(float(cpus) * 100)}%"
            except ValueError:
                quota = None
            self.resource(unit, name, "CPUQuota", quota, "cpus", service.line_of("cpus"))
        pids = body.get("pids_limit") or limits.get("pids")
        if pids is not None:
            handled.add("pids_limit")
            value = "infinity" if str(pids) in ("-1", "0") else str(pids)
            self.resource(unit, name, "TasksMax", value, "pids_limit", service.line_of("pids_limit"))
        if body.get("cpu_shares") is not None:
            handled.add("cpu_shares")
            try:
                weight: str | None = str(max(1, min(10000, 1 + (int(body["cpu_shares"]) - 2) * 9999 // 262142)))
            except ValueError:
                weight = None
            self.resource(unit, name, "CPUWeight", weight, "cpu_shares", service.line_of("cpu_shares"))
        for key in deploy:
            if key not in ("restart_policy", "resources"):
                if key == "replicas" and str(deploy[key]) == "1":
                    continue
                self.gap(deploy.line_of(key), name, f"deploy.{key}", "not converted")
        if isinstance(resources, MarkedDict):
            for kind, values in (("limits", limits), ("reservations", reservations)):
                for key in values:
                    if (kind, key) not in (
                        ("limits", "memory"),
                        ("limits", "cpus"),
                        ("limits", "pids"),
                        ("reservations", "memory"),
                    ):
                        self.gap(resources.line_of(kind), name, f"deploy.resources.{kind}.{key}", "not converted")
        return handled

    def resource(self, unit: Unit, service: str, key: str, value: str | None, field_name: str, line: int) -> None:
        if value is None:
            self.gap(line, service, field_name, "not a value systemd reads")
        else:
            unit.add("Service", key, value)


# Compose keys a pod decides for its members (it holds their network, UTS and user namespaces),
# with the Quadlet key of both [Container] and [Pod].
_SHARED_IN_POD = {
    "hostname": "HostName",
    "dns": "DNS",
    "dns_search": "DNSSearch",
    "dns_opt": "DNSOption",
    "extra_hosts": "AddHost",
    "userns_mode": "UserNS",
}
_SINGLE_IN_POD = frozenset({"HostName", "UserNS"})
_DOCKER_SOCKETS = frozenset({"/var/run/docker.sock", "/run/docker.sock"})
_PODMAN_SOCKET = "%t/podman/podman.sock"


def _labels_disabled(service: ComposeService) -> bool:
    options = service.body.get("security_opt") if service.body is not None else None
    return isinstance(options, MarkedList) and any(str(o).replace("=", ":") == "label:disable" for o in options)


def _shell_path(path: str) -> str:
    """A host path for a command the user runs in a shell (%h is systemd's, $HOME the shell's)."""
    if path.startswith("%h"):
        return '"$HOME"' + (shlex.quote(path[2:]) if path[2:] else "")
    return shlex.quote(path)


def _empty() -> MarkedDict:
    empty = MarkedDict()
    empty.line, empty.key_lines = 1, {}
    return empty


def _home_relative(folder: Path) -> str:
    home = Path.home()
    try:
        return "%h/" + folder.relative_to(home).as_posix() if folder != home else "%h"
    except ValueError:
        return folder.as_posix()


def _port(port: compose.PortMapping) -> str:
    parts = [f"[{port.host_ip}]" if port.host_ip and ":" in port.host_ip else port.host_ip or ""]
    spec = f"{port.host_port}:{port.container_port}" if port.host_port is not None else f"{port.container_port}"
    if parts[0]:
        spec = f"{parts[0]}:{spec}" if port.host_port is not None else f"{parts[0]}::{port.container_port}"
    return spec if port.protocol == "tcp" else f"{spec}/{port.protocol}"


def _pairs(value: Any) -> Iterable[str]:
    if isinstance(value, MarkedDict):
        return [f"{key}={'' if item is None else item}" for key, item in value.items()]
    if isinstance(value, MarkedList):
        return [str(item) for item in value]
    return []


def _bytes(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _MEMORY.match(str(value))
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2).lower()
    return int(number * 1024 ** " kmgt".index(unit or " "))


def _memory(value: Any) -> str | None:
    size = _bytes(value)
    return None if size is None else str(size)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)")


def _seconds(text: str) -> int | None:
    """A compose duration (`1m30s`, `10s`) in whole seconds, rounded up."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    factor = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    total = sum(float(number) * factor[unit] for number, unit in parts)
    return int(-(-total // 1))
