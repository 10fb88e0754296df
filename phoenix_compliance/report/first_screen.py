"""What the first screen of a readiness page says: the verdict banner, what blocks the gates
(grouped by phase and check, the hosts under each), and the waivers with their expiry.

Plain data, no pytest: read from the report model, rendered by readiness.html.j2. Which phases
are the migration's and which are gates of their own is the catalogue's to say (ALL_PHASES,
STANDALONE), never named here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from phoenix_compliance.catalogue import ALL_PHASES, PHASE_TITLES
from phoenix_compliance.report.model import NOT_RUN, READY, VERDICTS, RunReport, natural, worst


@dataclass
class Gate:
    """One gate's line of the banner: the migration (its phases counted) or a phase of its own."""

    name: str
    verdict: str
    headline: str
    # "READY 30, NOT READY 2" per phase (the migration) or per host (a gate of its own).
    counts: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Blocker:
    """One check that blocks a gate, with the hosts it blocks on (a cause, not a row per host)."""

    check_id: str
    severity: str
    title: str
    outcome: str
    remediation: str
    hosts: list[str] = field(default_factory=list)


@dataclass
class Waiver:
    check_id: str
    hosts: list[str]
    expires: str
    expired: bool
    justification: str
    where: str


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _tally(verdicts: list[str]) -> str:
    present = [v for v in VERDICTS if v in verdicts and v != NOT_RUN]
    return ", ".join(f"{verdicts.count(v)} {v}" for v in present)


def gates(run: RunReport) -> list[Gate]:
    """The banner: the migration's phases as one gate ("READY: 4 of 4 phases on 1 host"), then each
    phase run outside `--phase=all` (the upgrade) as a gate of its own."""
    phases = run.shown_phases
    hosts = list(run.hosts.values())
    cells = {host.host: host.verdicts(phases) for host in hosts}
    migration = [p for p in phases if p in ALL_PHASES]
    found: list[Gate] = []
    if migration:
        per_host = {h: worst(*[cells[h][p] for p in migration]) for h in cells}
        run_cells = [v for v in per_host.values() if v != NOT_RUN]
        verdict = worst(*run_cells) if run_cells else NOT_RUN
        if run.partial and verdict == READY:
            verdict = worst(verdict, "PARTIAL")
        if len(hosts) == 1:
            (host,) = hosts
            ready = sum(1 for p in migration if cells[host.host][p] == READY)
            headline = f"{verdict}: {ready} of {_plural(len(migration), 'phase')} READY on 1 host"
            if ready == len(migration):
                headline = f"{verdict}: {ready} of {_plural(len(migration), 'phase')} on 1 host"
        else:
            same = sum(1 for v in run_cells if v == verdict)
            headline = f"{verdict}: {same} of {_plural(len(hosts), 'host')}"
            if verdict != READY:
                ready = sum(1 for v in run_cells if v == READY)
                headline += f" ({ready} READY)"
        counts = [(PHASE_TITLES[p], _tally([cells[h][p] for h in cells])) for p in migration]
        found.append(Gate("Migration", verdict, headline, counts))
    for phase in phases:
        if phase in ALL_PHASES:
            continue
        verdicts = [cells[h][phase] for h in cells if cells[h][phase] != NOT_RUN]
        if not verdicts:
            continue
        verdict = worst(*verdicts)
        same = sum(1 for v in verdicts if v == verdict)
        headline = f"{verdict}: {same} of {_plural(len(verdicts), 'host')}"
        found.append(Gate(PHASE_TITLES[phase], verdict, headline, [(PHASE_TITLES[phase], _tally(verdicts))]))
    return found


def blockers(run: RunReport) -> list[tuple[str, list[Blocker]]]:
    """Per phase (catalogue order), the checks that block it, the hosts listed under each; a
    phase blocked only because the one before it is not READY lists nothing of its own."""
    grouped: dict[str, dict[tuple[str, str], Blocker]] = {}
    for host in run.hosts.values():
        for result in host.results:
            if not result.blocking:
                continue
            causes = grouped.setdefault(result.phase, {})
            cause = causes.setdefault(
                (result.check_id, result.outcome),
                Blocker(result.check_id, result.severity, result.title, result.outcome, result.remediation),
            )
            if host.host not in cause.hosts:
                cause.hosts.append(host.host)
        if host.unreachable:
            for phase in run.shown_phases:
                if host.verdicts(run.shown_phases)[phase] == "UNREACHABLE":
                    cause = grouped.setdefault(phase, {}).setdefault(
                        ("unreachable", ""), Blocker("unreachable", "", "host unreachable", "unreachable", "")
                    )
                    cause.hosts.append(host.host)
    ordered = []
    for phase in run.shown_phases:
        listed = list(grouped.get(phase, {}).values())
        for blocker in listed:
            blocker.hosts.sort(key=natural)
        listed.sort(key=lambda c: (-len(c.hosts), c.check_id))
        if listed:
            ordered.append((PHASE_TITLES[phase], listed))
    return ordered


def waivers(run: RunReport) -> list[Waiver]:
    """Every waiver that applied or had expired, once per check and waiver, the hosts under it;
    the expired first, then by expiry."""
    found: dict[tuple[str, str, str], Waiver] = {}
    for host in run.hosts.values():
        for result in host.results:
            if not result.waiver:
                continue
            waiver = result.waiver
            key = (result.check_id, str(waiver.get("expires", "")), str(waiver.get("where", "")))
            entry = found.setdefault(
                key,
                Waiver(
                    result.check_id,
                    [],
                    str(waiver.get("expires", "")),
                    bool(waiver.get("expired", False)),
                    str(waiver.get("justification", "")),
                    str(waiver.get("where", "")),
                ),
            )
            if host.host not in entry.hosts:
                entry.hosts.append(host.host)
    return sorted(found.values(), key=lambda w: (not w.expired, w.expires, w.check_id))


def waiting(run: RunReport) -> list[tuple[str, list[str]]]:
    """Per phase, the hosts it is not READY on only because the phase before it is not: nothing
    of its own blocks it there (the blockers table lists nothing for them)."""
    phases = run.shown_phases
    found: list[tuple[str, list[str]]] = []
    for phase in phases:
        hosts = [
            host.host
            for host in run.hosts.values()
            if host.unreachable is None
            and host.verdicts(phases)[phase] not in (READY, NOT_RUN)
            and not any(r.blocking for r in host.results if r.phase == phase)
            and host.coverage(phase)[0] >= host.coverage(phase)[1]
        ]
        if hosts:
            found.append((PHASE_TITLES[phase], sorted(hosts, key=natural)))
    return found
