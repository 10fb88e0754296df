"""A compose file turned into Quadlet units for one Podman release.

One ``.pod`` holds every published port and the stack's networks, one
``.container`` per service joins it, named volumes and networks become
``.volume`` and ``.network`` units, and a target groups them all (PartOf= and
WantedBy= in each). A key the chosen release lacks is never written (the lint's
tables, quadlet_lint/versions.py, say which release has which key); what cannot
be written is a Gap, with the service and line, and the rest is still written.

Secrets never reach a unit: a secret-looking variable (security_rules) becomes a
Podman secret passed with Secret=...,type=env, and the command that creates it
reads the value from the shell (``printf '%s' "$NAME" | podman secret create ...``).
"""

from __future__ import annotations

from pathlib import Path

from phoenix_compliance.convert.model import Conversion, Options
from phoenix_compliance.convert.services import Services
from phoenix_compliance.convert.units import Unit, quote_word, systemd_literal
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
        spec = spec or empty_mapping()
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
                for label in pairs(value):
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
        spec = spec or empty_mapping()
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
                for label in pairs(value):
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
                unit.add("Pod", "PublishPort", publish_spec(port), name)
                self.low_port(name, port)
        for network in self.pod_networks(services):
            unit.add("Pod", "Network", network)
        unit.add("Install", "WantedBy", self.target)
        return unit

    def pod_settings(self, unit: Unit) -> None:
        """What the services asked for that their pod decides (collected while converting them)."""
        for key, values in self.pod_keys.items():
            if key in SINGLE_IN_POD and len(values) > 1:
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
