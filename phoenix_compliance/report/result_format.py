"""The shape of a JSON result as the suite writes it (outputs.to_document), checked field by
field before a result given back is believed: every field present, of its type, a number
finite, an outcome, severity, phase, verdict or change one this suite knows, every result of
a host the run lists. The first field not as written is a MalformedResult naming
its JSON path (`results[3].outcome`): an outcome no gate knows would otherwise count as
neither failed nor blocking. Plain data, no pytest."""

from __future__ import annotations

import math
from collections.abc import Collection
from typing import Any

from phoenix_compliance.catalogue import PHASES, SEVERITIES
from phoenix_compliance.report.model import OUTCOMES, VERDICTS

# The one home of the format's name (outputs writes it, every reader checks it). Format 2
# (compact JSON; a check's phase, severity, title and remediation once, under "checks", not
# repeated in every host's result: a 1,000-host result is 42 MB, not 87) is written; format 1
# (indented, each result whole) is still read back.
FORMAT = "phoenix-compliance/2"
FORMAT_1 = "phoenix-compliance/1"
FORMATS = (FORMAT, FORMAT_1)
CHANGE_KINDS = ("newly failing", "fixed", "new", "removed")
_TOP_1 = ("format", "run", "hosts", "results", "changes", "digest")
_TOP = ("format", "run", "hosts", "checks", "results", "changes", "digest")
_RUN = (
    "started",
    "finished",
    "suite_version",
    "stack",
    "stack_sha256",
    "phases",
    "signoff",
    "signoff_refused",
    "verdict",
    "partial",
    "expired_waivers",
    "compared_with",
)
_HOST = ("facts", "unreachable", "commands_run", "verdicts", "coverage")
_RESULT_1 = (
    "host",
    "id",
    "key",
    "phase",
    "severity",
    "title",
    "subject",
    "outcome",
    "evidence",
    "remediation",
    "duration",
    "waiver",
)
# What a check is, the same on every host (format 2's "checks", by id).
CHECK_FIELDS = ("phase", "severity", "title", "remediation")
_RESULT = tuple(key for key in _RESULT_1 if key not in CHECK_FIELDS)
_WAIVER = ("justification", "expires", "where", "expired")
_CHANGE = ("host", "key", "kind", "before", "after")


class MalformedResult(ValueError):
    """A field of a result not as the suite writes it, at its JSON path."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"at {where}: {message}")
        self.where = where


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _object(value: Any, where: str, keys: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedResult(where or "the top level", f"expected an object, found {_kind(value)}")
    for key in keys:
        if key not in value:
            raise MalformedResult(_at(where, key), "missing")
    for key in value:
        if key not in keys and key not in optional:
            raise MalformedResult(_at(where, key), "a field this suite does not write")
    return value


def _at(where: str, key: str) -> str:
    if key.isidentifier():
        return f"{where}.{key}" if where else key
    return f"{where}[{_shown(key)}]"


def _shown(value: Any) -> str:
    # A value quoted in a refusal: as Python spells it (control characters escaped), cut short.
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _string(value: Any, where: str, nullable: bool = False) -> str | None:
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise MalformedResult(where, f"expected a string{' or null' if nullable else ''}, found {_kind(value)}")
    return value


def _choice(value: Any, where: str, choices: Collection[str], what: str) -> str:
    text = _string(value, where)
    if text not in choices:
        raise MalformedResult(where, f"{_shown(text)} is not {what} of this suite ({', '.join(choices)})")
    return str(text)


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedResult(where, f"expected a count (a whole number, 0 or more), found {_shown(value)}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list):
        raise MalformedResult(where, f"expected a list of strings, found {_kind(value)}")
    for index, item in enumerate(value):
        _string(item, f"{where}[{index}]")
    return value


def non_finite(value: Any, where: str = "") -> str | None:
    """The JSON path of the first NaN or Infinity in a parsed document (JSON has neither), or None."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return path
        if isinstance(item, dict):
            stack.extend((child, _at(path, str(key))) for key, child in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]") for index, child in reversed(list(enumerate(item))))
    return None


def check_document(document: Any) -> None:
    """Raise MalformedResult at the first field of a JSON result not as the suite writes it."""
    if not isinstance(document, dict):
        raise MalformedResult("the top level", f"expected an object, found {_kind(document)}")
    if document.get("format") not in FORMATS:
        raise MalformedResult("format", f"{_shown(document.get('format'))} is not this suite's format {FORMAT}")
    legacy = document["format"] == FORMAT_1
    top = _object(document, "", _TOP_1 if legacy else _TOP, optional=("signature",))
    _string(top["digest"], "digest")
    if "signature" in top:
        _string(top["signature"], "signature")
    run = _object(top["run"], "run", _RUN)
    for key in ("started", "finished", "suite_version", "stack", "stack_sha256"):
        _string(run[key], f"run.{key}")
    for key in ("signoff_refused", "compared_with"):
        _string(run[key], f"run.{key}", nullable=True)
    phases = _strings(run["phases"], "run.phases")
    for index, phase in enumerate(phases):
        _choice(phase, f"run.phases[{index}]", PHASES, "a phase")
    if len(set(phases)) != len(phases):
        raise MalformedResult("run.phases", "a phase listed twice")
    if run["signoff"] is not None:
        signoff = _object(run["signoff"], "run.signoff", ("name", "signed_at"))
        _string(signoff["name"], "run.signoff.name")
        _string(signoff["signed_at"], "run.signoff.signed_at")
    _choice(run["verdict"], "run.verdict", VERDICTS, "a verdict")
    _strings(run["partial"], "run.partial")
    _strings(run["expired_waivers"], "run.expired_waivers")
    hosts = top["hosts"]
    if not isinstance(hosts, dict):
        raise MalformedResult("hosts", f"expected an object, found {_kind(hosts)}")
    for host_id, raw in hosts.items():
        _host(raw, _at("hosts", host_id), phases)
    checks: dict[str, Any] | None = None
    if not legacy:
        checks = top["checks"]
        if not isinstance(checks, dict):
            raise MalformedResult("checks", f"expected an object, found {_kind(checks)}")
        for check_id, raw in checks.items():
            _check(raw, _at("checks", check_id))
    results = top["results"]
    if not isinstance(results, list):
        raise MalformedResult("results", f"expected a list, found {_kind(results)}")
    for index, raw in enumerate(results):
        _result(raw, f"results[{index}]", hosts, checks)
    changes = top["changes"]
    if not isinstance(changes, list):
        raise MalformedResult("changes", f"expected a list, found {_kind(changes)}")
    for index, raw in enumerate(changes):
        where = f"changes[{index}]"
        change = _object(raw, where, _CHANGE)
        _string(change["host"], f"{where}.host")
        _string(change["key"], f"{where}.key")
        _choice(change["kind"], f"{where}.kind", CHANGE_KINDS, "a kind of change")
        for key in ("before", "after"):
            if change[key] is not None:
                _choice(change[key], f"{where}.{key}", OUTCOMES, "an outcome")


def _host(raw: Any, where: str, phases: list[str]) -> None:
    host = _object(raw, where, _HOST)
    facts = host["facts"]
    if not isinstance(facts, dict):
        raise MalformedResult(f"{where}.facts", f"expected an object, found {_kind(facts)}")
    for name, value in facts.items():
        _string(value, _at(f"{where}.facts", name))
    _string(host["unreachable"], f"{where}.unreachable", nullable=True)
    _count(host["commands_run"], f"{where}.commands_run")
    verdicts, coverage = host["verdicts"], host["coverage"]
    if not isinstance(verdicts, dict) or sorted(verdicts) != sorted(phases):
        raise MalformedResult(
            f"{where}.verdicts", f"expected one verdict per phase of run.phases, found {_shown(verdicts)}"
        )
    # A phase's coverage may outlive its verdict (a result trimmed to fewer phases); every phase judged has one.
    if not isinstance(coverage, dict) or not set(phases) <= set(coverage):
        raise MalformedResult(
            f"{where}.coverage", f"expected the coverage of every phase of run.phases, found {_shown(coverage)}"
        )
    for phase in coverage:
        _choice(phase, _at(f"{where}.coverage", phase), PHASES, "a phase")
    for phase, verdict in host["verdicts"].items():
        _choice(verdict, _at(f"{where}.verdicts", phase), VERDICTS, "a verdict")
    for phase, counts in host["coverage"].items():
        at = _at(f"{where}.coverage", phase)
        if not isinstance(counts, list) or len(counts) != 2:
            raise MalformedResult(at, f"expected [checks run, checks of the phase], found {_shown(counts)}")
        ran, total = _count(counts[0], f"{at}[0]"), _count(counts[1], f"{at}[1]")
        if ran > total:
            raise MalformedResult(at, f"{ran} checks run of {total}")


def _check(raw: Any, where: str) -> None:
    check = _object(raw, where, CHECK_FIELDS)
    for key in ("title", "remediation"):
        _string(check[key], f"{where}.{key}")
    # A result of a phase the run does not list counts in no verdict shown, as the phase is not shown.
    _choice(check["phase"], f"{where}.phase", PHASES, "a phase")
    _choice(check["severity"], f"{where}.severity", SEVERITIES, "a severity")


def _result(raw: Any, where: str, hosts: dict[str, Any], checks: dict[str, Any] | None) -> None:
    """A result of format 2 (its check in `checks`) or of format 1 (checks None: the result whole)."""
    result = _object(raw, where, _RESULT_1 if checks is None else _RESULT)
    for key in ("id", "key", "subject", "evidence"):
        _string(result[key], f"{where}.{key}")
    host = _string(result["host"], f"{where}.host")
    if host not in hosts:
        raise MalformedResult(f"{where}.host", f"{_shown(host)} is not one of the hosts the result lists")
    if checks is None:
        _check({key: result[key] for key in CHECK_FIELDS}, where)
    elif result["id"] not in checks:
        raise MalformedResult(f"{where}.id", f"{_shown(result['id'])} is not one of the checks the result lists")
    _choice(result["outcome"], f"{where}.outcome", OUTCOMES, "an outcome")
    duration = result["duration"]
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int | float)
        or not math.isfinite(duration)
        or duration < 0
    ):
        raise MalformedResult(
            f"{where}.duration", f"expected seconds (a finite number, 0 or more), found {_shown(duration)}"
        )
    if result["waiver"] is not None:
        waiver = _object(result["waiver"], f"{where}.waiver", _WAIVER)
        for key in ("justification", "expires", "where"):
            _string(waiver[key], f"{where}.waiver.{key}")
        if not isinstance(waiver["expired"], bool):
            raise MalformedResult(
                f"{where}.waiver.expired", f"expected true or false, found {_kind(waiver['expired'])}"
            )
