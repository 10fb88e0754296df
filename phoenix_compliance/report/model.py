"""The readiness report's data model: results per host and check, and the gates.

Plain data, no pytest: the plugin fills it, renderers read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from phoenix_compliance.catalogue import BLOCKING, PHASES, SIMULATED, STANDALONE

# A check's outcome (README "Gates and exit codes"):
# passed / failed: judged from facts that were read; waived: a failure a live waiver covers;
# not applicable: the host truly lacks the subject (no SELinux), decided from facts that were read;
# could not check: a fact it needs could not be gathered (probe timed out, program missing,
#   output empty or unreadable, the API or the host unreachable); blocks like a failure;
# error: the suite itself broke (a bug, a missing resource), traceback in the log; never the host's;
# skipped: not run, for a reason given (opt-in, or a check it depends on).
PASSED, FAILED, ERROR, SKIPPED, WAIVED = "passed", "failed", "error", "skipped", "waived"
NOT_APPLICABLE = "not applicable"
COULD_NOT_CHECK = "could not check"
OUTCOMES = (PASSED, FAILED, WAIVED, NOT_APPLICABLE, COULD_NOT_CHECK, ERROR, SKIPPED)
# A phase's verdict, the worst first: a failure seen beats what could not be seen.
NOT_READY, UNREACHABLE, NOT_CHECKED, PARTIAL, READY, NOT_RUN = (
    "NOT READY",
    "UNREACHABLE",
    "COULD NOT CHECK",
    "PARTIAL",
    "READY",
    "NOT RUN",
)
VERDICTS = (NOT_READY, UNREACHABLE, NOT_CHECKED, PARTIAL, READY, NOT_RUN)


@dataclass
class CheckResult:
    host: str
    check_id: str
    phase: str
    severity: str
    title: str
    outcome: str
    evidence: str
    remediation: str
    nodeid: str
    duration: float = 0.0
    # The waiver that applied (or had expired): justification, expires, where, expired.
    waiver: dict[str, str | bool] | None = None
    # What the result is about: the check's unit, service or endpoint ("" for a check of the host).
    subject: str = ""

    @property
    def key(self) -> str:
        """Stable across runs: the check id and its parameters (host, service, ...)."""
        return f"{self.check_id} {self.nodeid.rsplit('::', 1)[-1]}"

    @property
    def failed(self) -> bool:
        """Not passed for the gate: failed, could not be checked, or the suite broke."""
        return self.outcome in (FAILED, COULD_NOT_CHECK, ERROR)

    @property
    def blocking(self) -> bool:
        """Blocks its phase: a critical or high failure or could-not-check, or any suite error
        (an unjudged check cannot let a phase through)."""
        return self.outcome == ERROR or (self.failed and self.severity in BLOCKING)


@dataclass
class HostReport:
    host: str
    facts: dict[str, str] = field(default_factory=dict)
    unreachable: str | None = None
    commands_run: int = 0
    results: list[CheckResult] = field(default_factory=list)
    # How many checks (check x parameters) of each phase the run would have had without a
    # narrowing selection (-k, -m, a node id, --deselect, --lf); a phase that ran fewer is PARTIAL.
    expected: dict[str, int] = field(default_factory=dict)

    def coverage(self, phase: str) -> tuple[int, int]:
        """(checks run, checks of the phase) for this host."""
        ran = sum(1 for r in self.results if r.phase == phase)
        return ran, max(self.expected.get(phase, 0), ran)

    def phase_results(self, phase: str) -> list[CheckResult]:
        order = {PASSED: 4, NOT_APPLICABLE: 3, WAIVED: 2, SKIPPED: 1}
        chosen = [r for r in self.results if r.phase == phase]
        # Failures first, the most severe first, then by id.
        return sorted(
            chosen,
            key=lambda r: (order.get(r.outcome, 0), _severity_rank(r.severity), r.check_id),
        )

    def verdicts(self, phases: tuple[str, ...]) -> dict[str, str]:
        """Phase N is READY when every check of it ran, every critical and high one passed
        (or is waived), and the phase before it (when it was run) is READY too; else the
        worst of: NOT READY (a blocking failure), COULD NOT CHECK (a blocking check could not
        be checked, or the suite broke), PARTIAL (a selection left checks out). The standalone
        phases (catalogue.STANDALONE: security, upgrade) stand alone. An unreachable host is
        UNREACHABLE in every phase it was to run."""
        verdicts: dict[str, str] = {}
        previous: str | None = None
        for phase in phases:
            results = [r for r in self.results if r.phase == phase]
            ran, total = self.coverage(phase)
            if not results:
                verdicts[phase] = NOT_RUN
            elif self.unreachable is not None:
                verdicts[phase] = UNREACHABLE
            else:
                own = READY
                if ran < total:
                    own = PARTIAL
                if any(r.blocking and r.outcome != FAILED for r in results):
                    own = NOT_CHECKED
                if any(r.blocking and r.outcome == FAILED for r in results):
                    own = NOT_READY
                if phase not in STANDALONE and previous is not None:
                    own = worst(own, previous)
                verdicts[phase] = own
            if phase not in STANDALONE:
                previous = verdicts[phase] if verdicts[phase] != NOT_RUN else previous
        return verdicts

    def partial_phases(self, phases: tuple[str, ...]) -> list[str]:
        """The phases a selection left checks out of (none of them run counts too)."""
        return [p for p in phases if self.coverage(p)[0] < self.coverage(p)[1]]

    def findings(self) -> list[CheckResult]:
        """Failures that do not block a gate (medium and low)."""
        return [r for r in self.results if r.failed and not r.blocking]


def worst(*verdicts: str) -> str:
    """The worst of some verdicts (NOT RUN counts as nothing)."""
    return min(verdicts, key=VERDICTS.index)


def _severity_rank(severity: str) -> int:
    ranks = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    return ranks.get(severity, 4)


@dataclass
class Signoff:
    name: str
    signed_at: str


@dataclass
class Change:
    """A check's outcome now against a previous run (--compare)."""

    host: str
    key: str
    kind: str  # newly failing, fixed, new, removed
    before: str | None
    after: str | None


@dataclass
class RunReport:
    started: str
    phases: tuple[str, ...]
    stack: str
    suite_version: str
    stack_digest: str = ""
    hosts: dict[str, HostReport] = field(default_factory=dict)
    finished: str = ""
    signoff: Signoff | None = None
    # Why a --signoff given was not recorded (a PARTIAL phase), or None.
    signoff_refused: str | None = None
    expired_waivers: list[str] = field(default_factory=list)
    compared_with: str | None = None
    changes: list[Change] = field(default_factory=list)
    # The SHA256 fingerprint of the key the page is signed with (--sign-key), or "" when unsigned.
    signer_fingerprint: str = ""

    def host(self, host_id: str) -> HostReport:
        if host_id not in self.hosts:
            self.hosts[host_id] = HostReport(host_id)
        return self.hosts[host_id]

    @property
    def shown_phases(self) -> tuple[str, ...]:
        return tuple(p for p in PHASES if p in self.phases)

    @property
    def simulated(self) -> list[str]:
        """The hosts whose answers were a recording replayed (benchmark input, no host's verdict)."""
        return [host.host for host in self.hosts.values() if SIMULATED in host.facts]

    @property
    def any_unreachable(self) -> bool:
        return any(host.unreachable for host in self.hosts.values())

    @property
    def suite_errors(self) -> list[CheckResult]:
        return [r for host in self.hosts.values() for r in host.results if r.outcome == ERROR]

    @property
    def partial(self) -> list[str]:
        """'HOST phase N (n of m checks)' for every phase a selection left checks out of."""
        notes = []
        for host in self.hosts.values():
            for phase in host.partial_phases(self.shown_phases):
                ran, total = host.coverage(phase)
                notes.append(f"{host.host} phase {phase} ({ran} of {total} checks)")
        return notes

    def run_verdict(self) -> str:
        """The run's verdict: the worst phase verdict of any host, PARTIAL when a selection left
        a whole phase out, READY only when every chosen phase of every host ran whole and READY."""
        cells = [v for host in self.hosts.values() for v in host.verdicts(self.shown_phases).values()]
        found = [v for v in cells if v != NOT_RUN]
        if not found:
            return NOT_RUN
        verdict = worst(*found)
        return worst(verdict, PARTIAL) if self.partial else verdict

    def all_ready(self) -> bool:
        return bool(self.hosts) and self.run_verdict() == READY


@dataclass
class CheckSpread:
    """One check across the fleet: on which hosts it failed or could not check, of how many it ran on."""

    check_id: str
    severity: str
    title: str
    remediation: str
    failed: list[str] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    ran_on: int = 0

    @property
    def blocking(self) -> bool:
        return self.severity in BLOCKING


def natural(name: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that puts web3 before web14."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name))


def hosts_by_concern(run: RunReport) -> list[HostReport]:
    """The hosts, the worst first (NOT READY, then UNREACHABLE, ...), then by name."""

    def rank(host: HostReport) -> tuple[int, tuple[tuple[int, int | str], ...]]:
        found = [v for v in host.verdicts(run.shown_phases).values() if v != NOT_RUN]
        return (VERDICTS.index(worst(*found)) if found else len(VERDICTS), natural(host.host))

    return sorted(run.hosts.values(), key=rank)


def check_spread(run: RunReport) -> list[CheckSpread]:
    """Every check that failed or could not check on some host, the blocking and widest first."""
    spreads: dict[str, CheckSpread] = {}
    for host in run.hosts.values():
        seen: dict[str, str] = {}
        for result in host.results:
            spreads.setdefault(
                result.check_id, CheckSpread(result.check_id, result.severity, result.title, result.remediation)
            )
            # A host counts once per check: failed beats could not check beats passed.
            before = seen.get(result.check_id)
            if result.outcome == FAILED or (result.failed and before != FAILED):
                seen[result.check_id] = FAILED if result.outcome == FAILED else COULD_NOT_CHECK
            elif before is None:
                seen[result.check_id] = result.outcome
        for check_id, outcome in seen.items():
            spreads[check_id].ran_on += 1
            if outcome == FAILED:
                spreads[check_id].failed.append(host.host)
            elif outcome == COULD_NOT_CHECK:
                spreads[check_id].not_checked.append(host.host)
    chosen = [s for s in spreads.values() if s.failed or s.not_checked]
    for spread in chosen:
        spread.failed.sort(key=natural)
        spread.not_checked.sort(key=natural)
    return sorted(chosen, key=lambda s: (not s.blocking, -len(s.failed), -len(s.not_checked), s.check_id))
