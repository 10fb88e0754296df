"""A check's pytest report turned into the report's outcome and evidence, where the check ran.

What a check raised decides its outcome, in one place (`classify`): an assertion or
pytest.fail is a failure; CouldNotCheck (facts), ApiUnavailable (the API) and HostUnreachable
(the host) are "could not check"; pytest.skip is not applicable or skipped; anything else is
an error of the suite itself, its traceback kept in the log. So a check body reads as a
sentence and never decides how a missing fact is shown.

The judgement travels on the report (`report.phoenix`), which pytest-xdist carries to the
controller; evidence is redacted here, at the boundary, before anything shows or stores it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import pytest

from phoenix_compliance.catalogue import CheckSpec
from phoenix_compliance.checks import NOT_APPLICABLE_PREFIX, spec_of
from phoenix_compliance.facts.groups import CouldNotCheck
from phoenix_compliance.parsers import waivers as waivers_module
from phoenix_compliance.parsers.manifest import Endpoint
from phoenix_compliance.parsers.waivers import Waiver
from phoenix_compliance.redact import redact
from phoenix_compliance.report.model import (
    COULD_NOT_CHECK,
    ERROR,
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    SKIPPED,
    WAIVED,
)
from phoenix_compliance.run.hosts import item_host
from phoenix_compliance.run.state import STATE
from phoenix_compliance.transport.podman_api import ApiUnavailable
from phoenix_compliance.transport.runner import HostUnreachable

# What a check may raise when a fact it needs could not be gathered.
NOT_GATHERED = (CouldNotCheck, ApiUnavailable, HostUnreachable)

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


def plain_report(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport | None:
    """A check's report without pytest's traceback, when `_record` puts the check's own text in
    its place (a failure, a could-not-check); None for pytest to build (passed, skipped, a suite
    error, which keeps its traceback). pytest formats a traceback by re-reading and compiling the
    check's module source, some 50 ms a report: on a fleet with unreachable hosts that was the
    largest cost of the run, for text thrown away."""
    excinfo = call.excinfo
    if excinfo is None or spec_of(item) is None or call.when not in ("setup", "call"):
        return None
    when: Literal["setup", "call"] = "setup" if call.when == "setup" else "call"
    if classify(excinfo.value)[0] not in (FAILED, COULD_NOT_CHECK):
        return None
    sections = [(f"Captured {key} {when}", content) for when, key, content in item._report_sections]
    return pytest.TestReport(
        item.nodeid,
        item.location,
        {name: 1 for name in item.keywords},
        "failed",
        f"{type(excinfo.value).__name__}: {excinfo.value}",
        when,
        sections,
        call.duration,
        call.start,
        call.stop,
        user_properties=item.user_properties,
    )


def classify(error: BaseException | None) -> tuple[str, str]:
    """The outcome and evidence of a check that raised `error` (None: it returned)."""
    if error is None:
        return PASSED, ""
    if isinstance(error, pytest.skip.Exception):
        evidence = str(error).removeprefix("Skipped: ")
        if evidence.startswith(NOT_APPLICABLE_PREFIX):
            return NOT_APPLICABLE, evidence.removeprefix(NOT_APPLICABLE_PREFIX)
        return SKIPPED, evidence
    if isinstance(error, ApiUnavailable):
        return COULD_NOT_CHECK, f"the Podman API: {error}"
    if isinstance(error, NOT_GATHERED):
        return COULD_NOT_CHECK, str(error)
    if isinstance(error, (AssertionError, pytest.fail.Exception)):
        # Drop pytest's re-written assertion detail; the message is the evidence.
        text = str(error).split("\nassert ", 1)[0].strip()
        return FAILED, text or type(error).__name__
    return ERROR, f"suite error: {type(error).__name__}: {error}"


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
    # A subject may be an endpoint URL with credentials in it: masked like the evidence.
    subject = redact(subject_of(item))
    if report.passed:
        notes: list[str] = item.stash.get(OBSERVED, [])
        outcome, evidence = PASSED, "\n".join(notes)
    elif excinfo is None:
        outcome, evidence = ERROR, "suite error: the check failed without an exception"
    else:
        outcome, evidence = classify(excinfo.value)
    error = excinfo.value if excinfo is not None else None
    if isinstance(error, HostUnreachable):
        unreachable = error.reason
    named = f"{spec.id} [{spec.severity}] {spec.title}{f' ({subject})' if subject else ''}"
    if outcome == COULD_NOT_CHECK:
        # One line per check, never a traceback: the facts are missing, not the check.
        report.longrepr = f"{named}: could not check: {evidence}"
    elif outcome == FAILED:
        report.longrepr = f"{named}\n  {evidence}\n  remediation: {spec.remediation}"
    # An ERROR keeps pytest's own longrepr: the traceback of the suite's bug.
    # Evidence quotes programs' output: keep a secret's name, never its value.
    evidence = redact(evidence)
    if isinstance(report.longrepr, str):
        report.longrepr = redact(report.longrepr)
    waiver = None
    # A waiver accepts a known failure; what could not be checked or broke the suite is not known.
    if outcome == FAILED:
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
        "subject": subject,
        "outcome": outcome,
        "evidence": evidence,
        "remediation": spec.remediation,
        # xdist's loadgroup appends "@GROUP"; a check's key must not depend on the scheduler.
        "nodeid": item.nodeid.removesuffix(f"@{host_id}"),
        "duration": report.duration,
        "waiver": waiver,
        "unreachable": unreachable,
    }


def subject_of(item: pytest.Item) -> str:
    """What a parametrized check is about: its unit, service or id file, an endpoint as its
    manifest service and URL ("phoenix-core http://localhost:8080"); "" for none."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return ""
    shown = [
        f"{value.service} {value.url}" if isinstance(value, Endpoint) else str(value)
        for name, value in callspec.params.items()
        if name != "_testinfra_host"
    ]
    return ", ".join(shown)


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
