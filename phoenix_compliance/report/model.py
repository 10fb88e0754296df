"""The readiness report's data model: results per host and check, and the gates.

Plain data, no pytest: the plugin fills it, renderers read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from phoenix_compliance.catalogue import BLOCKING, PHASES

PASSED, FAILED, ERROR, SKIPPED, WAIVED = "passed", "failed", "error", "skipped", "waived"
# A check whose subject the host does not have (no SELinux): neither pass nor failure.
NOT_APPLICABLE = "not applicable"
READY, NOT_READY, NOT_RUN, UNREACHABLE = "READY", "NOT READY", "NOT RUN", "UNREACHABLE"

PHASE_TITLES = {
    "1": "Phase 1: base install",
    "2": "Phase 2: podman-compose",
    "3": "Phase 3: Quadlet and systemd",
    "security": "Security and compatibility",
}


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

    @property
    def key(self) -> str:
        """Stable across runs: the check id and its parameters (host, service, ...)."""
        return f"{self.check_id} {self.nodeid.rsplit('::', 1)[-1]}"

    @property
    def failed(self) -> bool:
        return self.outcome in (FAILED, ERROR)

    @property
    def blocking(self) -> bool:
        return self.failed and self.severity in BLOCKING


@dataclass
class HostReport:
    host: str
    facts: dict[str, str] = field(default_factory=dict)
    unreachable: str | None = None
    commands_run: int = 0
    results: list[CheckResult] = field(default_factory=list)

    def phase_results(self, phase: str) -> list[CheckResult]:
        order = {PASSED: 4, NOT_APPLICABLE: 3, WAIVED: 2, SKIPPED: 1}
        chosen = [r for r in self.results if r.phase == phase]
        # Failures first, the most severe first, then by id.
        return sorted(
            chosen,
            key=lambda r: (order.get(r.outcome, 0), _severity_rank(r.severity), r.check_id),
        )

    def verdicts(self, phases: tuple[str, ...]) -> dict[str, str]:
        """Phase N is READY when every critical and high check of it passed and
        the phase before it (when it was run) is READY too; security stands alone."""
        verdicts: dict[str, str] = {}
        previous: str | None = None
        for phase in phases:
            results = [r for r in self.results if r.phase == phase]
            if not results:
                verdicts[phase] = NOT_RUN
            elif self.unreachable is not None:
                verdicts[phase] = UNREACHABLE
            elif any(r.blocking for r in results) or (phase != "security" and previous == NOT_READY):
                verdicts[phase] = NOT_READY
            else:
                verdicts[phase] = READY
            if phase != "security":
                previous = verdicts[phase] if verdicts[phase] != NOT_RUN else previous
        return verdicts

    def findings(self) -> list[CheckResult]:
        """Failures that do not block a gate (medium and low)."""
        return [r for r in self.results if r.failed and not r.blocking]


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
    expired_waivers: list[str] = field(default_factory=list)
    compared_with: str | None = None
    changes: list[Change] = field(default_factory=list)

    def host(self, host_id: str) -> HostReport:
        if host_id not in self.hosts:
            self.hosts[host_id] = HostReport(host_id)
        return self.hosts[host_id]

    @property
    def shown_phases(self) -> tuple[str, ...]:
        return tuple(p for p in PHASES if p in self.phases)

    @property
    def any_unreachable(self) -> bool:
        return any(host.unreachable for host in self.hosts.values())

    def all_ready(self) -> bool:
        return bool(self.hosts) and all(
            verdict in (READY, NOT_RUN)
            for host in self.hosts.values()
            for verdict in host.verdicts(self.shown_phases).values()
        )
