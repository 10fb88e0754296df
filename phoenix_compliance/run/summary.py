"""The readiness section of the terminal summary: verdicts per host, what blocks, waivers,
changes since a previous run, and where the reports are."""

from __future__ import annotations

import pytest

from phoenix_compliance.report.model import WAIVED
from phoenix_compliance.run.state import RunState


def write_summary(terminalreporter: pytest.TerminalReporter, state: RunState) -> None:
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
    for path in state.report_files.values():
        terminalreporter.write_line(f"report: {path}")
