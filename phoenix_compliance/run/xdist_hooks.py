"""pytest-xdist: a host's checks share one worker (so the host is probed once), and the
facts a worker gathered reach the controller's report."""

from __future__ import annotations

from typing import Any

import pytest

from phoenix_compliance.checks import spec_of
from phoenix_compliance.run import selection
from phoenix_compliance.run.hosts import item_host
from phoenix_compliance.run.state import RunState


def use_loadgroup(config: pytest.Config) -> None:
    """Plain `-n N` means --dist load, which is turned into loadgroup (a group per host)."""
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", None) == "load":
        config.option.dist = "loadgroup"
    # A worker parses the command line again and would not know; the controller tells it.
    if getattr(config, "workerinput", {}).get("phoenix_loadgroup"):
        config.option.loadgroup = True


def mark_host_group(item: pytest.Item) -> None:
    """Group a check by its host for loadgroup: on an xdist worker, where xdist reads the
    group (elsewhere the mark would only be one more to step over for each of a fleet's checks)."""
    if getattr(item.config, "workerinput", None) is not None and spec_of(item) is not None:
        item.add_marker(pytest.mark.xdist_group(name=item_host(item)))


class XdistHooks:
    """pytest-xdist hooks, registered only when xdist is active."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["phoenix_loadgroup"] = node.config.option.dist == "loadgroup"

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Host facts gathered by a worker."""
        output = getattr(node, "workeroutput", {})
        selection.merge_expected(node.config, output.get("phoenix_expected", {}))
        for host_id, summary in output.get("phoenix_hosts", {}).items():
            host_report = self.state.report.host(host_id)
            host_report.facts = dict(summary["facts"]) or host_report.facts
            host_report.commands_run += int(summary["commands_run"])
