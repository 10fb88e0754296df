"""Phase 2 checks offline: the compose file, the stack's containers, the endpoints."""

from __future__ import annotations

from typing import Any, ClassVar

from checks_cases import (
    AS_USER,
    COMPOSE_WHERE,
    Family,
    api_down,
    case,
    compose,
    container,
    document,
    each_failure,
    fail,
    setting,
)
from checks_cases import pytest_generate_tests as pytest_generate_tests
from fakehost import (
    API_WHERE,
    COMPOSE_PATH,
    COULD_NOT_CHECK,
    FAILED,
    HOST_ID,
    INFRA,
    PASSED,
    inspect_document,
)

from tests.phase2 import test_compose_deployment as phase2

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
