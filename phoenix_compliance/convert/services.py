"""One compose service as a .container: image, command, environment, secrets, mounts, healthcheck."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phoenix_compliance.convert.base import Where, spliced
from phoenix_compliance.convert.model import is_pinned, is_system_path
from phoenix_compliance.convert.settings import Settings
from phoenix_compliance.convert.units import Unit
from phoenix_compliance.convert.values import (
    DOCKER_SOCKETS,
    PODMAN_SOCKET,
    SECRET_NAME_BAD,
    SHELL_VARIABLE,
    empty_mapping,
    labels_disabled,
    publish_spec,
    shell_path,
)
from phoenix_compliance.grammar.images import qualified_image
from phoenix_compliance.parsers import compose
from phoenix_compliance.parsers.compose import ComposeService
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList
from phoenix_compliance.quadlet.versions import DEPENDENCY_TRANSLATION_SINCE, NOTIFY_HEALTHY_SINCE, format_version
from phoenix_compliance.security.secrets import is_secret_name, secret_options, secret_value_reason


class Services(Settings):
    def pod_networks(self, services: dict[str, ComposeService]) -> list[str]:
        """Containers of a pod share its network: the pod joins every network a service names."""
        wanted: list[str] = []
        for service in services.values():
            body = service.body or empty_mapping()
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

    # -- one service ---------------------------------------------------------

    def container(self, service: ComposeService) -> Unit | None:
        name = service.name
        body = service.body or empty_mapping()
        file_name = self.file_name(name, "container", "service", service.line)
        if file_name is None:
            return None
        unit = Unit(file_name, [f"Service {name} ({self.where(service.line)})"])
        handled: set[str] = set()

        def line(key: str) -> int:
            return service.line_of(key)

        def where(key: str) -> Where:
            return (name, key, line(key))

        self.write(unit, "Unit", "Description", f"{name} (converted from {Path(self.source.path).name})", where(""))
        # [Unit]: dependencies, then membership of the target.
        self.dependencies(unit, service, body)
        handled.add("depends_on")
        self.write(unit, "Unit", "PartOf", self.target, where(""))

        # [Container]
        if service.container_name == "":
            # podman-compose passes `--name ""` and podman picks a random name: the service's is kinder.
            self.gap(line("container_name"), name, "container_name", "is empty; the service's name is written")
        self.write(unit, "Container", "ContainerName", service.container_name or name, where("container_name"))
        # The compose parser has merged what a service extends into its body already.
        handled.update(("container_name", "extends"))
        if service.image:
            image = qualified_image(service.image)
            self.write(unit, "Container", "Image", image, where("image"))
            if not is_pinned(image):
                self.note(f"service {name}: image {service.image} is not pinned to a tag or digest")
            if service.has_build:
                self.gap(line("build"), name, "build", "not converted: the image named by 'image' is run as it is")
        else:
            self.write(unit, "Container", "Image", f"localhost/{self.stack.project}-{name}:latest", where("build"))
            self.gap(
                line("build"),
                name,
                "build",
                f"not converted: build the image as localhost/{self.stack.project}-{name}:latest first",
            )
        handled.update(("image", "build"))
        if self.stack.pod is not None:
            self.write(unit, "Container", "Pod", self.stack.pod, where(""))
        else:
            for port in service.ports:
                self.write(unit, "Container", "PublishPort", publish_spec(port), (name, "ports", port.line))
                self.low_port(name, port)
            for network in self.pod_networks({name: service}):
                self.write(unit, "Container", "Network", network, where("networks"))
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
                self.write(unit, "Container", "Exec", words, where(key))
            else:
                value = words[0] if len(words) == 1 else json.dumps(words)
                self.write(unit, "Container", "Entrypoint", value, where(key))
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
            self.write(unit, "Container", "Label", [text], (name, f"labels.{label.name}", label.line))
        handled.add("labels")
        self.volumes(unit, service)
        handled.add("volumes")
        self.healthcheck(unit, service, body.get("healthcheck"))
        handled.add("healthcheck")
        handled.update(self.simple_keys(unit, service, body))

        # [Service]
        handled.update(self.service_section(unit, service, body))
        self.write(unit, "Install", "WantedBy", self.target, where(""))
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
            spec = spec or empty_mapping()
            condition = str(spec.get("condition") or "service_started")
            required = spec.get("required", True) is not False
            at = (service.name, "depends_on", line)
            self.write(unit, "Unit", "Requires" if required else "Wants", dependency, at)
            self.write(unit, "Unit", "After", dependency, at)
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
            at = (service.name, "env_file", line)
            self.write(unit, "Container", "EnvironmentFile", [spliced(self.host_path(path))], at)
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
            if secret_value_reason(var.name, var.value) is not None or is_secret_name(var.name):
                if not SHELL_VARIABLE.fullmatch(var.name):
                    # The command printed for the user's shell names the variable: only a plain name.
                    self.gap(var.line, service.name, f"environment.{var.name!r}", "not a shell variable name")
                    continue
                secret = self.secret_name(service.name, var.name)
                self.create_secret(
                    secret,
                    f"environment {var.name} of service {service.name} ({self.where(var.line)})",
                    f"printf '%s' \"${var.name}\" | podman secret create {secret} -",
                )
                at = (service.name, f"environment.{var.name}", var.line)
                self.write(unit, "Container", "Secret", [f"{secret},type=env,target={var.name}"], at)
                continue
            at = (service.name, f"environment.{var.name}", var.line)
            self.write(unit, "Container", "Environment", [f"{var.name}={var.value}"], at)

    def service_secrets(self, unit: Unit, service: ComposeService, body: MarkedDict) -> None:
        """Compose's file secrets are Podman's: mounted under /run/secrets/ by default in both."""
        value = body.get("secrets")
        if not isinstance(value, MarkedList):
            return
        declared = self.document.get("secrets")
        declared = declared if isinstance(declared, MarkedDict) else empty_mapping()
        for index, item in enumerate(value):
            line = value.line_of(index)
            source = str(item.get("source")) if isinstance(item, MarkedDict) else str(item)
            spec = declared.get(source)
            if not isinstance(spec, MarkedDict):
                self.gap(line, service.name, "secrets", f"secret {source} is not declared at the top level")
                continue
            if spec.get("external"):
                secret = self.checked(str(spec.get("name") or source), "external secret", line) or source
            else:
                secret = SECRET_NAME_BAD.sub("-", f"{self.stack.project}-{source}".lower())
                if spec.get("file"):
                    command = f"podman secret create {secret} {shell_path(self.host_path(str(spec['file'])))}"
                elif SHELL_VARIABLE.fullmatch(str(spec.get("environment") or "")):
                    command = f"printf '%s' \"${spec['environment']}\" | podman secret create {secret} -"
                elif spec.get("environment"):
                    self.gap(declared.line_of(source), None, f"secrets.{source}", "environment: not a variable name")
                    continue
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
            self.write(unit, "Container", "Secret", [",".join(options)], (service.name, "secrets", line))

    def volumes(self, unit: Unit, service: ComposeService) -> None:
        for mount in service.volumes:
            options = [o for o in mount.options if o not in ("z", "Z", "ro", "rw")]
            if mount.read_only:
                options.append("ro")
            at = (service.name, "volumes", mount.line)
            tail = [mount.target, *([",".join(options)] if options else [])]
            if mount.kind == "tmpfs":
                self.write(unit, "Container", "Tmpfs", mount.target, at)
                continue
            if mount.kind == "anonymous" or mount.source is None:
                self.write(unit, "Container", "Volume", ":".join(tail), at)
                continue
            if mount.kind == "volume":
                named = self.stack.volumes.get(mount.source)
                if named is None:
                    self.gap(
                        mount.line, service.name, "volumes", f"volume {mount.source} is not declared at the top level"
                    )
                    continue
                self.write(unit, "Container", "Volume", ":".join([named, *tail]), at)
                continue
            source = self.bind_source(mount)
            if source.rstrip("/") in DOCKER_SOCKETS:
                # Docker is gone after the migration; the user's Podman answers the same API here.
                source = PODMAN_SOCKET
                self.note(
                    f"service {service.name}: {mount.source} ({self.where(mount.line)}) is now the rootless Podman"
                    f" socket {PODMAN_SOCKET} (systemctl --user enable --now podman.socket); whoever runs in the"
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
            elif mount.selinux is None and labels_disabled(service):
                pass  # labelling is off for the container: nothing to relabel for
            else:
                label = mount.selinux or ("z" if source in self.shared_binds else "Z")
                if mount.selinux is None:
                    self.note(
                        f"service {service.name}: bind mount {mount.source} ({self.where(mount.line)}) gets :{label} "
                        "(SELinux); add it to the compose file too so both agree"
                    )
                options.append(label)
            tail = [mount.target, *([",".join(options)] if options else [])]
            host = spliced(source)
            if isinstance(host, str):
                self.write(unit, "Container", "Volume", ":".join([host, *tail]), at)
            else:
                self.write(unit, "Container", "Volume", (host[0], ":".join([str(host[1]), *tail])), at)

    def healthcheck(self, unit: Unit, service: ComposeService, spec: Any) -> None:
        if not isinstance(spec, MarkedDict):
            return
        name = service.name
        if spec.get("disable") is True:
            self.write(unit, "Container", "HealthCmd", "none", (name, "healthcheck", service.line_of("healthcheck")))
            return
        test = spec.get("test")
        command: str | None = None
        if isinstance(test, MarkedList) and test:
            kind, words = str(test[0]), [str(word) for word in test[1:]]
            if kind == "NONE":
                command = "none"
            elif kind == "CMD-SHELL" and words:
                command = " ".join(words)
            elif kind == "CMD" and words:
                # Podman reads a JSON array as the exec form: no shell needed in the image.
                command = json.dumps(words)
        elif isinstance(test, str) and test.strip():
            command = test
        if command is not None and (secret_options(command.split()) or secret_value_reason("", command)):
            self.gap(spec.line_of("test"), name, "healthcheck.test", "passes a literal secret; not written")
            return
        if command is None:
            if test is not None:
                self.gap(spec.line_of("test"), name, "healthcheck.test", "not a command podman can run")
            return
        if not self.write(unit, "Container", "HealthCmd", command, (name, "healthcheck", spec.line_of("test"))):
            return
        for key, value in spec.items():
            quadlet = {
                "interval": "HealthInterval",
                "timeout": "HealthTimeout",
                "retries": "HealthRetries",
                "start_period": "HealthStartPeriod",
            }.get(key)
            if quadlet is not None:
                self.write(
                    unit, "Container", quadlet, str(value).strip(), (name, f"healthcheck.{key}", spec.line_of(key))
                )
            elif key not in ("test", "disable"):
                self.gap(spec.line_of(key), name, f"healthcheck.{key}", "Podman's healthcheck has no such setting")
