#!/usr/bin/env python3
"""How long a compliance run takes, against the reference host and a fleet of them.

A benchmark, not a test: it prints a table and asserts nothing. Needs root (it boots
reference hosts); run it from the repository with the suite's virtualenv:

    sudo .venv/bin/python bench/run.py [--repeat 3] [--fleet 1,3,8,32] [--prefix fleet]
    .venv/bin/python bench/run.py --startup      # the start-up rows only: no root, no host
    .venv/bin/python bench/run.py --lint 1000,10000   # the Quadlet lint over generated trees only
    sudo .venv/bin/python bench/run.py --everything    # issue 27's table in one run, then its targets

Rows: the start-up (`phoenix-compliance check --collect-only` of Phase 1, from a folder
outside the repository, beside its floor `python -c 'import pytest'` and beside plain
pytest with every installed plugin), the floor of a run (the same probes as one shell
script over one SSH connection), Phase 1 and all phases against one host (wall time,
CPU time of the run, commands run on the host), then plain runs of 1, 3, 8, ... fleet
guests (private networks, the stand-in stack deployed by Quadlet on each), each with its
wall time as a multiple of the one-guest run of the same table, and the fleet under -n.
The peak memory is the largest resident set of one process of the run (the Python
process; ssh clients are a few MB each). Per host: the CPU the checked guests spent during
the run, on this machine's own cores (read from their cgroups), the ssh logins their sshd
accepted (their journals) and the commands the run sent, each divided by the hosts checked;
beside each row the machine's load average (it is shared). `up_fleet` raises the inotify
limits every guest shares before a large fleet (refhost/boot.py SHARED_LIMITS). With --lint,
`phoenix-compliance lint` over generated trees of N units (folders of 50 in subfolders,
drop-in folders, the pods, volumes and networks the units name).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from phoenix_compliance import bundled, refhost  # noqa: E402 - after the path is set
from phoenix_compliance.facts import probes  # noqa: E402
from phoenix_compliance.refhost import paths as refhost_paths  # noqa: E402
from phoenix_compliance.refhost._util import cgroup2_root  # noqa: E402
from phoenix_compliance.transport.runner import prelude  # noqa: E402

STACK = REPO / "fixtures" / "stacks" / "reference.yaml"


@dataclass
class Sample:
    wall: float
    cpu: float
    commands: int | None
    peak_mib: float | None = None
    # CPU the checked guests spent meanwhile (they share this machine's cores).
    host_cpu: float | None = None
    # How long probing the hosts took, before the checks (the run's summary says).
    probing: float | None = None
    # ssh logins the checked guests' sshd accepted during the run, and how many guests.
    logins: int | None = None
    hosts: int | None = None
    # The machine's 1-minute load average when the row was measured (the machine is shared).
    load: float | None = None
    # What else the row says (the simulated rows: hosts by verdict, the page's opening time).
    note: str = ""


@dataclass
class Ran:
    """What one run of the suite reported: commands on the host(s), its largest process, the
    CPU its guests spent."""

    commands: int | None
    peak_mib: float | None
    host_cpu: float | None = None
    probing: float | None = None
    logins: int | None = None
    hosts: int | None = None


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(run: Callable[[], int | Ran | None]) -> Sample:
    cpu, start = children_cpu(), time.perf_counter()
    outcome = run()
    wall, used = time.perf_counter() - start, children_cpu() - cpu
    load = os.getloadavg()[0]
    if isinstance(outcome, Ran):
        return Sample(
            wall,
            used,
            outcome.commands,
            outcome.peak_mib,
            outcome.host_cpu,
            outcome.probing,
            outcome.logins,
            outcome.hosts,
            load,
        )
    return Sample(wall, used, outcome, load=load)


def median(samples: list[Sample]) -> Sample:
    commands = [s.commands for s in samples if s.commands is not None]
    peaks = [s.peak_mib for s in samples if s.peak_mib is not None]
    guests = [s.host_cpu for s in samples if s.host_cpu is not None]
    probing = [s.probing for s in samples if s.probing is not None]
    logins = [s.logins for s in samples if s.logins is not None]
    loads = [s.load for s in samples if s.load is not None]
    return Sample(
        statistics.median(s.wall for s in samples),
        statistics.median(s.cpu for s in samples),
        int(statistics.median(commands)) if commands else None,
        statistics.median(peaks) if peaks else None,
        statistics.median(guests) if guests else None,
        statistics.median(probing) if probing else None,
        int(statistics.median(logins)) if logins else None,
        samples[0].hosts,
        max(loads) if loads else None,
    )


def guests_cpu(names: list[str]) -> float:
    """CPU seconds the guests have spent so far, from their cgroups' cpu.stat."""
    root = cgroup2_root()
    total = 0
    for name in names:
        stat = (root / f"{refhost_paths.PROG}-{name}" / "cpu.stat") if root is not None else None
        if stat is not None and stat.is_file():
            usage = next(line for line in stat.read_text().splitlines() if line.startswith("usage_usec "))
            total += int(usage.split()[1])
    return total / 1e6


def ssh_logins(names: list[str]) -> int:
    """ssh logins the guests' sshd accepted so far (their journals; read from inside each guest,
    before and after a run's CPU is measured, so the reading is not counted)."""
    total = 0
    for name in names:
        said = refhost.run_in_guest(
            ["journalctl", "-q", "--no-pager", "-o", "cat", "-t", "sshd", "-t", "sshd-session"], name=name, timeout=60
        )
        total += sum(1 for line in said.stdout.splitlines() if line.startswith("Accepted publickey"))
    return total


def pytest_run(args: list[str], work: Path, guests: list[str] | None = None) -> Ran:
    """A run as users start it: `phoenix-compliance check` from a folder outside the repository
    (with `guests`, the CPU those guests spent meanwhile and the ssh logins they accepted)."""
    reports = Path(tempfile.mkdtemp(dir=work))
    logins = ssh_logins(guests) if guests else 0
    before = guests_cpu(guests) if guests else 0.0
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "phoenix-compliance"), "check", "-q", f"--reports-dir={reports}", *args],
        cwd=reports,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    said = process.stdout.read()
    # wait4 gives this run's own usage: ru_maxrss is its largest process (kB on Linux).
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0  # reaped here; keep Popen from waiting for it again
    process.stdout.close()
    probed = re.search(r"^probed \d+ host\(s\) in ([\d.]+) s", said, re.MULTILINE)
    probing = float(probed.group(1)) if probed else None
    peak = usage.ru_maxrss / 1024
    spent = guests_cpu(guests) - before if guests else None
    accepted = ssh_logins(guests) - logins if guests else None
    hosts = len(guests) if guests else None
    found = list(reports.glob("*.json"))
    if not found:
        return Ran(None, peak, spent, probing, accepted, hosts)
    document = json.loads(found[0].read_text())
    commands = sum(int(h["commands_run"]) for h in document["hosts"].values())
    return Ran(commands, peak, spent, probing, accepted, hosts)


CHECK_STARTUP = "start-up: phoenix-compliance check --collect-only, Phase 1"


def quiet(argv: list[str], cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)


def startup_runs(work: Path, hosts: list[str]) -> list[tuple[str, Callable[[], int | None]]]:
    """Start-up rows: what `check` costs before any host is touched, and its floor."""
    outside = Path(tempfile.mkdtemp(dir=work))  # a folder with no settings file, like a user's
    command = Path(sys.executable).parent / "phoenix-compliance"
    phase1 = str(bundled.checks_dir() / "phase1")
    reports = f"--reports-dir={outside / 'reports'}"

    def floor() -> None:
        quiet([sys.executable, "-c", "import pytest"], outside)

    def check() -> None:
        quiet([str(command), "check", "--collect-only", "-q", "--phase=1", reports, *hosts], outside)

    def every_plugin() -> None:
        quiet(
            [
                *(sys.executable, "-m", "pytest", "-p", "phoenix_compliance.plugin", "--collect-only", "-q"),
                # No settings file: the repository's (found from the path) leaves hypothesis out.
                *("--phase=1", f"--config-file={os.devnull}", f"--rootdir={outside}", reports, *hosts, phase1),
            ],
            outside,
        )

    return [
        ("floor: python -c 'import pytest'", floor),
        (CHECK_STARTUP, check),
        ("start-up: plain pytest --collect-only, Phase 1, every installed plugin", every_plugin),
    ]


UNITS_PER_FOLDER = 50


def unit_tree(root: Path, count: int) -> Path:
    """A Quadlet tree of `count` units as a large site keeps them: folders of 50 units, each
    holding subfolders, a pod and a volume its containers use, and drop-in folders."""
    for number in range(count):
        folder = root / f"site-{number // (UNITS_PER_FOLDER * 4):03d}" / f"group-{number // UNITS_PER_FOLDER:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        group = number // UNITS_PER_FOLDER
        install = "[Unit]\nPartOf=phoenix.target\n\n[Install]\nWantedBy=phoenix.target\n"
        if number % UNITS_PER_FOLDER == 0:
            (folder / f"g{group}.pod").write_text(
                f"[Pod]\nPodName=g{group}\nPublishPort=18{group % 1000:03d}:80\n{install}"
            )
        elif number % UNITS_PER_FOLDER == 1:
            (folder / f"g{group}.volume").write_text("[Volume]\nLabel=app=bench\n")
        elif number % UNITS_PER_FOLDER == 2:
            (folder / f"g{group}.network").write_text("[Network]\nSubnet=10.89.0.0/24\n")
        else:
            (folder / f"app{number}.container").write_text(
                f"[Container]\nImage=docker.io/library/busybox:1.36\nPod=g{group}.pod\n"
                f"Volume=g{group}.volume:/data:Z\nVolume=%h/app{number}:/srv:Z\nEnvironment=A=1 B=2\n"
                f"HealthCmd=wget -q -O- http://localhost/\n\n[Service]\nRestart=always\n{install}"
            )
        if number % UNITS_PER_FOLDER == 3:
            dropins = folder / "container.d"
            dropins.mkdir(exist_ok=True)
            (dropins / "10-limits.conf").write_text("[Service]\nTimeoutStartSec=300\n")
    (root / "phoenix.target").write_text("[Unit]\nDescription=bench\n\n[Install]\nWantedBy=default.target\n")
    return root


def lint_runs(work: Path, counts: list[int]) -> list[tuple[str, Callable[[], int | None]]]:
    """The lint over generated trees, as a user runs it (the command, start-up included)."""
    command = Path(sys.executable).parent / "phoenix-compliance"
    runs: list[tuple[str, Callable[[], int | None]]] = []
    for count in counts:
        tree = unit_tree(Path(tempfile.mkdtemp(dir=work)), count)

        def lint(tree: Path = tree) -> None:
            quiet([str(command), "lint", "--format", "json", str(tree)], work)

        runs.append((f"lint: phoenix-compliance lint, {count:,} units", lint))
    return runs


def probe_script() -> str:
    return (
        "PHX_TIMEOUT=15 PHX_QUADLET_DIR='~/.config/containers/systemd'\n"
        + prelude()
        + probes.BASE.body()
        + '\ncurl -s --unix-socket "$XDG_RUNTIME_DIR/podman/podman.sock" http://localhost/_ping\n'
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fleet", default="1,3,8", help="host counts for the fleet rows (the largest is booted)")
    parser.add_argument("--prefix", default="fleet", help="the fleet guests' names: PREFIX-1 ... PREFIX-N")
    parser.add_argument("--startup", action="store_true", help="only the start-up rows (no root, no host)")
    parser.add_argument("--lint", metavar="COUNTS", help="only the lint rows, over trees of these unit counts")
    parser.add_argument("--fleet-only", action="store_true", help="only the fleet rows (the reference host untouched)")
    parser.add_argument("--keep", action="store_true", help="leave the fleet up (to measure again)")
    parser.add_argument(
        "--releases",
        metavar="NAMES",
        help="one guest per release (trixie,forky,podman6): what one full run costs the host, fastest of --repeat",
    )
    parser.add_argument(
        "--everything",
        action="store_true",
        help="one run, one table: --releases trixie,forky,podman6, --fleet-only --fleet 1,3,8,32,64 and"
        " --simulated 100,1000,5000 --shards 8 --page (each overridable), then the targets",
    )
    simulated_options(parser)
    options = parser.parse_args()
    if options.everything:
        return everything(options)
    if options.simulated:
        return simulated_main(options)
    work = Path(tempfile.mkdtemp(prefix="phx-bench-"))
    rows: list[tuple[str, Sample]] = []

    def measure(label: str, run: Callable[[], int | Ran | None]) -> Sample:
        sample = median([timed(run) for _ in range(options.repeat)])
        rows.append((label, sample))
        print(f"  {label}: {sample.wall:.2f} s", file=sys.stderr)
        return sample

    if options.lint:
        for label, run in lint_runs(work, [int(n) for n in options.lint.split(",") if n]):
            measure(label, run)
        print_table(rows, options.repeat)
        return 0

    def suite(args: list[str], guests: list[str] | None = None) -> Callable[[], Ran]:
        return lambda: pytest_run(args, work, guests)

    if options.startup:
        for label, run in startup_runs(work, ["--hosts=ssh://refhost"]):
            measure(label, run)
        print_table(rows, options.repeat)
        return 0
    if not options.fleet_only:
        reference_rows(work, rows, measure, suite)
    counts = [int(n) for n in options.fleet.split(",") if n]
    ratios = fleet_rows(work, counts, options.prefix, measure, suite, keep=options.keep)
    print_table(rows, options.repeat, ratios)
    return 0


def simulated_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--simulated", metavar="COUNTS", help="only the simulated rows (bench/simulated.py): 100,1000")
    parser.add_argument("--shards", type=int, default=0, help="with --simulated: also run each count as N shards")
    parser.add_argument("--page", action="store_true", help="with --simulated: time the pages in headless Chromium")
    parser.add_argument(
        "--one-process-max",
        type=int,
        default=None,
        metavar="N",
        help="with --simulated: run a count in one process only up to N hosts (above, its shards only)",
    )
    parser.add_argument(
        "--shards-at-once",
        type=int,
        default=1,
        metavar="N",
        help="with --shards: run N shards side by side (default 1: one after another, each measured alone)",
    )


def simulated_main(options: argparse.Namespace) -> int:
    from bench import simulated

    counts = [int(n) for n in options.simulated.split(",") if n]
    rows = simulated.simulated_rows(
        counts, options.shards, options.page, one_process_max=options.one_process_max, at_once=options.shards_at_once
    )
    simulated.print_rows(rows)
    return 0


SHARDS_FROM = 100
EVERYTHING_RELEASES, EVERYTHING_FLEET, EVERYTHING_SIMULATED, EVERYTHING_SHARDS = (
    "trixie,forky,podman6",
    "1,3,8,32,64",
    "100,1000,5000",
    8,
)


def everything(options: argparse.Namespace) -> int:
    """Every row of issue 27's table in one run of this script: the host's cost per release, the real
    guests, then the simulated fleet (no guest left up meanwhile), one table, then the targets."""
    from bench import simulated

    given = set(sys.argv[1:])
    releases = options.releases or EVERYTHING_RELEASES
    fleet = options.fleet if any(a.startswith("--fleet") and a != "--fleet-only" for a in given) else EVERYTHING_FLEET
    counts = options.simulated or EVERYTHING_SIMULATED
    shards = options.shards or EVERYTHING_SHARDS
    work = Path(tempfile.mkdtemp(prefix="phx-bench-"))
    rows: list[tuple[str, Sample]] = []
    started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())

    def measure(label: str, run: Callable[[], int | Ran | None], repeat: int = 1) -> Sample:
        sample = median([timed(run) for _ in range(repeat)])
        rows.append((label, sample))
        print(f"  {label}: {sample.wall:.2f} s", file=sys.stderr)
        return sample

    def suite(args: list[str], guests: list[str] | None = None) -> Callable[[], Ran]:
        return lambda: pytest_run(args, work, guests)

    release_rows(work, [r for r in releases.split(",") if r], options.repeat, rows, suite)
    ratios = fleet_rows(work, [int(n) for n in fleet.split(",") if n], options.prefix, measure, suite, keep=False)
    found: list[Any] = []
    wholes: dict[int, float] = {}
    for count in [int(n) for n in counts.split(",") if n]:
        # One process up to 100 hosts; past it shards only (one process cannot: README), one after another
        # up to 1,000 (the target's measure), as many at a time as the cores past it.
        sharded = count > SHARDS_FROM
        began = time.perf_counter()
        rows_of = simulated.simulated_rows(
            [count],
            shards if sharded else 0,
            page=True,
            one_process_max=SHARDS_FROM,
            at_once=1 if count <= 1000 else os.cpu_count() or 1,
        )
        # Each call starts with one simulated host: the whole count's wall time is what follows it.
        wholes[count] = time.perf_counter() - began - rows_of[0].wall
        found += rows_of if not found else rows_of[1:]
    ratios.update(simulated_samples(found, rows, wholes))
    print(f"\nbench/run.py --everything, started {started}, finished {time.strftime('%H:%M:%S UTC', time.gmtime())}")
    print_table(rows, 1, ratios)
    print_targets(rows, ratios)
    return 0


def release_rows(work: Path, releases: list[str], repeat: int, rows: list[tuple[str, Sample]], suite: Suite) -> None:
    """What one full run costs the checked host, per release: a guest of its own (private network, the
    stand-in stack deployed by Quadlet), all phases `repeat` times; the row keeps the run whose host CPU
    was lowest (a healthcheck of the stack falling into the window adds to a run's count)."""
    for name in releases:
        guest = f"bench-{name}"
        refhost.up(guest, release_name=name, private=True)
        try:
            refhost.deploy("quadlet", name=guest)
            config = refhost.write_ssh_config(work / f"{guest}.ssh", name=guest)
            args = [f"--hosts=ssh://{guest}", f"--ssh-config={config}", f"--stack={STACK}"]
            samples = [timed(suite(args, [guest])) for _ in range(max(repeat, 1))]
            best = min(samples, key=lambda s: float("inf") if s.host_cpu is None else s.host_cpu)
            label = f"all phases, one {name} host, the fastest of {len(samples)} (host CPU)"
            rows.append((label, best))
            print(f"  {label}: host CPU {best.host_cpu}", file=sys.stderr)
        finally:
            refhost.down(guest)


SHARD = re.compile(r"^([\d,]+) simulated hosts, --shard (\d+)/(\d+)")


def simulated_samples(found: list[Any], rows: list[tuple[str, Sample]], wholes: dict[int, float]) -> dict[str, float]:
    """The simulated rows as rows of this table (no host CPU: a simulated host has none). After a
    count's merge, a row for the whole: its shards and the merge as this machine ran them (`wholes`: the
    wall time of each count's shards and merge, page openings included). Returns the one-process and
    whole rows' wall time as a multiple of one simulated host's."""
    ratios: dict[str, float] = {}
    one = found[0].wall if found else 1.0
    cpu = peak = 0.0
    shards, at_once = 0, "one after another"
    for row in found:
        verdicts = ", ".join(f"{v} {n}" for v, n in sorted(row.verdicts.items()))
        page = "" if row.page_ms is None else f"page opens in {row.page_ms:.0f} ms ({row.page_kib} KiB); "
        sample = Sample(row.wall, row.cpu, None, row.peak_mib, probing=row.probing, hosts=row.hosts, load=row.load[1])
        sample.note = page + verdicts
        rows.append((row.label, sample))
        if "one process" in row.label:
            ratios[row.label] = row.wall / one
        if SHARD.match(row.label) or row.label.startswith("merge"):
            cpu, peak, shards = cpu + row.cpu, max(peak, row.peak_mib), shards + 1
            side = re.search(r"\((\d+) shards at once\)", row.label)
            at_once = f"{side.group(1)} at a time" if side else at_once
        if row.label.startswith("merge"):
            wall = wholes.get(row.hosts, 0.0)
            label = f"{row.hosts:,} simulated hosts: {shards - 1} shards {at_once}, then the merge"
            rows.append((label, Sample(wall, cpu, None, peak, hosts=row.hosts, load=row.load[1])))
            ratios[label] = wall / one
            cpu = peak = 0.0
            shards, at_once = 0, "one after another"
    return ratios


Measure = Callable[[str, Callable[[], int | Ran | None]], Sample]
Suite = Callable[..., Callable[[], Ran]]


def reference_rows(work: Path, rows: list[tuple[str, Sample]], measure: Measure, suite: Suite) -> None:
    """The start-up, the floor and one reference host (refhost, on the machine's network)."""
    if not refhost.is_up():
        refhost.up()
    refhost.deploy("quadlet")
    ssh_config = refhost.write_ssh_config(work / "ssh_config")
    one = ["--hosts=ssh://refhost", f"--ssh-config={ssh_config}"]
    script = probe_script()

    def probes_over_one_ssh() -> int:
        subprocess.run(
            ["ssh", "-F", str(ssh_config), "refhost", "sh", "-s"],
            input=script,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return 1  # one command on the host

    start = {label: measure(label, run) for label, run in startup_runs(work, one)}[CHECK_STARTUP]
    probe = measure("floor: the Phase 1 probes as one shell script over one ssh", probes_over_one_ssh)
    rows.append(("floor: the two added", Sample(start.wall + probe.wall, start.cpu + probe.cpu, 1)))
    measure("Phase 1, one host", suite(["--phase=1", f"--stack={STACK}", *one], [refhost_paths.DEFAULT_GUEST]))
    measure("all phases, one host", suite([f"--stack={STACK}", *one], [refhost_paths.DEFAULT_GUEST]))


def fleet_rows(
    work: Path, counts: list[int], prefix: str, measure: Measure, suite: Suite, *, keep: bool
) -> dict[str, float]:
    """Plain runs of the first N guests of one fleet, for each N; then the fleet under -n.
    Returns each plain row's wall time as a multiple of the one-guest row's."""
    guests = refhost.up_fleet(max(counts), prefix)
    ratios: dict[str, float] = {}
    try:
        for guest in guests:
            refhost.deploy("quadlet", name=guest.name)
        config = refhost.write_ssh_config(work / "fleet.ssh", name=None)

        def args(count: int) -> list[str]:
            hosts = ",".join(f"ssh://{guest.name}" for guest in guests[:count])
            return [f"--hosts={hosts}", f"--ssh-config={config}", f"--stack={STACK}"]

        one: Sample | None = None
        for count in counts:
            label = f"all phases, {count} host(s), one process"
            sample = measure(label, suite(args(count), [guest.name for guest in guests[:count]]))
            one = sample if count == 1 else one
            if one is not None:
                ratios[label] = sample.wall / one.wall
        serial = max((c for c in counts if c <= 8), default=min(counts))
        measure(
            f"all phases, {serial} host(s), one process, --probe-concurrency 1 (one host at a time, as before)",
            suite([*args(serial), "--probe-concurrency=1"], [guest.name for guest in guests[:serial]]),
        )
        cores = os.cpu_count() or 1
        xdist = min((c for c in counts if c > 1), default=max(counts))
        names = [guest.name for guest in guests[:xdist]]
        measure(f"all phases, {xdist} host(s), -n {xdist}", suite([*args(xdist), "-n", str(xdist)], names))
        if xdist > cores:
            # More workers than cores only adds interpreter start-ups: show -n cores too.
            label = f"all phases, {xdist} host(s), -n {cores} (the cores)"
            measure(label, suite([*args(xdist), "-n", str(cores)], names))
    finally:
        if not keep:
            refhost.down_all(prefix=prefix)
    return ratios


def print_table(rows: list[tuple[str, Sample]], repeat: int, ratios: dict[str, float] | None = None) -> None:
    print(
        f"\nbench/run.py on {platform.node()} ({os.cpu_count()} cores), {time.strftime('%Y-%m-%d')},"
        f" Python {platform.python_version()}, median of {repeat}\n"
    )
    notes = any(sample.note for _, sample in rows)
    print(
        "| run | wall s | x one host | probing s | controller CPU s | peak MiB"
        " | host CPU s per host | ssh logins per host | commands per host | load avg |" + (" notes |" if notes else "")
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |" + (" --- |" if notes else ""))

    def per_host(value: float | None, hosts: int | None, form: str) -> str:
        return "" if value is None else format(value / (hosts or 1), form)

    for label, sample in rows:
        ratio = f"{ratios[label]:.2f}" if ratios and label in ratios else ""
        peak = "" if sample.peak_mib is None else f"{sample.peak_mib:.0f}"
        probing = "" if sample.probing is None else f"{sample.probing:.2f}"
        load = "" if sample.load is None else f"{sample.load:.2f}"
        cells = [
            label,
            f"{sample.wall:.2f}",
            ratio,
            probing,
            f"{sample.cpu:.2f}",
            peak,
            per_host(sample.host_cpu, sample.hosts, ".2f"),
            per_host(sample.logins, sample.hosts, "g"),
            per_host(sample.commands, sample.hosts, "g"),
            load,
            *([sample.note] if notes else []),
        ]
        print("| " + " | ".join(cells) + " |")


# Issue 27's targets (and the fleet ratios' older ones), as (what, the rows it reads, the bound, unit).
TARGETS: list[tuple[str, str, float, str]] = [
    ("a full run costs the checked host", "host CPU", 0.4, "s of CPU"),
    ("3 real hosts in one run", "ratio 3", 1.3, "x one host"),
    ("8 real hosts in one run", "ratio 8", 1.6, "x one host"),
    ("each of 8 shards of 1,000 simulated hosts", "shard 1,000", 300.0, "s"),
    ("the merge of those 8 shards", "merge 1,000", 60.0, "s"),
    ("the merged 1,000-host page opens in headless Chromium", "page 1,000", 2000.0, "ms"),
]


def target_values(rows: list[tuple[str, Sample]], ratios: dict[str, float], reads: str) -> list[tuple[str, float]]:
    """The measured values a target reads, each with the row it came from."""
    kind, _, count = reads.partition(" ")
    found: list[tuple[str, float]] = []
    for label, sample in rows:
        if reads == "host CPU":
            if label.endswith("(host CPU)") and sample.host_cpu is not None:
                found.append((label, sample.host_cpu / (sample.hosts or 1)))
        elif kind == "ratio" and label == f"all phases, {count} host(s), one process" and label in ratios:
            found.append((label, ratios[label]))
        elif (
            kind == "shard"
            and (match := SHARD.match(label))
            and match.group(1).replace(",", "") == count.replace(",", "")
        ) or (kind == "merge" and label.startswith("merge") and f", {count.replace(',', '')} hosts" in label):
            found.append((label, sample.wall))
        elif kind == "page" and label.startswith("merge") and f", {count.replace(',', '')} hosts" in label:
            page = re.search(r"page opens in (\d+) ms", sample.note)
            if page:
                found.append((label, float(page.group(1))))
    return found


def print_targets(rows: list[tuple[str, Sample]], ratios: dict[str, float]) -> None:
    print("\n| target | bound | measured (worst row) | met |")
    print("| --- | ---: | ---: | --- |")
    for what, reads, bound, unit in TARGETS:
        found = target_values(rows, ratios, reads)
        if not found:
            print(f"| {what} | <= {bound:g} {unit} | not measured in this run | |")
            continue
        label, worst = max(found, key=lambda item: item[1])
        verdict = "met" if worst <= bound else f"missed by {worst - bound:.2f} {unit}"
        print(f"| {what} | <= {bound:g} {unit} | {worst:.2f} ({label}) | {verdict} |")


if __name__ == "__main__":
    sys.exit(main())
