"""The pytest plugin: options, check selection, shared host facts, the report."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest

from phoenix_compliance.checks import NOT_APPLICABLE_PREFIX, CheckSpec, parse_phases, spec_of
from phoenix_compliance.facts import HostFacts
from phoenix_compliance.parsers import manifest as manifest_module
from phoenix_compliance.parsers import waivers as waivers_module
from phoenix_compliance.parsers.manifest import Manifest
from phoenix_compliance.parsers.waivers import Waiver
from phoenix_compliance.redact import redact
from phoenix_compliance.report import outputs, signing
from phoenix_compliance.report.model import (
    ERROR,
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    SKIPPED,
    WAIVED,
    CheckResult,
    RunReport,
    Signoff,
)
from phoenix_compliance.report.render import readiness_section
from phoenix_compliance.transport.runner import HostRunner, HostUnreachable

DEFAULT_STACK = Path("fixtures/stacks/phoenix-hydra.yaml")
_REPO = Path(__file__).resolve().parent.parent


@dataclass
class RunState:
    manifest: Manifest
    phases: tuple[str, ...]
    podman_user: str | None
    probe_timeout: float
    compose_override: Path | None
    quadlet_override: Path | None
    allow_restart: bool
    health_wait: float
    report: RunReport
    html_path: Path | None
    xml_path: Path | None
    json_path: Path | None
    prom_path: Path | None
    waivers: list[Waiver]
    previous: dict[str, dict[str, str]] | None
    sign_key: Path | None
    facts: dict[str, HostFacts] = field(default_factory=dict)


STATE = pytest.StashKey[RunState]()
OBSERVED = pytest.StashKey[list[str]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("phoenix", "Phoenix Hydra migration compliance")
    group.addoption(
        "--phase",
        dest="phx_phase",
        default="all",
        metavar="PHASES",
        help="phases to check: 1, 2, 3, security or all, or a comma-separated list (default: all)",
    )
    group.addoption(
        "--stack",
        dest="phx_stack",
        default=None,
        metavar="PATH",
        help=f"stack manifest (YAML) describing what to expect (default: {DEFAULT_STACK})",
    )
    group.addoption(
        "--podman-user",
        dest="phx_podman_user",
        default=None,
        metavar="NAME",
        help="rootless account to check (default: the connecting user)",
    )
    group.addoption(
        "--compose-file",
        dest="phx_compose_file",
        default=None,
        metavar="PATH",
        help="a local compose file to check instead of the one in the project folder on the host",
    )
    group.addoption(
        "--quadlet-dir",
        dest="phx_quadlet_dir",
        default=None,
        metavar="DIR",
        help="a local folder of Quadlet files (and the target unit) to check instead of the host's",
    )
    group.addoption(
        "--allow-restart",
        dest="phx_allow_restart",
        action="store_true",
        default=False,
        help="allow the disruptive check that restarts the stack's target (off: the suite only reads)",
    )
    group.addoption(
        "--health-wait",
        dest="phx_health_wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long a healthcheck still 'starting' is waited for (default: 60)",
    )
    group.addoption(
        "--waivers",
        dest="phx_waivers",
        default=None,
        metavar="FILE",
        help="YAML file of accepted failures: check, hosts (pattern), justification, expires",
    )
    group.addoption(
        "--signoff",
        dest="phx_signoff",
        default=None,
        metavar="NAME",
        help="record who signs the report off (name, time, suite version, manifest digest)",
    )
    group.addoption(
        "--sign-key",
        dest="phx_sign_key",
        default=None,
        metavar="KEY",
        help="also sign the report's digest with this SSH private key (ssh-keygen -Y sign)",
    )
    group.addoption(
        "--compare",
        dest="phx_compare",
        default=None,
        metavar="PREVIOUS.json",
        help="report what changed since a previous run's JSON report",
    )
    group.addoption(
        "--json",
        dest="phx_json",
        default=None,
        metavar="PATH",
        help="where to write the JSON report (default: beside the HTML, same base name)",
    )
    group.addoption(
        "--prometheus",
        dest="phx_prometheus",
        default=None,
        metavar="PATH",
        help="where to write the Prometheus textfile (default: beside the HTML, same base name)",
    )
    group.addoption(
        "--reports-dir",
        dest="phx_reports_dir",
        default="reports",
        metavar="DIR",
        help="where the HTML readiness report and JUnit XML are written (default: reports)",
    )
    group.addoption(
        "--probe-timeout",
        dest="phx_probe_timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="bound on each probe of a host, connection included (default: 30)",
    )


def _resolve_stack(config: pytest.Config) -> Path:
    given = config.option.phx_stack
    if given:
        return Path(given)
    for base in (config.rootpath, _REPO):
        candidate = base / DEFAULT_STACK
        if candidate.exists():
            return candidate
    return config.rootpath / DEFAULT_STACK


def _hosts_slug(config: pytest.Config) -> str:
    hosts = [h for h in (config.option.hosts or "").split(",") if h]
    if not hosts:
        return "local"
    first = re.sub(r"^[a-z+-]+://", "", hosts[0])
    first = re.sub(r"[^A-Za-z0-9.-]+", "_", first).strip("_") or "host"
    return first if len(hosts) == 1 else f"{first}-and-{len(hosts) - 1}-more"


def _suite_version() -> str:
    try:
        result = subprocess.run(
            ["git", "-C", str(_REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return result.stdout.strip() or "unknown"


T = TypeVar("T")


def _read(option: str, load: Callable[[Path], T], path: Path) -> T:
    """Load a user's file; its problems (file:line: what) are usage errors."""
    try:
        return load(path)
    except ValueError as exc:
        raise pytest.UsageError(f"{option}: {exc}") from None


def _report_paths(config: pytest.Config, now: dt.datetime) -> tuple[Path | None, Path | None, Path | None, Path | None]:
    """HTML, JUnit, JSON and Prometheus paths under one base name naming host and time;
    only the process that writes reports (the xdist controller) has them."""
    if hasattr(config, "workerinput"):
        return None, None, None, None
    reports = Path(config.option.phx_reports_dir)
    if not reports.is_absolute():
        reports = config.invocation_params.dir / reports
    base = f"readiness-{_hosts_slug(config)}-{now:%Y%m%dT%H%M%S}"
    if getattr(config.option, "htmlpath", "unset") is None:
        config.option.htmlpath = str(reports / f"{base}.html")
        config.option.self_contained_html = True
    if config.option.xmlpath is None:
        config.option.xmlpath = str(reports / f"{base}.xml")
    reports.mkdir(parents=True, exist_ok=True)
    html_path = Path(config.option.htmlpath) if getattr(config.option, "htmlpath", None) else None
    return (
        html_path,
        Path(config.option.xmlpath),
        Path(config.option.phx_json or reports / f"{base}.json"),
        Path(config.option.phx_prometheus or reports / f"{base}.prom"),
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "check(spec): a compliance check, declared with phoenix_compliance.checks.check")
    try:
        phases = parse_phases(config.option.phx_phase)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.option.phx_probe_timeout <= 0:
        raise pytest.UsageError("--probe-timeout must be a positive number of seconds")
    if getattr(config.option, "ansible_inventory", None) and shutil.which("ansible-inventory") is None:
        raise pytest.UsageError(
            "--ansible-inventory: testinfra reads the inventory with the ansible-inventory command,"
            " which is not on PATH (pip install ansible-core)"
        )
    stack_path = _resolve_stack(config)
    manifest = _read("--stack", manifest_module.load, stack_path)
    waivers: list[Waiver] = []
    if config.option.phx_waivers:
        waivers = _read("--waivers", waivers_module.load, Path(config.option.phx_waivers))
    previous = None
    if config.option.phx_compare:
        previous = _read("--compare", outputs.load_previous, Path(config.option.phx_compare))
    sign_key = Path(config.option.phx_sign_key) if config.option.phx_sign_key else None
    if sign_key is not None and not sign_key.is_file():
        raise pytest.UsageError(f"--sign-key: {sign_key} is not a readable private key file")

    now = dt.datetime.now().astimezone()
    html_path, xml_path, json_path, prom_path = _report_paths(config, now)
    state = RunState(
        manifest=manifest,
        phases=phases,
        podman_user=config.option.phx_podman_user,
        probe_timeout=config.option.phx_probe_timeout,
        compose_override=Path(config.option.phx_compose_file) if config.option.phx_compose_file else None,
        quadlet_override=Path(config.option.phx_quadlet_dir) if config.option.phx_quadlet_dir else None,
        allow_restart=config.option.phx_allow_restart,
        health_wait=config.option.phx_health_wait,
        report=RunReport(
            started=now.isoformat(timespec="seconds"),
            phases=phases,
            stack=str(stack_path),
            suite_version=_suite_version(),
        ),
        html_path=html_path,
        xml_path=xml_path,
        json_path=json_path,
        prom_path=prom_path,
        waivers=waivers,
        previous=previous,
        sign_key=sign_key,
    )
    state.report.stack_digest = hashlib.sha256(stack_path.read_bytes()).hexdigest()
    state.report.compared_with = config.option.phx_compare
    if config.option.phx_signoff:
        state.report.signoff = Signoff(config.option.phx_signoff, now.isoformat(timespec="seconds"))
    config.stash[STATE] = state
    # Under xdist, a host's checks must share one worker so the host is probed once:
    # plain `-n N` means --dist load, which is turned into loadgroup (a group per host).
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", None) == "load":
        config.option.dist = "loadgroup"
    # A worker parses the command line again and would not know; the controller tells it.
    if getattr(config, "workerinput", {}).get("phoenix_loadgroup"):
        config.option.loadgroup = True
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
    state = config.stash[STATE]
    lines = [
        f"phoenix: stack {state.report.stack}, phases {','.join(state.phases)}, hosts {config.option.hosts or 'local'}"
    ]
    files_only = sorted(_files_only_phases(config) & set(state.phases))
    if files_only:
        lines.append(
            f"phoenix: phase {', '.join(files_only)} judged from local files only (no --hosts given);"
            " checks of the live host are deselected"
        )
    return lines


def _files_only_phases(config: pytest.Config) -> set[str]:
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


def pytest_itemcollected(item: pytest.Item) -> None:
    """Group a host's checks for xdist's loadgroup: one worker probes each host once.
    Marked as soon as collected, before any plugin's collection_modifyitems reads marks."""
    if spec_of(item) is not None:
        item.add_marker(pytest.mark.xdist_group(name=_item_host(item)))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    phases = config.stash[STATE].phases
    files_only = _files_only_phases(config)
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        spec = spec_of(item)
        unwanted = spec is not None and (spec.phase not in phases or (spec.phase in files_only and not spec.files))
        (deselected if unwanted else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
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
        metafunc.parametrize("endpoint", manifest.endpoints, ids=[e.url for e in manifest.endpoints])


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


def _host_id(host: Any) -> str:
    return str(host.backend.get_pytest_id())


@pytest.fixture
def facts(host: Any, pytestconfig: pytest.Config) -> HostFacts:
    """The host's facts, probed once per run and shared by every check."""
    state = pytestconfig.stash[STATE]
    host_id = _host_id(host)
    if host_id not in state.facts:
        runner = HostRunner(host, host_id, state.podman_user, state.probe_timeout)
        state.facts[host_id] = HostFacts(
            runner, state.manifest, host.backend, state.compose_override, state.quadlet_override
        )
    return state.facts[host_id]


@pytest.fixture
def observed(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Record what a check saw, shown as its evidence when it passes."""
    notes: list[str] = request.node.stash.setdefault(OBSERVED, [])
    return notes.append


def _item_host(item: pytest.Item) -> str:
    callspec = getattr(item, "callspec", None)
    host = callspec.params.get("_testinfra_host") if callspec is not None else None
    return _host_id(host) if host is not None else "local"


def _failure_text(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(excinfo.value)
    # Drop pytest's re-written assertion detail; the message is the evidence.
    text = text.split("\nassert ", 1)[0]
    return text.strip() or excinfo.typename


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    spec = spec_of(item)
    if spec is None:
        return report
    host_id = _item_host(item)
    if call.when == "setup":
        # On the item, so that every later report (JUnit reads teardown's) carries them.
        metadata = [("check_id", spec.id), ("phase", spec.phase), ("severity", spec.severity), ("host", host_id)]
        item.user_properties.extend(metadata)
        report.user_properties.extend(metadata)
    if call.when == "call" or (call.when == "setup" and not report.passed):
        _record(item, call, report, spec, host_id)
    return report


def _record(
    item: pytest.Item,
    call: pytest.CallInfo[None],
    report: pytest.TestReport,
    spec: CheckSpec,
    host_id: str,
) -> None:
    """Judge the outcome where the check ran and attach it to the report, which
    pytest-xdist carries to the controller (attributes of a report survive it)."""
    state = item.config.stash[STATE]
    excinfo = call.excinfo
    unreachable = None
    if report.passed:
        notes: list[str] = item.stash.get(OBSERVED, [])
        outcome, evidence = PASSED, "\n".join(notes)
    elif report.skipped:
        evidence = str(excinfo.value) if excinfo is not None else "skipped"
        evidence = evidence.removeprefix("Skipped: ")
        outcome = NOT_APPLICABLE if evidence.startswith(NOT_APPLICABLE_PREFIX) else SKIPPED
        evidence = evidence.removeprefix(NOT_APPLICABLE_PREFIX)
    elif excinfo is not None and isinstance(excinfo.value, HostUnreachable):
        outcome, evidence = ERROR, str(excinfo.value)
        unreachable = excinfo.value.reason
        # One line per check, never a traceback: the host is the problem, not the check.
        report.longrepr = f"{spec.id} {evidence}"
    elif excinfo is not None and excinfo.errisinstance((AssertionError, pytest.fail.Exception)):
        outcome, evidence = FAILED, _failure_text(excinfo)
        report.longrepr = f"{spec.id} [{spec.severity}] {spec.title}\n  {evidence}\n  remediation: {spec.remediation}"
    else:
        outcome = ERROR if call.when == "setup" else FAILED
        evidence = _failure_text(excinfo) if excinfo is not None else "failed"
    # Evidence quotes programs' output: keep a secret's name, never its value.
    evidence = redact(evidence)
    if isinstance(report.longrepr, str):
        report.longrepr = redact(report.longrepr)
    waiver = None
    if outcome in (FAILED, ERROR):
        outcome, waiver = _apply_waiver(state, spec.id, host_id, outcome)
    item.user_properties.append(("evidence", evidence))
    if waiver is not None:
        item.user_properties.append(("waiver", str(waiver["justification"])))
    report.phoenix = {  # type: ignore[attr-defined]
        "host": host_id,
        "check_id": spec.id,
        "phase": spec.phase,
        "severity": spec.severity,
        "title": spec.title,
        "outcome": outcome,
        "evidence": evidence,
        "remediation": spec.remediation,
        # xdist's loadgroup appends "@GROUP"; a check's key must not depend on the scheduler.
        "nodeid": item.nodeid.removesuffix(f"@{host_id}"),
        "duration": report.duration,
        "waiver": waiver,
        "unreachable": unreachable,
    }


def _apply_waiver(
    state: RunState, check_id: str, host_id: str, outcome: str
) -> tuple[str, dict[str, str | bool] | None]:
    """A live waiver turns a failure into WAIVED; an expired one is recorded, not applied."""
    waiver = waivers_module.find(state.waivers, check_id, host_id)
    if waiver is None:
        return outcome, None
    expired = waiver.expired(dt.date.today())
    details: dict[str, str | bool] = {
        "justification": waiver.justification,
        "expires": waiver.expires.isoformat(),
        "where": waiver.where,
        "expired": expired,
    }
    return (outcome if expired else WAIVED), details


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Complete the model before pytest-html renders it."""
    state = session.config.stash.get(STATE, None)
    if state is None:
        return
    worker_output = getattr(session.config, "workeroutput", None)
    for host_id, host_facts in state.facts.items():
        facts_summary, commands_run = host_facts.summary(), host_facts.runner.commands_run
        host_facts.close()
        if worker_output is not None:
            worker_output.setdefault("phoenix_hosts", {})[host_id] = {
                "facts": facts_summary,
                "commands_run": commands_run,
            }
        else:
            host_report = state.report.host(host_id)
            host_report.facts = facts_summary
            host_report.commands_run = commands_run
    state.report.finished = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    if state.previous is not None:
        state.report.changes = outputs.compare(state.report, state.previous)


# Exit codes of a compliance run (documented in the README).
EXIT_READY, EXIT_NOT_READY, EXIT_UNREACHABLE = 0, 1, 3


class RunReporter:
    """The run's report on the process that writes it (the controller under xdist):
    fills the model from every check's report, then writes the JSON and Prometheus
    outputs, seals the HTML and sets the exit code after every other reporter."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = getattr(report, "phoenix", None)
        if not isinstance(record, dict):
            return
        run = self.state.report
        host_report = run.host(str(record["host"]))
        if record.get("unreachable"):
            host_report.unreachable = str(record["unreachable"])
        result = CheckResult(**{key: value for key, value in record.items() if key != "unreachable"})
        host_report.results.append(result)
        if result.waiver and result.waiver.get("expired"):
            note = (
                f"{result.check_id} on {result.host}: waiver {result.waiver['where']}"
                f" expired on {result.waiver['expires']}"
            )
            if note not in run.expired_waivers:
                run.expired_waivers.append(note)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        state = self.state
        run = state.report
        if not run.hosts:
            return
        try:
            if state.html_path is not None and state.html_path.exists():
                signing.seal_html(state.html_path, state.sign_key)
            document = outputs.to_document(run)
            document["digest"] = outputs.canonical_digest(document)
            if state.sign_key is not None:
                document["signature"] = signing.sign_digest(str(document["digest"]), state.sign_key)
        except signing.SigningError as exc:
            session.config.get_terminal_writer().line(f"phoenix: cannot sign the report: {exc}", red=True)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        if state.json_path is not None:
            state.json_path.parent.mkdir(parents=True, exist_ok=True)
            outputs.write_json(document, state.json_path)
        if state.prom_path is not None:
            state.prom_path.parent.mkdir(parents=True, exist_ok=True)
            state.prom_path.write_text(outputs.to_prometheus(run, time.time()), encoding="utf-8")
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            if run.any_unreachable:
                session.exitstatus = EXIT_UNREACHABLE
            else:
                session.exitstatus = EXIT_READY if run.all_ready() else EXIT_NOT_READY


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is None or not state.report.hosts:
        return
    terminalreporter.section("migration readiness")
    phases = state.report.shown_phases
    run = state.report
    for host in run.hosts.values():
        verdicts = host.verdicts(phases)
        cells = ", ".join(f"phase {p}: {v}" for p, v in verdicts.items() if v != "NOT RUN")
        terminalreporter.write_line(f"{host.host}: {cells}")
        if host.unreachable:
            terminalreporter.write_line(f"  unreachable: {host.unreachable}")
            continue
        for result in host.results:
            if result.failed:
                kind = "blocks the gate" if result.blocking else "finding"
                terminalreporter.write_line(
                    f"  {result.check_id} [{result.severity}] {result.title}: {result.outcome} ({kind})"
                )
                terminalreporter.write_line(f"    fix: {result.remediation}")
            elif result.outcome == WAIVED and result.waiver is not None:
                terminalreporter.write_line(
                    f"  {result.check_id} waived until {result.waiver['expires']}: {result.waiver['justification']}"
                )
    for note in run.expired_waivers:
        terminalreporter.write_line(f"expired waiver, not applied: {note}")
    if run.compared_with is not None:
        terminalreporter.write_line(f"since {run.compared_with}: {len(run.changes)} change(s)")
        for change in run.changes:
            terminalreporter.write_line(
                f"  {change.host} {change.key}: {change.kind} ({change.before or '-'} -> {change.after or '-'})"
            )
    for path in (state.html_path, state.xml_path, state.json_path, state.prom_path):
        if path is not None:
            terminalreporter.write_line(f"report: {path}")


class XdistHooks:
    """pytest-xdist hooks, registered only when xdist is active."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["phoenix_loadgroup"] = node.config.option.dist == "loadgroup"

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        """Host facts gathered by a worker."""
        for host_id, summary in getattr(node, "workeroutput", {}).get("phoenix_hosts", {}).items():
            host_report = self.state.report.host(host_id)
            host_report.facts = dict(summary["facts"]) or host_report.facts
            host_report.commands_run += int(summary["commands_run"])


class HtmlReportHooks:
    """pytest-html hooks, registered only when pytest-html is active."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"{self.state.manifest.name} migration readiness"

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str]) -> None:
        prefix.append(readiness_section(self.state.report))

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, '<th class="sortable" data-column-type="check">Check</th>')
        cells.insert(2, '<th class="sortable" data-column-type="severity">Severity</th>')

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        properties = dict(report.user_properties)
        cells.insert(1, f'<td class="col-check">{properties.get("check_id", "")}</td>')
        cells.insert(2, f'<td class="col-severity">{properties.get("severity", "")}</td>')
