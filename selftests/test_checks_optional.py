"""The optional observability group offline: its parts apply only where the group has a trace."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from checks_cases import (
    FOLDER_WHERE,
    Family,
    case,
)
from checks_cases import pytest_generate_tests as pytest_generate_tests
from fakehost import (
    API_WHERE,
    FAILED,
    GROUP_COMPOSE_PATH,
    HOST_ID,
    INFRA,
    LOKI,
    NOT_APPLICABLE,
    PASSED,
    FakeHost,
    reference_stack,
)

from tests.phase2 import test_compose_deployment as phase2
from tests.phase3 import test_quadlet_units as phase3
from tests.security import test_security as security

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
