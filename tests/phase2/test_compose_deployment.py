"""Phase 2 of the guide (section 4): the stack deployed with podman-compose,
its containers running and healthy, grouped, published and answering."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from phoenix_compliance.checks import check, container_of
from phoenix_compliance.facts import HostFacts, containers
from phoenix_compliance.facts.identity import first_line
from phoenix_compliance.parsers.manifest import Endpoint, Manifest

Observed = Callable[[str], None]
COMPOSE_UP = "cd infra/podman && podman-compose up -d"


@check(
    "PHX-2.01",
    phase="2",
    severity="high",
    files=True,
    title="The compose file exists and is a valid compose file",
    remediation="Put the stack's compose.yaml in infra/podman/ of the project folder and fix the"
    " problems named; podman-compose -f infra/podman/compose.yaml config shows how it reads it",
)
def test_compose_file_valid(facts: HostFacts, observed: Observed) -> None:
    source = facts.files.compose
    assert source.parsed is not None, f"expected a readable compose file, got {source.error} ({source.where})"
    problems = source.parsed.problems
    # What podman-compose accepts but says (a variable unset, made empty): shown, never failing.
    warnings = "".join(f"\n  warning: {warning}" for warning in source.parsed.warnings)
    assert not problems, (
        f"expected a valid compose file, got {len(problems)} problem(s) ({source.where}):\n"
        + "\n".join(f"  {problem}" for problem in problems)
        + warnings
    )
    observed(f"{len(source.parsed.services)} services, no problems ({source.where}){warnings}")


@check(
    "PHX-2.02",
    phase="2",
    severity="high",
    files=True,
    title="The compose file declares every service of the stack",
    remediation="Declare the missing services in infra/podman/compose.yaml (services: NAME: image: ...)",
)
def test_compose_declares_services(facts: HostFacts, stack: Manifest, observed: Observed) -> None:
    source = facts.files.compose
    if source.parsed is None or not source.parsed.services:
        pytest.skip(f"the compose file cannot be read, see PHX-2.01 ({source.where})")
    declared = set(source.parsed.services)
    missing = [name for name in stack.service_names() if name not in declared]
    assert not missing, (
        f"expected services {', '.join(stack.service_names())}, got {', '.join(missing)} missing"
        f" (declared: {', '.join(sorted(declared))}; {source.where})"
    )
    observed(f"declares {', '.join(stack.service_names())} ({source.where})")


@check(
    "PHX-2.03",
    phase="2",
    severity="high",
    title="podman-compose is installed and runs",
    remediation="sudo dnf install -y podman-compose  # or: pip install --user podman-compose",
)
def test_podman_compose_runs(facts: HostFacts, observed: Observed) -> None:
    section = facts.host.compose_version
    where = facts.host.where("podman-compose version")
    assert section.ok, f"expected podman-compose version to succeed, got {section.describe_failure()} ({where})"
    observed(f"{first_line(section, '(no output)')} ({where})")


@check(
    "PHX-2.04",
    phase="2",
    severity="critical",
    title="The service's container exists and is running",
    remediation=COMPOSE_UP + "  # then: podman logs SERVICE",
)
def test_container_running(facts: HostFacts, service: str, observed: Observed) -> None:
    container = container_of(facts, service)
    name = (container.get("Names") or [service])[0]
    state = container.get("State")
    where = facts.podman.where
    assert state == "running", (
        f"expected {name} running, got {state} ({container.get('Status') or 'no status'}; {where})"
    )
    observed(f"{name} running, image {container.get('Image')} ({where})")


@check(
    "PHX-2.05",
    phase="2",
    severity="high",
    title="The service's container is healthy",
    remediation="podman healthcheck run SERVICE; podman logs SERVICE  # fix the service, then: " + COMPOSE_UP,
)
def test_container_healthy(
    facts: HostFacts, service: str, stack: Manifest, health_wait: float, observed: Observed
) -> None:
    container = container_of(facts, service)
    name = (container.get("Names") or [service])[0]
    where = facts.podman.where
    health = containers.health(facts.podman.inspect(name))
    required = stack.service(service).healthcheck
    if not health.has_check:
        assert not required, f"expected a healthcheck on {name} (the manifest asks for one), got none ({where})"
        observed(f"{name} defines no healthcheck ({where})")
        return
    deadline = time.monotonic() + health_wait
    while health.status == "starting" and time.monotonic() < deadline:
        time.sleep(1)
        health = containers.health(facts.podman.inspect(name, fresh=True))
    waited = f", still starting after {health_wait:g}s" if health.status == "starting" else ""
    assert health.status == "healthy", (
        f"expected {name} healthy, got {health.status or 'no health status'}{waited};"
        f" last check {health.last_output or 'not run yet'} ({where})"
    )
    observed(f"{name} healthy; last check {health.last_output} ({where})")


@check(
    "PHX-2.06",
    phase="2",
    severity="medium",
    title="The service's container is grouped in the stack's pod or compose project",
    remediation="Deploy with podman-compose from the stack's project (name: in compose.yaml, or"
    " --in-pod), or with the Quadlet pod unit: " + COMPOSE_UP,
)
def test_container_grouped(facts: HostFacts, stack_service: str, stack: Manifest, observed: Observed) -> None:
    container = container_of(facts, stack_service)
    name = (container.get("Names") or [stack_service])[0]
    pod = container.get("PodName") or ""
    project = (container.get("Labels") or {}).get("io.podman.compose.project", "")
    wanted_pods = {stack.pod, f"pod_{stack.name}"} - {None}
    where = facts.podman.where
    got = f"pod {pod or 'none'}, compose project {project or 'none'}"
    assert pod in wanted_pods or project == stack.name, (
        f"expected pod {' or '.join(sorted(p for p in wanted_pods if p))} or compose project {stack.name}"
        f" for {name}, got {got} ({where})"
    )
    observed(f"{name}: {got} ({where})")


def _format(ports: set[tuple[int, int, str]]) -> str:
    return ", ".join(f"{h}:{c}/{p}" for h, c, p in sorted(ports)) or "none"


@check(
    "PHX-2.07",
    phase="2",
    severity="high",
    title="The service publishes the host ports of the manifest",
    remediation='Publish the manifest\'s ports in compose.yaml (ports: ["HOST:CONTAINER"]), then: ' + COMPOSE_UP,
)
def test_published_ports(facts: HostFacts, published_service: str, stack: Manifest, observed: Observed) -> None:
    container = container_of(facts, published_service)
    name = (container.get("Names") or [published_service])[0]
    service = stack.service(published_service)
    expected = {(p.host, p.container, p.protocol) for p in service.ports}
    actual = containers.published(container)
    where = facts.podman.where
    assert expected <= actual, f"expected {name} to publish {_format(expected)}, got {_format(actual)} ({where})"
    observed(f"{name} publishes {_format(actual)} ({where})")


@check(
    "PHX-2.08",
    phase="2",
    severity="high",
    title="The endpoint answers",
    remediation="curl -v URL on the host; podman logs SERVICE; then: " + COMPOSE_UP,
)
def test_endpoint_answers(facts: HostFacts, endpoint: Endpoint, observed: Observed) -> None:
    answer = facts.endpoints.answer(endpoint)
    expected = f"HTTP {endpoint.status}" if endpoint.status else "an HTTP status below 400"
    assert answer.status is not None, f"expected {expected}, got no answer: {answer.error} ({answer.where})"
    ok = answer.status == endpoint.status if endpoint.status else answer.status < 400
    assert ok, f"expected {expected}, got HTTP {answer.status} ({answer.where})"
    observed(f"HTTP {answer.status} ({answer.where})")
