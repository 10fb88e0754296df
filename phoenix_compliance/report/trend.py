"""The fleet over nightly runs: hosts READY per phase, and the checks newly failing and fixed
from one night to the next, as a self-contained page (an inline SVG chart, no script, no
network) and a Prometheus textfile with the same counts. Plain data, no pytest."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from phoenix_compliance.catalogue import PHASE_TITLES, PHASES
from phoenix_compliance.publish import write_set
from phoenix_compliance.redact import redact
from phoenix_compliance.report import signing
from phoenix_compliance.report.model import READY, Change, RunReport
from phoenix_compliance.report.outputs import compare, prometheus_label
from phoenix_compliance.report.results import previous_outcomes

# The chart's frame, in SVG user units.
WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 760, 300, 48, 48, 16, 56
PHASE_COLOURS = {"1": "#1f77b4", "2": "#ff7f0e", "3": "#2ca02c", "security": "#9467bd", "upgrade": "#8c564b"}
# Phases often share a count (a phase is READY only after the one before it): each line is
# drawn narrower than the one before, so lines on top of each other show as stripes.
PHASE_WIDTHS = {"1": 9.0, "2": 6.0, "3": 3.0, "security": 1.5, "upgrade": 1.0}


@dataclass
class Night:
    """One run of the series and what changed since the run before it."""

    started: str
    hosts: int
    # Hosts READY, and hosts judged, per phase the run had.
    ready: dict[str, int]
    judged: dict[str, int]
    newly_failing: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)
    first: bool = False

    def line(self) -> str:
        cells = ", ".join(f"phase {p}: {self.ready[p]} of {self.judged[p]} READY" for p in self.ready)
        since = "first night" if self.first else f"{len(self.newly_failing)} newly failing, {len(self.fixed)} fixed"
        return f"{self.started}: {self.hosts} hosts; {cells}; {since}"


@dataclass(frozen=True)
class Point:
    phase: str
    night: int
    ready: int
    x: float
    y: float


def nights(runs: list[RunReport]) -> list[Night]:
    """The runs in the order they started (given in any order), each against the one before."""
    ordered = sorted(runs, key=lambda run: run.started)
    series: list[Night] = []
    for index, run in enumerate(ordered):
        phases = run.shown_phases
        verdicts = [host.verdicts(phases) for host in run.hosts.values()]
        night = Night(
            started=run.started,
            hosts=len(run.hosts),
            ready={p: sum(1 for v in verdicts if v[p] == READY) for p in phases},
            judged={p: sum(1 for v in verdicts if v[p] != "NOT RUN") for p in phases},
            first=index == 0,
        )
        if index:
            changes = compare(run, previous_outcomes(ordered[index - 1]))
            night.newly_failing = [c for c in changes if c.kind == "newly failing"]
            night.fixed = [c for c in changes if c.kind == "fixed"]
        series.append(night)
    return series


def chart_points(series: list[Night]) -> tuple[list[str], dict[str, list[Point]], int]:
    """The phases charted, each phase's points in the chart's frame, and the y axis' top."""
    phases = [p for p in PHASES if any(p in night.ready for night in series)]
    top = max([night.hosts for night in series] + [1])
    span_x = WIDTH - LEFT - RIGHT
    span_y = HEIGHT - TOP - BOTTOM
    step = span_x / (len(series) - 1) if len(series) > 1 else 0.0
    points: dict[str, list[Point]] = {}
    for phase in phases:
        points[phase] = [
            Point(
                phase,
                index,
                night.ready[phase],
                round(LEFT + (step * index if len(series) > 1 else span_x / 2), 1),
                round(TOP + span_y * (1 - night.ready[phase] / top), 1),
            )
            for index, night in enumerate(series)
            if phase in night.ready
        ]
    return phases, points, top


def trend_page(series: list[Night]) -> str:
    from phoenix_compliance.report.render import render_template

    phases, points, top = chart_points(series)
    ticks = sorted({0, top, top // 2})
    return render_template(
        "trend.html.j2",
        "trend.css",
        series=series,
        phases=phases,
        points=points,
        colours=PHASE_COLOURS,
        widths=PHASE_WIDTHS,
        phase_titles=PHASE_TITLES,
        frame={"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": RIGHT, "top": TOP, "bottom": BOTTOM},
        ticks=[(tick, round(TOP + (HEIGHT - TOP - BOTTOM) * (1 - tick / top), 1)) for tick in ticks],
        signature_block=signing.signature_block(),
    )


def to_prometheus(series: list[Night]) -> str:
    """The chart's counts per night, labelled with the run's start (a textfile takes no timestamps)."""
    metrics = (
        ("phoenix_trend_hosts_ready", "Hosts READY in the phase, per nightly run."),
        ("phoenix_trend_hosts", "Hosts judged, per nightly run."),
        ("phoenix_trend_newly_failing", "Checks newly failing since the run before, per nightly run."),
        ("phoenix_trend_fixed", "Checks fixed since the run before, per nightly run."),
    )
    lines: list[str] = []
    for name, help_text in metrics:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for night in series:
            run = f'run="{prometheus_label(night.started)}"'
            if name == "phoenix_trend_hosts_ready":
                lines += [f'{name}{{{run},phase="{p}"}} {count}' for p, count in night.ready.items()]
            elif name == "phoenix_trend_hosts":
                lines.append(f"{name}{{{run}}} {night.hosts}")
            elif not night.first:
                changes = night.newly_failing if name == "phoenix_trend_newly_failing" else night.fixed
                lines.append(f"{name}{{{run}}} {len(changes)}")
    return "\n".join(lines) + "\n"


def write_trend(runs: list[RunReport], folder: Path, stamp: str) -> tuple[list[Night], dict[str, Path]]:
    """The page (sealed, so `verify` holds it) and the textfile, published as a run's reports are."""
    series = nights(runs)

    def page(path: Path) -> None:
        path.write_text(redact(trend_page(series)), encoding="utf-8")
        signing.seal_html(path, None)

    def textfile(path: Path) -> None:
        path.write_text(redact(to_prometheus(series)), encoding="utf-8")

    files = write_set(folder, f"trend-{stamp}", [("html", ".html", page), ("prometheus", ".prom", textfile)])
    return series, files
