"""The run's report on the process that writes it (the controller under xdist): the model
filled from every check's judgement, the output files written, and the run's exit code."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from phoenix_compliance.report import outputs, signing
from phoenix_compliance.report.model import NOT_CHECKED, NOT_READY, PARTIAL, READY, UNREACHABLE, CheckResult, RunReport
from phoenix_compliance.run import selection
from phoenix_compliance.run.state import RunState
from phoenix_compliance.run.writers import EXIT_REPORTS_UNWRITTEN, ReportsUnwritten, forget_announcements, write_all

# Exit codes of a compliance run (README "Gates and exit codes"; a selftest holds the two equal).
# None collides with pytest's own 1-5, but usage: pytest itself exits 4 on a bad option
# before any plugin can speak, so every usage error keeps pytest's 4.
EXIT_READY = 0
EXIT_USAGE = int(pytest.ExitCode.USAGE_ERROR)
EXIT_NOT_READY = 10
EXIT_COULD_NOT_CHECK = 11
EXIT_PARTIAL = 12
EXIT_SUITE_ERROR = 13
EXIT_CODES = {
    EXIT_READY: "every chosen phase of every host ran whole and is READY",
    EXIT_NOT_READY: "some phase NOT READY (a critical or high check failed)",
    EXIT_COULD_NOT_CHECK: "no phase NOT READY, but a host was unreachable or a critical or high check could not check",
    EXIT_PARTIAL: "nothing failed, but a selection (-k, -m, a node id, --deselect, --lf) left checks out: PARTIAL",
    EXIT_SUITE_ERROR: "the suite itself broke (a check raised an unexpected exception, an internal error)",
    EXIT_USAGE: "usage or configuration error (bad option, manifest, waivers file, previous report, signing key)",
    EXIT_REPORTS_UNWRITTEN: "the reports could not be written (the folder full, read-only or not a folder);"
    " the verdicts are still printed",
}
_BY_VERDICT = {
    READY: EXIT_READY,
    NOT_READY: EXIT_NOT_READY,
    NOT_CHECKED: EXIT_COULD_NOT_CHECK,
    UNREACHABLE: EXIT_COULD_NOT_CHECK,
    PARTIAL: EXIT_PARTIAL,
}


def exit_code(run: RunReport) -> int:
    """The run's exit code from its model: a suite error first, then the run's verdict."""
    if run.suite_errors:
        return EXIT_SUITE_ERROR
    return _BY_VERDICT.get(run.run_verdict(), EXIT_PARTIAL)


def complete_model(state: RunState, worker_output: dict[str, Any] | None, expected: selection.Expected) -> None:
    """Hand each host's facts and how many checks each phase has to the model (or, on an xdist
    worker, to the controller), close the hosts, and stamp the end of the run; before
    pytest-html renders the model."""
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
    if worker_output is not None:
        worker_output["phoenix_expected"] = expected
    else:
        for host_id, phases in expected.items():
            state.report.host(host_id).expected = dict(phases)
        refuse_partial_signoff(state.report)
    state.report.finished = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    if state.previous is not None:
        state.report.changes = outputs.compare(state.report, state.previous)


def refuse_partial_signoff(run: RunReport) -> None:
    """A sign-off vouches for whole phases: none is recorded when a phase is PARTIAL."""
    if run.signoff is not None and run.partial:
        run.signoff_refused = f"sign-off refused for {run.signoff.name}: PARTIAL {'; '.join(run.partial)}"
        run.signoff = None


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
        judged = session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.TESTS_FAILED,
            pytest.ExitCode.NO_TESTS_COLLECTED,
            pytest.ExitCode.INTERNAL_ERROR,
        )
        # --co judges nothing: no report, pytest's own exit code.
        if session.config.option.collectonly or not judged:
            return
        try:
            # With no check run, only the pages pytest-html and junitxml wrote are published.
            write_all(run, state.report_files, state.sign_key, state.staging, write=bool(run.hosts))
        except signing.SigningError as exc:
            session.config.get_terminal_writer().line(f"phoenix: cannot sign the report: {exc}", red=True)
            session.exitstatus = EXIT_USAGE
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
        if session.exitstatus == pytest.ExitCode.INTERNAL_ERROR:
            session.exitstatus = EXIT_SUITE_ERROR
        else:
            session.exitstatus = exit_code(run)
