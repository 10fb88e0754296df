"""Security checks offline that read the deployed files (compose file, Quadlet units)."""

from __future__ import annotations

from typing import Any, ClassVar

from checks_cases import (
    CORE_UNIT,
    FILES_WHERE,
    Family,
    both,
    case,
    compose,
    each_failure,
    fail,
    setting,
    unit,
)
from checks_cases import pytest_generate_tests as pytest_generate_tests
from fakehost import (
    COMPOSE_PATH,
    COULD_NOT_CHECK,
    FAILED,
    HOST_ID,
    NOT_APPLICABLE,
    PASSED,
    reference_quadlet_files,
)

from tests.security import test_security as security

# -- Security ----------------------------------------------------------------------

# Neither file could be read (timed out): nothing is known about the files.
NO_FILES = both(fail("compose_file", "timeout"), fail("quadlet_tar", "timeout"))
# Neither file exists, as read: the rules have nothing to judge.
ABSENT_FILES = both(
    setting("compose_file", "", 1, f"cat: {COMPOSE_PATH}: No such file or directory"),
    setting("quadlet_tar", "", 3, "no such directory"),
)


class TestSecurityFiles(Family):
    """PHX-S.01, S.04, S.11, S.13, S.17, S.18 and S.20: the rules judged on the compose and Quadlet files."""

    CASES: ClassVar[list[Any]] = [
        case("PHX-S.01-pass", security.test_files_selinux_labels, PASSED, f"no offence ({FILES_WHERE})"),
        case(
            "PHX-S.01-fail-compose",
            security.test_files_selinux_labels,
            FAILED,
            f"offence, got 1:\n  {HOST_ID}:{COMPOSE_PATH}:18: SEC-LABEL service phoenix-core,",
            compose('"../../data/phoenix-core:/www:Z"', '"../../data/phoenix-core:/www"'),
        ),
        case(
            "PHX-S.01-fail-quadlet",
            security.test_files_selinux_labels,
            FAILED,
            f"got 1:\n  {CORE_UNIT}:",
            unit("phoenix-core.container", "/www:Z", "/www"),
        ),
        case(
            # System content (a timezone file, a whole home) is never to be relabelled.
            "PHX-S.01-pass-system-content",
            security.test_files_selinux_labels,
            PASSED,
            f"no offence ({FILES_WHERE})",
            unit("phoenix-core.container", "Exec=", "Volume=/etc/localtime:/etc/localtime:ro\nVolume=%h:%h\nExec="),
        ),
        case(
            "PHX-S.01-fail-system-relabelled",
            security.test_files_selinux_labels,
            FAILED,
            "/proc/cpuinfo is system content (/proc) and :Z relabels it on the host",
            unit("phoenix-core.container", "Exec=", "Volume=/proc/cpuinfo:/proc/cpuinfo:ro,Z\nExec="),
        ),
        case(
            # The host's home: /home/phoenix is the whole home of the user checked.
            "PHX-S.01-fail-host-home-relabelled",
            security.test_files_selinux_labels,
            FAILED,
            "bind mount /home/phoenix is a whole home directory",
            unit("phoenix-core.container", "Exec=", "Volume=/home/phoenix:/h:z\nExec="),
        ),
        case("PHX-S.20-pass", security.test_files_selinux_separation, PASSED, f"no offence ({FILES_WHERE})"),
        case(
            "PHX-S.20-fail-quadlet",
            security.test_files_selinux_separation,
            FAILED,
            f"got 1:\n  {CORE_UNIT}:12: SEC-NOLABEL phoenix-core.container, SecurityLabelDisable=true:",
            unit("phoenix-core.container", "Exec=", "SecurityLabelDisable=true\nExec="),
        ),
        case(
            "PHX-S.20-fail-compose",
            security.test_files_selinux_separation,
            FAILED,
            "SEC-NOLABEL service phoenix-core, security_opt label:disable",
            compose("    volumes:", '    security_opt: ["label:disable"]\n    volumes:'),
        ),
        case(
            "PHX-S.20-unread-files",
            security.test_files_selinux_separation,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            NO_FILES,
        ),
        case(
            "PHX-S.01-unread-files",
            security.test_files_selinux_labels,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            NO_FILES,
        ),
        case(
            "PHX-S.01-no-files",
            security.test_files_selinux_labels,
            NOT_APPLICABLE,
            "no compose file and no Quadlet file to judge",
            ABSENT_FILES,
        ),
        # The compose file timed out: the rule is not judged on the Quadlet files alone.
        case(
            "PHX-S.01-compose-timeout",
            security.test_files_selinux_labels,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            fail("compose_file", "timeout"),
        ),
        case(
            "PHX-S.04-pass",
            security.test_files_unprivileged_ports,
            PASSED,
            f"no offence (unprivileged start 1024; {FILES_WHERE})",
        ),
        case(
            "PHX-S.04-fail",
            security.test_files_unprivileged_ports,
            FAILED,
            f"got 1:\n  {HOST_ID}:{COMPOSE_PATH}:",
            compose('ports: ["8080:8080"]', 'ports: ["80:8080"]'),
        ),
        # Judged on the resolved value, the text as written shown beside it.
        case(
            "PHX-S.04-fail-substituted",
            security.test_files_unprivileged_ports,
            FAILED,
            "service phoenix-core, port 25: host port 25 is below net.ipv4.ip_unprivileged_port_start=1024",
            compose('ports: ["8080:8080"]', 'ports: ["${X_PORT:-25}:8080"]'),
        ),
        case(
            "PHX-S.04-fail-substituted-written",
            security.test_files_unprivileged_ports,
            FAILED,
            "(written '${X_PORT:-25}:8080' -> '25:8080')",
            compose('ports: ["8080:8080"]', 'ports: ["${X_PORT:-25}:8080"]'),
        ),
        case(
            "PHX-S.04-pass-login-environment",
            security.test_files_unprivileged_ports,
            PASSED,
            "no offence",
            both(
                compose('ports: ["8080:8080"]', 'ports: ["${X_PORT:-25}:8080"]'),
                lambda host: host.compose_environment({"X_PORT": "2525"}),
            ),
        ),
        case(
            "PHX-S.04-fail-dotenv",
            security.test_files_unprivileged_ports,
            FAILED,
            "(written '${X_PORT}:8080' -> '110:8080')",
            both(
                compose('ports: ["8080:8080"]', 'ports: ["${X_PORT}:8080"]'),
                lambda host: host.compose_environment({}, dotenv="X_PORT=110\n"),
            ),
        ),
        case(
            "PHX-S.04-pass-lowered",
            security.test_files_unprivileged_ports,
            PASSED,
            f"no offence (unprivileged start 80; {FILES_WHERE})",
            both(compose('ports: ["8080:8080"]', 'ports: ["80:8080"]'), setting("unprivileged_port_start", "80")),
        ),
        *each_failure(
            "PHX-S.04",
            security.test_files_unprivileged_ports,
            COULD_NOT_CHECK,
            f"probe section unprivileged_port_start (probe_security.sh on {HOST_ID})",
            "unprivileged_port_start",
        ),
        case(
            "PHX-S.04-unread-files",
            security.test_files_unprivileged_ports,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            NO_FILES,
        ),
        case(
            "PHX-S.04-no-files",
            security.test_files_unprivileged_ports,
            NOT_APPLICABLE,
            "no compose file and no Quadlet file to judge",
            ABSENT_FILES,
        ),
        case("PHX-S.11-pass", security.test_files_privileges, PASSED, f"no offence ({FILES_WHERE})"),
        case(
            "PHX-S.11-fail",
            security.test_files_privileges,
            FAILED,
            f"got 1:\n  {HOST_ID}:{COMPOSE_PATH}:",
            compose("    restart: always\n", "    restart: always\n    privileged: true\n"),
        ),
        case(
            "PHX-S.11-fail-quadlet",
            security.test_files_privileges,
            FAILED,
            f"got 1:\n  {CORE_UNIT}:",
            unit("phoenix-core.container", "Exec=", "AddCapability=SYS_ADMIN\nExec="),
        ),
        case(
            # The unit as the generator reads it: a drop-in's PodmanArgs= is the unit's,
            # named at its own line (issue 24).
            "PHX-S.11-fail-dropin",
            security.test_files_privileges,
            FAILED,
            f"got 1:\n  {CORE_UNIT}.d/override.conf:2: SEC-PRIV",
            lambda host: host.quadlet_files(
                {
                    **reference_quadlet_files(),
                    "phoenix-core.container.d/override.conf": "[Container]\nPodmanArgs=--privileged\n",
                }
            ),
        ),
        case(
            "PHX-S.11-unread-files",
            security.test_files_privileges,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            NO_FILES,
        ),
        case(
            "PHX-S.11-no-files",
            security.test_files_privileges,
            NOT_APPLICABLE,
            "no compose file and no Quadlet file to judge",
            ABSENT_FILES,
        ),
        case("PHX-S.13-pass", security.test_files_socket_mounts, PASSED, f"no offence ({FILES_WHERE})"),
        case(
            "PHX-S.13-fail",
            security.test_files_socket_mounts,
            FAILED,
            f"got 1:\n  {CORE_UNIT}:",
            unit("phoenix-core.container", "Exec=", "Volume=%t/podman/podman.sock:/var/run/docker.sock\nExec="),
        ),
        case(
            "PHX-S.13-fail-dropin",
            security.test_files_socket_mounts,
            FAILED,
            f"got 1:\n  {CORE_UNIT}.d/override.conf:2: SEC-SOCKET",
            lambda host: host.quadlet_files(
                {
                    **reference_quadlet_files(),
                    "phoenix-core.container.d/override.conf": (
                        "[Container]\nVolume=%t/podman/podman.sock:/var/run/docker.sock\n"
                    ),
                }
            ),
        ),
        case(
            "PHX-S.13-unread-files",
            security.test_files_socket_mounts,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            NO_FILES,
        ),
        case(
            "PHX-S.13-no-files",
            security.test_files_socket_mounts,
            NOT_APPLICABLE,
            "no compose file and no Quadlet file to judge",
            ABSENT_FILES,
        ),
        case("PHX-S.17-pass", security.test_files_secrets, PASSED, f"no offence ({FILES_WHERE})"),
        case(
            "PHX-S.17-fail-dropin",
            security.test_files_secrets,
            FAILED,
            f"got 1:\n  {CORE_UNIT}.d/override.conf:2: SEC-SECRET",
            lambda host: host.quadlet_files(
                {
                    **reference_quadlet_files(),
                    "phoenix-core.container.d/override.conf": "[Container]\nEnvironment=DB_PASSWORD=hunter2\n",
                }
            ),
        ),
        case(
            "PHX-S.17-fail",
            security.test_files_secrets,
            FAILED,
            f"got 1:\n  {HOST_ID}:{COMPOSE_PATH}:",
            compose("    restart: always\n", "    restart: always\n    environment: {POSTGRES_PASSWORD: hunter2}\n"),
        ),
        case(
            # The env_file a compose file on the host names is read on the host, its value withheld.
            "PHX-S.17-fail-host-env-file",
            security.test_files_secrets,
            FAILED,
            f"got 1:\n  {HOST_ID}:{COMPOSE_PATH.rsplit('/', 1)[0]}/db.env:1: SEC-SECRET",
            both(
                compose("    restart: always\n", "    restart: always\n    env_file: [db.env]\n"),
                lambda host: host.named_file(f"{COMPOSE_PATH.rsplit('/', 1)[0]}/db.env", "DB_PASSWORD=hunter2\n"),
            ),
        ),
        case(
            # EnvironmentFile=%h/... of a unit on the host: %h is the user's home there.
            "PHX-S.17-fail-host-environment-file",
            security.test_files_secrets,
            FAILED,
            f"got 1:\n  {HOST_ID}:~/phoenix.env:1: SEC-SECRET",
            both(
                unit("phoenix-core.container", "[Service]\n", "[Service]\nEnvironmentFile=-%h/phoenix.env\n"),
                lambda host: host.named_file("~/phoenix.env", "API_TOKEN=hunter2\n"),
            ),
        ),
        case(
            # A named file that is not there is no offence (podman-compose would refuse to start, PHX-2's concern).
            "PHX-S.17-pass-host-env-file-absent",
            security.test_files_secrets,
            PASSED,
            f"no offence ({FILES_WHERE})",
            compose("    restart: always\n", "    restart: always\n    env_file: [db.env]\n"),
        ),
        case(
            "PHX-S.17-unread-files",
            security.test_files_secrets,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            NO_FILES,
        ),
        case(
            "PHX-S.17-no-files",
            security.test_files_secrets,
            NOT_APPLICABLE,
            "no compose file and no Quadlet file to judge",
            ABSENT_FILES,
        ),
        case("PHX-S.18-pass", security.test_files_images, PASSED, f"no offence ({FILES_WHERE})"),
        case(
            "PHX-S.18-fail",
            security.test_files_images,
            FAILED,
            f"got 1:\n  {CORE_UNIT}:",
            unit("phoenix-core.container", "Image=localhost/phoenix-standin:1.0", "Image=busybox"),
        ),
        case(
            "PHX-S.18-unread-files",
            security.test_files_images,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            NO_FILES,
        ),
        case(
            "PHX-S.18-no-files",
            security.test_files_images,
            NOT_APPLICABLE,
            "no compose file and no Quadlet file to judge",
            ABSENT_FILES,
        ),
    ]
