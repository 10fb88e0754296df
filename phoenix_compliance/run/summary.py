"""The readiness section of the terminal summary: verdicts per host (PARTIAL with n of m
checks), what blocks and what could not be checked (each naming its unit, service or
endpoint), waivers, suite errors, changes since a previous run, the sign-off, and where the
reports are."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from phoenix_compliance.report.model import COULD_NOT_CHECK, ERROR, PARTIAL, WAIVED, CheckResult, HostReport, RunReport
from phoenix_compliance.run.state import RunState


def _cell(host: HostReport, phase: str, verdict: str) -> str:
    ran, total = host.coverage(phase)
    return f"phase {phase}: {verdict}" + (f" ({ran} of {total} checks)" if verdict == PARTIAL else "")


def _named(result: CheckResult) -> str:
    subject = f" ({result.subject})" if result.subject else ""
    return f"{result.check_id} [{result.severity}] {result.title}{subject}"


def simulated_line(run: RunReport) -> str:
    count = len(run.simulated)
    return (
        f"SIMULATED: {count} of {len(run.hosts)} host(s) answered from recorded probe output"
        f" (sim://...): benchmark input, not a compliance verdict on any host"
    )


def write_summary(terminalreporter: pytest.TerminalReporter, state: RunState) -> None:
    terminalreporter.section("migration readiness")
    for line, red in readiness_lines(state.report, state.report_files.values(), state.probed):
        terminalreporter.write_line(line, red=red)


def readiness_lines(
    run: RunReport, files: Iterable[Path], probed: tuple[int, float, int] | None = None
) -> Iterator[tuple[str, bool]]:
    """The summary's lines, each with whether it is shown in red; also what merge prints
    (`probed`: how the hosts were probed ahead of the checks, where they were)."""
    phases = run.shown_phases
    for host in run.hosts.values():
        verdicts = host.verdicts(phases)
        cells = ", ".join(_cell(host, p, v) for p, v in verdicts.items() if v != "NOT RUN")
        left_out = [p for p, v in verdicts.items() if v == "NOT RUN" and host.coverage(p)[1]]
        if left_out:
            cells += f"{', ' if cells else ''}not selected: phase {', '.join(left_out)}"
        yield f"{host.host}: {cells}", False
        if host.unreachable:
            yield f"  unreachable: {host.unreachable}", False
            continue
        for result in host.results:
            kind = "blocks the gate" if result.blocking else "finding"
            if result.outcome == ERROR:
                yield f"  {_named(result)}: suite error (not judged; traceback above)", False
                yield f"    {result.evidence}", False
            elif result.outcome == COULD_NOT_CHECK:
                yield f"  {_named(result)}: could not check ({kind})", False
                yield f"    why: {result.evidence}", False
            elif result.failed:
                yield f"  {_named(result)}: {result.outcome} ({kind})", False
                yield f"    fix: {result.remediation}", False
            elif result.outcome == WAIVED and result.waiver is not None:
                yield (
                    f"  {result.check_id} waived until {result.waiver['expires']}: {result.waiver['justification']}",
                    False,
                )
    for note in run.expired_waivers:
        yield f"expired waiver, not applied: {note}", False
    if run.compared_with is not None:
        yield f"since {run.compared_with}: {len(run.changes)} change(s)", False
        for change in run.changes:
            yield (
                f"  {change.host} {change.key}: {change.kind} ({change.before or '-'} -> {change.after or '-'})",
                False,
            )
    if run.partial:
        yield f"PARTIAL: a selection left checks out: {'; '.join(run.partial)}", False
    if run.signoff_refused:
        yield run.signoff_refused, True
    if run.simulated:
        yield simulated_line(run), True
    if probed is not None:
        hosts, seconds, at_once = probed
        yield f"probed {hosts} host(s) in {seconds:.1f} s, {at_once} at once, before the checks", False
    yield f"verdict: {run.run_verdict()}", False
    for path in files:
        yield f"report: {path}", False
