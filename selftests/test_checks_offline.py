"""Every check function, run in milliseconds on a host that answers from memory.

Each check is called directly with real HostFacts built on the fake runner
(selftests/fakehost/), so the real fact parsing reads what a reference host
prints; the outcome is classified as the plugin classifies it. For each check:
a pass, a fail, and each way its probe can fail (timed out: rc 124; program
missing: rc 127; empty output; the API unreachable where the check uses it).

A probe that failed (timed out, program missing, no output where output is due,
output that cannot be read) or an API that cannot be asked makes the check
"could not check", never passed and never not applicable (issue 12); the
parametrized TestEveryProbeFailure below holds that for every check of the
catalogue and every probe section it reads.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar
from unittest import mock

import pytest
from fakehost import (
    API_WHERE,
    COMPOSE_PATH,
    COULD_NOT_CHECK,
    ERROR,
    FAILED,
    FAILURES,
    GROUP_COMPOSE_PATH,
    HOST_ID,
    INFRA,
    LOKI,
    NOT_APPLICABLE,
    PASSED,
    POD,
    QUADLET_DIR,
    SKIPPED,
    SOCKET,
    TARGET_PATH,
    UNREACHABLE,
    FakeHost,
    Outcome,
    inspect_document,
    reference_api_facts,
    reference_host,
    reference_quadlet_files,
    reference_stack,
    run_check,
)

from phoenix_compliance.checks import require_group_trace
from phoenix_compliance.facts import HostFacts, probes
from phoenix_compliance.facts.groups import ProbeGroup
from phoenix_compliance.parsers.manifest import ServiceGroup
from phoenix_compliance.run.selection import GROUP_PARAMETERS
from phoenix_compliance.transport import podman_api
from phoenix_compliance.transport.runner import Section
from tests.phase1 import test_base_install as phase1
from tests.phase2 import test_compose_deployment as phase2
from tests.phase3 import test_quadlet_units as phase3
from tests.security import test_security as security

Arrange = Callable[[FakeHost], object]
AS_USER = f"as phoenix on {HOST_ID}"
COMPOSE_WHERE = f"{COMPOSE_PATH} on {HOST_ID}"
FOLDER_WHERE = f"{QUADLET_DIR} on {HOST_ID}"
FILES_WHERE = f"{COMPOSE_WHERE}; {FOLDER_WHERE}"
API_DOWN = f"ssh forward to {SOCKET} failed: Connection refused"
REFERENCE_COMPOSE = (INFRA / "compose.yaml").read_text()


@dataclass(frozen=True)
class Case:
    check: Callable[..., None]
    arrange: Arrange
    kind: str
    text: str  # a part of the evidence: what was observed on a pass, the message otherwise
    fixtures: dict[str, Any] = field(default_factory=dict)


def case(
    id: str, check: Callable[..., None], kind: str, text: str, arrange: Arrange = lambda host: None, **fixtures: Any
) -> Any:
    return pytest.param(Case(check, arrange, kind, text, fixtures), id=id)


def judge(case: Case) -> Outcome:
    """Run the case's check on the reference host as the case changed it."""
    host = reference_host()
    case.arrange(host)
    overrides = {
        k: case.fixtures[k] for k in ("compose_override", "quadlet_override", "source_dir") if k in case.fixtures
    }
    return judge_on(
        host.facts(case.fixtures.get("stack") or reference_stack(), **overrides), case.check, **case.fixtures
    )


def judge_on(facts: HostFacts, check: Callable[..., None], **fixtures: Any) -> Outcome:
    """Call a check with the facts and the plugin's fixtures (the first service, unit, endpoint)."""
    stack = facts.manifest
    defaults: dict[str, Any] = {
        "facts": facts,
        "stack": stack,
        "service": "phoenix-core",
        "stack_service": "phoenix-core",
        "optional_group": "observability",
        "published_service": "phoenix-core",
        "unit_file": "phoenix-core.container",
        "generated_service": "phoenix-core.service",
        "endpoint": stack.endpoints[0],
        "health_wait": 0.0,
        "allow_restart": False,
        "id_file": "subuid",
    }
    wanted = [name for name in inspect.signature(check).parameters if name != "observed"]
    arguments = {name: fixtures.get(name, defaults[name]) for name in wanted}
    # As the plugin's autouse fixture does: a check of an optional group's part applies only
    # where the group has a trace (judged from the files alone with a local override).
    owners = [stack.group_of(arguments[name]) for name in GROUP_PARAMETERS if name in arguments]
    group = next((owner for owner in owners if owner is not None), None)
    if group is not None:
        live = facts.compose_override is None and facts.quadlet_override is None
        return run_check(_gated(check, facts, group, live), **arguments)
    return run_check(check, **arguments)


def _gated(check: Callable[..., None], facts: HostFacts, group: ServiceGroup, live: bool) -> Callable[..., None]:
    def gated(**arguments: Any) -> None:
        require_group_trace(facts, group, live)
        check(**arguments)

    return gated


def each_failure(prefix: str, check: Callable[..., None], kind: str, text: str, section: str) -> list[Any]:
    """One case for each way the section's program can fail: ids PREFIX-timeout, -missing, -empty."""
    return [case(f"{prefix}-{how}", check, kind, text, fail(section, how)) for how in ("timeout", "missing", "empty")]


class Family:
    """A family of checks: its CASES, each run by test_check."""

    CASES: ClassVar[list[Any]] = []

    def test_check(self, case: Case) -> None:
        expect(case)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.cls is not None and issubclass(metafunc.cls, Family):
        metafunc.parametrize("case", metafunc.cls.CASES)


def expect(case: Case) -> None:
    outcome = judge(case)
    # Under pytest a multi-line assertion message comes back indented: compare the words.
    found = " ".join(case.text.split()) in " ".join(outcome.text.split())
    assert (outcome.kind, found) == (case.kind, True), f"{outcome.kind}: {outcome.text}"


# -- arranging a host ---------------------------------------------------------------


def fail(section: str, how: str) -> Arrange:
    return lambda host: host.fail(section, how)


def both(*steps: Arrange) -> Arrange:
    def arrange(host: FakeHost) -> None:
        for step in steps:
            step(host)

    return arrange


def quadlet_list(*units: tuple[str, str]) -> str:
    """`podman quadlet list --format json` of Podman 5.6+ for (file name, status) pairs."""
    return json.dumps(
        [
            {
                "Name": name,
                "UnitName": name.replace(".pod", "-pod.service").replace(".container", ".service"),
                "Path": f"{QUADLET_DIR}/{name}",
                "Status": status,
                "App": "",
            }
            for name, status in units
        ]
    )


def setting(section: str, out: str, rc: int = 0, err: str = "") -> Arrange:
    return lambda host: host.set(section, out, rc, err)


def info(change: Callable[[dict[str, Any]], object]) -> Arrange:
    """podman info with one change."""

    def arrange(host: FakeHost) -> None:
        payload = json.loads(host.sections["podman_info"].out)
        change(payload)
        host.set("podman_info", json.dumps(payload, indent=4))

    return arrange


def tools(**paths: str) -> Arrange:
    def arrange(host: FakeHost) -> None:
        lines = host.sections["tools"].out.splitlines()
        lines = [f"{line.split('=', 1)[0]}={paths.get(line.split('=', 1)[0], line.split('=', 1)[1])}" for line in lines]
        host.set("tools", "\n".join(lines))

    return arrange


def compose(old: str, new: str) -> Arrange:
    assert old in REFERENCE_COMPOSE
    return lambda host: host.compose_text(REFERENCE_COMPOSE.replace(old, new, 1))


def unit(name: str, old: str, new: str) -> Arrange:
    def change(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return lambda host: host.edit_quadlet(name, change)


def container(service: str, **fields: Any) -> Arrange:
    return lambda host: host.container(service).update(fields)


def document(service: str, change: Callable[[dict[str, Any]], object]) -> Arrange:
    return lambda host: change(host.inspected[service])


def api_down() -> Arrange:
    return lambda host: host.api_down(API_DOWN)


def no_containers() -> Arrange:
    def arrange(host: FakeHost) -> None:
        host.containers.clear()
        host.inspected.clear()

    return arrange


def api_facts(**fields: Any) -> Arrange:
    def arrange(host: FakeHost) -> None:
        values = reference_api_facts().__dict__ | fields
        host.api_facts = podman_api.ApiFacts(**values)

    return arrange


def mount_program(executable: str) -> Callable[[dict[str, Any]], object]:
    return lambda p: p["store"]["graphOptions"].update(
        {
            "overlay.mount_program": {
                "Executable": executable,
                "Package": "fuse-overlayfs_1.14-1_amd64",
                "Version": "fuse-overlayfs: version 1.14\nFUSE library version 3.17.2",
            }
        }
    )


def podman_version(version: str) -> str:
    return json.dumps({"Client": {"APIVersion": version, "Version": version, "OsArch": "linux/amd64", "Os": "linux"}})


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
            f"rootless=true {WHERE_INFO} and host.security.rootless=true ({API_WHERE})",
        ),
        case(
            "PHX-1.07-fail",
            phase1.test_rootless,
            FAILED,
            f"expected rootless=true, got false {WHERE_INFO}",
            info(lambda p: p["host"]["security"].update(rootless=False)),
        ),
        case(
            "PHX-1.07-fail-api",
            phase1.test_rootless,
            FAILED,
            f"expected rootless=true from the API too, got false ({API_WHERE})",
            api_facts(info={"host": {"security": {"rootless": False}}}),
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
        # The API is unreachable and the check judges podman info alone, on purpose: the
        # API's own answer only corroborates it, and reaching the API is PHX-1.09's subject.
        case(
            "PHX-1.07-api-unreachable",
            phase1.test_rootless,
            PASSED,
            f"rootless=true {WHERE_INFO}; API not asked: {API_DOWN}",
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


# -- Phase 2 -----------------------------------------------------------------------


class TestComposeFile(Family):
    """PHX-2.01 to 2.03: the compose file and podman-compose."""

    CASES: ClassVar[list[Any]] = [
        case("PHX-2.01-pass", phase2.test_compose_file_valid, PASSED, f"5 services, no problems ({COMPOSE_WHERE})"),
        case(
            "PHX-2.01-pass-local",
            phase2.test_compose_file_valid,
            PASSED,
            f"5 services, no problems (local file {INFRA / 'compose.yaml'})",
            compose_override=INFRA / "compose.yaml",
        ),
        case(
            "PHX-2.01-fail",
            phase2.test_compose_file_valid,
            FAILED,
            f"expected a valid compose file, got 1 problem(s) ({COMPOSE_WHERE}):\n"
            f"  {HOST_ID}:{COMPOSE_PATH}:13: service phoenix-core: neither 'image' nor 'build'",
            compose("    image: localhost/phoenix-standin:1.0\n", ""),
        ),
        case(
            "PHX-2.01-fail-required-variable",
            phase2.test_compose_file_valid,
            FAILED,
            f"  {HOST_ID}:{COMPOSE_PATH}:17: required variable X_PORT is unset: set X_PORT (podman-compose stops here)",
            compose('ports: ["8080:8080"]', 'ports: ["${X_PORT:?set X_PORT}:8080"]'),
        ),
        case(
            "PHX-2.01-pass-unset-variable-warns",
            phase2.test_compose_file_valid,
            PASSED,
            f"warning: {HOST_ID}:{COMPOSE_PATH}:17: variable X_PORT is not set: substituted an empty string",
            compose('ports: ["8080:8080"]', 'ports: ["${X_PORT}8080:8080"]'),
        ),
        case(
            "PHX-2.01-fail-missing-network",
            phase2.test_compose_file_valid,
            FAILED,
            "network 'front' is not declared under the top-level 'networks' (podman-compose refuses the file",
            compose('ports: ["8080:8080"]', 'ports: ["8080:8080"]\n    networks: [front]'),
        ),
        case(
            "PHX-2.01-timeout",
            phase2.test_compose_file_valid,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            fail("compose_file", "timeout"),
        ),
        case(
            "PHX-2.01-missing",
            phase2.test_compose_file_valid,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): command not found",
            fail("compose_file", "missing"),
        ),
        case(
            "PHX-2.01-empty",
            phase2.test_compose_file_valid,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): exit 0 but no output",
            fail("compose_file", "empty"),
        ),
        case(
            "PHX-2.02-pass",
            phase2.test_compose_declares_services,
            PASSED,
            f"declares phoenix-core, nca-toolkit, n8n-phoenix, windmill-phoenix, revenue-db ({COMPOSE_WHERE})",
        ),
        case(
            "PHX-2.02-fail",
            phase2.test_compose_declares_services,
            FAILED,
            "expected services phoenix-core, nca-toolkit, n8n-phoenix, windmill-phoenix, revenue-db, got revenue-db"
            " missing (declared: n8n-phoenix, nca-toolkit, phoenix-core, revenue-db-old, windmill-phoenix;"
            f" {COMPOSE_WHERE})",
            compose(
                "  # Revenue database (stand-in)\n  revenue-db:", "  # Revenue database (stand-in)\n  revenue-db-old:"
            ),
        ),
        *each_failure(
            "PHX-2.02",
            phase2.test_compose_declares_services,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID})",
            "compose_file",
        ),
        case(
            "PHX-2.03-pass",
            phase2.test_podman_compose_runs,
            PASSED,
            f"podman-compose version 1.3.0 (podman-compose version {AS_USER})",
        ),
        case(
            "PHX-2.03-fail",
            phase2.test_podman_compose_runs,
            FAILED,
            "expected podman-compose version to succeed, got exit 1: ModuleNotFoundError: No module named 'dotenv'",
            setting(
                "compose_version",
                "",
                1,
                'Traceback (most recent call last):\n  File "/usr/bin/podman-compose", line 33, in <module>\n'
                "ModuleNotFoundError: No module named 'dotenv'",
            ),
        ),
        case(
            "PHX-2.03-timeout",
            phase2.test_podman_compose_runs,
            COULD_NOT_CHECK,
            f"probe section compose_version (probe_stack.sh on {HOST_ID}): timed out",
            fail("compose_version", "timeout"),
        ),
        case(
            "PHX-2.03-missing",
            phase2.test_podman_compose_runs,
            FAILED,
            "expected podman-compose version to succeed, got command not found",
            fail("compose_version", "missing"),
        ),
        case(
            "PHX-2.03-empty",
            phase2.test_podman_compose_runs,
            COULD_NOT_CHECK,
            f"probe section compose_version (probe_stack.sh on {HOST_ID}): exit 0 but no output",
            fail("compose_version", "empty"),
        ),
    ]


class TestStackContainers(Family):
    """PHX-2.04 to 2.07: the containers as the API lists and inspects them."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-2.04-pass",
            phase2.test_container_running,
            PASSED,
            f"phoenix-core running, image localhost/phoenix-standin:1.0 ({API_WHERE})",
        ),
        case(
            "PHX-2.04-pass-compose-label",
            phase2.test_container_running,
            PASSED,
            f"phoenix-hydra_phoenix-core_1 running, image localhost/phoenix-standin:1.0 ({API_WHERE})",
            container(
                "phoenix-core",
                Names=["phoenix-hydra_phoenix-core_1"],
                Labels={"io.podman.compose.project": "phoenix-hydra", "io.podman.compose.service": "phoenix-core"},
            ),
        ),
        case(
            "PHX-2.04-fail",
            phase2.test_container_running,
            FAILED,
            f"expected phoenix-core running, got exited (no status; {API_WHERE})",
            container("phoenix-core", State="exited", Status=""),
        ),
        case(
            "PHX-2.04-fail-absent",
            phase2.test_container_running,
            FAILED,
            "expected a container for service phoenix-core, got none (containers: n8n-phoenix, nca-toolkit,"
            f" phoenix-hydra-infra, revenue-db, windmill-phoenix; {API_WHERE})",
            lambda host: host.containers.remove(host.container("phoenix-core")),
        ),
        case(
            "PHX-2.04-api-unreachable",
            phase2.test_container_running,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
        case(
            "PHX-2.05-pass",
            phase2.test_container_healthy,
            PASSED,
            f"phoenix-core healthy; last check exit 0:  ({API_WHERE})",
        ),
        case(
            "PHX-2.05-fail",
            phase2.test_container_healthy,
            FAILED,
            "expected phoenix-core healthy, got unhealthy; last check exit 1: wget: can't connect to remote host:"
            f" Connection refused ({API_WHERE})",
            lambda host: host.inspected.update({"phoenix-core": _unhealthy()}),
        ),
        case(
            "PHX-2.05-fail-starting",
            phase2.test_container_healthy,
            FAILED,
            "expected phoenix-core healthy, got starting, still starting after 0s",
            document("phoenix-core", lambda d: d["State"]["Health"].update(Status="starting", Log=[])),
        ),
        case(
            "PHX-2.05-fail-no-healthcheck",
            phase2.test_container_healthy,
            FAILED,
            f"expected a healthcheck on phoenix-core (the manifest asks for one), got none ({API_WHERE})",
            document("phoenix-core", lambda d: (d["State"].pop("Health"), d["Config"].pop("Healthcheck"))),
        ),
        # A container gone between the list and the inspect reads as one without a healthcheck.
        case(
            "PHX-2.05-fail-inspect-404",
            phase2.test_container_healthy,
            FAILED,
            "expected a healthcheck on phoenix-core (the manifest asks for one), got none",
            lambda host: host.inspected.pop("phoenix-core"),
        ),
        case(
            "PHX-2.05-api-unreachable",
            phase2.test_container_healthy,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
        case(
            "PHX-2.06-pass-pod",
            phase2.test_container_grouped,
            PASSED,
            f"phoenix-core: pod phoenix-hydra, compose project none ({API_WHERE})",
        ),
        case(
            "PHX-2.06-pass-project",
            phase2.test_container_grouped,
            PASSED,
            f"phoenix-core: pod none, compose project phoenix-hydra ({API_WHERE})",
            container("phoenix-core", PodName="", Labels={"io.podman.compose.project": "phoenix-hydra"}),
        ),
        case(
            "PHX-2.06-fail",
            phase2.test_container_grouped,
            FAILED,
            "expected pod phoenix-hydra or pod_phoenix-hydra or compose project phoenix-hydra for phoenix-core,"
            f" got pod none, compose project none ({API_WHERE})",
            container("phoenix-core", PodName="", Labels={}),
        ),
        case(
            "PHX-2.06-api-unreachable",
            phase2.test_container_grouped,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
        case(
            "PHX-2.07-pass",
            phase2.test_published_ports,
            PASSED,
            "phoenix-core publishes 5432:5432/tcp, 5678:5678/tcp, 8000:8000/tcp, 8080:8080/tcp, 8081:8081/tcp",
        ),
        case(
            "PHX-2.07-pass-range",
            phase2.test_published_ports,
            PASSED,
            f"phoenix-core publishes 8079:8079/tcp, 8080:8080/tcp, 8081:8081/tcp ({API_WHERE})",
            container(
                "phoenix-core",
                Ports=[{"host_ip": "", "container_port": 8079, "host_port": 8079, "range": 3, "protocol": "tcp"}],
            ),
        ),
        case(
            "PHX-2.07-fail",
            phase2.test_published_ports,
            FAILED,
            f"expected phoenix-core to publish 8080:8080/tcp, got 5432:5432/tcp ({API_WHERE})",
            container(
                "phoenix-core",
                Ports=[{"host_ip": "", "container_port": 5432, "host_port": 5432, "range": 1, "protocol": "tcp"}],
            ),
        ),
        case(
            "PHX-2.07-fail-none",
            phase2.test_published_ports,
            FAILED,
            f"expected phoenix-core to publish 8080:8080/tcp, got none ({API_WHERE})",
            container("phoenix-core", Ports=None),
        ),
        case(
            "PHX-2.07-api-unreachable",
            phase2.test_published_ports,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
    ]


def _unhealthy() -> dict[str, Any]:
    return inspect_document("phoenix-core", health="unhealthy")


URL = "http://localhost:8080"
FROM_HOST = f"{URL} of service phoenix-core, asked on {HOST_ID} itself"


class TestEndpoints(Family):
    """PHX-2.08: the endpoints, asked from the host when the suite cannot reach them."""

    CASES: ClassVar[list[Any]] = [
        case("PHX-2.08-pass", phase2.test_endpoint_answers, PASSED, f"HTTP 200 ({FROM_HOST})"),
        case(
            "PHX-2.08-pass-ipv4",
            phase2.test_endpoint_answers,
            PASSED,
            f"HTTP 200 ({FROM_HOST} via http://127.0.0.1:8080 (localhost did not answer))",
            lambda host: host.answer(URL, "200 via http://127.0.0.1:8080 (localhost did not answer)"),
        ),
        case(
            "PHX-2.08-fail",
            phase2.test_endpoint_answers,
            FAILED,
            f"expected an HTTP status below 400, got HTTP 503 ({FROM_HOST})",
            lambda host: host.answer(URL, "503"),
        ),
        case(
            "PHX-2.08-fail-silent",
            phase2.test_endpoint_answers,
            FAILED,
            f"expected an HTTP status below 400, got no answer: exit 1: no answer from {URL} after 3 tries"
            f" ({FROM_HOST})",
            lambda host: host.answer(URL, "", 1, f"no answer from {URL} after 3 tries"),
        ),
        case(
            "PHX-2.08-timeout",
            phase2.test_endpoint_answers,
            COULD_NOT_CHECK,
            f"probe section http_0 (probe_http.sh on {HOST_ID}): timed out",
            lambda host: host.http_fail(URL, "timeout"),
        ),
        case(
            "PHX-2.08-missing",
            phase2.test_endpoint_answers,
            COULD_NOT_CHECK,
            f"probe section http_0 (probe_http.sh on {HOST_ID}): command not found",
            lambda host: host.http_fail(URL, "missing"),
        ),
        case(
            "PHX-2.08-empty",
            phase2.test_endpoint_answers,
            COULD_NOT_CHECK,
            f"probe section http_0 (probe_http.sh on {HOST_ID}): exit 0 but no output",
            lambda host: host.http_fail(URL, "empty"),
        ),
    ]


# -- Phase 3 -----------------------------------------------------------------------

CORE_UNIT = f"{QUADLET_DIR}/phoenix-core.container"


class TestQuadletFiles(Family):
    """PHX-3.01, 3.02 and 3.07: the Quadlet files, their lint and their parity with compose."""

    CASES: ClassVar[list[Any]] = [
        case("PHX-3.01-pass", phase3.test_unit_file_present, PASSED, f"present ({FOLDER_WHERE})"),
        case(
            "PHX-3.01-pass-target",
            phase3.test_unit_file_present,
            PASSED,
            f"present ({TARGET_PATH} on {HOST_ID})",
            unit_file="phoenix.target",
        ),
        case(
            "PHX-3.01-pass-local",
            phase3.test_unit_file_present,
            PASSED,
            f"present (local folder {INFRA / 'systemd'})",
            quadlet_override=INFRA / "systemd",
        ),
        case(
            "PHX-3.01-fail",
            phase3.test_unit_file_present,
            FAILED,
            "expected phoenix-core.container, got n8n-phoenix.container, nca-toolkit.container, phoenix-hydra.pod,"
            f" revenue-db.container, windmill-phoenix.container ({FOLDER_WHERE})",
            lambda host: host.quadlet_files(
                {k: v for k, v in reference_quadlet_files().items() if k != "phoenix-core.container"}
            ),
        ),
        case(
            "PHX-3.01-fail-target",
            phase3.test_unit_file_present,
            FAILED,
            f"expected phoenix.target, got none ({TARGET_PATH} on {HOST_ID})",
            setting("target_file", "", 1, f"cat: {TARGET_PATH}: No such file or directory"),
            unit_file="phoenix.target",
        ),
        case(
            "PHX-3.01-fail-folder",
            phase3.test_unit_file_present,
            FAILED,
            f"expected the Quadlet folder, got exit 3: no such directory ({FOLDER_WHERE})",
            setting("quadlet_tar", "", 3, "no such directory"),
        ),
        case(
            "PHX-3.01-timeout",
            phase3.test_unit_file_present,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("quadlet_tar", "timeout"),
        ),
        case(
            "PHX-3.01-missing",
            phase3.test_unit_file_present,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): command not found",
            fail("quadlet_tar", "missing"),
        ),
        case(
            "PHX-3.01-empty",
            phase3.test_unit_file_present,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): exit 0 but no output",
            fail("quadlet_tar", "empty"),
        ),
        case("PHX-3.02-pass", phase3.test_unit_file_lint, PASSED, f"no lint error for Podman 5.4.2 ({CORE_UNIT})"),
        case(
            "PHX-3.02-fail",
            phase3.test_unit_file_lint,
            FAILED,
            f"expected no lint error for Podman 5.4.2, got 1:\n  {CORE_UNIT}:15: QL013 error: HealthIntervl= is not a"
            " [Container] key in any Podman release",
            unit("phoenix-core.container", "HealthInterval=", "HealthIntervl="),
        ),
        case(
            # Accepted by the generator, refused by podman when the stack starts: an error here.
            "PHX-3.02-fail-publish-in-pod",
            phase3.test_unit_file_lint,
            FAILED,
            f"{CORE_UNIT}:12: QL032 error: this container joins phoenix-hydra.pod",
            unit("phoenix-core.container", "Exec=", "PublishPort=8081:8080\nExec="),
        ),
        case(
            # A warning is shown beside the errors and when there is none, as a finding that does not block.
            "PHX-3.02-pass-with-warnings",
            phase3.test_unit_file_lint,
            PASSED,
            f"no lint error for Podman 5.4.2 ({CORE_UNIT})\n"
            f"  not blocking: {CORE_UNIT}:12: QL041 warning: Volume=./x:/x",
            unit("phoenix-core.container", "Exec=", "Volume=./x:/x:Z\nExec="),
        ),
        case(
            # The folder is linted as the generator reads it: a drop-in's key is the unit's (issue 24).
            "PHX-3.02-fail-dropin",
            phase3.test_unit_file_lint,
            FAILED,
            f"{CORE_UNIT}.d/10-x.conf:2: QL013 error: HealthIntervl= is not a [Container] key in any Podman release",
            lambda host: host.quadlet_files(
                {**reference_quadlet_files(), "phoenix-core.container.d/10-x.conf": "[Container]\nHealthIntervl=5s\n"}
            ),
        ),
        case(
            "PHX-3.02-version-timeout",
            phase3.test_unit_file_lint,
            COULD_NOT_CHECK,
            f"probe section podman_version (probe_base.sh on {HOST_ID}): timed out",
            fail("podman_version", "timeout"),
        ),
        *(
            case(
                f"PHX-3.02-{how}",
                phase3.test_unit_file_lint,
                COULD_NOT_CHECK,
                f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}):",
                fail("quadlet_tar", how),
            )
            for how in ("timeout", "missing")
        ),
        case(
            "PHX-3.07-pass",
            phase3.test_compose_quadlet_parity,
            PASSED,
            f"image, ports, volumes and environment agree ({COMPOSE_WHERE} and {CORE_UNIT})",
        ),
        case(
            # The unit as the generator reads it: a drop-in's Image= is the unit's (issue 24).
            "PHX-3.07-fail-dropin",
            phase3.test_compose_quadlet_parity,
            FAILED,
            "image: compose localhost/phoenix-standin:1.0 vs quadlet localhost/phoenix-standin:2.0",
            lambda host: host.quadlet_files(
                {
                    **reference_quadlet_files(),
                    "phoenix-core.container.d/10-tag.conf": "[Container]\nImage=localhost/phoenix-standin:2.0\n",
                }
            ),
        ),
        case(
            "PHX-3.07-pass-environment",
            phase3.test_compose_quadlet_parity,
            PASSED,
            "image, ports, volumes and environment agree",
            both(
                compose("    restart: always\n", '    restart: always\n    environment: {TZ: UTC, LANG: "C.UTF-8"}\n'),
                unit("phoenix-core.container", "Exec=", 'Environment=TZ=UTC "LANG=C.UTF-8"\nExec='),
            ),
        ),
        case(
            # The converter's way: a secret variable passed as a Podman secret, a Docker Hub short name qualified.
            "PHX-3.07-pass-secret-and-short-image",
            phase3.test_compose_quadlet_parity,
            PASSED,
            "image, ports, volumes and environment agree",
            both(
                compose(
                    "    image: localhost/phoenix-standin:1.0\n",
                    "    image: busybox:1.36\n    environment: {DB_PASSWORD: x}\n",
                ),
                unit(
                    "phoenix-core.container",
                    "Image=localhost/phoenix-standin:1.0",
                    "Image=docker.io/library/busybox:1.36\nSecret=phoenix-db,type=env,target=DB_PASSWORD",
                ),
            ),
        ),
        case(
            "PHX-3.07-fail",
            phase3.test_compose_quadlet_parity,
            FAILED,
            "expected the same declarations, got differences:\n"
            "  image: compose localhost/phoenix-standin:1.1 vs quadlet localhost/phoenix-standin:1.0\n"
            "  volumes: compose /www:no label vs quadlet /www:Z\n"
            f"  ({COMPOSE_WHERE} and {CORE_UNIT})",
            compose(
                "    image: localhost/phoenix-standin:1.0\n    command: httpd -f -p 8080 -h /www\n"
                '    ports: ["8080:8080"]\n'
                '    volumes: ["../../data/phoenix-core:/www:Z"]',
                "    image: localhost/phoenix-standin:1.1\n    command: httpd -f -p 8080 -h /www\n"
                '    ports: ["8080:8080"]\n'
                '    volumes: ["../../data/phoenix-core:/www"]',
            ),
        ),
        case(
            "PHX-3.07-fail-environment",
            phase3.test_compose_quadlet_parity,
            FAILED,
            "  environment: compose none vs quadlet LANG, TZ\n",
            unit("phoenix-core.container", "Exec=", 'Environment=TZ=UTC "LANG=C.UTF-8"\nExec='),
        ),
        case(
            "PHX-3.07-compose-timeout",
            phase3.test_compose_quadlet_parity,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            fail("compose_file", "timeout"),
        ),
        case(
            "PHX-3.07-quadlet-timeout",
            phase3.test_compose_quadlet_parity,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("quadlet_tar", "timeout"),
        ),
    ]


DRYRUN = f"(/usr/libexec/podman/quadlet -dryrun -user {AS_USER})"


class TestUserSystemd(Family):
    """PHX-3.03 to 3.06 and 3.08: the generator, the target, the services and a restart."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-3.03-pass",
            phase3.test_generator_dry_run,
            PASSED,
            "generated phoenix-core.service, nca-toolkit.service, n8n-phoenix.service, windmill-phoenix.service,"
            f" revenue-db.service, phoenix-hydra-pod.service {DRYRUN}",
        ),
        case(
            "PHX-3.03-fail",
            phase3.test_generator_dry_run,
            FAILED,
            'expected a clean dry run, got exit 1: quadlet-generator[412]: converting "phoenix-core.container":'
            f" unsupported key 'Imag' in group 'Container' in {CORE_UNIT} {DRYRUN}",
            setting(
                "generator_dryrun",
                "",
                1,
                f"quadlet-generator[412]: Loading source unit file {CORE_UNIT}\n"
                'quadlet-generator[412]: converting "phoenix-core.container":'
                f" unsupported key 'Imag' in group 'Container' in {CORE_UNIT}",
            ),
        ),
        case(
            "PHX-3.03-pass-quadlet-list",
            phase3.test_generator_dry_run,
            PASSED,
            "generated phoenix-core.service, nca-toolkit.service, n8n-phoenix.service, windmill-phoenix.service,"
            f" revenue-db.service, phoenix-hydra-pod.service; podman quadlet list: 2 loaded {DRYRUN}",
            setting(
                "quadlet_list",
                quadlet_list(("phoenix-core.container", "active/running"), ("phoenix-hydra.pod", "active/running")),
            ),
        ),
        case(
            "PHX-3.03-fail-not-loaded",
            phase3.test_generator_dry_run,
            FAILED,
            'expected a clean dry run, got exit 1: quadlet-generator[412]: converting "phoenix-core.container":'
            f" unsupported key 'Imag' in group 'Container' in {CORE_UNIT} {DRYRUN}\n"
            "  not loaded (podman quadlet list): phoenix-core.container: unsupported key 'Imag' in group 'Container'"
            f" in {CORE_UNIT}",
            both(
                setting(
                    "generator_dryrun",
                    "",
                    1,
                    f"quadlet-generator[412]: Loading source unit file {CORE_UNIT}\n"
                    'quadlet-generator[412]: converting "phoenix-core.container":'
                    f" unsupported key 'Imag' in group 'Container' in {CORE_UNIT}",
                ),
                setting("quadlet_list", quadlet_list(("phoenix-core.container", "Not loaded"))),
            ),
        ),
        case(
            # A Podman that has `podman quadlet list` (5.6+) and did not answer: the units
            # systemd dropped cannot be seen.
            "PHX-3.03-quadlet-list-timeout",
            phase3.test_generator_dry_run,
            COULD_NOT_CHECK,
            f"probe section quadlet_list (probe_quadlet.sh on {HOST_ID}): timed out",
            setting("quadlet_list", "", 124),
        ),
        case(
            "PHX-3.03-quadlet-list-unreadable",
            phase3.test_generator_dry_run,
            COULD_NOT_CHECK,
            "probe section quadlet_list: unreadable as podman quadlet list's JSON",
            setting("quadlet_list", "not json"),
        ),
        case(
            "PHX-3.03-fail-not-reloaded",
            phase3.test_generator_dry_run,
            FAILED,
            "expected every Quadlet unit loaded, got:\n  not loaded (podman quadlet list): phoenix-core.container:"
            " accepted by the generator now, not loaded since: systemctl --user daemon-reload",
            setting("quadlet_list", quadlet_list(("phoenix-core.container", "Not loaded"))),
        ),
        case(
            "PHX-3.03-fail-no-generator",
            phase3.test_generator_dry_run,
            FAILED,
            "expected the Quadlet generator, got none installed",
            both(setting("generator_path", "none"), lambda host: host.drop("generator_dryrun")),
        ),
        case(
            "PHX-3.03-timeout",
            phase3.test_generator_dry_run,
            COULD_NOT_CHECK,
            f"probe section generator_dryrun (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("generator_dryrun", "timeout"),
        ),
        case(
            "PHX-3.03-missing",
            phase3.test_generator_dry_run,
            COULD_NOT_CHECK,
            f"probe section generator_dryrun (probe_quadlet.sh on {HOST_ID}): command not found",
            fail("generator_dryrun", "missing"),
        ),
        case(
            # One file the generator cannot parse: it loads no file of that folder and names none.
            "PHX-3.03-fail-folder-dropped",
            phase3.test_generator_dry_run,
            FAILED,
            f"\n  not generated, since the generator cannot parse {QUADLET_DIR}/notes.container and then loads no"
            f" file of {QUADLET_DIR}: n8n-phoenix.container, nca-toolkit.container, phoenix-core.container,"
            " phoenix-hydra.pod",
            both(
                setting(
                    "generator_dryrun",
                    "",
                    1,
                    f'quadlet-generator[412]: error loading "{QUADLET_DIR}/notes.container", file contains line 1:'
                    " “---” which is not a key-value pair, group, or comment",
                ),
                lambda host: host.quadlet_files({**reference_quadlet_files(), "notes.container": "---\n"}),
            ),
        ),
        case(
            "PHX-3.03-fail-nothing-generated",
            phase3.test_generator_dry_run,
            FAILED,
            "expected the user's units generated, got none: quadlet-generator[999]: No files parsed from",
            setting(
                "generator_dryrun",
                "",
                0,
                f"quadlet-generator[999]: No files parsed from [/run/user/1000/containers/systemd {QUADLET_DIR}]",
            ),
        ),
        case(
            "PHX-3.03-empty",
            phase3.test_generator_dry_run,
            COULD_NOT_CHECK,
            f"probe section generator_dryrun (probe_quadlet.sh on {HOST_ID}): exit 0 but no output",
            fail("generator_dryrun", "empty"),
        ),
        case(
            "PHX-3.04-pass",
            phase3.test_target_enabled_active,
            PASSED,
            f"enabled=enabled, active=active (systemctl --user is-enabled/is-active phoenix.target {AS_USER})",
        ),
        case(
            "PHX-3.04-fail",
            phase3.test_target_enabled_active,
            FAILED,
            "expected enabled=enabled, active=active, got enabled=disabled, active=inactive",
            both(setting("target_enabled", "disabled", 1), setting("target_active", "inactive", 3)),
        ),
        case(
            "PHX-3.04-fail-indirect",
            phase3.test_target_enabled_active,
            FAILED,
            "expected enabled=enabled, active=active, got enabled=indirect, active=active",
            setting("target_enabled", "indirect"),
        ),
        case(
            "PHX-3.04-timeout",
            phase3.test_target_enabled_active,
            COULD_NOT_CHECK,
            f"probe section target_enabled (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("target_enabled", "timeout"),
        ),
        case(
            "PHX-3.04-missing",
            phase3.test_target_enabled_active,
            COULD_NOT_CHECK,
            f"probe section target_enabled (probe_quadlet.sh on {HOST_ID}): command not found",
            fail("target_enabled", "missing"),
        ),
        case(
            "PHX-3.04-empty",
            phase3.test_target_enabled_active,
            COULD_NOT_CHECK,
            f"probe section target_active (probe_quadlet.sh on {HOST_ID}): exit 0 but no output",
            fail("target_active", "empty"),
        ),
        case(
            "PHX-3.05-pass",
            phase3.test_generated_service_active,
            PASSED,
            "LoadState=loaded, ActiveState=active, SubState=running, Restart=always"
            f" (systemctl --user show phoenix-core.service {AS_USER})",
        ),
        case(
            "PHX-3.05-fail",
            phase3.test_generated_service_active,
            FAILED,
            "expected LoadState=loaded, ActiveState=active, got LoadState=loaded, ActiveState=failed, SubState=failed,"
            " Restart=always",
            lambda host: host.set(
                "units_show",
                host.sections["units_show"].out.replace(
                    "Id=phoenix-core.service\nLoadState=loaded\nActiveState=active\nSubState=running",
                    "Id=phoenix-core.service\nLoadState=loaded\nActiveState=failed\nSubState=failed",
                ),
            ),
        ),
        case(
            "PHX-3.05-fail-no-restart",
            phase3.test_generated_service_active,
            FAILED,
            "expected a Restart= policy, got LoadState=loaded, ActiveState=active, SubState=running, Restart=no",
            lambda host: host.set(
                "units_show", host.sections["units_show"].out.replace("Restart=always", "Restart=no", 1)
            ),
        ),
        *each_failure(
            "PHX-3.05",
            phase3.test_generated_service_active,
            COULD_NOT_CHECK,
            f"probe section units_show (probe_quadlet.sh on {HOST_ID})",
            "units_show",
        ),
        case(
            "PHX-3.06-pass",
            phase3.test_container_managed_by_systemd,
            PASSED,
            f"phoenix-core: PODMAN_SYSTEMD_UNIT=phoenix-core.service ({API_WHERE})",
        ),
        case(
            "PHX-3.06-fail-compose",
            phase3.test_container_managed_by_systemd,
            FAILED,
            "expected phoenix-core to carry PODMAN_SYSTEMD_UNIT=phoenix-core.service,"
            f" got PODMAN_SYSTEMD_UNIT=podman-compose@phoenix-hydra.service ({API_WHERE})",
            container("phoenix-core", Labels={"PODMAN_SYSTEMD_UNIT": "podman-compose@phoenix-hydra.service"}),
        ),
        case(
            "PHX-3.06-fail-by-hand",
            phase3.test_container_managed_by_systemd,
            FAILED,
            "got no PODMAN_SYSTEMD_UNIT label (started by hand?)",
            container("phoenix-core", Labels={}),
        ),
        case(
            "PHX-3.06-api-unreachable",
            phase3.test_container_managed_by_systemd,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
        case(
            "PHX-3.08-not-allowed",
            phase3.test_restart_recovers,
            SKIPPED,
            "disruptive: pass --allow-restart to restart the target and time the endpoints",
        ),
        case(
            "PHX-3.08-pass",
            phase3.test_restart_recovers,
            PASSED,
            f"s after the restart (systemctl --user restart phoenix.target {AS_USER})",
            allow_restart=True,
            health_wait=5.0,
        ),
        case(
            "PHX-3.08-fail",
            phase3.test_restart_recovers,
            FAILED,
            "expected the restart to succeed, got exit 1: Job for phoenix.target failed.",
            setting("restart", "", 1, "Job for phoenix.target failed."),
            allow_restart=True,
        ),
        case(
            "PHX-3.08-fail-silent",
            phase3.test_restart_recovers,
            FAILED,
            "expected every endpoint back within 0s, got http://localhost:8080, http://localhost:5678,"
            " http://localhost:8000, http://localhost:8081 still silent",
            allow_restart=True,
            health_wait=0.0,
        ),
        case(
            "PHX-3.08-timeout",
            phase3.test_restart_recovers,
            COULD_NOT_CHECK,
            f"probe section restart (act_restart.sh on {HOST_ID}): timed out",
            fail("restart", "timeout"),
            allow_restart=True,
        ),
        case(
            "PHX-3.08-missing",
            phase3.test_restart_recovers,
            COULD_NOT_CHECK,
            f"probe section restart (act_restart.sh on {HOST_ID}): command not found",
            fail("restart", "missing"),
            allow_restart=True,
        ),
    ]


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


# -- GitOps: the host runs what the repository says ---------------------------------------

CORE = "phoenix-core.container"
NEW_IMAGE = "localhost/phoenix-standin:2.0"
IMAGE_CHANGED = f"{CORE} differs:\n      [Container] Image: repository localhost/phoenix-standin:1.0, host {NEW_IMAGE}"
REPOSITORY_WHERE = f"{FOLDER_WHERE} against local folder {INFRA / 'systemd'}"


def gitops_stack(**changes: Any) -> Any:
    """The reference stack asking for a registry or automatic updates."""
    return replace(reference_stack(), **changes)


def host_units(change: Callable[[dict[str, str]], object]) -> Arrange:
    """The host's Quadlet folder (units and drop-ins by path) with one change."""

    def arrange(host: FakeHost) -> None:
        files = reference_quadlet_files()
        change(files)
        host.quadlet_files(files)

    return arrange


def restyled(text: str) -> str:
    """The same unit as the generator reads it: more comments, blank lines, blanks around
    keys and values, one value continued over two lines."""
    text = text.replace("[Container]\n", "[Container]\n# restyled on the host\n\n")
    text = text.replace("Image=", "  Image =  ")
    return text.replace("Exec=httpd -f -p 8080", "Exec=httpd -f \\\n-p 8080")


def show_units(change: Callable[[str], str]) -> Arrange:
    return setting("units_show", change(reference_host().sections["units_show"].out))


def unit_reload_pending(text: str) -> str:
    return text.replace(
        f"SourcePath={QUADLET_DIR}/{CORE}\nNeedDaemonReload=no",
        f"SourcePath={QUADLET_DIR}/{CORE}\nNeedDaemonReload=yes",
    )


class TestGitOps(Family):
    """PHX-3.09 to 3.12, S.20 and S.21: the repository's units, reloads, registry, updates."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-3.09-pass",
            phase3.test_units_match_repository,
            PASSED,
            f"7 units the same ({REPOSITORY_WHERE})",
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-pass-normalised",
            phase3.test_units_match_repository,
            PASSED,
            "7 units the same",
            host_units(
                lambda f: f.update(
                    {
                        CORE: restyled(f[CORE]),
                        f"{CORE}.d/10-same.conf": "[Container]\nImage=localhost/phoenix-standin:1.0\n",
                    }
                )
            ),
            source_dir=INFRA,
        ),
        case(
            # Of two files of one name the generator loads the first it finds (the folder's own
            # before its subfolders'), as the lint says (QL039): the drift checks compare that one.
            "PHX-3.09-pass-first-of-a-name",
            phase3.test_units_match_repository,
            PASSED,
            "7 units the same",
            host_units(lambda f: f.update({f"old/{CORE}": f[CORE].replace("standin:1.0", "standin:0.9")})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-image",
            phase3.test_units_match_repository,
            FAILED,
            IMAGE_CHANGED,
            host_units(lambda f: f.update({CORE: f[CORE].replace("standin:1.0", "standin:2.0")})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-dropin",
            phase3.test_units_match_repository,
            FAILED,
            IMAGE_CHANGED,
            host_units(lambda f: f.update({f"{CORE}.d/10-tag.conf": f"[Container]\nImage={NEW_IMAGE}\n"})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-dropin-for-every-container",
            phase3.test_units_match_repository,
            FAILED,
            "revenue-db.container differs:\n      [Container] Label: repository none, host tier=db",
            host_units(lambda f: f.update({"container.d/10-label.conf": "[Container]\nLabel=tier=db\n"})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-dropin-unreadable",
            phase3.test_units_match_repository,
            FAILED,
            f"cannot be read: line 1: {QUADLET_DIR}/{CORE}.d/big.conf: the file cannot be read: larger than 1024 KB",
            host_units(lambda f: f.update({f"{CORE}.d/big.conf": "#" * (1024 * 1024 + 10)})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-missing",
            phase3.test_units_match_repository,
            FAILED,
            f"revenue-db.container: missing on the host ({FOLDER_WHERE})",
            host_units(lambda f: f.pop("revenue-db.container")),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-extra",
            phase3.test_units_match_repository,
            FAILED,
            f"debug.container: on the host, not in the repository (local folder {INFRA / 'systemd'})",
            host_units(lambda f: f.update({"debug.container": f"[Container]\nImage={NEW_IMAGE}\n"})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-target",
            phase3.test_units_match_repository,
            FAILED,
            "phoenix.target differs:\n      [Install] WantedBy: repository default.target, host multi-user.target",
            setting(
                "target_file",
                (INFRA / "systemd" / "phoenix.target")
                .read_text()
                .replace("WantedBy=default.target", "WantedBy=multi-user.target"),
            ),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-no-source-dir",
            phase3.test_units_match_repository,
            NOT_APPLICABLE,
            "no --source-dir given: no repository to compare the host's units with",
        ),
        *[
            case(
                f"PHX-3.09-{section}-{how}",
                phase3.test_units_match_repository,
                COULD_NOT_CHECK,
                f"probe section {section} (probe_quadlet.sh on {HOST_ID})",
                fail(section, how),
                source_dir=INFRA,
            )
            for section in ("quadlet_tar", "target_file")
            for how in ("timeout", "missing")
        ],
        case(
            "PHX-3.10-pass",
            phase3.test_unit_reloaded,
            PASSED,
            f"NeedDaemonReload=no, {QUADLET_DIR}/{CORE} (systemctl --user show -p NeedDaemonReload"
            f" phoenix-core.service {AS_USER})",
        ),
        case(
            "PHX-3.10-fail",
            phase3.test_unit_reloaded,
            FAILED,
            f"systemd runs an older version of phoenix-core.service: {QUADLET_DIR}/{CORE} changed after the last"
            " daemon-reload (NeedDaemonReload=yes); run systemctl --user daemon-reload"
            " && systemctl --user restart phoenix.target",
            show_units(unit_reload_pending),
        ),
        case(
            "PHX-3.10-not-loaded",
            phase3.test_unit_reloaded,
            SKIPPED,
            "phoenix-core.service is not loaded (not-found), see PHX-3.05",
            show_units(
                lambda text: text.replace(
                    "Id=phoenix-core.service\nLoadState=loaded", "Id=phoenix-core.service\nLoadState=not-found"
                )
            ),
        ),
        case(
            "PHX-3.10-property-not-shown",
            phase3.test_unit_reloaded,
            COULD_NOT_CHECK,
            "NeedDaemonReload of phoenix-core.service: systemctl show printed None",
            show_units(lambda text: text.replace(f"{CORE}\nNeedDaemonReload=no", CORE, 1)),
        ),
        *each_failure(
            "PHX-3.10-units-show",
            phase3.test_unit_reloaded,
            COULD_NOT_CHECK,
            f"probe section units_show (probe_quadlet.sh on {HOST_ID})",
            "units_show",
        ),
        case(
            "PHX-3.11-not-asked",
            phase3.test_unit_auto_update,
            NOT_APPLICABLE,
            "the stack manifest asks for no automatic updates",
        ),
        case(
            "PHX-3.11-fail",
            phase3.test_unit_auto_update,
            FAILED,
            f"expected AutoUpdate=registry (the manifest's auto_update), got no AutoUpdate= ({QUADLET_DIR}/{CORE})",
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-pass",
            phase3.test_unit_auto_update,
            PASSED,
            f"AutoUpdate=registry ({QUADLET_DIR}/{CORE}:",
            host_units(
                lambda f: f.update({CORE: f[CORE].replace("[Container]\n", "[Container]\nAutoUpdate=registry\n")})
            ),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-pass-dropin",
            phase3.test_unit_auto_update,
            PASSED,
            f"AutoUpdate=registry ({QUADLET_DIR}/container.d/50-update.conf:2)",
            host_units(lambda f: f.update({"container.d/50-update.conf": "[Container]\nAutoUpdate=registry\n"})),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-pass-first-of-a-name",
            phase3.test_unit_auto_update,
            PASSED,
            f"AutoUpdate=registry ({QUADLET_DIR}/{CORE}:",
            host_units(
                lambda f: f.update(
                    {
                        CORE: f[CORE].replace("[Container]\n", "[Container]\nAutoUpdate=registry\n"),
                        f"old/{CORE}": f[CORE],
                    }
                )
            ),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-fail-other-policy",
            phase3.test_unit_auto_update,
            FAILED,
            "expected AutoUpdate=registry (the manifest's auto_update), got AutoUpdate=local",
            host_units(lambda f: f.update({"container.d/50-update.conf": "[Container]\nAutoUpdate=local\n"})),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-not-installed",
            phase3.test_unit_auto_update,
            SKIPPED,
            f"{CORE} is not installed, see PHX-3.01",
            host_units(lambda f: f.pop(CORE)),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-quadlet-tar-timeout",
            phase3.test_unit_auto_update,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("quadlet_tar", "timeout"),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.12-not-asked",
            phase3.test_auto_update_timer,
            NOT_APPLICABLE,
            "the stack manifest asks for no automatic updates",
        ),
        case(
            "PHX-3.12-fail",
            phase3.test_auto_update_timer,
            FAILED,
            "expected enabled=enabled, active=active, got enabled=disabled, active=inactive",
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.12-pass",
            phase3.test_auto_update_timer,
            PASSED,
            "enabled=enabled, active=active"
            f" (systemctl --user is-enabled/is-active podman-auto-update.timer {AS_USER})",
            both(setting("autoupdate_enabled", "enabled"), setting("autoupdate_active", "active")),
            stack=gitops_stack(auto_update="registry"),
        ),
        *[
            case(
                f"PHX-3.12-{how}",
                phase3.test_auto_update_timer,
                COULD_NOT_CHECK,
                f"probe section autoupdate_enabled (probe_quadlet.sh on {HOST_ID})",
                fail("autoupdate_enabled", how),
                stack=gitops_stack(auto_update="registry"),
            )
            for how in ("timeout", "missing")
        ],
        case(
            "PHX-S.21-no-registry",
            security.test_files_images_from_registry,
            NOT_APPLICABLE,
            "the stack manifest names no registry",
        ),
        case(
            "PHX-S.21-pass",
            security.test_files_images_from_registry,
            PASSED,
            f"no offence (every image from localhost; {FILES_WHERE})",
            stack=gitops_stack(registry="localhost"),
        ),
        case(
            "PHX-S.21-fail",
            security.test_files_images_from_registry,
            FAILED,
            f"{COMPOSE_PATH.replace('/home', 'ssh://refhost:/home')}:15: SEC-REGISTRY service phoenix-core,"
            " image localhost/phoenix-standin:1.0: not from registry.example.com/phoenix",
            stack=gitops_stack(registry="registry.example.com/phoenix"),
        ),
        case(
            "PHX-S.21-fail-unit",
            security.test_files_images_from_registry,
            FAILED,
            f"{QUADLET_DIR}/{CORE}:10: SEC-REGISTRY {CORE}, Image=docker.io/phoenix-standin:1.0: not from localhost",
            host_units(lambda f: f.update({CORE: f[CORE].replace("Image=localhost/", "Image=docker.io/")})),
            stack=gitops_stack(registry="localhost"),
        ),
        case(
            "PHX-S.21-compose-timeout",
            security.test_files_images_from_registry,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            fail("compose_file", "timeout"),
            stack=gitops_stack(registry="localhost"),
        ),
        case(
            "PHX-S.22-no-registry",
            security.test_live_images_from_registry,
            NOT_APPLICABLE,
            "the stack manifest names no registry",
        ),
        case(
            "PHX-S.22-pass",
            security.test_live_images_from_registry,
            PASSED,
            f"6 containers, every image from localhost ({API_WHERE})",
            stack=gitops_stack(registry="localhost"),
        ),
        case(
            "PHX-S.22-fail",
            security.test_live_images_from_registry,
            FAILED,
            "expected every image from registry.example.com/phoenix, got:\n"
            "  container phoenix-core runs localhost/phoenix-standin:1.0",
            stack=gitops_stack(registry="registry.example.com/phoenix"),
        ),
        case(
            "PHX-S.22-api-unreachable",
            security.test_live_images_from_registry,
            COULD_NOT_CHECK,
            f"the Podman API: {API_DOWN}",
            api_down(),
            stack=gitops_stack(registry="localhost"),
        ),
    ]


class TestGitOpsEvidence:
    def test_a_secret_value_in_a_differing_unit_is_withheld(self) -> None:
        host = reference_host()
        host_units(
            lambda f: f.update(
                {CORE: f[CORE].replace("[Container]\n", "[Container]\nEnvironment=DB_PASSWORD=hunter2-offline\n")}
            )
        )(host)
        outcome = judge_on(host.facts(reference_stack(), source_dir=INFRA), phase3.test_units_match_repository)
        assert outcome.kind == FAILED
        assert "[Container] Environment: DB_PASSWORD differs (values withheld)" in outcome.text
        assert "hunter2" not in outcome.text


# -- the layer itself ------------------------------------------------------------------


# -- the optional observability group -------------------------------------------------

LOKI_UNIT = "grafana-loki.container"
LOKI_ENDPOINT = reference_stack().groups[0].endpoints[0]
GROUP_COMPOSE_WHERE = f"{GROUP_COMPOSE_PATH} on {HOST_ID}"
NOT_DEPLOYED = (
    f"the optional group observability is not deployed (no compose file {GROUP_COMPOSE_WHERE},"
    f" no unit {LOKI_UNIT} in {FOLDER_WHERE}, no container of grafana-loki; containers from {API_WHERE})"
)
GROUP_NOT_DEPLOYED = "the optional group observability is not deployed (PHX-3.13 names what was looked for)"
# Every check of a service, unit or endpoint, with the optional group's part for parameter.
GROUP_PARTS: list[tuple[str, Callable[..., None], dict[str, Any]]] = [
    ("PHX-2.04", phase2.test_container_running, {"service": LOKI}),
    ("PHX-2.05", phase2.test_container_healthy, {"service": LOKI}),
    ("PHX-2.07", phase2.test_published_ports, {"published_service": LOKI}),
    ("PHX-2.08", phase2.test_endpoint_answers, {"endpoint": LOKI_ENDPOINT}),
    ("PHX-3.01", phase3.test_unit_file_present, {"unit_file": LOKI_UNIT}),
    ("PHX-3.02", phase3.test_unit_file_lint, {"unit_file": LOKI_UNIT}),
    ("PHX-3.05", phase3.test_generated_service_active, {"generated_service": "grafana-loki.service"}),
    ("PHX-3.06", phase3.test_container_managed_by_systemd, {"service": LOKI}),
    ("PHX-3.07", phase3.test_compose_quadlet_parity, {"service": LOKI}),
]


def loki_exited(host: FakeHost) -> None:
    """The drift: the group deployed whole, then its container stopped (and not removed)."""
    host.observability()
    host.container(LOKI).update(State="exited", Status="Exited (137) 5 seconds ago")


class TestOptionalGroup(Family):
    """PHX-3.13 and every check of a service, unit or endpoint on the optional group: not
    applicable where the host has no trace of it (for one reason, PHX-3.13's), judged like the
    stack where it is deployed whole, failed where it is deployed in part or drifted."""

    CASES: ClassVar[list[Any]] = [
        case("PHX-3.13-not-deployed", phase3.test_optional_group_whole, NOT_APPLICABLE, NOT_DEPLOYED),
        case(
            "PHX-3.13-no-group-declared",
            phase3.test_optional_group_whole,
            NOT_APPLICABLE,
            "the manifest declares no optional group",
            optional_group=None,
        ),
        case(
            "PHX-3.13-pass",
            phase3.test_optional_group_whole,
            PASSED,
            f"deployed whole: compose file {GROUP_COMPOSE_WHERE}; unit {LOKI_UNIT} in {FOLDER_WHERE};"
            " container of grafana-loki",
            lambda host: host.observability(),
        ),
        case(
            "PHX-3.13-fail-unit-without-container",
            phase3.test_optional_group_whole,
            FAILED,
            f"got it in part: unit {LOKI_UNIT} in {FOLDER_WHERE} present, but no compose file"
            f" {GROUP_COMPOSE_WHERE}; no container of grafana-loki",
            lambda host: host.observability(compose=False, container=False),
        ),
        case(
            "PHX-3.13-fail-container-without-unit",
            phase3.test_optional_group_whole,
            FAILED,
            f"but no unit {LOKI_UNIT} in {FOLDER_WHERE}",
            lambda host: host.observability(unit=False),
        ),
        case(
            "PHX-3.13-pass-drifted",  # the container is there, stopped: 2.04 says so, not 3.13
            phase3.test_optional_group_whole,
            PASSED,
            "deployed whole",
            loki_exited,
        ),
        *[
            case(f"{check_id}-group-not-deployed", check, NOT_APPLICABLE, GROUP_NOT_DEPLOYED, **params)
            for check_id, check, params in GROUP_PARTS
        ],
        *[
            case(f"{check_id}-group-deployed", check, PASSED, "", lambda host: host.observability(), **params)
            for check_id, check, params in GROUP_PARTS
        ],
        case(
            "PHX-2.04-group-drifted",
            phase2.test_container_running,
            FAILED,
            "expected grafana-loki running, got exited",
            loki_exited,
            service=LOKI,
        ),
        case("PHX-2.04-stack-untouched-by-group-drift", phase2.test_container_running, PASSED, "", loki_exited),
        case(
            "PHX-2.04-group-half-deployed",
            phase2.test_container_running,
            FAILED,
            "expected a container for service grafana-loki, got none",
            lambda host: host.observability(container=False),
            service=LOKI,
        ),
        case(
            "PHX-3.01-group-half-deployed",
            phase3.test_unit_file_present,
            FAILED,
            f"expected {LOKI_UNIT}",
            lambda host: host.observability(unit=False),
            unit_file=LOKI_UNIT,
        ),
        case(
            "PHX-S.01-group-compose-file-judged",
            security.test_files_selinux_labels,
            FAILED,
            "grafana-loki",
            lambda host: host.observability().set(
                "group_compose_0", (INFRA / "observability.compose.yaml").read_text().replace("/www:Z", "/www")
            ),
        ),
        case(
            "PHX-3.01-group-local-folder",  # a repository's CI: the files alone, no containers
            phase3.test_unit_file_present,
            PASSED,
            f"present (local folder {INFRA / 'systemd'})",
            quadlet_override=INFRA / "systemd",
            unit_file=LOKI_UNIT,
        ),
    ]


ALL_CHECKS = [
    function
    for module in (phase1, phase2, phase3, security)
    for name, function in sorted(vars(module).items())
    if name.startswith("test_") and callable(function)
]
ALL_CASES = [
    param.values[0]
    for family in (
        TestPodmanInstalled,
        TestRootlessRuntime,
        TestComposeFile,
        TestStackContainers,
        TestEndpoints,
        TestQuadletFiles,
        TestUserSystemd,
        TestSecurityFiles,
        TestSecurityLive,
        TestSecurityHost,
        TestSecurityAccount,
        TestGitOps,
        TestOptionalGroup,
    )
    for param in family.CASES
]


class TestFakeHost:
    def test_every_check_has_a_pass_and_a_fail(self) -> None:
        assert len(ALL_CHECKS) == 55
        for check in ALL_CHECKS:
            kinds = {c.kind for c in ALL_CASES if c.check is check}
            assert {PASSED, FAILED} <= kinds, check.__name__

    def test_only_sections_the_scripts_print_can_be_canned(self) -> None:
        with pytest.raises(KeyError, match="no probe script prints a section 'podman_infos'"):
            reference_host().set("podman_infos", "{}")

    def test_each_probe_runs_once_for_every_check(self) -> None:
        host = reference_host()
        facts = host.facts()
        for check in ALL_CHECKS:
            if check is not phase3.test_restart_recovers:
                judge_on(facts, check)
        assert host.runner is not None
        assert sorted(name for name, _ in host.runner.scripts) == [
            "probe_base.sh",
            "probe_http.sh",
            "probe_quadlet.sh",
            "probe_security.sh",
            "probe_stack.sh",
        ]
        assert host.api is not None and host.api.calls.count("containers") == 1

    def test_an_unreachable_host_reaches_every_check_as_such(self) -> None:
        host = reference_host()
        host.unreachable = "no answer within 30s (probe probe_base.sh)"
        outcome = judge_on(host.facts(), phase1.test_rootless)
        assert outcome == Outcome(UNREACHABLE, f"{HOST_ID} unreachable: no answer within 30s (probe probe_base.sh)", ())


# -- every check, every probe section it reads, every way that section can fail ----------


def spec_id(check: Callable[..., None]) -> str:
    marks = [m for m in getattr(check, "pytestmark", []) if m.name == "check"]
    return str(marks[0].args[0].id)


# The fixtures a check is judged with here: the opt-in restart allowed, so that it reads its sections.
EVERY_FIXTURES: dict[str, Any] = {"allow_restart": True}


def sections_read(check: Callable[..., None]) -> list[str]:
    """The probe sections a check looks up on the reference host, in the order it first reads them."""
    read: list[str] = []
    looked_up = ProbeGroup.section

    def recording(group: ProbeGroup, name: str) -> Section:
        if name not in read:
            read.append(name)
        return looked_up(group, name)

    with mock.patch.object(ProbeGroup, "section", recording):
        judge_on(reference_host().facts(reference_stack()), check, **EVERY_FIXTURES)
    return read


def broken(section: str, how: str) -> Arrange:
    """The section's program timed out, is missing or printed nothing (an endpoint's section per URL)."""
    if section.startswith("http_"):
        url = reference_stack().endpoints[int(section.removeprefix("http_"))].url
        return lambda host: host.http_fail(url, how)
    return fail(section, how)


def declared_empty_ok(section: str) -> bool:
    """Whether the section's declaration makes an empty output an answer (grep found no line)."""
    every = (probes.BASE, probes.STACK, probes.SECURITY, probes.QUADLET, probes.RESTART)
    return any(section in probe.expect and probe.expect[section].empty_ok for probe in every)


EVERY_PROBE_FAILURE = [
    pytest.param(check, section, how, id=f"{spec_id(check)}-{section}-{how}")
    for check in ALL_CHECKS
    for section in sections_read(check)
    for how in FAILURES
    # An empty output its declaration names an answer is not a failed probe.
    if not (how == "empty" and declared_empty_ok(section))
]


class TestEveryProbeFailure:
    """For every check of the catalogue, each probe section it reads replaced in turn by a
    timeout, a missing program and an empty output: never passed, never not applicable, never
    a crash. A new check is covered the day it is written."""

    def test_the_catalogue_is_covered(self) -> None:
        covered = {param.values[0] for param in EVERY_PROBE_FAILURE}
        # Every check that reads a probe section (the rest read only the API or nothing).
        assert len(covered) >= 40, sorted(c.__name__ for c in set(ALL_CHECKS) - covered)

    @pytest.mark.parametrize(("check", "section", "how"), EVERY_PROBE_FAILURE)
    def test_a_failed_probe_never_passes(self, check: Callable[..., None], section: str, how: str) -> None:
        host = reference_host()
        broken(section, how)(host)
        outcome = judge_on(host.facts(reference_stack()), check, **EVERY_FIXTURES)
        assert outcome.kind not in (PASSED, NOT_APPLICABLE, ERROR), f"{outcome.kind}: {outcome.text}"
