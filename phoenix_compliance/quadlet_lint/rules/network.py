"""Network: Network=, a .network's subnets, ExposeHostPort= and PublishPort= (QL023, QL026, QL031, QL034, QL038,
QL048, QL061).

Network= naming a .network or (from 5.3) a .container whose network is
joined, Gateway=/IPRange= paired with Subnet=, port specs podman refuses,
and (from 6.0) the slirp4netns network and flag Podman 6 removed.
"""

from __future__ import annotations

import re

from phoenix_compliance.grammar.ports import publish_port_problem
from phoenix_compliance.grammar.specifiers import expand, unresolved
from phoenix_compliance.quadlet.readers import SPLIT_ARGS, lookup_all, lookup_value, split_words
from phoenix_compliance.quadlet.unitfile import UnitFile
from phoenix_compliance.quadlet.versions import NETWORK_CONTAINER_SINCE, SLIRP4NETNS_REMOVED_IN, Version, format_version
from phoenix_compliance.quadlet_lint.context import UnitContext, unit_rule
from phoenix_compliance.quadlet_lint.rules.values import report_quoted


@unit_rule(140)
def networks(out: UnitContext) -> None:
    unit = out.unit
    main = out.converted_main
    if main not in ("Container", "Pod", "Kube", "Build"):
        return
    for entry in lookup_all(unit, main, "Network"):
        report_quoted(out, entry)
        # addNetworks() reads the value raw (quotes kept) and cuts at the first ':'.
        target, colon, _options = entry.value.partition(":")
        is_network = target.endswith(".network")
        is_container = target.endswith(".container") and out.version >= NETWORK_CONTAINER_SINCE
        if not (is_network or is_container):
            continue
        if not out.has(target):
            out.add(
                "QL031",
                entry,
                "Network",
                f"Network={entry.value}: there is no {target} beside this file; Quadlet: "
                f'"requested Quadlet unit {target} was not found"',
                f"add {target} next to {unit.name}, or name an existing network",
            )
        elif (
            is_container
            and (joined := out.others.get(target)) is not None
            and not container_resource_name(joined, out.version)
        ):
            out.add(
                "QL038",
                entry,
                "Network",
                f"Network={entry.value}: {target} names its container with a specifier Quadlet cannot expand "
                f'(only %N is), so it cannot join its network; Quadlet: "cannot get the resource name of {target}"',
                f"set ContainerName= in {target} to a plain name (or one using only %N)",
            )
        elif is_container and colon:
            out.add(
                "QL034",
                entry,
                "Network",
                f"Network={entry.value}: Quadlet refuses options when joining another container's "
                'network ("extra options are not supported when joining another container\'s network")',
                f"write Network={target} without options",
            )


def container_resource_name(unit: UnitFile, version: Version) -> str:
    """GetContainerResourceName(): the container's name with %N expanded, "" when other
    specifiers remain (the default name of a template, systemd-%p_%i, among them)."""
    name = lookup_value(unit, "Container", "ContainerName", version)
    if not name:
        name = "systemd-%p_%i" if "@" in unit.name else "systemd-%N"
    service = lookup_value(unit, "Container", "ServiceName", version) or unit.name.rpartition(".")[0]
    resolved = name.replace("%N", service)
    return "" if "%" in resolved else resolved


@unit_rule(150)
def network_subnets(out: UnitContext) -> None:
    unit = out.unit
    if unit.kind != "network" or not out.converted:
        return
    subnets = lookup_all(unit, "Network", "Subnet")
    for key in ("Gateway", "IPRange"):
        extra = lookup_all(unit, "Network", key)[len(subnets) :]
        if not extra:
            continue
        said = "has no Subnet=" if not subnets else f"has more {key}= values than Subnet= values"
        out.add(
            "QL023",
            extra[0],
            key,
            f"{key}={extra[0].value}: the network {said}; Quadlet pairs each {key}= with a Subnet= "
            "and refuses the file",
            f"add the Subnet= this {key}= belongs to",
        )


_EXPOSE_PORT = re.compile(r"\d+(-\d+)?(/udp|/tcp)?$")


@unit_rule(180)
def ports(out: UnitContext) -> None:
    unit = out.unit
    main = out.converted_main
    if main is None:
        return
    if unit.kind == "container":
        for entry in lookup_all(unit, main, "ExposeHostPort"):
            port = entry.value.strip()
            if not _EXPOSE_PORT.search(port):
                out.add(
                    "QL026",
                    entry,
                    "ExposeHostPort",
                    f"ExposeHostPort={port} is not a port or range; Quadlet: \"invalid port format '{port}'\"",
                    "write a port (8080), a range (8000-8010) and optionally /tcp or /udp",
                )
    if main not in ("Container", "Pod", "Kube"):
        return
    for entry in lookup_all(unit, main, "PublishPort"):
        spec = expand(entry.value, out.known)
        if report_quoted(out, entry) or unresolved(spec):
            continue  # a specifier or ${VAR} systemd expands, unknown here
        problem = publish_port_problem(spec)
        if problem is not None:
            out.add(
                "QL061",
                entry,
                "PublishPort",
                f"PublishPort={entry.value}: {problem}; podman refuses to start the container",
                "write [[address:]hostPort:]containerPort[/tcp|udp], e.g. PublishPort=8080:80",
            )


# The value of a --network/--net flag podman reads as slirp4netns ("slirp4netns" or "slirp4netns:OPTIONS").
def _is_slirp4netns(network: str) -> bool:
    return network.partition(":")[0] == "slirp4netns"


def _removed_flags(words: list[str]) -> list[str]:
    """The words of a podman command line that Podman 6 refuses: --network-cmd-path in any form,
    and slirp4netns given as the network."""
    found: list[str] = []
    for number, word in enumerate(words):
        flag, has_value, value = word.partition("=")
        if flag == "--network-cmd-path":
            found.append(word)
        elif flag in ("--network", "--net"):
            if not has_value:
                value = words[number + 1] if number + 1 < len(words) else ""
            if _is_slirp4netns(value):
                found.append(word if has_value else f"{word} {value}")
    return found


@unit_rule(185)
def removed_in_podman6(out: UnitContext) -> None:
    """What 6.0 removed but the generator still passes on: podman refuses to start the unit."""
    main = out.converted_main
    if main is None or out.version < SLIRP4NETNS_REMOVED_IN:
        return
    release = format_version(out.version)
    if main in ("Container", "Pod", "Kube", "Build"):
        for entry in lookup_all(out.unit, main, "Network"):
            if _is_slirp4netns(entry.value):
                out.add(
                    "QL048",
                    entry,
                    "Network",
                    f"Network={entry.value}: Podman {release} has no slirp4netns; the generator passes it on and "
                    'podman refuses to start the unit ("slirp4netns support has been removed, use --network=pasta '
                    'instead")',
                    "remove Network= (pasta is the rootless default) or write Network=pasta",
                )
    for key in ("GlobalArgs", "PodmanArgs"):
        for entry in lookup_all(out.unit, main, key):
            for flag in _removed_flags(split_words(entry.value, SPLIT_ARGS) or []):
                refusal = (
                    "unknown flag: --network-cmd-path"
                    if flag.startswith("--network-cmd-path")
                    else "slirp4netns support has been removed, use --network=pasta instead"
                )
                out.add(
                    "QL048",
                    entry,
                    key,
                    f"{key}= passes {flag}, which Podman {release} removed with slirp4netns; podman refuses to "
                    f'start the unit ("{refusal}")',
                    f"remove {flag} from {key}= (pasta, the rootless default, needs no helper path)",
                )
