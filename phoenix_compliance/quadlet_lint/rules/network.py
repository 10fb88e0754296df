"""Network: Network=, a .network's subnets, ExposeHostPort= and PublishPort= (QL023, QL026, QL031, QL034, QL038, QL061).

Network= naming a .network or (from 5.3) a .container whose network is
joined, Gateway=/IPRange= paired with Subnet=, and port specs podman refuses.
"""

from __future__ import annotations

import re

from phoenix_compliance.grammar.ports import publish_port_problem
from phoenix_compliance.grammar.specifiers import expand, unresolved
from phoenix_compliance.quadlet.readers import lookup_all, lookup_value
from phoenix_compliance.quadlet.unitfile import UnitFile
from phoenix_compliance.quadlet.versions import NETWORK_CONTAINER_SINCE, Version
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
