"""The upgrade gate's checks offline (PHX-U.01 to U.09) and PHX-1.03 after an upgrade: each passes
on the canned trixie host, fails on a host drifted the way podman-facts section 12 stages it
(or as a Podman 6.1.1 host prints it), and could not check when its fact is unreadable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from checks_cases import (
    AS_USER,
    COMPOSE_WHERE,
    FOLDER_WHERE,
    Arrange,
    Family,
    api_down,
    both,
    case,
    compose,
    document,
    each_failure,
    fail,
    info,
    setting,
    tools,
    unit,
)
from checks_cases import pytest_generate_tests as pytest_generate_tests
from fakehost import API_WHERE, COULD_NOT_CHECK, FAILED, HOST_ID, NOT_APPLICABLE, PASSED, FakeHost
from fakehost.reference import HOME, units_show

from tests.phase1 import test_base_install as phase1
from tests.phase3 import test_quadlet_units as phase3
from tests.upgrade import test_podman6 as upgrade

INFO_WHERE = f"podman info (host.databaseBackend) {AS_USER}"
DROP_IN = "/etc/containers/containers.conf.d/90-podman5.conf"
USER_CONF = f"{HOME}/.config/containers/containers.conf"
# What Podman 6.1.1 prints for every command over a BoltDB store (podman-facts section 12).
BOLTDB_REFUSAL = (
    "Error: the BoltDB database backend was removed in Podman 6.0 - please comment out the `database_backend`"
    " line in containers.conf and migrate to SQLite by rebooting the system or using the"
    " `podman system migrate --migrate-db` command"
)


def conf_file(path: str, text: str, size: int | None = None) -> Arrange:
    """One more containers.conf file as the upgrade probe prints it."""

    def arrange(host: FakeHost) -> None:
        lines = "".join(f"@@L {line}\n" for line in text.split("\n"))
        shown = len(text.encode()) if size is None else size
        host.set("containers_conf", host.sections["containers_conf"].out + f"\n@@FILE {shown} {path}\n{lines}")

    return arrange


def podman6(netavark: str = "netavark 2.0.0", aardvark: str = "aardvark-dns 1.17.1") -> Arrange:
    """podman info as a Podman 6.1.1 host prints it (the fields the checks read)."""

    def change(payload: dict[str, Any]) -> None:
        payload["version"]["Version"] = "6.1.1"
        payload["host"]["networkBackendInfo"]["version"] = netavark
        payload["host"]["networkBackendInfo"]["dns"]["version"] = aardvark
        payload["host"].pop("slirp4netns", None)

    return both(info(change), setting("podman_version", json.dumps({"Client": {"Version": "6.1.1"}})))


def host_field(name: str, value: object) -> Arrange:
    return info(lambda p: p["host"].update({name: value}))


SLIRP_LINE = '[network]\ndefault_rootless_network_cmd = "slirp4netns"'


class TestStoreAndNetwork(Family):
    """PHX-U.01, U.02, U.07, U.08: what podman info and the containers.conf files say."""

    CASES: ClassVar[list[Any]] = [
        case("PHX-U.01-pass", upgrade.test_database_not_boltdb, PASSED, f"databaseBackend sqlite ({INFO_WHERE})"),
        case(
            "PHX-U.01-fail-staged",
            upgrade.test_database_not_boltdb,
            FAILED,
            f"expected databaseBackend sqlite, got boltdb ({INFO_WHERE}); set at {DROP_IN}:3: database_backend ="
            " 'boltdb'; Podman 5.4.2 has no --migrate-db (5.8 added it): upgrade, then migrate",
            both(
                host_field("databaseBackend", "boltdb"),
                conf_file(DROP_IN, '# staged\n[engine]\ndatabase_backend = "boltdb"'),
            ),
        ),
        case(
            "PHX-U.01-fail-old-store",
            upgrade.test_database_not_boltdb,
            FAILED,
            "no containers.conf line sets it: the store predates SQLite",
            host_field("databaseBackend", "boltdb"),
        ),
        case(
            "PHX-U.01-fail-on-6",
            upgrade.test_database_not_boltdb,
            FAILED,
            f'expected a SQLite store, got podman refusing every command: "{BOLTDB_REFUSAL}"; set at {DROP_IN}:2',
            both(
                setting("podman_info", "", 125, BOLTDB_REFUSAL),
                setting("podman_version", "", 125, BOLTDB_REFUSAL),
                conf_file(DROP_IN, '[engine]\ndatabase_backend = "boltdb"'),
            ),
        ),
        *each_failure(
            "PHX-U.01",
            upgrade.test_database_not_boltdb,
            COULD_NOT_CHECK,
            f"probe section containers_conf (probe_upgrade.sh on {HOST_ID})",
            "containers_conf",
        ),
        case(
            "PHX-U.01-info-timeout",
            upgrade.test_database_not_boltdb,
            COULD_NOT_CHECK,
            f"probe section podman_info (probe_base.sh on {HOST_ID}): timed out",
            fail("podman_info", "timeout"),
        ),
        case(
            "PHX-U.02-pass",
            upgrade.test_rootless_network_not_slirp4netns,
            PASSED,
            f"rootlessNetworkCmd pasta (podman info (host.rootlessNetworkCmd) {AS_USER})",
        ),
        case(
            "PHX-U.02-fail-config-line",
            upgrade.test_rootless_network_not_slirp4netns,
            FAILED,
            f"expected no default_rootless_network_cmd = slirp4netns, got {USER_CONF}:2:"
            " default_rootless_network_cmd = 'slirp4netns'",
            conf_file(USER_CONF, SLIRP_LINE),
        ),
        case(
            "PHX-U.02-fail-info",
            upgrade.test_rootless_network_not_slirp4netns,
            FAILED,
            f"expected rootlessNetworkCmd pasta, got slirp4netns (podman info (host.rootlessNetworkCmd) {AS_USER})",
            host_field("rootlessNetworkCmd", "slirp4netns"),
        ),
        # Podman 6 reads only the first main file: a user's containers.conf hides /etc's line.
        case(
            "PHX-U.02-pass-hidden-on-6",
            upgrade.test_rootless_network_not_slirp4netns,
            PASSED,
            "rootlessNetworkCmd pasta",
            both(
                podman6(),
                conf_file("/etc/containers/containers.conf", SLIRP_LINE),
                conf_file(USER_CONF, '[containers]\nlog_driver = "journald"'),
            ),
        ),
        case(
            "PHX-U.02-fail-merged-on-5",
            upgrade.test_rootless_network_not_slirp4netns,
            FAILED,
            "got /etc/containers/containers.conf:2: default_rootless_network_cmd = 'slirp4netns'",
            both(
                conf_file("/etc/containers/containers.conf", SLIRP_LINE),
                conf_file(USER_CONF, '[containers]\nlog_driver = "journald"'),
            ),
        ),
        case(
            "PHX-U.02-timeout",
            upgrade.test_rootless_network_not_slirp4netns,
            COULD_NOT_CHECK,
            f"probe section containers_conf (probe_upgrade.sh on {HOST_ID}): timed out",
            fail("containers_conf", "timeout"),
        ),
        # Podman refusing every command: its release is unknown, the files are read in both orders.
        case(
            "PHX-U.06-pass-release-unknown",
            upgrade.test_firewall_driver_not_iptables,
            PASSED,
            "no firewall_driver line (nftables) (containers.conf files /usr/share/containers/containers.conf,"
            " /etc/containers/containers.conf.d/50-reference-host.conf, the Podman release unknown",
            both(setting("podman_info", "", 125, BOLTDB_REFUSAL), setting("podman_version", "", 125, BOLTDB_REFUSAL)),
        ),
        case(
            "PHX-U.02-orders-disagree",
            upgrade.test_rootless_network_not_slirp4netns,
            COULD_NOT_CHECK,
            "the Podman release is unknown and its two orders disagree",
            both(
                setting("podman_info", "", 125, BOLTDB_REFUSAL),
                setting("podman_version", "", 125, BOLTDB_REFUSAL),
                conf_file("/etc/containers/containers.conf", SLIRP_LINE),
                conf_file(USER_CONF, '[containers]\nlog_driver = "journald"'),
            ),
        ),
        case(
            "PHX-U.07-pass",
            upgrade.test_network_backend_not_cni,
            PASSED,
            f"networkBackend netavark (podman info (host.networkBackend) {AS_USER})",
        ),
        case(
            "PHX-U.07-fail",
            upgrade.test_network_backend_not_cni,
            FAILED,
            f"expected networkBackend netavark, got cni (podman info (host.networkBackend) {AS_USER})",
            host_field("networkBackend", "cni"),
        ),
        case(
            "PHX-U.07-refused-on-6",
            upgrade.test_network_backend_not_cni,
            COULD_NOT_CHECK,
            f'podman refuses to run: "{BOLTDB_REFUSAL}" (see PHX-U.01)',
            setting("podman_info", "", 125, BOLTDB_REFUSAL),
        ),
        *each_failure(
            "PHX-U.07",
            upgrade.test_network_backend_not_cni,
            COULD_NOT_CHECK,
            f"probe section podman_info (probe_base.sh on {HOST_ID})",
            "podman_info",
        ),
        case(
            "PHX-U.08-pass",
            upgrade.test_cgroups_v2,
            PASSED,
            f"cgroupVersion v2 (podman info (host.cgroupVersion) {AS_USER})",
        ),
        case(
            "PHX-U.08-fail",
            upgrade.test_cgroups_v2,
            FAILED,
            f"expected cgroupVersion v2, got v1 (podman info (host.cgroupVersion) {AS_USER})",
            host_field("cgroupVersion", "v1"),
        ),
        case(
            "PHX-U.08-unreadable",
            upgrade.test_cgroups_v2,
            COULD_NOT_CHECK,
            "podman info does not name the cgroup version",
            info(lambda p: p["host"].pop("cgroupVersion")),
        ),
    ]


class TestFirewallAndHelpers(Family):
    """PHX-U.06 (containers.conf in Podman's order) and U.09 (netavark, aardvark-dns)."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-U.06-pass",
            upgrade.test_firewall_driver_not_iptables,
            PASSED,
            "no firewall_driver line (nftables) (containers.conf files /usr/share/containers/containers.conf,"
            " /etc/containers/containers.conf.d/50-reference-host.conf",
        ),
        case(
            "PHX-U.06-fail",
            upgrade.test_firewall_driver_not_iptables,
            FAILED,
            f"expected no firewall_driver iptables, got {DROP_IN}:2: firewall_driver = 'iptables' (the last line read",
            conf_file(DROP_IN, '[network]\nfirewall_driver = "iptables"'),
        ),
        # The user's drop-in is read after /etc's: its value wins.
        case(
            "PHX-U.06-pass-user-wins",
            upgrade.test_firewall_driver_not_iptables,
            PASSED,
            f"firewall_driver set at {USER_CONF}.d/10-nft.conf:1: firewall_driver = 'nftables'",
            both(
                conf_file(DROP_IN, '[network]\nfirewall_driver = "iptables"'),
                conf_file(f"{USER_CONF}.d/10-nft.conf", 'network.firewall_driver = "nftables"'),
            ),
        ),
        case(
            "PHX-U.06-fail-bad-toml",
            upgrade.test_firewall_driver_not_iptables,
            FAILED,
            f"expected readable containers.conf files, got:\n  {DROP_IN}:2: not valid TOML (Invalid value):"
            " podman refuses to start with it",
            conf_file(DROP_IN, "[network]\nfirewall_driver = iptables"),
        ),
        # tomllib names no line for a key given twice: the file is named.
        case(
            "PHX-U.06-fail-twice",
            upgrade.test_firewall_driver_not_iptables,
            FAILED,
            f"{DROP_IN}: not valid TOML (Cannot overwrite a value",
            conf_file(DROP_IN, '[network]\nfirewall_driver = "nftables"\nfirewall_driver = "iptables"'),
        ),
        case(
            "PHX-U.06-huge-file",
            upgrade.test_firewall_driver_not_iptables,
            COULD_NOT_CHECK,
            f"{DROP_IN}: 999999 bytes, more than the 262144 read: not judged",
            conf_file(DROP_IN, "# " + "x" * 100, size=999_999),
        ),
        *each_failure(
            "PHX-U.06",
            upgrade.test_firewall_driver_not_iptables,
            COULD_NOT_CHECK,
            f"probe section containers_conf (probe_upgrade.sh on {HOST_ID})",
            "containers_conf",
        ),
        case(
            "PHX-U.09-pass-on-5",
            upgrade.test_network_helpers_for_podman6,
            PASSED,
            "netavark 1.14.0, aardvark-dns 1.14.0 for Podman 5.4.2; Podman 6 needs netavark 2.0.0",
        ),
        case(
            "PHX-U.09-pass-on-6",
            upgrade.test_network_helpers_for_podman6,
            PASSED,
            "netavark 2.0.0, aardvark-dns 1.17.1 for Podman 6.1.1; aardvark-dns below the 2.0.0",
            podman6(),
        ),
        case(
            "PHX-U.09-fail",
            upgrade.test_network_helpers_for_podman6,
            FAILED,
            "expected netavark >= 2.0.0 for Podman 6.1.1, got 1.14.0 (podman info (host.networkBackendInfo)",
            podman6(netavark="netavark 1.14.0"),
        ),
        case(
            "PHX-U.09-unreadable",
            upgrade.test_network_helpers_for_podman6,
            COULD_NOT_CHECK,
            "podman info does not name netavark's version",
            info(lambda p: p["host"].pop("networkBackendInfo")),
        ),
        case(
            "PHX-U.09-timeout",
            upgrade.test_network_helpers_for_podman6,
            COULD_NOT_CHECK,
            f"probe section podman_info (probe_base.sh on {HOST_ID}): timed out",
            fail("podman_info", "timeout"),
        ),
    ]


class TestStackFiles(Family):
    """PHX-U.03 (the containers), U.04 (the Quadlet units), U.05 (the compose files)."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-U.03-pass",
            upgrade.test_containers_not_on_slirp4netns,
            PASSED,
            f"6 containers, none on slirp4netns ({API_WHERE})",
        ),
        case(
            "PHX-U.03-fail",
            upgrade.test_containers_not_on_slirp4netns,
            FAILED,
            "expected no container on slirp4netns, got 1:\n  phoenix-core: HostConfig.NetworkMode slirp4netns",
            document("phoenix-core", lambda d: d["HostConfig"].update(NetworkMode="slirp4netns")),
        ),
        case(
            "PHX-U.03-api-down",
            upgrade.test_containers_not_on_slirp4netns,
            COULD_NOT_CHECK,
            "Connection refused",
            api_down(),
        ),
        case(
            "PHX-U.04-pass",
            upgrade.test_units_without_slirp4netns,
            PASSED,
            f"6 units, none with slirp4netns or --network-cmd-path ({FOLDER_WHERE})",
        ),
        case(
            "PHX-U.04-fail-network",
            upgrade.test_units_without_slirp4netns,
            FAILED,
            f"{HOME}/.config/containers/systemd/phoenix-core.container:12: Network=slirp4netns: Podman 6.0 has no"
            " slirp4netns",
            unit("phoenix-core.container", "Pod=phoenix-hydra.pod\n", "Pod=phoenix-hydra.pod\nNetwork=slirp4netns\n"),
        ),
        case(
            "PHX-U.04-fail-global-args",
            upgrade.test_units_without_slirp4netns,
            FAILED,
            "GlobalArgs= passes --network-cmd-path=/usr/bin/slirp4netns, which Podman 6.0 removed",
            unit(
                "phoenix-core.container",
                "Pod=phoenix-hydra.pod\n",
                "Pod=phoenix-hydra.pod\nGlobalArgs=--network-cmd-path=/usr/bin/slirp4netns\n",
            ),
        ),
        case(
            "PHX-U.04-timeout",
            upgrade.test_units_without_slirp4netns,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("quadlet_tar", "timeout"),
        ),
        case(
            "PHX-U.05-pass",
            upgrade.test_compose_without_slirp4netns,
            PASSED,
            f"no network_mode slirp4netns ({COMPOSE_WHERE})",
        ),
        case(
            "PHX-U.05-fail",
            upgrade.test_compose_without_slirp4netns,
            FAILED,
            "service phoenix-core: network_mode: slirp4netns:port_handler=slirp4netns",
            compose(
                "    container_name: phoenix-core\n",
                "    container_name: phoenix-core\n    network_mode: slirp4netns:port_handler=slirp4netns\n",
            ),
        ),
        case(
            "PHX-U.05-no-compose",
            upgrade.test_compose_without_slirp4netns,
            NOT_APPLICABLE,
            "no compose file to judge",
            setting("compose_file", "", 1, "cat: compose.yaml: No such file or directory"),
        ),
        case(
            "PHX-U.05-timeout",
            upgrade.test_compose_without_slirp4netns,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            fail("compose_file", "timeout"),
        ),
    ]


CAPTURED6 = Path(__file__).resolve().parent / "fakehost" / "captured" / "podman6"


def pod_refused_on_6() -> Arrange:
    """The stack after a move to 6.1.1 with default_rootless_network_cmd = "slirp4netns" left in
    the user's containers.conf: the pod unit failed, its members never started (as seen)."""

    def arrange(host: FakeHost) -> None:
        blocks = units_show().split("\n\n")
        states = {"phoenix-hydra-pod.service": "failed\nSubState=failed"}
        changed = []
        for block in blocks:
            unit = block.split("Id=", 1)[1].split("\n", 1)[0]
            state = states.get(unit, "inactive\nSubState=dead")
            changed.append(block.replace("ActiveState=active\nSubState=running", f"ActiveState={state}"))
        host.set("units_show", "\n\n".join(changed))
        host.set("units_journal", (CAPTURED6 / "units_journal").read_text(encoding="utf-8"))
        host.set("containers_conf", (CAPTURED6 / "containers_conf").read_text(encoding="utf-8"))

    return both(podman6(), arrange)


class TestRightCauseOnPodman6(Family):
    """PHX-1.03 on Podman 6: pasta only, and a surviving slirp4netns line named, never
    'install slirp4netns'."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-1.03-pass-on-6",
            phase1.test_rootless_network_helper,
            PASSED,
            f"pasta: /usr/bin/pasta (command -v pasta {AS_USER})",
            podman6(),
        ),
        case(
            "PHX-1.03-fail-config-line-on-6",
            phase1.test_rootless_network_helper,
            FAILED,
            f"expected pasta, the only rootless network of Podman 6.1.1, got {USER_CONF}:2:"
            " default_rootless_network_cmd = 'slirp4netns': remove that line",
            both(podman6(), conf_file(USER_CONF, SLIRP_LINE)),
        ),
        case(
            "PHX-1.03-fail-slirp4netns-only-on-6",
            phase1.test_rootless_network_helper,
            FAILED,
            f"expected pasta installed, got none (command -v pasta {AS_USER})",
            both(podman6(), tools(pasta="", slirp4netns="/usr/bin/slirp4netns")),
        ),
        case(
            "PHX-1.03-fail-captured-on-6",
            phase1.test_rootless_network_helper,
            FAILED,
            f"got {USER_CONF}:2: default_rootless_network_cmd = 'slirp4netns': remove that line",
            pod_refused_on_6(),
        ),
        # The pod member's own journal says "Dependency failed": the pod's error is quoted too.
        case(
            "PHX-3.05-pod-error-on-6",
            phase3.test_generated_service_active,
            FAILED,
            "ActiveState=inactive, SubState=dead, Restart=always"
            f" (systemctl --user show phoenix-core.service {AS_USER})\n"
            "  journal: phoenix-core.service: Dependency failed for phoenix-core.service - Phoenix Hydra core API"
            " (stand-in).\n"
            '  journal: phoenix-hydra-pod.service: Error: invalid default_rootless_network_cmd option "slirp4netns"',
            pod_refused_on_6(),
            generated_service="phoenix-core.service",
        ),
        case(
            "PHX-3.05-pod-error-own-on-6",
            phase3.test_generated_service_active,
            FAILED,
            'journal: phoenix-hydra-pod.service: Error: invalid default_rootless_network_cmd option "slirp4netns"',
            pod_refused_on_6(),
            generated_service="phoenix-hydra-pod.service",
        ),
        case(
            "PHX-U.02-fail-captured-on-6",
            upgrade.test_rootless_network_not_slirp4netns,
            FAILED,
            f"got {USER_CONF}:2: default_rootless_network_cmd = 'slirp4netns' (containers.conf files {USER_CONF},"
            " /etc/containers/containers.conf.d/50-reference-host.conf",
            pod_refused_on_6(),
        ),
        case(
            "PHX-U.06-fail-captured-on-6",
            upgrade.test_firewall_driver_not_iptables,
            FAILED,
            f"got {USER_CONF}:3: firewall_driver = 'iptables'",
            pod_refused_on_6(),
        ),
        case(
            "PHX-1.03-conf-timeout-on-6",
            phase1.test_rootless_network_helper,
            COULD_NOT_CHECK,
            f"probe section containers_conf (probe_upgrade.sh on {HOST_ID}): timed out",
            both(podman6(), fail("containers_conf", "timeout")),
        ),
    ]
