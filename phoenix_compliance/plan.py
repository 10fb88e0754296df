"""The plan an operator runs: per host, one POSIX shell script from a verified result's failures.

The steps come from the checks' own metadata (catalogue.Step, declared with @check(fix=...)),
so a new check brings its own; a failing check without one, and every check that could not be
checked, is a comment naming the check and its remediation. Steps are taken once however many
checks and subjects ask for them, root's (through sudo) in a section before the user's, each in
the guide's order of dependencies, guarded by its `done` test (a second run changes nothing) and
followed by that test again as the re-check. Nothing here runs anything: the script is text.

Every value from the result or the manifest that reaches shell code is quoted (shlex.quote) and
must look like the name it stands for; a comment holds only printable characters. Plain data,
no pytest.
"""

from __future__ import annotations

import hashlib
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from phoenix_compliance.catalogue import ROOT, CheckSpec, Step
from phoenix_compliance.parsers.manifest import Manifest, generated_service
from phoenix_compliance.redact import redact
from phoenix_compliance.report.model import COULD_NOT_CHECK, ERROR, FAILED, CheckResult, HostReport, RunReport

# A name that reaches the script as a word: a user, a unit, a service. Never an option (no
# leading "-"), no slash, no space, no control character; anything else is refused, not quoted.
_NAME = re.compile(r"[A-Za-z0-9_@][A-Za-z0-9_.@:+\-]*")
# The facts' "User" line as facts/identity.py writes it: "phoenix (uid 1000)".
_USER_FACT = re.compile(r"(\S+) \(uid \d+\)")
# Seconds a re-check waits for what a step started to settle (a unit becoming active).
SETTLE_SECONDS = 60
# How much of a result's evidence a comment quotes.
_EVIDENCE_LINES = 4
_EVIDENCE_CHARS = 300

# The shell functions the steps' templates call; the same in every plan.
PRELUDE = r"""set -eu
SUDO=${SUDO:-sudo}
subids_added=0

fail() {
  printf 'plan: %s\n' "$1" >&2
  exit 1
}

# settle SECONDS TEST...: run TEST until it holds, at most SECONDS times one second apart.
settle() {
  phx_left=$1
  shift
  until "$@"; do
    phx_left=$((phx_left - 1))
    [ "$phx_left" -gt 0 ] || return 1
    sleep 1
  done
}

# install_packages "APT-PACKAGES" "DNF-PACKAGES"
install_packages() {
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $1
  elif command -v dnf >/dev/null 2>&1; then
    $SUDO dnf install -y $2
  else
    fail "neither apt-get nor dnf: install $1 by hand"
  fi
}

# has_ids USER UID FILE: at least 65,536 subordinate ids for the user in FILE.
has_ids() {
  awk -F: -v user="$1" -v uid="$2" '$1 == user || $1 == uid { n += $3 } END { exit !(n >= 65536) }' "$3"
}

# same_file PATH TEXT: PATH holds exactly TEXT.
same_file() {
  [ -f "$1" ] && printf '%s' "$2" | cmp -s - "$1"
}

# put_file PATH TEXT: write TEXT to PATH whole (a temporary name beside it, then renamed).
put_file() {
  mkdir -p "$(dirname "$1")"
  printf '%s' "$2" >"$1.plan-new"
  mv -f "$1.plan-new" "$1"
}

# units_loaded UNIT...: systemd has read every unit as it is on disk (no daemon-reload pending).
units_loaded() {
  for phx_unit in "$@"; do
    [ "$(systemctl --user show -p LoadState --value "$phx_unit")" = loaded ] || return 1
    [ "$(systemctl --user show -p NeedDaemonReload --value "$phx_unit")" = no ] || return 1
  done
}
"""


class PlanError(Exception):
    """What a plan cannot be made from (no host of that name, no stack manifest)."""


@dataclass
class _Planned:
    step: Step
    done: str
    command: str
    # The checks (id, subject, phase, test name) the step puts right, in the order met.
    checks: list[tuple[str, str, str, str]] = field(default_factory=list)


@dataclass
class _Note:
    result: CheckResult
    why: str


@dataclass
class HostPlan:
    """One host's plan: the steps to take and what the plan cannot take."""

    host: str
    steps: list[_Planned]
    notes: list[_Note]
    script: str


def comment(text: str, prefix: str = "# ") -> str:
    """Text as shell comment lines: each line prefixed, every unprintable character a "?"."""
    lines = text.splitlines() or [""]
    return "\n".join((prefix + "".join(ch if ch.isprintable() else "?" for ch in line)).rstrip() for line in lines)


def _name(value: str, what: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"the {what} {value!r} is no plain name; the plan will not put it in a command")
    return shlex.quote(value)


def home_path(path: str) -> str:
    """A path as a shell word, "~/" as the running user's "$HOME"; a path that is neither absolute
    nor under ~ is refused."""
    if any(not ch.isprintable() for ch in path):
        raise ValueError(f"the path {path!r} holds control characters")
    if path == "~":
        return '"$HOME"'
    if path.startswith("~/"):
        return '"$HOME"/' + shlex.quote(path[2:])
    if path.startswith("/"):
        return shlex.quote(path)
    raise ValueError(f"the path {path!r} is neither absolute nor under ~")


def user_of(host: HostReport) -> str | None:
    """The stack's user as the run's facts name it."""
    found = _USER_FACT.fullmatch(host.facts.get("User", ""))
    return found.group(1) if found else None


@dataclass
class Context:
    """What a host's plan fills the steps' templates with (besides each result's subject)."""

    user: str
    manifest: Manifest
    # The repository's infra folder (compose.yaml, systemd/), or None when not given.
    source_dir: Path | None
    # The repository's units the plan writes, by file name: the shell variable holding the text
    # (defined once at the top of the script) and the text quoted.
    units: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The repository's units the plan does not write: the redactor masks something in them (a
    # plan, like every output, never prints a secret value).
    withheld: set[str] = field(default_factory=set)

    def values(self, result: CheckResult) -> dict[str, str]:
        """The templates' values for one result, each a shell word; a value that cannot be had
        is left out (the step that needs it becomes a comment saying which)."""
        stack = self.manifest
        values = {
            "user": _name(self.user, "user"),
            "quadlet_dir": home_path(stack.quadlet_dir),
            "target": _name(stack.target, "target"),
            "units": " ".join(_name(unit, "unit") for unit in [*stack.generated_services(), stack.target]),
        }
        subject = result.subject
        if subject:
            values["subject"] = _name(subject, "subject")
            service = subject if subject.endswith(".service") else generated_service(subject)
            values["service"] = _name(service, "service")
            folder = "~/.config/systemd/user" if subject == stack.target else stack.quadlet_dir.rstrip("/")
            values["unit_path"] = home_path(f"{folder}/{subject}")
            if self.source_dir is not None:
                source = self.source_dir / "systemd" / subject
                if source.is_file() and subject not in self.withheld:
                    if subject not in self.units:
                        text = source.read_text(encoding="utf-8")
                        if redact(text) != text:
                            self.withheld.add(subject)
                            return values
                        self.units[subject] = (f"unit_{len(self.units) + 1}", shlex.quote(text))
                    values["unit_text"] = f'"${self.units[subject][0]}"'
        return values


def _render(template: str, values: Mapping[str, str]) -> str:
    return template.format_map(values)


def _needs(template: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", template)


_MISSING = {
    "unit_text": "the repository's unit: give plan --source-dir DIR (the infra folder with systemd/{subject})",
    "subject": "a subject: the result names none",
}


def plan_host(
    run: RunReport, digest: str, host: HostReport, context: Context | None, specs: Mapping[str, CheckSpec]
) -> HostPlan:
    """One host's plan from its results; context None: the host's user is unknown (every step a comment)."""
    steps: dict[tuple[str, str, str], _Planned] = {}
    notes: list[_Note] = []
    for result in host.results:
        if result.outcome not in (FAILED, COULD_NOT_CHECK, ERROR):
            continue
        if result.outcome != FAILED:
            notes.append(_Note(result, f"{result.outcome}: a plan fixes only what was seen failing; check again"))
            continue
        spec = specs.get(result.check_id)
        if spec is None or not spec.fix:
            notes.append(
                _Note(
                    result,
                    "no step of its own: check again after the steps above (a missing unit or socket they put"
                    " in place may be its cause), then fix what is left by hand as the remediation says",
                )
            )
            continue
        if context is None:
            notes.append(_Note(result, "the run's facts do not name the host's user: no step can be written"))
            continue
        try:
            values = context.values(result)
        except ValueError as refused:
            notes.append(_Note(result, f"not planned: {refused}"))
            continue
        missing = [key for step in spec.fix for key in _needs(step.done + step.command) if key not in values]
        if missing:
            why = _MISSING.get(missing[0], f"the value {missing[0]}").replace("{subject}", result.subject)
            if missing[0] == "unit_text" and result.subject in context.withheld:
                why = (
                    f"the repository's {result.subject}, which holds a secret-shaped value a plan never prints:"
                    " install it from the repository by hand"
                )
            notes.append(_Note(result, f"not planned: needs {why}"))
            continue
        for step in spec.fix:
            done, command = _render(step.done, values), _render(step.command, values)
            planned = steps.setdefault((step.who, done, command), _Planned(step, done, command))
            test_name = result.nodeid.rsplit("::", 1)[-1].split("[", 1)[0]
            entry = (result.check_id, result.subject, result.phase, test_name)
            if entry not in planned.checks:
                planned.checks.append(entry)
    ordered = sorted(steps.values(), key=lambda p: (p.step.who != ROOT, p.step.order))
    return HostPlan(host.host, ordered, notes, _script(run, digest, host, context, ordered, notes))


def _checks_line(planned: _Planned) -> str:
    by_id: dict[str, list[str]] = {}
    for check_id, subject, _phase, _test in planned.checks:
        by_id.setdefault(check_id, [])
        if subject:
            by_id[check_id].append(subject)
    return ", ".join(
        f"{check_id} ({', '.join(subjects)})" if subjects else check_id for check_id, subjects in by_id.items()
    )


def _ids(planned: _Planned) -> str:
    return ", ".join(dict.fromkeys(check_id for check_id, *_ in planned.checks))


def _step_lines(number: int, planned: _Planned, specs_rechecks: Iterable[str]) -> list[str]:
    step = planned.step
    function = f"step_{number}_done"
    still_not = shlex.quote(f"step {number} is still not in place ({_ids(planned)})")
    lines = [
        comment(f"Step {number}: {step.what}"),
        comment(f"for {_checks_line(planned)}"),
        f"{function}() {{",
        f"  {planned.done}",
        "}",
        f"if {function}; then",
        f"  echo {shlex.quote(f'plan: step {number} already in place')}",
        "else",
        f"  echo {shlex.quote(f'plan: step {number}: {step.what}')}",
        # Not indented line by line: a file's text in the command is quoted as it is.
        f"  {planned.command}",
        "fi",
        f"settle {SETTLE_SECONDS} {function} || fail {still_not}",
        *specs_rechecks,
        "",
    ]
    return lines


def _rechecks(planned: _Planned) -> list[str]:
    seen: list[str] = []
    for check_id, _subject, phase, test in planned.checks:
        line = comment(f"re-check with the suite: phoenix-compliance check --phase={phase} -k {test}  ({check_id})")
        if line not in seen:
            seen.append(line)
    return seen


def _script(
    run: RunReport,
    digest: str,
    host: HostReport,
    context: Context | None,
    steps: list[_Planned],
    notes: list[_Note],
) -> str:
    user = context.user if context is not None else None
    header = [
        "#!/bin/sh",
        comment(f"Plan for host {host.host}, made by phoenix-compliance plan from the run of {run.started}"),
        comment(f"(result digest {digest}, suite {run.suite_version}, stack {run.stack})."),
        comment("Nothing was run by the suite: read this script, then run it on the host as the stack's user"),
        comment(
            f"({user if user is not None else 'unknown'}), with sudo for the root steps (or SUDO=... for another way)."
        ),
        comment("Each step is taken only when its test says it is not in place, so a second run changes nothing."),
    ]
    if context is not None and context.source_dir is not None:
        header.append(
            comment(f"Units come from the repository: {context.source_dir}/systemd (read when the plan was made).")
        )
    if host.unreachable:
        header.append(comment(f"The host was not reached: {host.unreachable}"))
    lines = [*header, "", PRELUDE]
    written = [unit for unit in (context.units if context is not None else {}) if _uses(steps, unit, context)]
    if context is not None and written:
        lines += ["# ---- The repository's units, as the plan writes them " + "-" * 20, ""]
        for unit in written:
            variable, text = context.units[unit]
            lines += [comment(f"{unit}, from {context.source_dir}/systemd/{unit}"), f"{variable}={text}", ""]
    if steps and user is not None:
        lines += [
            f'[ "$(id -u)" != 0 ] || fail {shlex.quote(f"run this as {user}, not as root (its systemd runs them)")}',
            f'[ "$(id -un)" = {shlex.quote(user)} ] || fail {shlex.quote(f"run this as {user}")}',
            "",
        ]
    root = [planned for planned in steps if planned.step.who == ROOT]
    mine = [planned for planned in steps if planned.step.who != ROOT]
    number = 0
    if root:
        lines += ["# ---- Root's steps (through $SUDO) " + "-" * 40, ""]
        for planned in root:
            number += 1
            lines += _step_lines(number, planned, _rechecks(planned))
    if mine:
        lines += [
            comment(f"---- {user}'s steps (as the user, in its systemd) " + "-" * 30),
            "",
            "XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}",
            "export XDG_RUNTIME_DIR",
            f'settle {SETTLE_SECONDS} test -S "$XDG_RUNTIME_DIR/bus" || fail "no systemd user manager (linger?)"',
            "",
        ]
        for planned in mine:
            number += 1
            lines += _step_lines(number, planned, _rechecks(planned))
    if notes:
        lines += ["# ---- What this plan cannot do: fix by hand " + "-" * 30]
        for note in notes:
            result = note.result
            subject = f" ({result.subject})" if result.subject else ""
            lines += [
                "#",
                comment(f"{result.check_id} [{result.severity}] {result.title}{subject}: {note.why}"),
                comment(_evidence(result.evidence), prefix="#   evidence: "),
                comment(result.remediation, prefix="#   remediation: "),
            ]
        lines.append("")
    if not steps and not notes:
        lines.append("# Nothing failed on this host: nothing to do.")
    lines.append("echo 'plan: done; run the check again to confirm'" if steps else "")
    return "\n".join(lines).rstrip("\n") + "\n"


def _uses(steps: list[_Planned], unit: str, context: Context | None) -> bool:
    if context is None:
        return False
    variable = f'"${context.units[unit][0]}"'
    return any(variable in planned.done or variable in planned.command for planned in steps)


def _evidence(text: str) -> str:
    lines = text.strip().splitlines()[:_EVIDENCE_LINES]
    short = " / ".join(line.strip() for line in lines)
    return short if len(short) <= _EVIDENCE_CHARS else short[: _EVIDENCE_CHARS - 3] + "..."


def slug(host: str) -> str:
    """A host id as a file name: plan-ssh___web1.sh."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", host)[:100] or "host"


def manifest_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
