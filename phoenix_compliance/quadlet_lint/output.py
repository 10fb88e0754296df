"""Rendering lint findings: compiler-style text, JSON for scripts, SARIF 2.1.0 for code scanners.

Kept apart from the linter so each format can be read (and parsed back in the
selftests) on its own; nothing here decides what is a problem.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote

from phoenix_compliance import security
from phoenix_compliance.quadlet_lint.findings import Finding
from phoenix_compliance.redact import redact
from phoenix_compliance.rules import RuleSpec

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "phoenix-compliance lint"

# SARIF has no "info" level; "note" is its name for it.
_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
_SEVERITY_ORDER = ("error", "warning", "info")


@dataclass(frozen=True)
class LintRun:
    """What was judged and against what: the context every format reports."""

    findings: Sequence[Finding]
    rules: Sequence[RuleSpec]  # the rules of the profile, reported by SARIF even when silent
    files: Sequence[str]
    podman_version: str
    version_source: str  # "--podman-version", "installed podman", or why neither
    profile: str

    def __post_init__(self) -> None:
        # Every format shows what a unit says, and a unit may hold a secret (`DB_PASSWORD hunter2`
        # quoted by QL001): the texts pass the one redactor before any format sees them.
        shown = [replace(f, message=redact(f.message), fix=redact(f.fix)) for f in self.findings]
        object.__setattr__(self, "findings", shown)

    def counts(self) -> dict[str, int]:
        counted = Counter(finding.severity for finding in self.findings)
        return {severity: counted.get(severity, 0) for severity in _SEVERITY_ORDER}


def _tool_version() -> str:
    try:
        return metadata.version("phoenix-compliance")
    except metadata.PackageNotFoundError:
        return "0"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render_text(run: LintRun) -> str:
    """One line per finding, as compilers print them, then a summary line."""
    lines = [f"{f.path}:{f.line}: {f.severity}[{f.rule_id}]: {f.message} (fix: {f.fix})" for f in run.findings]
    counts = run.counts()
    lines.append(
        f"{_plural(counts['error'], 'error')}, {_plural(counts['warning'], 'warning')}, "
        f"{counts['info']} info in {_plural(len(run.files), 'file')} "
        f"(Podman {run.podman_version} from {run.version_source}, profile {run.profile})"
    )
    return "\n".join(lines) + "\n"


def render_json(run: LintRun) -> str:
    document: dict[str, Any] = {
        "tool": TOOL_NAME,
        "version": _tool_version(),
        "podman_version": run.podman_version,
        "podman_version_source": run.version_source,
        "profile": run.profile,
        "files": list(run.files),
        "summary": run.counts(),
        "findings": [
            {
                "rule_id": f.rule_id,
                "severity": f.severity,
                "path": f.path,
                "line": f.line,
                "key": f.key,
                "message": f.message,
                "fix": f.fix,
            }
            for f in run.findings
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def artifact_uri(path: str) -> str:
    """A relative path stays a relative URI reference (resolved against the checkout by
    code-scanning services); an absolute one becomes a file: URI."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate.as_uri()
    return quote(candidate.as_posix())


def same_judgement(rule: RuleSpec) -> list[str]:
    """The other ids of a lint rule's judgement: the security rule and the check that reports it."""
    if rule.same_as is None:
        return []
    other = next((found for found in security.RULES if found.id == rule.same_as), None)
    return [rule.same_as] + ([other.check] if other is not None and other.check else [])


def _sarif_rule(rule: RuleSpec) -> dict[str, Any]:
    descriptor: dict[str, Any] = {
        "id": rule.rule_id,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": f"{rule.title} ({rule.severity})"},
        "defaultConfiguration": {"level": _SARIF_LEVEL[rule.severity]},
    }
    if rule.same_as is not None:
        descriptor["properties"] = {"sameJudgementAs": same_judgement(rule)}
    return descriptor


def render_sarif(run: LintRun) -> str:
    rules = list(run.rules)
    index = {rule.rule_id: number for number, rule in enumerate(rules)}
    results: list[dict[str, Any]] = []
    for f in run.findings:
        result: dict[str, Any] = {
            "ruleId": f.rule_id,
            "level": _SARIF_LEVEL[f.severity],
            "message": {"text": f"{f.message} Fix: {f.fix}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(f.path)},
                        "region": {"startLine": f.line},
                    }
                }
            ],
            "properties": {"key": f.key, "fix": f.fix},
        }
        if f.rule_id in index:
            result["ruleIndex"] = index[f.rule_id]
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": TOOL_NAME,
                        "version": _tool_version(),
                        "rules": [_sarif_rule(rule) for rule in rules],
                    }
                },
                "invocations": [{"executionSuccessful": True}],
                "properties": {
                    "podmanVersion": run.podman_version,
                    "podmanVersionSource": run.version_source,
                    "profile": run.profile,
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif}
