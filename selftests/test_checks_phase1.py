"""Phase 1 checks offline: Podman installed, the rootless runtime."""

from __future__ import annotations

from typing import Any, ClassVar

from checks_cases import (
    API_DOWN,
    AS_USER,
    FOLDER_WHERE,
    Family,
    api_down,
    api_facts,
    both,
    case,
    each_failure,
    fail,
    info,
    mount_program,
    podman_version,
    setting,
    tools,
)
from checks_cases import pytest_generate_tests as pytest_generate_tests
from fakehost import (
    API_WHERE,
    COULD_NOT_CHECK,
    FAILED,
    HOST_ID,
    PASSED,
    QUADLET_DIR,
    SOCKET,
)

from tests.phase1 import test_base_install as phase1

# -- Phase 1 -----------------------------------------------------------------------

WHERE_VERSION = f"(podman version {AS_USER})"
WHERE_INFO = f"(podman info {AS_USER})"


class TestPodmanInstalled(Family):
    """PHX-1.01 to 1.05: the programs of a rootless Podman."""

    CASES: ClassVar[list[Any]] = [
        case("PHX-1.01-pass", phase1.test_podman_version, PASSED, f"podman 5.4.2 {WHERE_VERSION}"),
        case(
            "PHX-1.01-fail",
            phase1.test_podman_version,
            FAILED,
            f"expected podman >= 5.0 for phoenix-hydra.pod, got 4.3.1 {WHERE_VERSION}",
            setting("podman_version", podman_version("4.3.1")),
        ),
        case(
            "PHX-1.01-timeout",
            phase1.test_podman_version,
            COULD_NOT_CHECK,
            f"probe section podman_version (probe_base.sh on {HOST_ID}): timed out",
            fail("podman_version", "timeout"),
        ),
        case(
            "PHX-1.01-missing",
            phase1.test_podman_version,
            FAILED,
            f"expected podman >= 5.0, got command not found {WHERE_VERSION}",
            fail("podman_version", "missing"),
        ),
        case(
            "PHX-1.01-empty",
            phase1.test_podman_version,
            COULD_NOT_CHECK,
            f"probe section podman_version (probe_base.sh on {HOST_ID}): exit 0 but no output",
            fail("podman_version", "empty"),
        ),
        # Only JSON, or text that starts with the version, is read as a version.
        case(
            "PHX-1.01-not-json",
            phase1.test_podman_version,
            COULD_NOT_CHECK,
            "probe section podman_version: unreadable as a Podman version: 'Client: Podman Engine Version: 5.4.2'",
            setting("podman_version", "Client:       Podman Engine\nVersion:      5.4.2"),
        ),
        case(
            "PHX-1.02-pass",
            phase1.test_podman_compose_installed,
            PASSED,
            f"/usr/bin/podman-compose (command -v podman-compose {AS_USER})",
        ),
        case(
            "PHX-1.02-fail",
            phase1.test_podman_compose_installed,
            FAILED,
            f"expected podman-compose on PATH, got none (command -v podman-compose {AS_USER})",
            tools(**{"podman-compose": ""}),
        ),
        # A failed tools probe reads as nothing installed.
        *each_failure(
            "PHX-1.02",
            phase1.test_podman_compose_installed,
            COULD_NOT_CHECK,
            f"probe section tools (probe_base.sh on {HOST_ID})",
            "tools",
        ),
        case(
            "PHX-1.03-pass",
            phase1.test_rootless_network_helper,
            PASSED,
            f"pasta: /usr/bin/pasta (command -v pasta {AS_USER})",
        ),
        case(
            "PHX-1.03-fail",
            phase1.test_rootless_network_helper,
            FAILED,
            f"expected pasta installed, got none (command -v pasta {AS_USER})",
            tools(pasta=""),
        ),
        case(
            "PHX-1.03-podman-4-slirp4netns",
            phase1.test_rootless_network_helper,
            PASSED,
            f"slirp4netns: /usr/bin/slirp4netns (command -v pasta slirp4netns {AS_USER})",
            both(
                info(lambda p: p["host"].pop("rootlessNetworkCmd")), tools(pasta="", slirp4netns="/usr/bin/slirp4netns")
            ),
        ),
        case(
            "PHX-1.03-tools-timeout",
            phase1.test_rootless_network_helper,
            COULD_NOT_CHECK,
            f"probe section tools (probe_base.sh on {HOST_ID}): timed out",
            fail("tools", "timeout"),
        ),
        case(
            "PHX-1.03-info-timeout",
            phase1.test_rootless_network_helper,
            COULD_NOT_CHECK,
            f"probe section podman_info (probe_base.sh on {HOST_ID}): timed out",
            fail("podman_info", "timeout"),
        ),
        case(
            "PHX-1.04-pass",
            phase1.test_idmap_helpers,
            PASSED,
            f"/usr/bin/newuidmap, /usr/bin/newgidmap (command -v newuidmap newgidmap {AS_USER})",
        ),
        case(
            "PHX-1.04-fail",
            phase1.test_idmap_helpers,
            FAILED,
            f"expected newuidmap and newgidmap, got newgidmap missing (command -v newuidmap newgidmap {AS_USER})",
            tools(newgidmap=""),
        ),
        *each_failure(
            "PHX-1.04",
            phase1.test_idmap_helpers,
            COULD_NOT_CHECK,
            f"probe section tools (probe_base.sh on {HOST_ID})",
            "tools",
        ),
        case(
            "PHX-1.05-pass-not-needed",
            phase1.test_fuse_overlayfs_when_needed,
            PASSED,
            f"not needed: storage driver overlay without a mount program (podman info (store) {AS_USER})",
        ),
        case(
            "PHX-1.05-pass-needed",
            phase1.test_fuse_overlayfs_when_needed,
            PASSED,
            f"overlay with mount program /usr/bin/fuse-overlayfs (podman info (store) {AS_USER})",
            both(
                info(mount_program("/usr/bin/fuse-overlayfs")), tools(**{"fuse-overlayfs": "/usr/bin/fuse-overlayfs"})
            ),
        ),
        case(
            "PHX-1.05-fail",
            phase1.test_fuse_overlayfs_when_needed,
            FAILED,
            "expected fuse-overlayfs, the overlay mount program /usr/bin/fuse-overlayfs, got none installed"
            f" (podman info (store) {AS_USER})",
            info(mount_program("/usr/bin/fuse-overlayfs")),
        ),
        *each_failure(
            "PHX-1.05",
            phase1.test_fuse_overlayfs_when_needed,
            COULD_NOT_CHECK,
            f"probe section podman_info (probe_base.sh on {HOST_ID})",
            "podman_info",
        ),
    ]


class TestRootlessRuntime(Family):
    """PHX-1.06 to 1.12: ids, rootless mode, the socket, the folder, linger, cgroups."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-1.06-pass-subuid",
            phase1.test_subordinate_ids,
            PASSED,
            "65536 ids (line 1: phoenix:100000:65536; /etc/subuid",
        ),
        case(
            "PHX-1.06-pass-subgid",
            phase1.test_subordinate_ids,
            PASSED,
            f"65536 ids (line 1: phoenix:100000:65536; /etc/subgid on {HOST_ID})",
            id_file="subgid",
        ),
        case(
            "PHX-1.06-pass-by-uid",
            phase1.test_subordinate_ids,
            PASSED,
            "65536 ids (line 2: 1000:200000:65536;",
            setting("subuid", "ops:100000:65536\n1000:200000:65536"),
        ),
        case(
            "PHX-1.06-fail-short",
            phase1.test_subordinate_ids,
            FAILED,
            "expected at least 65536 ids for phoenix, got 1000"
            f" (line 1: phoenix:100000:1000; /etc/subuid on {HOST_ID})",
            setting("subuid", "phoenix:100000:1000"),
        ),
        case(
            "PHX-1.06-fail-other-user",
            phase1.test_subordinate_ids,
            FAILED,
            f"expected at least 65536 ids for phoenix, got 0 (no line for the user; /etc/subuid on {HOST_ID})",
            setting("subuid", "ops:100000:65536"),
        ),
        # A failed read of /etc/subuid reads as no line for the user.
        # An empty /etc/subuid is an answer: no range for anyone.
        case(
            "PHX-1.06-empty",
            phase1.test_subordinate_ids,
            FAILED,
            "got 0 (no line for the user; /etc/subuid",
            fail("subuid", "empty"),
        ),
        *(
            case(
                f"PHX-1.06-{how}",
                phase1.test_subordinate_ids,
                COULD_NOT_CHECK,
                f"probe section subuid (probe_base.sh on {HOST_ID}):",
                fail("subuid", how),
            )
            for how in ("timeout", "missing")
        ),
        case(
            "PHX-1.07-pass",
            phase1.test_rootless,
            PASSED,
            f"rootless=true {WHERE_INFO}",
        ),
        case(
            "PHX-1.07-fail",
            phase1.test_rootless,
            FAILED,
            f"expected rootless=true, got false {WHERE_INFO}",
            info(lambda p: p["host"]["security"].update(rootless=False)),
        ),
        case(
            "PHX-1.07-timeout",
            phase1.test_rootless,
            COULD_NOT_CHECK,
            f"probe section podman_info (probe_base.sh on {HOST_ID}): timed out",
            fail("podman_info", "timeout"),
        ),
        case(
            "PHX-1.07-missing",
            phase1.test_rootless,
            COULD_NOT_CHECK,
            f"probe section podman_info (probe_base.sh on {HOST_ID}): command not found",
            fail("podman_info", "missing"),
        ),
        case(
            "PHX-1.07-empty",
            phase1.test_rootless,
            COULD_NOT_CHECK,
            f"probe section podman_info (probe_base.sh on {HOST_ID}): exit 0 but no output",
            fail("podman_info", "empty"),
        ),
        case(
            "PHX-1.07-not-json",
            phase1.test_rootless,
            COULD_NOT_CHECK,
            "probe section podman_info: unreadable as podman info JSON: 'Error: unknown flag: --format'",
            setting("podman_info", "Error: unknown flag: --format"),
        ),
        # The API is unreachable and the check is unchanged: it judges podman info alone (the
        # API's libpod info is not asked), and reaching the API is PHX-1.09's subject.
        case(
            "PHX-1.07-api-unreachable",
            phase1.test_rootless,
            PASSED,
            f"rootless=true {WHERE_INFO}",
            api_down(),
        ),
        case(
            "PHX-1.08-pass",
            phase1.test_podman_socket_unit,
            PASSED,
            f"enabled=enabled, active=active (systemctl --user is-enabled/is-active podman.socket {AS_USER})",
        ),
        case(
            "PHX-1.08-fail",
            phase1.test_podman_socket_unit,
            FAILED,
            "expected enabled=enabled, active=active, got enabled=disabled, active=inactive",
            both(setting("socket_enabled", "disabled", 1), setting("socket_active", "inactive", 3)),
        ),
        # Exit 0 but not hooked into a target by its own [Install]: it does not start at boot.
        case(
            "PHX-1.08-fail-indirect",
            phase1.test_podman_socket_unit,
            FAILED,
            "expected enabled=enabled, active=active, got enabled=indirect, active=active",
            setting("socket_enabled", "indirect"),
        ),
        case(
            "PHX-1.08-timeout",
            phase1.test_podman_socket_unit,
            COULD_NOT_CHECK,
            f"probe section socket_active (probe_base.sh on {HOST_ID}): timed out",
            fail("socket_active", "timeout"),
        ),
        case(
            "PHX-1.08-missing",
            phase1.test_podman_socket_unit,
            COULD_NOT_CHECK,
            f"probe section socket_enabled (probe_base.sh on {HOST_ID}): command not found",
            fail("socket_enabled", "missing"),
        ),
        case(
            "PHX-1.08-empty",
            phase1.test_podman_socket_unit,
            COULD_NOT_CHECK,
            f"probe section socket_enabled (probe_base.sh on {HOST_ID}): exit 0 but no output",
            fail("socket_enabled", "empty"),
        ),
        case(
            "PHX-1.09-pass",
            phase1.test_api_ping,
            PASSED,
            f"_ping=OK (requests-unixsocket), ping()=True (podman-py) ({API_WHERE})",
        ),
        case(
            "PHX-1.09-fail",
            phase1.test_api_ping,
            FAILED,
            f"expected _ping=OK via requests-unixsocket, got error: HTTP 500 ({API_WHERE})",
            api_facts(ping="", ping_error="HTTP 500"),
        ),
        case(
            "PHX-1.09-fail-podman-py",
            phase1.test_api_ping,
            FAILED,
            f"expected podman-py ping()=True to agree, got Connection refused ({API_WHERE})",
            api_facts(podman_py_ping=None, podman_py_error="Connection refused"),
        ),
        case(
            "PHX-1.09-api-unreachable",
            phase1.test_api_ping,
            FAILED,
            f"expected _ping=OK via requests-unixsocket, got error: {API_DOWN} (API socket {SOCKET} on {HOST_ID})",
            api_down(),
        ),
        case(
            "PHX-1.10-pass",
            phase1.test_quadlet_dir,
            PASSED,
            f"directory owned by phoenix, mode 755 ({FOLDER_WHERE})",
        ),
        case(
            "PHX-1.10-fail-owner",
            phase1.test_quadlet_dir,
            FAILED,
            f"expected a directory owned by phoenix, got a directory owned by root ({FOLDER_WHERE})",
            setting("quadlet_dir", f"root|0|755|directory|{QUADLET_DIR}"),
        ),
        case(
            "PHX-1.10-fail-absent",
            phase1.test_quadlet_dir,
            FAILED,
            f"expected a directory owned by phoenix, got exit 1: stat: cannot statx '{QUADLET_DIR}':"
            f" No such file or directory ({FOLDER_WHERE})",
            setting("quadlet_dir", "", 1, f"stat: cannot statx '{QUADLET_DIR}': No such file or directory"),
        ),
        case(
            "PHX-1.10-timeout",
            phase1.test_quadlet_dir,
            COULD_NOT_CHECK,
            f"probe section quadlet_dir (probe_base.sh on {HOST_ID}): timed out",
            fail("quadlet_dir", "timeout"),
        ),
        case(
            "PHX-1.10-missing",
            phase1.test_quadlet_dir,
            COULD_NOT_CHECK,
            f"probe section quadlet_dir (probe_base.sh on {HOST_ID}): command not found",
            fail("quadlet_dir", "missing"),
        ),
        case(
            "PHX-1.10-empty",
            phase1.test_quadlet_dir,
            COULD_NOT_CHECK,
            f"probe section quadlet_dir (probe_base.sh on {HOST_ID}): exit 0 but no output",
            fail("quadlet_dir", "empty"),
        ),
        case(
            "PHX-1.11-pass",
            phase1.test_linger,
            PASSED,
            f"file present, loginctl Linger=yes (/var/lib/systemd/linger/phoenix and loginctl show-user on {HOST_ID})",
        ),
        case(
            "PHX-1.11-fail",
            phase1.test_linger,
            FAILED,
            "expected file present, Linger=yes, got file absent,"
            " loginctl exit 1: Failed to get user: User ID 1000 is not logged in or lingering",
            both(
                setting("linger_file", "", 1, "stat: cannot statx '/var/lib/systemd/linger/phoenix': No such file"),
                setting("linger_loginctl", "", 1, "Failed to get user: User ID 1000 is not logged in or lingering"),
            ),
        ),
        case(
            "PHX-1.11-timeout",
            phase1.test_linger,
            COULD_NOT_CHECK,
            f"probe section linger_loginctl (probe_base.sh on {HOST_ID}): timed out",
            fail("linger_loginctl", "timeout"),
        ),
        case(
            "PHX-1.11-missing",
            phase1.test_linger,
            COULD_NOT_CHECK,
            f"probe section linger_loginctl (probe_base.sh on {HOST_ID}): command not found",
            fail("linger_loginctl", "missing"),
        ),
        case(
            "PHX-1.11-empty",
            phase1.test_linger,
            COULD_NOT_CHECK,
            f"probe section linger_loginctl (probe_base.sh on {HOST_ID}): exit 0 but no output",
            fail("linger_loginctl", "empty"),
        ),
        case(
            "PHX-1.12-pass",
            phase1.test_cgroup_v2_systemd,
            PASSED,
            f"cgroupVersion=v2, cgroupManager=systemd {WHERE_INFO}",
        ),
        case(
            "PHX-1.12-fail",
            phase1.test_cgroup_v2_systemd,
            FAILED,
            "expected cgroupVersion=v2, cgroupManager=systemd,"
            f" got cgroupVersion=v2, cgroupManager=cgroupfs {WHERE_INFO}",
            info(lambda p: p["host"].update(cgroupManager="cgroupfs")),
        ),
        *each_failure(
            "PHX-1.12",
            phase1.test_cgroup_v2_systemd,
            COULD_NOT_CHECK,
            f"probe section podman_info (probe_base.sh on {HOST_ID})",
            "podman_info",
        ),
    ]
