"""The run's report on the process that writes it (the controller under xdist): the model
filled from every check's judgement, the output files written, and the run's exit code."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from phoenix_compliance.report import outputs, signing
from phoenix_compliance.report.model import CheckResult
from phoenix_compliance.run.state import RunState
from phoenix_compliance.run.writers import EXIT_REPORTS_UNWRITTEN, ReportsUnwritten, forget_announcements, write_all

# Exit codes of a compliance run (documented in the README).
EXIT_READY, EXIT_NOT_READY, EXIT_UNREACHABLE = 0, 1, 3


def complete_model(state: RunState, worker_output: dict[str, Any] | None) -> None:
    """Hand each host's facts to the model (or, on an xdist worker, to the controller),
    close the hosts, and stamp the end of the run; before pytest-html renders the model."""
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


class RunReporter:
    """Fills the model from every check's report, then writes the outputs and sets the
    exit code after every other reporter (registered last, see plugin.pytest_sessionstart)."""

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
        try:
            # With no check run, only the pages pytest-html and junitxml wrote are published.
            write_all(run, state.report_files, state.sign_key, state.staging, write=bool(run.hosts))
        except signing.SigningError as exc:
            session.config.get_terminal_writer().line(f"phoenix: cannot sign the report: {exc}", red=True)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            state.report_files.clear()
            forget_announcements(session.config, state.staging)
            return
        except ReportsUnwritten as exc:
            # The verdicts are still printed (the terminal summary comes after this hook).
            session.config.get_terminal_writer().line(f"phoenix: {exc}", red=True)
            session.exitstatus = EXIT_REPORTS_UNWRITTEN
            forget_announcements(session.config, state.staging)
            return
        if not run.hosts:
            return
        if session.exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
            if run.any_unreachable:
                session.exitstatus = EXIT_UNREACHABLE
            else:
                session.exitstatus = EXIT_READY if run.all_ready() else EXIT_NOT_READY
