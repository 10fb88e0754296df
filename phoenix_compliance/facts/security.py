"""The security probe read (guide section 6): the port sysctl, root's containers,
Docker's remains (service, socket, command), the docker alias and DOCKER_HOST,
and the runtime directory's ownership."""

from __future__ import annotations

import json
from dataclasses import dataclass

from phoenix_compliance.facts.groups import GroupReader, unreadable
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

    @property
    def unprivileged_port_start(self) -> int:
        """net.ipv4.ip_unprivileged_port_start as the host says it."""
        section = self.section("unprivileged_port_start")
        if not section.out.strip().isdigit():
            raise unreadable(section, "a port number")
        return int(section.out.strip())

    @property
    def root_access(self) -> str:
        """How the checked account can read root's containers: root, sudo, or none."""
        section = self.section("root_access")
        access = section.out.strip()
        if access not in ("root", "sudo", "none"):
            raise unreadable(section, "root, sudo or none")
        return access

    def rootful_container_names(self) -> set[str]:
        """Names of root's containers (`podman ps -a --format json` run as root)."""
        section = self.section("rootful_ps")
        try:
            listed = json.loads(section.out)
            return {str(n) for c in listed for n in c.get("Names") or []}
        except (ValueError, TypeError, AttributeError):
            raise unreadable(section, "podman ps JSON") from None

    @property
    def docker_states(self) -> list[str]:
        """`systemctl is-active docker.service docker.socket`, one word each."""
        section = self.section("docker_active")
        states = section.out.split()
        if len(states) != 2:
            raise unreadable(section, "two unit states")
        return states

    @property
    def docker_sockets(self) -> list[str]:
        """Each Docker socket path that exists, as `PATH -> TARGET`."""
        section = self.section("docker_sock")
        lines = section.out.strip().splitlines()
        if not all(line.endswith(" absent") or " -> " in line for line in lines):
            raise unreadable(section, "PATH -> TARGET or PATH absent lines")
        return [line for line in lines if not line.endswith(" absent")]

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
        """DOCKER_HOST in a login shell of the user ("" when unset), from the probe's marked line."""
        section = self.section("docker_host_login")
        marked = [line for line in section.out.splitlines() if line.startswith("DOCKER_HOST=")]
        if not marked:
            raise unreadable(section, "a DOCKER_HOST= line")
        return marked[-1].removeprefix("DOCKER_HOST=").strip()

    @property
    def docker_host_lines(self) -> str:
        """The rc file lines that set DOCKER_HOST, joined with "; "."""
        return self.section("docker_host_lines").out.strip().replace("\n", "; ")

    @property
    def runtime_dir(self) -> PathStat | None:
        return parse_stat(self.section("runtime_dir"))
