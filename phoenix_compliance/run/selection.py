"""Which checks run: --phase, the phases judged from local files alone, the manifest's
parameters, and how many checks each phase has before any narrowing selection.

A phase is whole only when every check of it ran. Its checks are counted per host from
each module's own collection (every test function and parameter it yields), before -k, -m,
--deselect and --lf narrow the run and whatever a node id leaves out, so a phase that ran
fewer is PARTIAL (n of m), never READY.
"""

from __future__ import annotations

import pytest

from phoenix_compliance.catalogue import STANDALONE
from phoenix_compliance.checks import spec_of
from phoenix_compliance.parsers.manifest import ServiceGroup
from phoenix_compliance.redact import redact
from phoenix_compliance.run.hosts import host_id, item_host
from phoenix_compliance.run.state import STATE

# Checks of each phase, by host then phase, as collected before any selection narrowed them.
Expected = dict[str, dict[str, int]]
EXPECTED = pytest.StashKey[Expected]()
# Every host of the run (testinfra's parameters, before a --shard kept its slice), by id.
FLEET_IDS = pytest.StashKey[set[str]]()


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
        # The standalone gates (security, upgrade) judge the files too, in their files=True checks.
        phases.update(STANDALONE)
    return phases


def header_lines(config: pytest.Config) -> list[str]:
    state = config.stash[STATE]
    lines = [
        f"phoenix: stack {state.report.stack}, phases {','.join(state.phases)}, hosts {config.option.hosts or 'local'}"
    ]
    if state.shard is not None:
        lines.append(f"phoenix: shard {state.shard[0]} of {state.shard[1]} (the hosts sorted by id, dealt in turn)")
    files_only = sorted(files_only_phases(config) & set(state.phases))
    if files_only:
        lines.append(
            f"phoenix: phase {', '.join(files_only)} judged from local files only (no --hosts given);"
            " checks of the live host are deselected"
        )
    return lines


def _wanted(config: pytest.Config, item: pytest.Item) -> bool:
    """Not a check, or a check of a chosen phase (of the files alone in a files-only phase)."""
    spec = spec_of(item)
    if spec is None:
        return True
    return spec.phase in config.stash[STATE].phases and (spec.phase not in files_only_phases(config) or spec.files)


def count_collected(config: pytest.Config, report: pytest.CollectReport) -> None:
    """Count the checks a module yields, per host and phase, before any selection narrows them."""
    counts = config.stash.setdefault(EXPECTED, {})
    for node in report.result:
        if not isinstance(node, pytest.Item):
            continue
        spec = spec_of(node)
        if spec is not None and _wanted(config, node):
            phases = counts.setdefault(item_host(node), {})
            phases[spec.phase] = phases.get(spec.phase, 0) + 1


def expected(config: pytest.Config) -> Expected:
    return config.stash.get(EXPECTED, {})


def merge_expected(config: pytest.Config, counts: Expected) -> None:
    """A worker's counts (each xdist worker collects every check): the largest seen wins."""
    mine = config.stash.setdefault(EXPECTED, {})
    for host, phases in counts.items():
        for phase, count in phases.items():
            mine.setdefault(host, {})[phase] = max(mine.get(host, {}).get(phase, 0), int(count))


def shard_hosts(hosts: set[str], shard: tuple[int, int]) -> set[str]:
    """The K-th of N slices: the hosts sorted by id and dealt out in turn, so the slices differ
    by one host at most and do not depend on the order of --hosts or the inventory."""
    k, n = shard
    return set(sorted(hosts)[k - 1 :: n])


def keep_shard_hosts(metafunc: pytest.Metafunc) -> None:
    """Under --shard K/N, keep only this shard's hosts among a check's parameter sets, once
    testinfra has parametrized it with every host: the other shards' checks are never collected
    (a shard of 125 hosts builds 125 hosts' items, not the fleet's). The slice is dealt from the
    whole fleet's ids, the same in every shard and module. A shard left with no host keeps the
    sets (a check without its host parameter cannot be collected) and `deselect` drops them."""
    shard = metafunc.config.stash[STATE].shard
    if shard is None or "_testinfra_host" not in metafunc.fixturenames:
        return
    # pytest keeps a function's parameter sets in Metafunc._calls (no public way to narrow them).
    calls = metafunc._calls
    ids = {host_id(call.params["_testinfra_host"]) for call in calls if "_testinfra_host" in call.params}
    fleet = metafunc.config.stash.setdefault(FLEET_IDS, set())
    fleet.update(ids)
    mine = shard_hosts(ids, shard)
    kept = [c for c in calls if "_testinfra_host" not in c.params or host_id(c.params["_testinfra_host"]) in mine]
    if kept:
        calls[:] = kept


def deselect(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the checks of phases not chosen, of the live host in a files-only phase, and of
    the hosts another shard checks, should any be collected (their collected counts too: this
    run answers for none)."""
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        (selected if _wanted(config, item) else deselected).append(item)
    shard = config.stash[STATE].shard
    if shard is not None:
        hosts = config.stash.get(FLEET_IDS, set()) | {item_host(i) for i in selected if spec_of(i) is not None}
        mine = shard_hosts(hosts, shard)
        kept: list[pytest.Item] = []
        for item in selected:
            (kept if spec_of(item) is None or item_host(item) in mine else deselected).append(item)
        selected = kept
        counts = config.stash.get(EXPECTED, {})
        for host in hosts - mine:
            counts.pop(host, None)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


# The parameters that name a service, unit or endpoint, which an optional group may own.
GROUP_PARAMETERS = ("service", "published_service", "unit_file", "generated_service", "endpoint")


def parametrize(metafunc: pytest.Metafunc) -> None:
    """Checks that apply per service or per endpoint are parametrized from the manifest, its
    optional groups' too (judged only where a group has a trace: see optional_group_of)."""
    manifest = metafunc.config.stash[STATE].manifest
    if "service" in metafunc.fixturenames:
        names = [s.name for s in manifest.every_service()]
        metafunc.parametrize("service", names, ids=names)
    if "stack_service" in metafunc.fixturenames:
        # Grouping in the stack's pod or compose project: the stack's own services only.
        names = manifest.service_names()
        metafunc.parametrize("stack_service", names, ids=names)
    if "published_service" in metafunc.fixturenames:
        published = [s.name for s in manifest.every_service() if s.ports]
        metafunc.parametrize("published_service", published, ids=published)
    if "unit_file" in metafunc.fixturenames:
        files = manifest.every_unit_file()
        metafunc.parametrize("unit_file", files, ids=files)
    if "generated_service" in metafunc.fixturenames:
        services = manifest.every_generated_service()
        metafunc.parametrize("generated_service", services, ids=services)
    if "endpoint" in metafunc.fixturenames:
        # The service first, tying the endpoint to the manifest's service; a URL may carry
        # credentials (https://user:pass@...) and ids reach every output.
        endpoints = manifest.every_endpoint()
        ids = [f"{e.service}-{redact(e.url)}" for e in endpoints]
        metafunc.parametrize("endpoint", endpoints, ids=ids)
    if "optional_group" in metafunc.fixturenames:
        # A manifest without groups still has the check, not applicable (never an empty parameter set).
        groups: list[str | None] = [group.name for group in manifest.groups] or [None]
        metafunc.parametrize("optional_group", groups, ids=[g or "none" for g in groups])


def optional_group_of(item: pytest.Item) -> ServiceGroup | None:
    """The optional group whose service, unit or endpoint a check's parameters name."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    manifest = item.config.stash[STATE].manifest
    for name in GROUP_PARAMETERS:
        if name in callspec.params and (group := manifest.group_of(callspec.params[name])) is not None:
            return group
    return None


def judged_live(item: pytest.Item) -> bool:
    """Whether a check judges a live host (not local files alone, as in a repository's CI)."""
    spec = spec_of(item)
    return spec is None or spec.phase not in files_only_phases(item.config)
