"""The probe scripts the facts run, and the sections each one prints.

A new fact read by an existing script: add `section NAME program ...` to the script
and NAME to its declaration here; a selftest holds the two lists equal.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Probe:
    """A probe script of this folder and the sections it declares."""

    script: str
    sections: tuple[str, ...]

    def body(self) -> str:
        return resources.files(__name__).joinpath(self.script).read_text("utf-8")


BASE = Probe(
    "probe_base.sh",
    (
        "whoami",
        "os_release",
        "kernel",
        "hostname",
        "podman_version",
        "podman_info",
        "tools",
        "subuid",
        "subgid",
        "socket_enabled",
        "socket_active",
        "quadlet_dir",
        "linger_file",
        "linger_loginctl",
        "cgroup_fs",
        "api_socket",
    ),
)
STACK = Probe("probe_stack.sh", ("compose_version", "compose_path", "compose_file"))
SECURITY = Probe(
    "probe_security.sh",
    (
        "unprivileged_port_start",
        "selinux_enforce",
        "runtime_dir",
        "rootful_ps",
        "docker_active",
        "docker_sock",
        "docker_cli",
        "docker_alias",
        "docker_host_lines",
        "docker_host_login",
    ),
)
QUADLET = Probe(
    "probe_quadlet.sh",
    (
        "quadlet_dir_path",
        "quadlet_tar",
        "target_path",
        "target_file",
        "generator_path",
        "generator_dryrun",
        "quadlet_list",
        "target_enabled",
        "target_active",
        "units_show",
    ),
)
RESTART = Probe("act_restart.sh", ("restart",))


def http(count: int) -> Probe:
    """The endpoint probe for `count` URLs: one section per URL, http_0, http_1, ..."""
    return Probe("probe_http.sh", tuple(f"http_{index}" for index in range(count)))
