"""Security checks offline that read the live host: containers, host settings, the account."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from checks_cases import (
    API_DOWN,
    Arrange,
    Family,
    api_down,
    both,
    case,
    container,
    document,
    each_failure,
    fail,
    no_containers,
    setting,
)
from checks_cases import pytest_generate_tests as pytest_generate_tests
from fakehost import (
    API_WHERE,
    COULD_NOT_CHECK,
    FAILED,
    FAILURES,
    HOST_ID,
    NOT_APPLICABLE,
    PASSED,
    POD,
    SOCKET,
)

from tests.security import test_security as security

INSPECT_DOWN = f"expected the Podman API to inspect the containers, got {API_DOWN}"


def _mount(change: Callable[[dict[str, Any]], object]) -> Arrange:
    return document("phoenix-core", lambda d: change(d["Mounts"][0]))


def _create_command(change: Callable[[list[str]], list[str]]) -> Arrange:
    return document("phoenix-core", lambda d: d["Config"].update(CreateCommand=change(d["Config"]["CreateCommand"])))


def _unlabelled(words: list[str]) -> list[str]:
    return [w.removesuffix(":Z") for w in words]


class TestSecurityLive(Family):
    """PHX-S.02, S.05, S.12, S.14 and S.19: the running containers as the API shows them."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-S.02-pass",
            security.test_live_selinux_labels,
            PASSED,
            f"6 containers, every bind mount of the stack's data labelled ({API_WHERE})",
        ),
        case(
            "PHX-S.02-pass-mode",
            security.test_live_selinux_labels,
            PASSED,
            "6 containers, every bind mount of the stack's data labelled",
            both(_mount(lambda m: m.update(Mode="Z")), _create_command(_unlabelled)),
        ),
        case(
            "PHX-S.02-pass-mount-flag",
            security.test_live_selinux_labels,
            PASSED,
            "6 containers, every bind mount of the stack's data labelled",
            _create_command(
                lambda words: [
                    "--mount"
                    if w == "-v"
                    else ("type=bind,source=/x,target=/www,relabel=private" if w.endswith(":Z") else w)
                    for w in words
                ]
            ),
        ),
        case(
            "PHX-S.02-fail",
            security.test_live_selinux_labels,
            FAILED,
            "expected every bind mount relabelled, got:\n  container phoenix-core mount"
            " /home/phoenix/phoenix-hydra/data/phoenix-core -> /www"
            " (no z/Z in Mounts[].Mode nor in the create command)\n"
            f"  ({API_WHERE})",
            _create_command(_unlabelled),
        ),
        case(
            # /etc/localtime is system content: never relabelled, so never asked to be.
            "PHX-S.02-pass-system-content",
            security.test_live_selinux_labels,
            PASSED,
            "6 containers, every bind mount of the stack's data labelled",
            both(_mount(lambda m: m.update(Source="/etc/localtime")), _create_command(_unlabelled)),
        ),
        case(
            "PHX-S.02-pass-label-disabled",
            security.test_live_selinux_labels,
            PASSED,
            "6 containers, every bind mount of the stack's data labelled",
            both(
                document("phoenix-core", lambda d: d["HostConfig"].update(SecurityOpt=["label=disable"])),
                _create_command(_unlabelled),
            ),
        ),
        case(
            "PHX-S.02-api-unreachable",
            security.test_live_selinux_labels,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
        case(
            "PHX-S.02-no-containers",
            security.test_live_selinux_labels,
            NOT_APPLICABLE,
            f"no container to judge ({API_WHERE})",
            no_containers(),
        ),
        case(
            "PHX-S.05-pass",
            security.test_live_unprivileged_ports,
            PASSED,
            f"no host port below 1024 among 6 containers ({API_WHERE})",
        ),
        case(
            "PHX-S.05-fail",
            security.test_live_unprivileged_ports,
            FAILED,
            f"expected no host port below 1024, got:\n  container phoenix-core publishes 80->8080\n  ({API_WHERE})",
            container(
                "phoenix-core",
                Ports=[{"host_ip": "", "container_port": 8080, "host_port": 80, "range": 1, "protocol": "tcp"}],
            ),
        ),
        case(
            "PHX-S.05-timeout",
            security.test_live_unprivileged_ports,
            COULD_NOT_CHECK,
            f"probe section unprivileged_port_start (probe_security.sh on {HOST_ID}): timed out",
            fail("unprivileged_port_start", "timeout"),
        ),
        case(
            "PHX-S.05-api-unreachable",
            security.test_live_unprivileged_ports,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
        case("PHX-S.12-pass", security.test_live_privileges, PASSED, f"6 containers unprivileged ({API_WHERE})"),
        case(
            "PHX-S.12-fail",
            security.test_live_privileges,
            FAILED,
            "expected no privileged container, added capability or host namespace, got:\n"
            "  container phoenix-core is privileged\n  container phoenix-core adds NET_ADMIN\n"
            "  container phoenix-core shares the host network namespace\n",
            document(
                "phoenix-core",
                lambda d: d["HostConfig"].update(Privileged=True, CapAdd=["CAP_NET_ADMIN"], NetworkMode="host"),
            ),
        ),
        case(
            "PHX-S.12-api-unreachable",
            security.test_live_privileges,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
        case(
            "PHX-S.12-no-containers",
            security.test_live_privileges,
            NOT_APPLICABLE,
            "no container to judge",
            no_containers(),
        ),
        case(
            "PHX-S.14-pass", security.test_live_socket_mounts, PASSED, f"6 containers, no socket mounted ({API_WHERE})"
        ),
        case(
            "PHX-S.14-fail",
            security.test_live_socket_mounts,
            FAILED,
            f"got:\n  container phoenix-core mounts {SOCKET} at /var/run/docker.sock\n",
            _mount(lambda m: m.update(Source=SOCKET, Destination="/var/run/docker.sock")),
        ),
        case(
            "PHX-S.14-api-unreachable",
            security.test_live_socket_mounts,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
        case(
            "PHX-S.14-no-containers",
            security.test_live_socket_mounts,
            NOT_APPLICABLE,
            "no container to judge",
            no_containers(),
        ),
        case(
            "PHX-S.19-pass",
            security.test_live_images,
            PASSED,
            f"6 containers, images qualified and pinned ({API_WHERE})",
        ),
        case(
            "PHX-S.19-fail",
            security.test_live_images,
            FAILED,
            "expected fully qualified, pinned images, got:\n"
            "  container phoenix-core runs busybox: busybox is a short name",
            document("phoenix-core", lambda d: d.update(ImageName="busybox")),
        ),
        case(
            # Since Podman 5.5 a pod's infra container runs no image at all: not a short name.
            "PHX-S.19-pass-infra-without-image",
            security.test_live_images,
            PASSED,
            f"6 containers, images qualified and pinned ({API_WHERE})",
            document(f"{POD}-infra", lambda d: d.update(Image="", ImageName="")),
        ),
        case(
            "PHX-S.19-api-unreachable",
            security.test_live_images,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
        case(
            "PHX-S.19-no-containers",
            security.test_live_images,
            NOT_APPLICABLE,
            "no container to judge",
            no_containers(),
        ),
    ]


SELINUX_WHERE = f"/sys/fs/selinux/enforce on {HOST_ID}"
SYSCTL_WHERE = f"/proc/sys/net/ipv4/ip_unprivileged_port_start on {HOST_ID}"
ROOTFUL_PS = json.dumps(
    [{"Id": "9f0e", "Image": "docker.io/library/postgres:16", "Names": ["phoenix-core"], "State": "running"}]
)


class TestSecurityHost(Family):
    """PHX-S.03, S.06, S.07 and S.08: SELinux, the port sysctl, root's containers, Docker."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-S.03-pass",
            security.test_selinux_enforcing,
            PASSED,
            f"enforcing ({SELINUX_WHERE})",
            setting("selinux_enforce", "1"),
        ),
        case(
            "PHX-S.03-fail",
            security.test_selinux_enforcing,
            FAILED,
            f"expected enforcing (1), got permissive (0) ({SELINUX_WHERE})",
            setting("selinux_enforce", "0"),
        ),
        case(
            "PHX-S.03-no-selinux",
            security.test_selinux_enforcing,
            NOT_APPLICABLE,
            f"the host has no SELinux ({SELINUX_WHERE}:"
            " exit 1: cat: /sys/fs/selinux/enforce: No such file or directory);"
            " the :Z/:z label rules still apply to the files",
        ),
        case(
            "PHX-S.03-timeout",
            security.test_selinux_enforcing,
            COULD_NOT_CHECK,
            f"probe section selinux_enforce (probe_security.sh on {HOST_ID}): timed out",
            fail("selinux_enforce", "timeout"),
        ),
        case(
            "PHX-S.03-missing",
            security.test_selinux_enforcing,
            COULD_NOT_CHECK,
            f"probe section selinux_enforce (probe_security.sh on {HOST_ID}): command not found",
            fail("selinux_enforce", "missing"),
        ),
        case(
            "PHX-S.03-empty",
            security.test_selinux_enforcing,
            COULD_NOT_CHECK,
            f"probe section selinux_enforce (probe_security.sh on {HOST_ID}): exit 0 but no output",
            fail("selinux_enforce", "empty"),
        ),
        case("PHX-S.06-pass", security.test_unprivileged_port_start, PASSED, f"1024 ({SYSCTL_WHERE})"),
        case(
            "PHX-S.06-fail",
            security.test_unprivileged_port_start,
            FAILED,
            f"expected >= 1024, got 80 ({SYSCTL_WHERE})",
            setting("unprivileged_port_start", "80"),
        ),
        case(
            "PHX-S.06-timeout",
            security.test_unprivileged_port_start,
            COULD_NOT_CHECK,
            f"probe section unprivileged_port_start (probe_security.sh on {HOST_ID}): timed out",
            fail("unprivileged_port_start", "timeout"),
        ),
        case(
            "PHX-S.06-missing",
            security.test_unprivileged_port_start,
            COULD_NOT_CHECK,
            f"probe section unprivileged_port_start (probe_security.sh on {HOST_ID}): command not found",
            fail("unprivileged_port_start", "missing"),
        ),
        case(
            "PHX-S.06-empty",
            security.test_unprivileged_port_start,
            COULD_NOT_CHECK,
            f"probe section unprivileged_port_start (probe_security.sh on {HOST_ID}): exit 0 but no output",
            fail("unprivileged_port_start", "empty"),
        ),
        case(
            "PHX-S.07-pass",
            security.test_no_rootful_stack_container,
            PASSED,
            f"0 rootful containers, none of the stack (root's podman ps on {HOST_ID})",
            both(setting("root_access", "sudo"), setting("rootful_ps", "[]")),
        ),
        case(
            "PHX-S.07-fail",
            security.test_no_rootful_stack_container,
            FAILED,
            f"expected no stack container under root, got phoenix-core (root's podman ps on {HOST_ID})",
            both(setting("root_access", "sudo"), setting("rootful_ps", ROOTFUL_PS)),
        ),
        case(
            "PHX-S.07-no-sudo",
            security.test_no_rootful_stack_container,
            NOT_APPLICABLE,
            "root's containers are not readable by phoenix (neither root nor a passwordless sudoer;"
            " run as root or give passwordless sudo to check them)",
        ),
        # A podman as root that timed out, is missing or printed nothing is no answer.
        *(
            case(
                f"PHX-S.07-{how}",
                security.test_no_rootful_stack_container,
                COULD_NOT_CHECK,
                f"probe section rootful_ps (probe_security.sh on {HOST_ID}):",
                both(setting("root_access", "sudo"), fail("rootful_ps", how)),
            )
            for how in FAILURES
        ),
        *(
            case(
                f"PHX-S.07-access-{how}",
                security.test_no_rootful_stack_container,
                COULD_NOT_CHECK,
                f"probe section root_access (probe_security.sh on {HOST_ID}):",
                fail("root_access", how),
            )
            for how in FAILURES
        ),
        case(
            "PHX-S.08-pass",
            security.test_docker_retired,
            PASSED,
            "docker.service/docker.socket inactive/inactive; sockets: none"
            f" (systemctl is-active and /var/run/docker.sock on {HOST_ID})",
        ),
        case(
            "PHX-S.08-pass-podman-docker",
            security.test_docker_retired,
            PASSED,
            "sockets: /var/run/docker.sock -> /run/podman/podman.sock (",
            setting("docker_sock", "/var/run/docker.sock -> /run/podman/podman.sock"),
        ),
        case(
            "PHX-S.08-fail",
            security.test_docker_retired,
            FAILED,
            "expected Docker inactive and no Docker socket, got docker.service/docker.socket active/active;"
            " sockets: /var/run/docker.sock -> /run/docker.sock",
            both(
                setting("docker_active", "active\nactive"),
                setting("docker_sock", "/var/run/docker.sock -> /run/docker.sock"),
            ),
        ),
        *each_failure(
            "PHX-S.08",
            security.test_docker_retired,
            COULD_NOT_CHECK,
            f"probe section docker_active (probe_security.sh on {HOST_ID})",
            "docker_active",
        ),
        case(
            "PHX-S.08-socket-timeout",
            security.test_docker_retired,
            COULD_NOT_CHECK,
            f"probe section docker_sock (probe_security.sh on {HOST_ID}): timed out",
            fail("docker_sock", "timeout"),
        ),
    ]


ALIAS_WHERE = f"command -v docker, ~/.bashrc and ~/.zshrc on {HOST_ID}"
LOGIN_WHERE = f"a login shell of phoenix on {HOST_ID}"
PODMAN_DOCKER = (
    "/usr/bin/docker\nEmulate Docker CLI using podman. Create /etc/containers/nodocker to quiet msg.\n"
    "podman version 5.4.2"
)


class TestSecurityAccount(Family):
    """PHX-S.09, S.10, S.15 and S.16: the docker command, DOCKER_HOST, the socket and runtime dir."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-S.09-pass-alias",
            security.test_docker_alias,
            PASSED,
            f"alias: /home/phoenix/.bashrc:118:alias docker=podman ({ALIAS_WHERE})",
        ),
        case(
            "PHX-S.09-pass-podman-docker",
            security.test_docker_alias,
            PASSED,
            "docker is Podman's: /usr/bin/docker Emulate Docker CLI using podman. Create /etc/containers/nodocker"
            f" to quiet msg. podman version 5.4.2 ({ALIAS_WHERE})",
            setting("docker_cli", PODMAN_DOCKER),
        ),
        case(
            "PHX-S.09-fail",
            security.test_docker_alias,
            FAILED,
            "expected the podman-docker command or alias docker=podman, got docker: /usr/bin/docker"
            f" Docker version 27.5.1, build 9f9e405 and no alias ({ALIAS_WHERE})",
            both(
                setting("docker_cli", "/usr/bin/docker\nDocker version 27.5.1, build 9f9e405"),
                setting("docker_alias", ""),
            ),
        ),
        # No alias line is an answer; a grep that did not run is not.
        case(
            "PHX-S.09-empty",
            security.test_docker_alias,
            FAILED,
            "got no docker command and no alias",
            fail("docker_alias", "empty"),
        ),
        *(
            case(
                f"PHX-S.09-{how}",
                security.test_docker_alias,
                COULD_NOT_CHECK,
                f"probe section docker_alias (probe_security.sh on {HOST_ID}):",
                fail("docker_alias", how),
            )
            for how in ("timeout", "missing")
        ),
        case(
            "PHX-S.09-cli-timeout",
            security.test_docker_alias,
            COULD_NOT_CHECK,
            f"probe section docker_cli (probe_security.sh on {HOST_ID}): timed out",
            fail("docker_cli", "timeout"),
        ),
        case(
            "PHX-S.10-pass",
            security.test_docker_host,
            PASSED,
            f"DOCKER_HOST=unix://{SOCKET}, _ping OK ({LOGIN_WHERE}; set at"
            f" /home/phoenix/.bashrc:119:export DOCKER_HOST=unix://{SOCKET})",
        ),
        case(
            "PHX-S.10-fail",
            security.test_docker_host,
            FAILED,
            f"expected DOCKER_HOST=unix://{SOCKET}, got unset",
            both(setting("docker_host_login", "\nDOCKER_HOST="), setting("docker_host_lines", "")),
        ),
        *each_failure(
            "PHX-S.10",
            security.test_docker_host,
            COULD_NOT_CHECK,
            f"probe section docker_host_login (probe_security.sh on {HOST_ID})",
            "docker_host_login",
        ),
        case(
            "PHX-S.10-api-unreachable",
            security.test_docker_host,
            FAILED,
            f"expected the socket to answer _ping, got {API_DOWN} (API socket {SOCKET} on {HOST_ID})",
            api_down(),
        ),
        case(
            "PHX-S.15-pass",
            security.test_socket_permissions,
            PASSED,
            f"mode 0660, owner phoenix ({SOCKET} on {HOST_ID})",
        ),
        case(
            "PHX-S.15-fail",
            security.test_socket_permissions,
            FAILED,
            f"expected mode 0660 or stricter, owner phoenix, got mode 0666, owner phoenix ({SOCKET} on {HOST_ID})",
            setting("api_socket", f"phoenix|1000|666|socket|{SOCKET}"),
        ),
        case(
            "PHX-S.15-fail-absent",
            security.test_socket_permissions,
            FAILED,
            f"expected the socket, got exit 1: stat: cannot statx '{SOCKET}': No such file or directory",
            setting("api_socket", "", 1, f"stat: cannot statx '{SOCKET}': No such file or directory"),
        ),
        case(
            "PHX-S.15-timeout",
            security.test_socket_permissions,
            COULD_NOT_CHECK,
            f"probe section api_socket (probe_base.sh on {HOST_ID}): timed out",
            fail("api_socket", "timeout"),
        ),
        case(
            "PHX-S.15-missing",
            security.test_socket_permissions,
            COULD_NOT_CHECK,
            f"probe section api_socket (probe_base.sh on {HOST_ID}): command not found",
            fail("api_socket", "missing"),
        ),
        case(
            "PHX-S.15-empty",
            security.test_socket_permissions,
            COULD_NOT_CHECK,
            f"probe section api_socket (probe_base.sh on {HOST_ID}): exit 0 but no output",
            fail("api_socket", "empty"),
        ),
        case(
            "PHX-S.16-pass",
            security.test_runtime_dir_private,
            PASSED,
            f"/run/user/1000 mode 0700, owner phoenix (XDG_RUNTIME_DIR on {HOST_ID})",
        ),
        case(
            "PHX-S.16-fail",
            security.test_runtime_dir_private,
            FAILED,
            "expected mode 0700, owner phoenix,"
            f" got /run/user/1000 mode 0755, owner phoenix (XDG_RUNTIME_DIR on {HOST_ID})",
            setting("runtime_dir", "phoenix|1000|755|directory|/run/user/1000"),
        ),
        case(
            "PHX-S.16-timeout",
            security.test_runtime_dir_private,
            COULD_NOT_CHECK,
            f"probe section runtime_dir (probe_security.sh on {HOST_ID}): timed out",
            fail("runtime_dir", "timeout"),
        ),
        case(
            "PHX-S.16-missing",
            security.test_runtime_dir_private,
            COULD_NOT_CHECK,
            f"probe section runtime_dir (probe_security.sh on {HOST_ID}): command not found",
            fail("runtime_dir", "missing"),
        ),
        case(
            "PHX-S.16-empty",
            security.test_runtime_dir_private,
            COULD_NOT_CHECK,
            f"probe section runtime_dir (probe_security.sh on {HOST_ID}): exit 0 but no output",
            fail("runtime_dir", "empty"),
        ),
    ]
