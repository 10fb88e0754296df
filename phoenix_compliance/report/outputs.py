"""Machine-readable outputs rendered from the report model: JSON, a Prometheus
textfile, and the comparison with a previous run's JSON."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from phoenix_compliance.redact import redact, redact_data
from phoenix_compliance.report.bounded import InputRefused, read_report_bytes
from phoenix_compliance.report.model import (
    COULD_NOT_CHECK,
    ERROR,
    FAILED,
    NOT_APPLICABLE,
    OUTCOMES,
    SKIPPED,
    WAIVED,
    Change,
    CheckResult,
    RunReport,
)
from phoenix_compliance.report.result_format import FORMAT as FORMAT  # written here, checked there
from phoenix_compliance.report.result_format import FORMAT_1, FORMATS

# Fields of the JSON that the digest cannot cover: the digest itself and its signature.
UNSIGNED_FIELDS = ("digest", "signature")


def to_document(run: RunReport) -> dict[str, Any]:
    """The whole run as plain data: one record per host and check, plus run metadata; redacted
    (the output boundary of the JSON, before its digest)."""
    return dict(redact_data(_document(run)))


def _document(run: RunReport) -> dict[str, Any]:
    phases = run.shown_phases
    return {
        "format": FORMAT,
        "run": {
            "started": run.started,
            "finished": run.finished,
            "suite_version": run.suite_version,
            "stack": run.stack,
            "stack_sha256": run.stack_digest,
            "phases": list(phases),
            "signoff": asdict(run.signoff) if run.signoff else None,
            "signoff_refused": run.signoff_refused,
            "verdict": run.run_verdict(),
            "partial": run.partial,
            "expired_waivers": run.expired_waivers,
            "compared_with": run.compared_with,
        },
        "hosts": {
            host.host: {
                "facts": host.facts,
                "unreachable": host.unreachable,
                "commands_run": host.commands_run,
                "verdicts": host.verdicts(phases),
                # checks run and checks of the phase; fewer run is a PARTIAL phase.
                "coverage": {phase: list(host.coverage(phase)) for phase in phases},
            }
            for host in run.hosts.values()
        },
        # What each check is, once (format 2): not repeated in each of a fleet's results.
        "checks": {
            result.check_id: {
                "phase": result.phase,
                "severity": result.severity,
                "title": result.title,
                "remediation": result.remediation,
            }
            for host in run.hosts.values()
            for result in host.results
        },
        "results": [
            {
                "host": result.host,
                "id": result.check_id,
                "key": result.key,
                "subject": result.subject,
                "outcome": result.outcome,
                "evidence": result.evidence,
                "duration": round(result.duration, 4),
                "waiver": result.waiver,
            }
            for host in run.hosts.values()
            for result in host.results
        ],
        "changes": [asdict(change) for change in run.changes],
    }


def canonical_digest(document: dict[str, Any]) -> str:
    """SHA-256 over every field a reader sees, in a canonical spelling."""
    covered = {key: value for key, value in document.items() if key not in UNSIGNED_FIELDS}
    text = json.dumps(covered, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def json_text(document: dict[str, Any]) -> str:
    """The one spelling of a JSON report of its format: `verify` rejects a file in any other.
    Format 2 is compact (no blanks: a fleet's result is read back within its bound and written
    by json's C encoder); format 1, read back still, was indented."""
    if document.get("format") == FORMAT_1:
        return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":")) + "\n"


def write_json(document: dict[str, Any], path: Path) -> None:
    path.write_text(json_text(document), encoding="utf-8")


def prometheus_label(value: str) -> str:
    """A label value, redacted (each value once: a fleet's file is never redacted as one text) and escaped."""
    value = redact(value)
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_prometheus(run: RunReport, timestamp: float) -> str:
    """A node_exporter textfile: gates, checks and reachability per host; every label value
    redacted (the rest is the suite's own words and numbers)."""
    phases = run.shown_phases
    lines = [
        "# HELP phoenix_phase_ready 1 when the phase gate is READY for the host, 0 otherwise (PARTIAL included).",
        "# TYPE phoenix_phase_ready gauge",
    ]
    for host in run.hosts.values():
        for phase, verdict in host.verdicts(phases).items():
            if verdict != "NOT RUN":
                lines.append(
                    f'phoenix_phase_ready{{host="{prometheus_label(host.host)}",phase="{phase}"}} '
                    f"{1 if verdict == 'READY' else 0}"
                )
    lines += [
        "# HELP phoenix_phase_partial 1 when a selection left checks of the phase out (n of m ran).",
        "# TYPE phoenix_phase_partial gauge",
    ]
    for host in run.hosts.values():
        for phase in phases:
            ran, total = host.coverage(phase)
            if total:
                labels = f'host="{prometheus_label(host.host)}",phase="{phase}",ran="{ran}",of="{total}"'
                lines.append(f"phoenix_phase_partial{{{labels}}} {1 if ran < total else 0}")
    lines += [
        "# HELP phoenix_check_passed 1 when the check passed (or is waived), 0 when it failed or could not be checked.",
        "# TYPE phoenix_check_passed gauge",
    ]
    for host in run.hosts.values():
        for result in host.results:
            if result.outcome not in (SKIPPED, NOT_APPLICABLE):
                labels = (
                    f'host="{prometheus_label(host.host)}",check="{prometheus_label(result.check_id)}",'
                    f'key="{prometheus_label(result.key)}",phase="{result.phase}",severity="{result.severity}"'
                )
                lines.append(f"phoenix_check_passed{{{labels}}} {0 if result.failed else 1}")
    lines += [
        "# HELP phoenix_host_reachable 1 when the host answered its probes.",
        "# TYPE phoenix_host_reachable gauge",
    ]
    for host in run.hosts.values():
        lines.append(f'phoenix_host_reachable{{host="{prometheus_label(host.host)}"}} {0 if host.unreachable else 1}')
    lines += [
        "# HELP phoenix_run_timestamp_seconds When the run finished.",
        "# TYPE phoenix_run_timestamp_seconds gauge",
        f"phoenix_run_timestamp_seconds {timestamp:.0f}",
    ]
    return "\n".join(lines) + "\n"


def to_junit(run: RunReport) -> str:
    """JUnit XML from the model, for a report no pytest run wrote (merge): a case per host and
    check, carrying the properties a run's cases carry (check id, phase, severity, host, evidence).
    Every text is redacted on its own before it is written (each distinct text once: a fleet's
    file of some 100,000 cases redacted as one text took 40 s)."""
    cases = [_redacted_result(result) for host in run.hosts.values() for result in host.results]
    suite = ET.Element(
        "testsuite",
        name="phoenix-compliance",
        tests=str(len(cases)),
        failures=str(sum(1 for r in cases if r.outcome in (FAILED, COULD_NOT_CHECK))),
        errors=str(sum(1 for r in cases if r.outcome == ERROR)),
        skipped=str(sum(1 for r in cases if r.outcome in (SKIPPED, NOT_APPLICABLE))),
        time=f"{sum(r.duration for r in cases):.3f}",
        timestamp=run.started,
    )
    for result in cases:
        case = ET.SubElement(
            suite, "testcase", classname=f"phase{result.phase}", name=result.key, time=f"{result.duration:.3f}"
        )
        properties = ET.SubElement(case, "properties")
        for name, value in (
            ("check_id", result.check_id),
            ("phase", result.phase),
            ("severity", result.severity),
            ("host", result.host),
            ("evidence", result.evidence),
        ):
            ET.SubElement(properties, "property", name=name, value=value)
        if result.waiver and result.outcome == WAIVED:
            ET.SubElement(properties, "property", name="waiver", value=str(result.waiver["justification"]))
        if result.outcome in (FAILED, COULD_NOT_CHECK):
            ET.SubElement(case, "failure", message=f"{result.outcome}: {result.title}").text = result.evidence
        elif result.outcome == ERROR:
            ET.SubElement(case, "error", message=result.title).text = result.evidence
        elif result.outcome in (SKIPPED, NOT_APPLICABLE):
            ET.SubElement(case, "skipped", message=f"{result.outcome}: {result.evidence}")
    root = ET.Element("testsuites", name="phoenix-compliance")
    root.append(suite)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _redacted_result(result: CheckResult) -> CheckResult:
    waiver = result.waiver and {**result.waiver, "justification": redact(str(result.waiver["justification"]))}
    return replace(
        result,
        host=redact(result.host),
        check_id=redact(result.check_id),
        title=redact(result.title),
        evidence=redact(result.evidence),
        nodeid=redact(result.nodeid),
        waiver=waiver,
    )


class CompareError(ValueError):
    pass


def load_previous(path: Path) -> dict[str, dict[str, str]]:
    """Outcomes of a previous run's JSON, by host and check key; any field not as written is a CompareError."""
    try:
        document = json.loads(read_report_bytes(path).decode("utf-8"))
    except InputRefused as exc:
        raise CompareError(str(exc)) from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CompareError(f"{path}: cannot read a previous run's JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") not in FORMATS:
        raise CompareError(f"{path}: not a phoenix-compliance JSON report (format {FORMAT})")
    results = document.get("results", [])
    if not isinstance(results, list):
        raise CompareError(f"{path}: 'results' is not a list")
    outcomes: dict[str, dict[str, str]] = {}
    for index, record in enumerate(results):
        if not isinstance(record, dict):
            raise CompareError(f"{path}: results[{index}] is not an object")
        for field in ("host", "key", "outcome"):
            if not isinstance(record.get(field), str):
                raise CompareError(f"{path}: results[{index}].{field} is missing or not a string")
        if record["outcome"] not in OUTCOMES:
            # Else counted as neither failed nor passed: no change would ever be shown for it.
            raise CompareError(
                f"{path}: results[{index}].outcome {record['outcome']!r} is not an outcome of this suite"
                f" ({', '.join(OUTCOMES)})"
            )
        outcomes.setdefault(record["host"], {})[record["key"]] = record["outcome"]
    return outcomes


def compare(run: RunReport, previous: dict[str, dict[str, str]]) -> list[Change]:
    """Newly failing, fixed, new and removed checks, per host."""
    bad = (FAILED, ERROR, COULD_NOT_CHECK)
    changes: list[Change] = []
    for host in run.hosts.values():
        before = previous.get(host.host, {})
        now = {result.key: result.outcome for result in host.results}
        for key, outcome in sorted(now.items()):
            if key not in before:
                changes.append(Change(host.host, key, "new", None, outcome))
            elif outcome in bad and before[key] not in bad:
                changes.append(Change(host.host, key, "newly failing", before[key], outcome))
            elif outcome not in bad and before[key] in bad:
                changes.append(Change(host.host, key, "fixed", before[key], outcome))
        for key in sorted(set(before) - set(now)):
            changes.append(Change(host.host, key, "removed", before[key], None))
    return changes
