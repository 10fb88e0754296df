"""Which checks run: --phase, the phases judged from local files alone, and the manifest's parameters."""

from __future__ import annotations

import pytest

from phoenix_compliance.checks import spec_of
from phoenix_compliance.redact import redact
from phoenix_compliance.run.state import STATE


def files_only_phases(config: pytest.Config) -> set[str]:
    """Phases judged from local files alone: a file override given and no --hosts,
    as in a repository's CI, where there is no host to probe."""
    state = config.stash[STATE]
    if config.option.hosts:
        return set()
    phases = set()
    if state.compose_override is not None:
        phases.add("2")
    if state.quadlet_override is not None:
        phases.add("3")
    if phases:
        phases.add("security")
    return phases


def header_lines(config: pytest.Config) -> list[str]:
    state = config.stash[STATE]
    lines = [
        f"phoenix: stack {state.report.stack}, phases {','.join(state.phases)}, hosts {config.option.hosts or 'local'}"
    ]
    files_only = sorted(files_only_phases(config) & set(state.phases))
    if files_only:
        lines.append(
            f"phoenix: phase {', '.join(files_only)} judged from local files only (no --hosts given);"
            " checks of the live host are deselected"
        )
    return lines


def deselect(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the checks of phases not chosen, and of the live host in a files-only phase."""
    phases = config.stash[STATE].phases
    files_only = files_only_phases(config)
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        spec = spec_of(item)
        unwanted = spec is not None and (spec.phase not in phases or (spec.phase in files_only and not spec.files))
        (deselected if unwanted else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def parametrize(metafunc: pytest.Metafunc) -> None:
    """Checks that apply per service or per endpoint are parametrized from the manifest."""
    manifest = metafunc.config.stash[STATE].manifest
    if "service" in metafunc.fixturenames:
        names = manifest.service_names()
        metafunc.parametrize("service", names, ids=names)
    if "published_service" in metafunc.fixturenames:
        published = [s.name for s in manifest.services if s.ports]
        metafunc.parametrize("published_service", published, ids=published)
    if "unit_file" in metafunc.fixturenames:
        files = manifest.unit_files()
        metafunc.parametrize("unit_file", files, ids=files)
    if "generated_service" in metafunc.fixturenames:
        services = manifest.generated_services()
        metafunc.parametrize("generated_service", services, ids=services)
    if "endpoint" in metafunc.fixturenames:
        # A URL may carry credentials (https://user:pass@...): ids reach every output.
        metafunc.parametrize("endpoint", manifest.endpoints, ids=[redact(e.url) for e in manifest.endpoints])
