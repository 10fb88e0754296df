"""JSON results read back into the report model: verified first (digest, and signature when a
signer is named, as `verify` does), then merged (the shards of one fleet run) or lined up
(nightly runs for a trend). Plain data, no pytest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phoenix_compliance.report.bounded import TOO_LARGE
from phoenix_compliance.report.model import Change, CheckResult, RunReport, Signoff, natural
from phoenix_compliance.report.result_format import FORMAT, FORMATS
from phoenix_compliance.report.signing import verify_report

# Exit codes of merge and trend when they refuse their inputs (README "Fleets and CI"); a
# merged run otherwise exits with the check's own codes (run/reporter.py). Above 14, the
# highest code a check run has.
EXIT_INPUT_ALTERED = 15
EXIT_INPUTS_DISAGREE = 16
REFUSALS = {
    EXIT_INPUT_ALTERED: "an input is not intact: changed, truncated, not a JSON result, or not signed by --signer",
    EXIT_INPUTS_DISAGREE: "the inputs are no shards of one run: two judged the same host, or their phases,"
    " stack manifest or suite version differ",
}


class ResultRefused(Exception):
    """An input the command will not use; its exit code says why."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class LoadedResult:
    path: Path
    run: RunReport
    digest: str


def load_result(path: Path, signer: Path | None) -> LoadedResult:
    """A verified JSON result as the model; ResultRefused when it is not intact or no result."""
    if path.suffix != ".json":
        raise ResultRefused(f"{path}: not a JSON result (the .json a run writes)", EXIT_INPUT_ALTERED)
    # Read once, bounded and from a regular file only, verified and held to the format
    # (signing.verify_report); the model is built from those very bytes.
    verdict = verify_report(path, signer)
    if not verdict.intact or verdict.document is None:
        reason = "; ".join(verdict.lines)
        if verdict.unreadable and f": {TOO_LARGE} " in reason:
            # A merged result of thousands of hosts: its shards' results are read back instead.
            reason += " (read back its shards' results: each is a result of this suite on its own)"
        elif verdict.unreadable:
            # A truncated file is no JSON at all, and as refused as an edited one.
            reason += " (truncated, or no result of this suite)"
        raise ResultRefused(f"refused: {reason}", EXIT_INPUT_ALTERED)
    document = verdict.document
    try:
        run = from_document(document)
        recorded = {host: document["hosts"][host]["verdicts"] for host in run.hosts}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultRefused(
            f"{path}: not a result of this suite's format {FORMAT} (at {exc})", EXIT_INPUT_ALTERED
        ) from None
    for host in run.hosts.values():
        if host.verdicts(run.shown_phases) != recorded[host.host]:
            raise ResultRefused(
                f"{path}: {host.host} was judged by other rules than this suite's"
                f" (suite {run.suite_version}); merge with the version that ran it",
                EXIT_INPUTS_DISAGREE,
            )
    return LoadedResult(path, run, str(document["digest"]))


def _text(record: dict[str, Any], key: str) -> str:
    value = record[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} is not a string")
    return value


def from_document(document: dict[str, Any]) -> RunReport:
    """The model of a run from its JSON document (outputs.to_document's inverse)."""
    if document.get("format") not in FORMATS:
        raise ValueError(f"format {document.get('format')!r}")
    # Format 2 names what a check is once, under "checks"; format 1 repeated it in each result.
    checks: dict[str, Any] = document.get("checks", {})
    meta = document["run"]
    signoff = meta["signoff"]
    run = RunReport(
        started=_text(meta, "started"),
        phases=tuple(str(phase) for phase in meta["phases"]),
        stack=_text(meta, "stack"),
        suite_version=_text(meta, "suite_version"),
        stack_digest=_text(meta, "stack_sha256"),
        finished=_text(meta, "finished"),
        signoff=Signoff(_text(signoff, "name"), _text(signoff, "signed_at")) if signoff else None,
        signoff_refused=meta["signoff_refused"],
        expired_waivers=[str(note) for note in meta["expired_waivers"]],
        compared_with=meta["compared_with"],
    )
    for host_id, record in document["hosts"].items():
        host = run.host(host_id)
        host.facts = {str(name): str(value) for name, value in record["facts"].items()}
        host.unreachable = record["unreachable"]
        host.commands_run = int(record["commands_run"])
        host.expected = {str(phase): int(counts[1]) for phase, counts in record["coverage"].items()}
    for result in document["results"]:
        key = _text(result, "key")
        check = checks[result["id"]] if checks else result
        run.host(_text(result, "host")).results.append(
            CheckResult(
                host=_text(result, "host"),
                check_id=_text(result, "id"),
                phase=_text(check, "phase"),
                severity=_text(check, "severity"),
                title=_text(check, "title"),
                outcome=_text(result, "outcome"),
                evidence=_text(result, "evidence"),
                remediation=_text(check, "remediation"),
                # The key is the check id and the node's own name: give that name back.
                nodeid=key.split(" ", 1)[1] if " " in key else key,
                duration=float(result["duration"]),
                waiver=result["waiver"],
                subject=_text(result, "subject"),
            )
        )
    run.changes = [Change(**change) for change in document["changes"]]
    return run


def refuse_repeats(results: list[LoadedResult]) -> None:
    """The same result given twice (under two names, too) would count its hosts twice."""
    seen: dict[str, Path] = {}
    for loaded in results:
        if loaded.digest in seen:
            raise ResultRefused(
                f"{loaded.path} is the same result as {seen[loaded.digest]} (digest {loaded.digest[:16]}...)",
                EXIT_INPUTS_DISAGREE,
            )
        seen[loaded.digest] = loaded.path


def merge(results: list[LoadedResult]) -> RunReport:
    """One run from the shards' results: the hosts side by side, each judged by its own shard.
    ResultRefused when two shards judged the same host or the shards ran different runs."""
    first = results[0]
    for other in results[1:]:
        for what, mine, theirs in (
            ("phases", first.run.phases, other.run.phases),
            ("stack manifest", first.run.stack_digest, other.run.stack_digest),
            ("suite version", first.run.suite_version, other.run.suite_version),
        ):
            if mine != theirs:
                raise ResultRefused(
                    f"{first.path} and {other.path} are no shards of one run: their {what} differ"
                    f" ({_shown(mine)} against {_shown(theirs)})",
                    EXIT_INPUTS_DISAGREE,
                )
    judged_by: dict[str, Path] = {}
    for loaded in results:
        for host_id in loaded.run.hosts:
            if host_id in judged_by:
                raise ResultRefused(
                    f"{host_id} is judged by both {judged_by[host_id]} and {loaded.path}: shards judge"
                    " each host once (--shard K/N with one N for every job)",
                    EXIT_INPUTS_DISAGREE,
                )
            judged_by[host_id] = loaded.path
    runs = [loaded.run for loaded in results]
    merged = RunReport(
        started=min(run.started for run in runs),
        phases=first.run.phases,
        stack=first.run.stack,
        suite_version=first.run.suite_version,
        stack_digest=first.run.stack_digest,
        finished=max(run.finished for run in runs),
    )
    for run in sorted(runs, key=lambda run: min(run.hosts, default="")):
        merged.hosts.update(run.hosts)
        merged.expired_waivers += [note for note in run.expired_waivers if note not in merged.expired_waivers]
        merged.changes += run.changes
    compared = sorted({run.compared_with for run in runs if run.compared_with})
    merged.compared_with = ", ".join(compared) or None
    refused = [run.signoff_refused for run in runs if run.signoff_refused]
    signers = {run.signoff.name for run in runs if run.signoff}
    if refused:
        merged.signoff_refused = "; ".join(refused)
    elif len(signers) == 1 and all(run.signoff for run in runs):
        # Every shard vouched by the same person: so is the whole.
        merged.signoff = max((run.signoff for run in runs if run.signoff), key=lambda s: s.signed_at)
    merged.hosts = {name: merged.hosts[name] for name in sorted(merged.hosts, key=natural)}
    return merged


def _shown(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(str(part) for part in value)
    text = str(value)
    return text[:16] + "..." if len(text) == 64 else text


def previous_outcomes(run: RunReport) -> dict[str, dict[str, str]]:
    """A run's outcomes by host and check key, as outputs.compare takes a previous run's."""
    return {host.host: {result.key: result.outcome for result in host.results} for host in run.hosts.values()}
