"""The pytest plugin: its hooks and fixtures, each handing over to the module of its role in `run/`."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from phoenix_compliance.checks import require_group_trace
from phoenix_compliance.facts import HostFacts
from phoenix_compliance.parsers.manifest import Manifest
from phoenix_compliance.redact import redact_report
from phoenix_compliance.report.model import COULD_NOT_CHECK
from phoenix_compliance.run import options, probing, selection, summary
from phoenix_compliance.run.hosts import host_id
from phoenix_compliance.run.html_hooks import HtmlReportHooks
from phoenix_compliance.run.outcome import OBSERVED, judge, plain_report
from phoenix_compliance.run.reporter import RunReporter, complete_model
from phoenix_compliance.run.state import STATE, build_state, check_waiver_ids
from phoenix_compliance.run.xdist_hooks import XdistHooks, mark_host_group, use_loadgroup


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    # testinfra's options (--hosts, --ssh-config, ...) are the suite's: without autoloading
    # (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1) its entry point is loaded here, by the same name, so once.
    pluginmanager.import_plugin("pytest11.testinfra", consider_entry_points=True)
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # First, so that the default report paths are set before pytest-html and junitxml read them.
    config.addinivalue_line("markers", "check(spec): a compliance check, declared with phoenix_compliance.checks.check")
    # A check's host group (run/xdist_hooks.py) is marked with or without xdist, which declares it itself.
    config.addinivalue_line("markers", "xdist_group(name): the checks of one host, run by one xdist worker")
    options.resolve(config)  # the command line, else the user's ini file, else the defaults
    state = build_state(config)
    config.stash[STATE] = state
    use_loadgroup(config)
    if config.pluginmanager.hasplugin("html"):
        config.pluginmanager.register(HtmlReportHooks(state), "phoenix-html")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Registered now, after every plugin configured itself: of two trylast
    # sessionfinish hooks pluggy calls the later-registered one last, and the
    # writer must seal the HTML after pytest-html has written it.
    config = session.config
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(RunReporter(config.stash[STATE]), "phoenix-run-reporter")
        if config.pluginmanager.hasplugin("xdist"):
            config.pluginmanager.register(XdistHooks(config.stash[STATE]), "phoenix-xdist")


def pytest_report_header(config: pytest.Config) -> list[str]:
    return selection.header_lines(config)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Group a host's checks for xdist's loadgroup: one worker probes each host once.
    Marked as soon as collected, before any plugin's collection_modifyitems reads marks."""
    mark_host_group(item)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    check_waiver_ids(config)
    selection.deselect(config, items)


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Count a module's checks as it yields them: innermost, before --lf filters the report."""
    report = yield
    if isinstance(collector, pytest.Module) and STATE in collector.config.stash:
        selection.count_collected(collector.config, report)
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """A check that could not check is shown as such (W, as kube-bench's WARN), not as failed."""
    record = getattr(report, "phoenix", None)
    if isinstance(record, dict) and record.get("outcome") == COULD_NOT_CHECK:
        return "could not check", "W", "COULD NOT CHECK"
    return None


# Before testinfra's host parametrization, so a check's id reads service first, then host
# (test_container_running[phoenix-core-ssh://web1]), however the two plugins were loaded.
@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    selection.parametrize(metafunc)


@pytest.hookimpl(wrapper=True, specname="pytest_generate_tests")
def pytest_generate_tests_shard_wrapper(metafunc: pytest.Metafunc) -> Generator[None, None, None]:
    """Once every plugin (testinfra's host parameter) has parametrized a check: --shard keeps its hosts."""
    yield
    selection.keep_shard_hosts(metafunc)


@pytest.fixture
def allow_restart(pytestconfig: pytest.Config) -> bool:
    """Whether the user allowed the disruptive restart check (--allow-restart)."""
    return pytestconfig.stash[STATE].allow_restart


@pytest.fixture
def health_wait(pytestconfig: pytest.Config) -> float:
    """How long a 'starting' healthcheck is waited for (--health-wait)."""
    return pytestconfig.stash[STATE].health_wait


@pytest.fixture(scope="session")
def stack(pytestconfig: pytest.Config) -> Manifest:
    """The stack manifest chosen with --stack."""
    return pytestconfig.stash[STATE].manifest


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Probe the selected hosts at once before the first check runs; then pytest runs the checks."""
    probing.probe_selected(session)


@pytest.fixture
def facts(host: Any, pytestconfig: pytest.Config) -> HostFacts:
    """The host's facts, probed once per run and shared by every check (probed ahead,
    run/probing.py, or on first use under xdist)."""
    state = pytestconfig.stash[STATE]
    key = host_id(host)
    if key not in state.facts:
        state.facts[key] = probing.host_facts(host, key, state)
    return state.facts[key]


@pytest.fixture(autouse=True)
def _optional_group_trace(request: pytest.FixtureRequest) -> None:
    """A check of an optional group's service, unit or endpoint applies only where the host
    has a trace of the group; elsewhere it is not applicable, for the one reason PHX-3.13 gives."""
    group = selection.optional_group_of(request.node)
    if group is not None:
        require_group_trace(request.getfixturevalue("facts"), group, live=selection.judged_live(request.node))


@pytest.fixture
def observed(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record what a check saw, shown as its evidence when it passes."""
    notes: list[str] = request.node.stash.setdefault(OBSERVED, [])
    return notes.append


@pytest.hookimpl(tryfirst=True, specname="pytest_runtest_makereport")
def pytest_runtest_makereport_plain(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport | None:
    """A failed or could-not-check check's report, built without pytest's traceback (a name pytest
    looks at: it registers only hooks whose name starts with pytest_)."""
    return plain_report(item, call)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    judge(item, call, report)
    # The boundary of every reporter that reads the report (terminal, JUnit, pytest-html).
    redact_report(report)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Complete the model before pytest-html renders it."""
    state = session.config.stash.get(STATE, None)
    if state is not None:
        complete_model(state, getattr(session.config, "workeroutput", None), selection.expected(session.config))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None and state.report.hosts and not config.option.collectonly:
        summary.write_summary(terminalreporter, state)
