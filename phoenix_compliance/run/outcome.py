"""A check's pytest report turned into the report's outcome and evidence, where the check ran.

The judgement travels on the report (`report.phoenix`), which pytest-xdist carries to the
controller; evidence is redacted here, at the boundary, before anything shows or stores it.
"""

from __future__ import annotations

import datetime as dt

import pytest

from phoenix_compliance.catalogue import CheckSpec
from phoenix_compliance.checks import NOT_APPLICABLE_PREFIX, spec_of
from phoenix_compliance.parsers import waivers as waivers_module
from phoenix_compliance.parsers.waivers import Waiver
from phoenix_compliance.redact import redact
from phoenix_compliance.report.model import ERROR, FAILED, NOT_APPLICABLE, PASSED, SKIPPED, WAIVED
from phoenix_compliance.run.hosts import item_host
from phoenix_compliance.run.state import STATE
from phoenix_compliance.transport.runner import HostUnreachable

# What a check saw (the `observed` fixture), shown as its evidence when it passes.
OBSERVED = pytest.StashKey[list[str]]()


def judge(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """Label a check's reports with its metadata and judge the phase that decides its outcome."""
    spec = spec_of(item)
    if spec is None:
        return
    host_id = item_host(item)
    if call.when == "setup":
        # On the item, so that every later report (JUnit reads teardown's) carries them.
        metadata = [("check_id", spec.id), ("phase", spec.phase), ("severity", spec.severity), ("host", host_id)]
        item.user_properties.extend(metadata)
        report.user_properties.extend(metadata)
    if call.when == "call" or (call.when == "setup" and not report.passed):
        _record(item, call, report, spec, host_id)


def _failure_text(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    text = str(excinfo.value)
    # Drop pytest's re-written assertion detail; the message is the evidence.
    text = text.split("\nassert ", 1)[0]
    return text.strip() or excinfo.typename


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
        outcome, waiver = apply_waiver(state.waivers, spec.id, host_id, outcome)
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


def apply_waiver(
    waivers: list[Waiver], check_id: str, host_id: str, outcome: str
) -> tuple[str, dict[str, str | bool] | None]:
    """A live waiver turns a failure into WAIVED; an expired one is recorded, not applied."""
    waiver = waivers_module.find(waivers, check_id, host_id)
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
