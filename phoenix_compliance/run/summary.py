"""The readiness section of the terminal summary: verdicts per host (PARTIAL with n of m
checks), what blocks and what could not be checked (each naming its unit, service or
endpoint), waivers, suite errors, changes since a previous run, the sign-off, and where the
reports are."""

from __future__ import annotations

import pytest

from phoenix_compliance.report.model import COULD_NOT_CHECK, ERROR, PARTIAL, WAIVED, CheckResult, HostReport
from phoenix_compliance.run.state import RunState


def _cell(host: HostReport, phase: str, verdict: str) -> str:
    ran, total = host.coverage(phase)
    return f"phase {phase}: {verdict}" + (f" ({ran} of {total} checks)" if verdict == PARTIAL else "")


def _named(result: CheckResult) -> str:
    subject = f" ({result.subject})" if result.subject else ""
    return f"{result.check_id} [{result.severity}] {result.title}{subject}"


def write_summary(terminalreporter: pytest.TerminalReporter, state: RunState) -> None:
    terminalreporter.section("migration readiness")
    phases = state.report.shown_phases
    run = state.report
    for host in run.hosts.values():
        verdicts = host.verdicts(phases)
        cells = ", ".join(_cell(host, p, v) for p, v in verdicts.items() if v != "NOT RUN")
        left_out = [p for p, v in verdicts.items() if v == "NOT RUN" and host.coverage(p)[1]]
        if left_out:
            cells += f"{', ' if cells else ''}not selected: phase {', '.join(left_out)}"
        terminalreporter.write_line(f"{host.host}: {cells}")
        if host.unreachable:
            terminalreporter.write_line(f"  unreachable: {host.unreachable}")
            continue
        for result in host.results:
            kind = "blocks the gate" if result.blocking else "finding"
            if result.outcome == ERROR:
                terminalreporter.write_line(f"  {_named(result)}: suite error (not judged; traceback above)")
                terminalreporter.write_line(f"    {result.evidence}")
            elif result.outcome == COULD_NOT_CHECK:
                terminalreporter.write_line(f"  {_named(result)}: could not check ({kind})")
                terminalreporter.write_line(f"    why: {result.evidence}")
            elif result.failed:
                terminalreporter.write_line(f"  {_named(result)}: {result.outcome} ({kind})")
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
    if run.partial:
        terminalreporter.write_line(f"PARTIAL: a selection left checks out: {'; '.join(run.partial)}")
    if run.signoff_refused:
        terminalreporter.write_line(run.signoff_refused, red=True)
    if state.probed is not None:
        hosts, seconds, at_once = state.probed
        terminalreporter.write_line(f"probed {hosts} host(s) in {seconds:.1f} s, {at_once} at once, before the checks")
    terminalreporter.write_line(f"verdict: {run.run_verdict()}")
    for path in state.report_files.values():
        terminalreporter.write_line(f"report: {path}")
