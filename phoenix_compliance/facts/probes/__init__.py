"""The probe scripts the facts run, the sections each one prints, and what each section may answer.

A new fact read by an existing script: add `section NAME program ...` to the script
and NAME with its Expect to its declaration here; a selftest holds the two lists equal.

A section's Expect is testinfra's `run_expect`: the exit codes that are an answer about the
host (stat's 1 for an absent path, is-active's 3 for an inactive unit). Any other code (the
program timed out, is missing, crashed), or an answer of exit 0 that printed nothing at all
where something must be printed, means the fact could not be gathered (facts.groups.CouldNotCheck).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources

# timeout(1)'s own codes: timed out, timeout failed, the program cannot run, the program not found.
FAILURES = frozenset({124, 125, 126, 127})
# Every exit code a program itself can answer with.
ANY = frozenset(range(256)) - FAILURES


@dataclass(frozen=True)
class Expect:
    """The exit codes that answer, and whether an exit 0 may print nothing."""

    codes: frozenset[int] = frozenset({0})
    empty_ok: bool = False

    def describe(self) -> str:
        if len(self.codes) > 8:
            return "any exit but " + ", ".join(str(code) for code in sorted(FAILURES - self.codes))
        return "exit " + " or ".join(str(code) for code in sorted(self.codes))


ZERO = Expect()
# stat, cat, test: 1 says the path is absent or unreadable, which is an answer.
PATH = Expect(frozenset({0, 1}))
# systemctl is-enabled: 0 enabled/static/indirect..., 1 disabled/masked, 4 no such unit (systemd 246+).
IS_ENABLED = Expect(frozenset({0, 1, 4}))
# systemctl is-active: 0 active, 3 anything else (inactive, failed, unknown), 4 no such unit.
IS_ACTIVE = Expect(frozenset({0, 3, 4}))


@dataclass(frozen=True)
class Probe:
    """A probe script of this folder and the sections it declares, each with what it may answer."""

    script: str
    expect: dict[str, Expect] = field(default_factory=dict)

    @property
    def sections(self) -> tuple[str, ...]:
        return tuple(self.expect)

    def body(self) -> str:
        return resources.files(__name__).joinpath(self.script).read_text("utf-8")


BASE = Probe(
    "probe_base.sh",
    {
        "whoami": ZERO,
        "os_release": ZERO,
        "kernel": ZERO,
        "hostname": ZERO,
        "podman_info": ZERO,
        # Podman not installed (127) is an answer: PHX-1.01 is about exactly that. Read from
        # podman info's own version block where info answered (probe_base.sh).
        "podman_version": Expect(frozenset({0, 127})),
        "tools": ZERO,
        # No /etc/subuid (1) or an empty one: no ranges, an answer.
        "subuid": Expect(frozenset({0, 1}), empty_ok=True),
        "subgid": Expect(frozenset({0, 1}), empty_ok=True),
        "socket_enabled": IS_ENABLED,
        "socket_active": IS_ACTIVE,
        "quadlet_dir": PATH,
        "linger_file": PATH,
        # 1: logind does not know the user (not logged in, not lingering).
        "linger_loginctl": PATH,
        "cgroup_fs": ZERO,
        "api_socket": PATH,
    },
)
STACK = Probe(
    "probe_stack.sh",
    {
        # podman-compose missing (127) or failing is PHX-2.03's subject.
        "compose_version": Expect(ANY | {127}),
        "compose_path": ZERO,
        # 1: no compose file.
        "compose_file": PATH,
        "compose_env": ZERO,
        # 1: no .env beside the compose file; an empty one is an answer too.
        "compose_dotenv": Expect(frozenset({0, 1}), empty_ok=True),
    },
)


def stack(groups: int) -> Probe:
    """The stack probe reading also the compose files of `groups` optional groups:
    group_compose_path_0, group_compose_0, ... (1: the file is absent, the group not deployed so)."""
    extra: dict[str, Expect] = {}
    for index in range(groups):
        extra[f"group_compose_path_{index}"] = ZERO
        extra[f"group_compose_{index}"] = PATH
    return Probe(STACK.script, {**STACK.expect, **extra})


SECURITY = Probe(
    "probe_security.sh",
    {
        "unprivileged_port_start": ZERO,
        # 1: no /sys/fs/selinux, the host has no SELinux.
        "selinux_enforce": PATH,
        "runtime_dir": PATH,
        "root_access": ZERO,
        "rootful_ps": ZERO,
        "docker_active": IS_ACTIVE,
        "docker_sock": ZERO,
        # 1: no docker command.
        "docker_cli": PATH,
        # grep's lines, or none: an empty answer is no alias, no DOCKER_HOST line.
        "docker_alias": Expect(empty_ok=True),
        "docker_host_lines": Expect(empty_ok=True),
        "docker_host_login": ZERO,
    },
)
QUADLET = Probe(
    "probe_quadlet.sh",
    {
        "quadlet_dir_path": ZERO,
        # 3: the folder does not exist.
        "quadlet_tar": Expect(frozenset({0, 3})),
        "target_path": ZERO,
        "target_file": PATH,
        # "none" when no generator is installed.
        "generator_path": ZERO,
        # The generator's verdict on the units, whatever it exits with.
        "generator_dryrun": Expect(ANY),
        # Podman 5.6+ lists the units it loaded. Earlier releases refuse the command with
        # podman's own exit 125 (which timeout(1) also uses): facts.systemd tells them apart.
        "quadlet_list": ZERO,
        "target_enabled": IS_ENABLED,
        "target_active": IS_ACTIVE,
        "units_show": ZERO,
        # The error lines each unit that is not active logged; none when every unit runs.
        "units_journal": Expect(empty_ok=True),
        "autoupdate_enabled": IS_ENABLED,
        "autoupdate_active": IS_ACTIVE,
        # "systemd 257 (257.9-1~deb13u1)" and its feature flags.
        "systemd_version": ZERO,
        # systemd-analyze verify's verdict on the generated services, whatever it exits with
        # (1: a unit it could not load); 127: no systemd-analyze.
        "systemd_verify": Expect(ANY),
    },
)
# The upgrade gate's probe: the containers.conf files (podman info says nothing of firewall_driver).
UPGRADE = Probe("probe_upgrade.sh", {"containers_conf": ZERO})
# A failed restart is PHX-3.08's subject; the probe prints "restarted" when it succeeds.
RESTART = Probe("act_restart.sh", {"restart": Expect(ANY)})


def files(count: int) -> Probe:
    """The probe reading `count` files the stack's files name: file_0, file_1, ...
    (1: absent or unreadable, an answer; an empty file prints nothing, also an answer)."""
    return Probe(
        "probe_files.sh", {f"file_{index}": Expect(frozenset({0, 1}), empty_ok=True) for index in range(count)}
    )


def http(count: int) -> Probe:
    """The endpoint probe for `count` URLs: one section per URL, http_0, http_1, ...
    (1: the URL gave no answer after the retries)."""
    return Probe("probe_http.sh", {f"http_{index}": PATH for index in range(count)})
