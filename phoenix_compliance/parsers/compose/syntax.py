"""The short and long syntax of ports and volumes, as podman and podman-compose read them."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from phoenix_compliance.grammar.ports import publish_fields, read_publish
from phoenix_compliance.grammar.volumes import RELABEL_OPTIONS, volume_fields
from phoenix_compliance.parsers.compose.model import ComposeFile, ComposeProblem, PortMapping, VolumeMount
from phoenix_compliance.parsers.compose.spec import (
    BASE60_RE,
    HOST_PATH_RE,
    LONG_VOLUME_TYPES,
    PLAIN_MOUNT_OPTIONS,
    PROPAGATION_RE,
    SPEC_ONLY_VOLUME_TYPES,
)
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList


class SyntaxReader:
    """Ports and volumes of a service, every problem recorded with its line."""

    def __init__(self, result: ComposeFile, line_text: Callable[[int], str]) -> None:
        self.result = result
        # Kept only to see how a scalar was spelled (the base-60 port trap).
        self.line_text = line_text

    def problem(self, line: int, message: str, refused: bool = False) -> None:
        self.result.problems.append(ComposeProblem(self.result.path, line, message, refused))

    # -- ports ---------------------------------------------------------------

    def ports(self, service: str, body: MarkedDict) -> Iterator[PortMapping]:
        items = body.get("ports")
        if items is None:
            return
        if not isinstance(items, MarkedList):
            self.problem(body.line_of("ports"), f"service {service}: 'ports' is not a list")
            return
        for index, item in enumerate(items):
            line = items.line_of(index)
            if isinstance(item, MarkedDict):
                yield from self.long_port(service, item, line)
            elif isinstance(item, (str, int)) and not isinstance(item, bool):
                spelled = self.base60_spelling(line, item) if isinstance(item, int) else None
                if spelled is not None:
                    self.problem(
                        line,
                        f"service {service}: port {spelled} must be quoted: "
                        f"YAML 1.1 (PyYAML, podman-compose) reads it as the number {item}",
                    )
                    continue
                yield from self.short_port(service, str(item), line)
            else:
                self.problem(line, f"service {service}: port {item!r} is not a string or mapping")

    def base60_spelling(self, line: int, value: int) -> str | None:
        """How `value` was written on `line` if YAML read it as a base-60 number."""
        for match in BASE60_RE.finditer(self.line_text(line)):
            number = 0
            for digits in match.group().replace("_", "").split(":"):
                number = number * 60 + int(digits)
            if number == value:
                return match.group()
        return None

    def short_port(self, service: str, spec: str, line: int) -> Iterator[PortMapping]:
        found = read_publish(spec, compose_short=True)
        if isinstance(found, str):
            self.problem(line, f"service {service}: port {spec!r}: {found}")
            return
        for host_port, container_port, protocol in found.mappings():
            yield PortMapping(found.host_ip, host_port, container_port, protocol, line)

    def long_port(self, service: str, item: MarkedDict, line: int) -> Iterator[PortMapping]:
        if "target" not in item:
            self.problem(line, f"service {service}: port: long syntax needs 'target'")
            return
        published = item.get("published")
        host_ip = item.get("host_ip")
        found = publish_fields(
            None if host_ip is None else str(host_ip).strip(),
            None if published in (None, "") else str(published).strip(),
            str(item["target"]).strip(),
            str(item.get("protocol") or "tcp"),
        )
        if isinstance(found, str):
            self.problem(line, f"service {service}: port: {found}")
            return
        for host_port, container_port, protocol in found.mappings():
            yield PortMapping(found.host_ip, host_port, container_port, protocol, line)

    # -- volumes -------------------------------------------------------------

    # -- volumes -------------------------------------------------------------

    def volumes(self, service: str, body: MarkedDict) -> Iterator[VolumeMount]:
        items = body.get("volumes")
        if items is None:
            return
        if not isinstance(items, MarkedList):
            self.problem(body.line_of("volumes"), f"service {service}: 'volumes' is not a list")
            return
        for index, item in enumerate(items):
            line = items.line_of(index)
            if isinstance(item, str):
                mount = self.short_volume(service, item, line)
            elif isinstance(item, MarkedDict):
                mount = self.long_volume(service, item, line)
            else:
                self.problem(line, f"service {service}: volume {item!r} is not a string or mapping")
                mount = None
            if mount is not None:
                yield mount

    def short_volume(self, service: str, spec: str, line: int) -> VolumeMount | None:
        """Mirror podman-compose's `parse_short_mount`, including its quirks."""

        def bad(reason: str) -> None:
            # parse_short_mount runs while podman-compose loads the file: it stops on these.
            self.problem(line, f"service {service}: volume {spec!r}: {reason}", refused=True)

        parts = volume_fields(spec)
        source: str | None
        opts = ""
        if parts is None:
            bad("too many ':' (podman-compose cannot parse it)")
            return None
        if len(parts) == 1:
            source, target = None, spec
        elif len(parts) == 2:
            source, target = parts
            # podman-compose reads `/data:ro` as an anonymous volume with options,
            # because a second field without a leading / cannot be a target.
            if not target.startswith("/"):
                source, target, opts = None, parts[0], parts[1]
        else:
            source, target, opts = parts
        if not target.startswith("/"):
            bad(f"container path {target!r} is not absolute")
            return None
        options = tuple(opt for opt in opts.split(",") if opt)
        read_only = False
        selinux: str | None = None
        for opt in options:
            if opt in ("ro", "rw"):
                read_only = opt == "ro"
            elif opt in RELABEL_OPTIONS:
                selinux = opt
            elif opt not in PLAIN_MOUNT_OPTIONS and not PROPAGATION_RE.match(opt):
                bad(f"unknown mount option {opt!r}")
        if not source:
            kind = "anonymous"
        elif HOST_PATH_RE.match(source):
            kind = "bind"
        else:
            kind = "volume"
        return VolumeMount(source or None, target, kind, options, selinux, read_only, "short", line)

    def long_volume(self, service: str, item: MarkedDict, line: int) -> VolumeMount | None:
        def bad(reason: str) -> None:
            self.problem(line, f"service {service}: volume: {reason}")

        kind = item.get("type")
        target = item.get("target")
        if not target:
            bad("long syntax needs 'target'")
        if kind is None:
            bad("long syntax needs 'type'")
            return None
        kind = str(kind)
        if kind in SPEC_ONLY_VOLUME_TYPES:
            bad(f"type {kind!r} is not supported by podman-compose (bind, volume, tmpfs)")
            return None
        if kind not in LONG_VOLUME_TYPES:
            bad(f"unknown type {kind!r}")
            return None
        if not target:
            return None
        source = item.get("source")
        source = None if source in (None, "") else str(source)
        if kind == "bind" and source is None:
            bad("bind mount needs 'source'")
            return None
        if kind == "volume" and source is None:
            kind = "anonymous"
        options: tuple[str, ...] = ()
        selinux: str | None = None
        bind = item.get("bind")
        if isinstance(bind, MarkedDict):
            if bind.get("propagation"):
                options = (str(bind["propagation"]),)
            if "selinux" in bind:
                value = str(bind["selinux"])
                if value in ("z", "Z"):
                    selinux = value
                else:
                    self.problem(
                        bind.line_of("selinux"),
                        f"service {service}: volume: bind.selinux must be 'z' or 'Z', got {value!r}",
                    )
        return VolumeMount(source, str(target), kind, options, selinux, item.get("read_only") is True, "long", line)


def port_spec(spec: str) -> tuple[list[PortMapping], list[str]]:
    """One `[IP:]HOST:CONTAINER[/proto]` spec, as podman's -p (and Quadlet's PublishPort=) reads it."""
    parser = SyntaxReader(ComposeFile("<spec>", None, {}, []), lambda _line: "")
    mappings = list(parser.short_port("-", spec, 0))
    return mappings, [problem.message for problem in parser.result.problems]


def volume_spec(spec: str) -> tuple[VolumeMount | None, list[str]]:
    """One `SOURCE:TARGET[:OPTIONS]` spec, as podman's -v (and Quadlet's Volume=) reads it."""
    parser = SyntaxReader(ComposeFile("<spec>", None, {}, []), lambda _line: "")
    mount = parser.short_volume("-", spec, 0)
    return mount, [problem.message for problem in parser.result.problems]
