"""The simulated rows of the benchmark: the real plugin against 1, 100, 1,000, ... simulated hosts
(selftests/fakehost/fleet.py: probe output recorded from the reference guests, replayed with a
latency per host; a few unreachable, frozen and drifted), every phase of the stand-in stack.

    .venv/bin/python bench/run.py --simulated 100,1000,5000 [--shards 8] [--page]

Per run: wall time, the controller's CPU (the suite's process and what it starts; the fleet's API
server runs beside it, from this script, and is not counted), its peak resident memory, the wall
time as a multiple of one simulated host's run, and the load average of this shared machine
before and after. With --shards N, each count is also run as N `--shard`s one after another, each
measured, then merged. With --page, the run's page is opened in headless Chromium and the time
to load and lay it out is measured in the browser. No root, no guest."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SELFTESTS = REPO / "selftests"
STACK = REPO / "fixtures" / "stacks" / "reference.yaml"
sys.path.insert(0, str(SELFTESTS))

from fakehost import fleet  # noqa: E402 - after the path is set

# The fleet's mix: 2 % unreachable, 1 % frozen, 5 % drifted (none in the one-host run).
MIX = {"unreachable": 0.02, "frozen": 0.01, "drifted": 0.05}
# The bound a frozen host costs its probing task (the default is 30 s; the rows use 10).
PROBE_TIMEOUT = 10


@dataclass
class SimRow:
    label: str
    hosts: int
    wall: float
    cpu: float
    peak_mib: float
    load: tuple[float, float]
    probing: float | None = None
    verdicts: dict[str, int] = field(default_factory=dict)
    page_ms: float | None = None
    page_kib: int | None = None
    # The run's reports folder (its JSON result, its page).
    reports: Path | None = None


def _server(fleet_file: Path, sockets: Path) -> subprocess.Popen[str]:
    server = subprocess.Popen(
        [sys.executable, str(SELFTESTS / "fakehost" / "fleet_api.py"), str(fleet_file), str(sockets)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert server.stdout is not None
    if server.stdout.readline().strip() != "ready":
        raise SystemExit("the simulated fleet's API server did not start")
    return server


def _measured(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak MiB, stdout) of one process and what it starts, from wait4."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    said = process.stdout.read()
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped here
    process.stdout.close()
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, said


def _verdicts(reports: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for found in reports.glob("*.json"):
        document = json.loads(found.read_text())
        for host in document["hosts"].values():
            cells = [v for v in host["verdicts"].values() if v != "NOT RUN"]
            worst = next((v for v in ("NOT READY", "UNREACHABLE", "COULD NOT CHECK", "PARTIAL") if v in cells), "READY")
            counts[worst] = counts.get(worst, 0) + 1
    return counts


def run_fleet(count: int, work: Path, seed: int, shard: str | None = None, label: str = "") -> SimRow:
    """One `phoenix-compliance check` over `count` simulated hosts (or one --shard of them)."""
    mix = MIX if count > 1 else {}
    hosts = fleet.make_fleet(
        count,
        seed=seed,
        unreachable=mix.get("unreachable", 0.0),
        frozen=mix.get("frozen", 0.0),
        drifted=mix.get("drifted", 0.0),
    )
    folder = Path(tempfile.mkdtemp(dir=work, prefix=f"sim{count}-"))
    fleet_file = fleet.write_fleet(folder / "fleet.json", hosts, seed=seed)
    sockets = folder / "sockets"
    sockets.mkdir()
    reports = folder / "reports"
    server = _server(fleet_file, sockets)
    env = dict(os.environ, PYTHONPATH=str(SELFTESTS), PHX_SIM_SOCKETS=str(sockets))
    argv = [
        str(Path(sys.executable).parent / "phoenix-compliance"),
        "check",
        "-q",
        "-p",
        "fakehost.fleet",
        f"--sim-fleet={fleet_file}",
        "--hosts=sim://fleet",
        f"--stack={STACK}",
        f"--probe-timeout={PROBE_TIMEOUT}",
        f"--reports-dir={reports}",
        *([f"--shard={shard}"] if shard else []),
    ]
    load_before = os.getloadavg()[0]
    try:
        wall, cpu, peak, said = _measured(argv, folder, env)
    finally:
        server.terminate()
        server.wait(timeout=30)
    probed = re.search(r"^probed \d+ host\(s\) in ([\d.]+) s", said, re.MULTILINE)
    verdicts = _verdicts(reports)
    return SimRow(
        label or f"all phases, {count} simulated host(s), one process",
        sum(verdicts.values()) or count,
        wall,
        cpu,
        peak,
        (load_before, os.getloadavg()[0]),
        float(probed.group(1)) if probed else None,
        verdicts,
        reports=reports,
    )


def merge_shards(results: list[Path], work: Path, count: int) -> SimRow:
    reports = Path(tempfile.mkdtemp(dir=work, prefix="merged-"))
    load_before = os.getloadavg()[0]
    argv = [str(Path(sys.executable).parent / "phoenix-compliance"), "merge", f"--reports-dir={reports}"]
    wall, cpu, peak, _ = _measured([*argv, *map(str, results)], reports, dict(os.environ))
    row = SimRow(
        f"merge of the shards' results, {count} hosts", count, wall, cpu, peak, (load_before, os.getloadavg()[0])
    )
    row.verdicts = _verdicts(reports)
    if not row.verdicts:
        # merge refuses results of different suite versions (a tree edited between the shards).
        row.label += " (refused: no result written)"
    return row


# Loads a page in a frame and notes when it is loaded and laid out (the height read forces the layout).
TIMING_PAGE = """<!DOCTYPE html><html><body><pre id="t">pending</pre>
<iframe id="f" style="width:1280px;height:1600px"></iframe>
<script>
const start = performance.now();
const frame = document.getElementById("f");
frame.onload = () => {
  const height = frame.contentDocument ? frame.contentDocument.body.scrollHeight : -1;
  document.getElementById("t").textContent = "loaded " + (performance.now() - start).toFixed(1) + " " + height;
};
frame.src = PAGE_URI;
</script></body></html>
"""


def page_open_ms(page: Path) -> float | None:
    """Milliseconds from navigation to the page loaded and laid out in headless Chromium."""
    binary = shutil.which("chromium")
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="phx-chromium-") as profile:
        wrapper = Path(profile) / "timing.html"
        wrapper.write_text(TIMING_PAGE.replace("PAGE_URI", json.dumps(page.as_uri())))
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--window-size=1280,1600"]
        argv = [binary, *flags, f"--user-data-dir={profile}/p", "--allow-file-access-from-files", "--dump-dom"]
        subprocess.run([*argv, "about:blank"], capture_output=True, timeout=120, check=False)  # caches warm
        dom = subprocess.run([*argv, wrapper.as_uri()], capture_output=True, text=True, timeout=300, check=False)
    match = re.search(r"loaded ([\d.]+) ", dom.stdout)
    return float(match.group(1)) if match else None


def _shard_rows(count: int, work: Path, seed: int, shards: int, at_once: int) -> tuple[list[SimRow], list[Path]]:
    """The count's N shards, `at_once` side by side (1: one after another), and their results."""
    rows: list[SimRow] = []
    results: list[Path] = []
    with ThreadPoolExecutor(max_workers=max(1, at_once)) as pool:
        labels = {k: f"{count} simulated hosts, --shard {k}/{shards}" for k in range(1, shards + 1)}
        if at_once > 1:
            labels = {k: f"{label} ({at_once} shards at once)" for k, label in labels.items()}
        parts = [pool.submit(run_fleet, count, work, seed, f"{k}/{shards}", labels[k]) for k in labels]
        for part in parts:
            row = part.result()
            rows.append(row)
            print(f"  {row.label}: {row.wall:.2f} s", file=sys.stderr)
            assert row.reports is not None
            results += sorted(row.reports.glob("*.json"))[-1:]
    return rows, results


def simulated_rows(
    counts: list[int],
    shards: int = 0,
    page: bool = False,
    seed: int = 27,
    one_process_max: int | None = None,
    at_once: int = 1,
) -> list[SimRow]:
    work = Path(tempfile.mkdtemp(prefix="phx-bench-sim-"))
    rows = [run_fleet(1, work, seed)]
    print(f"  {rows[0].label}: {rows[0].wall:.2f} s", file=sys.stderr)
    for count in counts:
        if one_process_max is None or count <= one_process_max:
            row = run_fleet(count, work, seed)
            if page and row.reports is not None:
                found = sorted(row.reports.glob("*.html"))[-1:]
                if found:
                    row.page_ms, row.page_kib = page_open_ms(found[0]), found[0].stat().st_size // 1024
            rows.append(row)
            print(f"  {row.label}: {row.wall:.2f} s", file=sys.stderr)
        if shards:
            parts, results = _shard_rows(count, work, seed, shards, at_once)
            rows += parts
            merged = merge_shards(results, work, count)
            if page:
                found = sorted(Path(p) for p in work.glob("merged-*/*.html"))[-1:]
                if found:
                    merged.page_ms, merged.page_kib = page_open_ms(found[0]), found[0].stat().st_size // 1024
            rows.append(merged)
            print(f"  {merged.label}: {merged.wall:.2f} s", file=sys.stderr)
    return rows


def print_rows(rows: list[SimRow]) -> None:
    one = rows[0].wall
    print(
        "| run | wall s | x one host | probing s | controller CPU s | CPU s per host | peak MiB"
        " | page opens ms (KiB) | load avg before/after | hosts by verdict |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |")
    for row in rows:
        ratio = f"{row.wall / one:.1f}" if "one process" in row.label else ""
        probing = "" if row.probing is None else f"{row.probing:.1f}"
        page = "" if row.page_ms is None else f"{row.page_ms:.0f} ({row.page_kib})"
        verdicts = ", ".join(f"{v} {n}" for v, n in sorted(row.verdicts.items()))
        print(
            f"| {row.label} | {row.wall:.2f} | {ratio} | {probing} | {row.cpu:.2f} | {row.cpu / row.hosts:.3f}"
            f" | {row.peak_mib:.0f} | {page} | {row.load[0]:.1f} / {row.load[1]:.1f} | {verdicts} |"
        )
