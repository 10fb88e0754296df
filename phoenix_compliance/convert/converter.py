"""A compose file turned into Quadlet units for one Podman release.

One ``.pod`` holds every published port and the stack's networks, one
``.container`` per service joins it, named volumes and networks become
``.volume`` and ``.network`` units, and a target groups them all (PartOf= and
WantedBy= in each). A key the chosen release lacks is never written (the lint's
tables, quadlet/versions.py, say which release has which key); what cannot
be written is a Gap, with the service and line, and the rest is still written.

Secrets never reach a unit: a secret-looking variable (security.secrets) becomes a
Podman secret passed with Secret=...,type=env, and the command that creates it
reads the value from the shell (``printf '%s' "$NAME" | podman secret create ...``).
"""

from __future__ import annotations

from pathlib import Path

from phoenix_compliance.convert.model import Conversion, Options
from phoenix_compliance.convert.services import Services
from phoenix_compliance.convert.units import Unit
from phoenix_compliance.convert.values import SINGLE_IN_POD, empty_mapping, pairs, publish_spec
from phoenix_compliance.parsers.compose import ComposeFile, ComposeService
from phoenix_compliance.parsers.yamlmarks import MarkedDict


def convert(source: ComposeFile, options: Options) -> Conversion:
    return _Converter(source, options).run()


class _Converter(Services):
    def run(self) -> Conversion:
        units = self.conversion.units
        services = dict(self.source.services)
        for name, service in list(services.items()):
            body = service.body or empty_mapping()
            if body.get("profiles"):
                self.note(
                    f"service {name}: has profiles {list(body['profiles'])}; converted like the others "
                    "(podman-compose starts it only when a profile is asked for)"
                )
        self.top_level()
        containers = {name: unit for name, service in services.items() if (unit := self.container(service)) is not None}
        for name in sorted(self.healthy_wanted):
            unit = containers.get(name)
            if unit is not None and not unit.values("Container", "Notify"):
                self.write(
                    unit, "Container", "Notify", "healthy", (name, "healthcheck", self.source.services[name].line)
                )
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

    def declared_unit(self, kind: str, name: str, spec: MarkedDict, line: int, known: dict[str, str]) -> Unit | None:
        """The unit of a top-level network or volume (`kind`), or None where none is written: an
        external one is only recorded in `known` under its checked name, a refused name writes nothing."""
        if spec.get("external"):
            external = self.checked(str(spec.get("name") or name), f"external {kind}", line)
            if external is not None:
                known[name] = external
            return None
        file_name = self.file_name(f"{self.stack.project}-{name}", kind, kind, line)
        if file_name is None:
            return None
        return Unit(file_name, [f"{kind.capitalize()} {name} of {Path(self.source.path).name} ({self.where(line)})"])

    def network(self, name: str, spec: MarkedDict | None, line: int) -> None:
        spec = spec or empty_mapping()
        unit = self.declared_unit("network", name, spec, line, self.stack.networks)
        if unit is None:
            return
        where = (None, f"networks.{name}", line)
        self.write(unit, "Network", "NetworkName", str(spec.get("name") or f"{self.stack.project}_{name}"), where)
        for key, value in spec.items():
            key_line = spec.line_of(key)
            at = (None, f"networks.{name}.{key}", key_line)
            if key == "driver":
                self.write(unit, "Network", "Driver", str(value), at)
            elif key == "internal" and value is True:
                self.write(unit, "Network", "Internal", "true", at)
            elif key == "enable_ipv6" and value is True:
                self.write(unit, "Network", "IPv6", "true", at)
            elif key == "labels":
                for label in pairs(value):
                    self.write(unit, "Network", "Label", [label], at)
            elif key == "ipam" and isinstance(value, MarkedDict):
                for config in value.get("config") or []:
                    if isinstance(config, MarkedDict):
                        for ipam_key, quadlet_key in (
                            ("subnet", "Subnet"),
                            ("gateway", "Gateway"),
                            ("ip_range", "IPRange"),
                        ):
                            if config.get(ipam_key):
                                self.write(unit, "Network", quadlet_key, str(config[ipam_key]), at)
            elif key == "name":
                continue
            else:
                self.gap(key_line, None, f"networks.{name}.{key}", "not converted")
        self.conversion.units[unit.name] = unit
        self.stack.networks[name] = unit.name

    def volume(self, name: str, spec: MarkedDict | None, line: int) -> None:
        spec = spec or empty_mapping()
        unit = self.declared_unit("volume", name, spec, line, self.stack.volumes)
        if unit is None:
            return
        # podman-compose's name for it: the data a Phase-2 deployment wrote is found again.
        volume_name = str(spec.get("name") or f"{self.stack.project}_{name}")
        self.write(unit, "Volume", "VolumeName", volume_name, (None, f"volumes.{name}", line))
        for key, value in spec.items():
            key_line = spec.line_of(key)
            at = (None, f"volumes.{name}.{key}", key_line)
            if key == "driver":
                self.write(unit, "Volume", "Driver", str(value), at)
            elif key == "labels":
                for label in pairs(value):
                    self.write(unit, "Volume", "Label", [label], at)
            elif key == "driver_opts" and isinstance(value, MarkedDict):
                for opt, opt_value in value.items():
                    opt_at = (None, f"volumes.{name}.driver_opts.{opt}", value.line_of(opt))
                    if opt in ("type", "device"):
                        self.write(unit, "Volume", opt.capitalize(), str(opt_value), opt_at)
                    elif opt == "o":
                        self.write(unit, "Volume", "Options", str(opt_value), opt_at)
                    else:
                        self.gap(value.line_of(opt), None, f"volumes.{name}.driver_opts.{opt}", "not converted")
            elif key == "name":
                continue
            else:
                self.gap(key_line, None, f"volumes.{name}.{key}", "not converted")
        self.conversion.units[unit.name] = unit
        self.stack.volumes[name] = unit.name

    def pod(self, services: dict[str, ComposeService]) -> Unit:
        assert self.stack.pod is not None
        unit = Unit(
            self.stack.pod,
            [
                f"The pod of {Path(self.source.path).name}: it publishes every service's ports,",
                "since containers in a pod share its network.",
            ],
        )
        at = (None, "name", self.name_line)
        description = f"{self.stack.pod_name} pod (converted from {Path(self.source.path).name})"
        self.write(unit, "Unit", "Description", description, at)
        self.write(unit, "Unit", "PartOf", self.target, at)
        self.write(unit, "Pod", "PodName", self.stack.pod_name, at)
        for name, service in services.items():
            for port in service.ports:
                self.write(unit, "Pod", "PublishPort", publish_spec(port), (name, "ports", port.line), name)
                self.low_port(name, port)
        for network in self.pod_networks(services):
            self.write(unit, "Pod", "Network", network, at)
        self.write(unit, "Install", "WantedBy", self.target, at)
        return unit

    def pod_settings(self, unit: Unit) -> None:
        """What the services asked for that their pod decides (collected while converting them)."""
        for key, values in self.pod_keys.items():
            if key in SINGLE_IN_POD and len(values) > 1:
                said = ", ".join(value for value, _where in values)
                self.gap(
                    values[1][1][2],
                    None,
                    key,
                    f"the services ask for different values ({said}); the pod takes the first",
                )
                values = values[:1]
            for value, where in values:
                self.write(unit, "Pod", key, value, where)
        if self.pod_shm is not None:
            self.write(unit, "Pod", "ShmSize", str(self.pod_shm), (None, "shm_size", self.pod_shm_line))

    def target_unit(self) -> Unit:
        unit = Unit(
            self.target,
            [
                f"Groups the units of {Path(self.source.path).name}: each is PartOf= and WantedBy= it,",
                f"so `systemctl --user enable --now {self.target}` starts the stack.",
            ],
        )
        at = (None, "name", self.name_line)
        self.write(unit, "Unit", "Description", f"{self.stack.pod_name} stack", at)
        self.write(unit, "Install", "WantedBy", "default.target", at)
        return unit
