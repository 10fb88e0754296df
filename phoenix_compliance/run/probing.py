"""Probe concurrently, check serially: before the first check runs, every selected host is
probed at once, each for the parts of its facts that its selected checks read, so that the
checks then read ready facts.

The probes wait on the hosts (ssh, the Podman API socket) while the checks only compute, so a
run of many hosts takes about one host's probing plus the checks' CPU of every host (README,
Speed). The pool is bounded (--probe-concurrency). A host's
probes run one after another in its own task, each bounded (transport/runner.py: an unreachable
host is remembered and never waited for again), so a slow or frozen host holds its own task
for at most its bounds and no other host. Only the hosts and phases left after every selection
(--phase, --shard, -k, -m, --lf, node ids) are probed.

Under xdist nothing is probed ahead: each worker probes a host when the host's first check
reaches it (a worker group per host, run/xdist_hooks.py), since a worker does not know its
hosts before they arrive.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from typing import Any

import pytest

from phoenix_compliance.checks import spec_of
from phoenix_compliance.facts import HostFacts
from phoenix_compliance.facts.host import PARTS
from phoenix_compliance.run.hosts import host_id
from phoenix_compliance.run.state import STATE, RunState
from phoenix_compliance.transport.runner import HostRunner

# The parts of the facts (facts/host.py PARTS) the checks of a phase read, by phase and whether
# they read the files alone. A selftest holds every bundled check to its row; a part a check
# reads beyond its row is still read, on first lookup, one host after another.
READS: dict[tuple[str, bool], frozenset[str]] = {
    # PHX-1.03 reads the containers.conf files on Podman 6 (a line asking for slirp4netns): cheap
    # file reads, in the same one command, so that a Podman 6 host needs no second one.
    ("1", False): frozenset({"base", "api", "upgrade"}),
    ("2", True): frozenset({"compose"}),
    ("2", False): frozenset({"base", "stack", "containers", "endpoints"}),
    ("3", True): frozenset({"compose", "quadlet"}),
    # PHX-3.08's restart is an action, never read ahead; the stack probe holds the optional
    # groups' compose files, a trace PHX-3.13 reads.
    ("3", False): frozenset({"base", "stack", "systemd", "containers"}),
    # PHX-S.04 reads the security probe too, which the live checks of the phase read anyway.
    ("security", True): frozenset({"compose", "quadlet"}),
    ("security", False): frozenset({"base", "security", "api", "containers", "inspect"}),
    # The upgrade gate: podman info and the containers.conf files, every container's network.
    ("upgrade", True): frozenset({"compose", "quadlet"}),
    ("upgrade", False): frozenset({"base", "upgrade", "api", "inspect"}),
}


def host_facts(host: Any, key: str, state: RunState) -> HostFacts:
    """A testinfra host's facts, nothing probed yet."""
    runner = HostRunner(host, key, state.podman_user, state.probe_timeout)
    compose_files = (state.compose_override, *state.compose_extra) if state.compose_override else None
    return HostFacts(
        runner,
        state.manifest,
        host.backend,
        compose_files,
        state.quadlet_override,
        state.source_dir,
        env_files=state.env_files,
    )


def planned(items: Iterable[pytest.Item]) -> dict[str, tuple[Any, set[str]]]:
    """Each host whose facts the checks read: its testinfra host and the parts they read."""
    plan: dict[str, tuple[Any, set[str]]] = {}
    for item in items:
        spec = spec_of(item)
        callspec = getattr(item, "callspec", None)
        host = callspec.params.get("_testinfra_host") if callspec is not None else None
        if spec is None or host is None or "facts" not in getattr(item, "fixturenames", ()):
            continue
        _, parts = plan.setdefault(host_id(host), (host, set()))
        parts.update(READS.get((spec.phase, spec.files), PARTS))
    return plan


def _probed(host: Any, key: str, parts: set[str], state: RunState) -> HostFacts:
    facts = host_facts(host, key, state)
    facts.prefetch(parts)
    return facts


def probe_selected(session: pytest.Session) -> None:
    """Probe the hosts of the checks about to run, at most --probe-concurrency at once; their
    facts wait in the run's state for the `facts` fixture."""
    config = session.config
    if hasattr(config, "workerinput") or any(
        getattr(config.option, dry, False) for dry in ("collectonly", "setupplan", "setuponly")
    ):
        return
    if session.testsfailed and not config.option.continue_on_collection_errors:
        return  # pytest stops for the collection errors before any check runs
    state = config.stash[STATE]
    plan = {key: entry for key, entry in planned(session.items).items() if key not in state.facts}
    if not plan:
        return
    started = time.monotonic()
    at_once = min(state.probe_concurrency, len(plan))
    pool = ThreadPoolExecutor(at_once, thread_name_prefix="phoenix-probe")
    try:
        futures: dict[Future[HostFacts], str] = {
            pool.submit(_probed, host, key, parts, state): key for key, (host, parts) in plan.items()
        }
        for future in as_completed(futures):
            # A task that broke (the suite's own bug) leaves its host to the fixture, which
            # builds its facts again on first use and lets that check report the error.
            if future.exception() is None:
                state.facts[futures[future]] = future.result()
    finally:
        # Interrupted (Ctrl-C): hosts not started yet are not started; those probing end within their bounds.
        pool.shutdown(wait=True, cancel_futures=True)
    state.probed = (len(plan), time.monotonic() - started, at_once)
