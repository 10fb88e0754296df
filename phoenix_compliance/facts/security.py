"""The security probe read (guide section 6): the port sysctl, root's containers,
Docker's remains (service, socket, command), the docker alias and DOCKER_HOST,
and the runtime directory's ownership."""

from __future__ import annotations

import json
from dataclasses import dataclass

from phoenix_compliance.facts.groups import GroupReader
from phoenix_compliance.facts.identity import PathStat, parse_stat


@dataclass(frozen=True)
class DockerCommand:
    """What `command -v docker; docker --version` printed."""

    found: bool
    text: str  # its output on one line

    @property
    def is_podman(self) -> bool:
        return self.found and "podman" in self.text.lower()


class SecurityFacts(GroupReader):
    """The security probe read."""

    def unprivileged_port_start(self, default: int) -> int:
        """net.ipv4.ip_unprivileged_port_start, or `default` when it could not be read."""
        section = self.section("unprivileged_port_start")
        return int(section.out.strip()) if section.ok and section.out.strip().isdigit() else default

    def unprivileged_port_start_value(self) -> int:
        """The sysctl's value as printed; raise ValueError when it is not a number."""
        return int(self.section("unprivileged_port_start").out.strip())

    def rootful_container_names(self) -> set[str]:
        """Names of root's containers (`podman ps -a --format json` run as root)."""
        return {n for c in json.loads(self.section("rootful_ps").out or "[]") for n in c.get("Names") or []}

    @property
    def docker_states(self) -> list[str]:
        """`systemctl is-active docker.service docker.socket`, one word each."""
        return self.section("docker_active").out.split()

    @property
    def docker_sockets(self) -> list[str]:
        """Each Docker socket path that exists, as `PATH -> TARGET`."""
        return self.section("docker_sock").out.strip().splitlines()

    @property
    def foreign_docker_sockets(self) -> list[str]:
        """The Docker sockets that do not lead to Podman's."""
        return [s for s in self.docker_sockets if "podman" not in s.split(" -> ", 1)[-1]]

    @property
    def docker_command(self) -> DockerCommand:
        cli = self.section("docker_cli")
        return DockerCommand(cli.ok, " ".join(cli.out.split()))

    @property
    def podman_aliases(self) -> list[str]:
        """The rc file lines (FILE:LINE:text) that alias docker to podman."""
        return [line for line in self.section("docker_alias").out.splitlines() if "podman" in line]

    @property
    def docker_host(self) -> str:
        """DOCKER_HOST in a login shell of the user ("" when unset)."""
        return self.section("docker_host_login").out.strip()

    @property
    def docker_host_lines(self) -> str:
        """The rc file lines that set DOCKER_HOST, joined with "; "."""
        return self.section("docker_host_lines").out.strip().replace("\n", "; ")

    @property
    def runtime_dir(self) -> PathStat | None:
        return parse_stat(self.section("runtime_dir"))
