"""The services of a merged project: keys, image, environment, labels, commands, networks and volumes declared."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from typing import Any

from phoenix_compliance.parsers.compose import validation
from phoenix_compliance.parsers.compose.model import ComposeFile, ComposeProblem, ComposeService, EnvVar
from phoenix_compliance.parsers.compose.spec import ENV_NAME_RE, guess
from phoenix_compliance.parsers.compose.syntax import SyntaxReader
from phoenix_compliance.parsers.compose.validation import SERVICE_KEYS, TOP_LEVEL_KEYS
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList


def named_volumes(result: ComposeFile, document: MarkedDict) -> None:
    """A named volume a service mounts must be declared (podman-compose: "not defined in top level")."""
    declared = document.get("volumes")
    names = set(declared) if isinstance(declared, MarkedDict) else set()
    for service in result.services.values():
        for mount in service.volumes:
            if mount.kind == "volume" and mount.source and mount.source not in names:
                result.problems.append(
                    ComposeProblem(
                        result.path,
                        mount.line,
                        f"service {service.name}: volume {mount.source!r} is not declared under the top-level"
                        " 'volumes' (podman-compose refuses the file)",
                        refused=True,
                    )
                )


def networks(result: ComposeFile, document: MarkedDict) -> None:
    """Every network a service joins must be declared (podman-compose: "missing networks")."""
    declared = document.get("networks")
    names = list(declared) if isinstance(declared, MarkedDict) else []
    result.networks = tuple(names)
    known = names or ["default"]
    default = known[0] if len(known) == 1 else ("default" if "default" in known else None)
    services = document.get("services")
    if not isinstance(services, MarkedDict):
        return
    for name, body in services.items():
        if not isinstance(body, MarkedDict):
            continue
        joined = body.get("networks", default)
        if isinstance(joined, MarkedDict):
            wanted = [str(key) for key in joined]
        elif isinstance(joined, MarkedList):
            wanted = [str(item) for item in joined]
        elif joined is None:
            wanted = []
        else:
            wanted = [str(joined)]
        result.service_networks[name] = tuple(wanted)
        for network in wanted:
            if network not in known:
                result.problems.append(
                    ComposeProblem(
                        result.path,
                        body.line_of("networks"),
                        f"service {name}: network {network!r} is not declared under the top-level 'networks'"
                        " (podman-compose refuses the file: missing networks)",
                        refused=True,
                    )
                )


class Parser(SyntaxReader):
    """The document and its services, on the ports and volumes of SyntaxReader."""

    def document(self, document: Any) -> None:
        if not isinstance(document, MarkedDict):
            line = document.line if isinstance(document, MarkedList) else 1
            self.problem(line, "top level is not a mapping", refused=True)
            return
        self.result.document = document
        self.top_level(document)
        # After the parser's own problems: the schema repeats none of their lines.
        said = {problem.line for problem in self.result.problems}
        for line, message in validation.warnings(document):
            if line not in said:
                self.result.warnings.append(ComposeProblem(self.result.path, line, message))

    def top_level(self, document: MarkedDict) -> None:
        for key in document:
            if key not in TOP_LEVEL_KEYS and not key.startswith("x-"):
                self.problem(document.line_of(key), f"unknown top-level key {key!r}{guess(key, TOP_LEVEL_KEYS)}")
        if "name" in document:
            self.result.project_name = self.text(document["name"], document.line_of("name"), "name")
        if "services" not in document:
            self.problem(document.line, "no 'services' key")
            return
        services = document["services"]
        if not isinstance(services, MarkedDict):
            self.problem(document.line_of("services"), "'services' is not a mapping", refused=True)
            return
        for name, body in services.items():
            service = self.service(name, body, services.line_of(name))
            if service is not None:
                self.result.services[name] = service

    def text(self, value: Any, line: int, what: str) -> str | None:
        """A scalar as text; YAML turns `8.0` or `yes` into other types."""
        if value is None:
            return None
        if isinstance(value, (MarkedDict, MarkedList)):
            self.problem(line, f"{what}: expected a string")
            return None
        return str(value)

    def service(self, name: str, body: Any, line: int) -> ComposeService | None:
        if not isinstance(body, MarkedDict):
            self.problem(line, f"service {name}: not a mapping", refused=True)
            return None
        where = f"service {name}"
        for key in body:
            if key not in SERVICE_KEYS and not key.startswith("x-"):
                self.problem(
                    body.line_of(key),
                    f"{where}: unknown key {key!r}{guess(key, SERVICE_KEYS)}; podman-compose ignores the line",
                )
        image = self.text(body.get("image"), body.line_of("image"), f"{where}: image")
        has_build = body.get("build") is not None
        if image is None and not has_build:
            self.problem(line, f"{where}: neither 'image' nor 'build'")
        return ComposeService(
            name=name,
            line=line,
            image=image,
            has_build=has_build,
            container_name=self.text(
                body.get("container_name"), body.line_of("container_name"), f"{where}: container_name"
            ),
            ports=tuple(self.ports(name, body)),
            volumes=tuple(self.volumes(name, body)),
            environment=tuple(self.environment(name, body)),
            healthcheck=_has_healthcheck(body.get("healthcheck")),
            privileged=body.get("privileged") is True,
            cap_add=tuple(str(cap) for cap in _as_list(body.get("cap_add"))),
            network_mode=self.text(body.get("network_mode"), body.line_of("network_mode"), f"{where}: network_mode"),
            pid=self.text(body.get("pid"), body.line_of("pid"), f"{where}: pid"),
            restart=self.text(body.get("restart"), body.line_of("restart"), f"{where}: restart"),
            key_lines=dict(body.key_lines),
            commands=tuple(
                (key, _command_words(body[key])) for key in ("command", "entrypoint") if body.get(key) is not None
            ),
            labels=tuple(self.labels(name, body)),
            env_files=tuple(self.env_files(body)),
            security_opt=tuple(str(option) for option in _as_list(body.get("security_opt"))),
            body=body,
        )

    def labels(self, service: str, body: MarkedDict) -> Iterator[EnvVar]:
        labels = body.get("labels")
        if isinstance(labels, MarkedDict):
            for name, value in labels.items():
                if not isinstance(value, (MarkedDict, MarkedList)):
                    yield EnvVar(name, None if value is None else str(value), labels.line_of(name))
        elif isinstance(labels, MarkedList):
            for index, item in enumerate(labels):
                if isinstance(item, str):
                    name, equals, value = item.partition("=")
                    yield EnvVar(name, value if equals else None, labels.line_of(index))

    def env_files(self, body: MarkedDict) -> Iterator[tuple[str, int]]:
        value = body.get("env_file")
        if isinstance(value, str):
            yield value, body.line_of("env_file")
        elif isinstance(value, MarkedList):
            for index, item in enumerate(value):
                # The long form: {path: ..., required: ...}.
                path = item.get("path") if isinstance(item, MarkedDict) else item
                if isinstance(path, str):
                    yield path, value.line_of(index)

    # -- environment ---------------------------------------------------------

    def environment(self, service: str, body: MarkedDict) -> Iterator[EnvVar]:
        env = body.get("environment")
        if env is None:
            return
        if isinstance(env, MarkedDict):
            for name, value in env.items():
                line = env.line_of(name)
                if not ENV_NAME_RE.match(name):
                    self.problem(line, f"service {service}: environment name {name!r} is malformed")
                elif isinstance(value, (MarkedDict, MarkedList)):
                    self.problem(line, f"service {service}: environment {name}: value must be a scalar")
                else:
                    # str() as podman-compose does: `DEBUG: true` reaches the container as `True`.
                    yield EnvVar(name, None if value is None else str(value), line)
        elif isinstance(env, MarkedList):
            for index, item in enumerate(env):
                line = env.line_of(index)
                # Values are never quoted in a problem: an entry is as likely to hold a secret as any.
                if isinstance(item, MarkedDict):
                    names = ", ".join(item)
                    self.problem(
                        line,
                        f"service {service}: environment entry for {names} is a mapping inside a list,"
                        " not a 'NAME=value' string",
                        refused=True,
                    )
                    continue
                if not isinstance(item, str):
                    self.problem(
                        line, f"service {service}: environment entry is not a 'NAME=value' string", refused=True
                    )
                    continue
                name, equals, value = item.partition("=")
                if not ENV_NAME_RE.match(name):
                    self.problem(line, f"service {service}: environment entry {name!r} has no valid name")
                    continue
                yield EnvVar(name, value if equals else None, line)
        else:
            self.problem(body.line_of("environment"), f"service {service}: 'environment' is not a list or mapping")


def _command_words(value: Any) -> tuple[str, ...]:
    if isinstance(value, MarkedList):
        return tuple(str(item) for item in value if not isinstance(item, (MarkedDict, MarkedList)))
    if isinstance(value, (MarkedDict,)):
        return ()
    try:
        return tuple(shlex.split(str(value)))
    except ValueError:
        return tuple(str(value).split())


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, MarkedList) else []


def _has_healthcheck(value: Any) -> bool:
    """A test that runs: `disable: true` and `test: ["NONE"]` both turn it off."""
    if not isinstance(value, MarkedDict) or value.get("disable") is True:
        return False
    test = value.get("test")
    if isinstance(test, MarkedList):
        return bool(test) and test[0] != "NONE"
    return isinstance(test, str) and bool(test.strip())
