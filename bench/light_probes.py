"""What a full run costs the checked host, and whether two checkouts give the same verdicts.

    .venv/bin/python bench/light_probes.py --guests l2-trixie,l2-forky,l2-p6 --repeat 3 \
        --checkout main=/work/main --checkout light=.

For each checkout (a repository with its own .venv) and each guest (up, private network, the
stand-in stack deployed by Quadlet: `phoenix-refhost up --name N --release R --private-network`,
`phoenix-refhost --name N deploy quadlet`), runs `phoenix-compliance check` of all phases REPEAT
times and prints the guest's CPU (its cgroup's cpu.stat, the fastest run), the ssh logins its sshd
accepted and the commands the run sent. Then compares the JSON `results` of every run of every
checkout with the first checkout's first run, check by check (host, id, subject, outcome), and
exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.run import guests_cpu, ssh_logins  # noqa: E402
from phoenix_compliance import refhost  # noqa: E402

Result = tuple[str, str, str, str]


def one_run(checkout: Path, guest: str, config: Path, work: Path) -> tuple[float, int, int, list[Result]]:
    """One run of all phases: the guest's CPU, ssh logins, commands, and the results."""
    reports = Path(tempfile.mkdtemp(dir=work))
    logins = ssh_logins([guest])
    before = guests_cpu([guest])
    subprocess.run(
        [
            str(checkout / ".venv" / "bin" / "phoenix-compliance"),
            "check",
            "-q",
            f"--reports-dir={reports}",
            f"--hosts=ssh://{guest}",
            f"--ssh-config={config}",
            f"--stack={checkout / 'fixtures' / 'stacks' / 'reference.yaml'}",
        ],
        cwd=reports,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    spent = guests_cpu([guest]) - before
    accepted = ssh_logins([guest]) - logins
    document = json.loads(next(reports.glob("*.json")).read_text())
    commands = sum(int(host["commands_run"]) for host in document["hosts"].values())
    results = sorted(
        (str(r.get("host")), str(r.get("id")), str(r.get("subject")), str(r.get("outcome")))
        for r in document["results"]
    )
    return spent, accepted, commands, results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--guests", required=True, help="comma-separated guest names")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--checkout", action="append", required=True, metavar="LABEL=PATH")
    args = parser.parse_args(argv)
    checkouts = [(label, Path(path).resolve()) for label, _, path in (c.partition("=") for c in args.checkout)]
    differences = 0
    with tempfile.TemporaryDirectory(prefix="phx-light-") as folder:
        work = Path(folder)
        for guest in args.guests.split(","):
            config = refhost.write_ssh_config(work / f"{guest}.ssh", guest)
            reference: list[Result] | None = None
            for label, checkout in checkouts:
                runs = [one_run(checkout, guest, config, work) for _ in range(args.repeat)]
                fastest = min(run[0] for run in runs)
                print(
                    f"{guest} {label}: host CPU fastest {fastest:.3f} s"
                    f" (runs {', '.join(f'{run[0]:.3f}' for run in runs)}),"
                    f" ssh logins {runs[0][1]}, commands {runs[0][2]}, results {len(runs[0][3])}",
                    flush=True,
                )
                for run in runs:
                    reference = run[3] if reference is None else reference
                    changed = sorted(set(reference) ^ set(run[3]))
                    differences += len(changed)
                    for item in changed[:10]:
                        print(f"  differs ({label}): {item}")
    print(f"verdict differences: {differences}")
    return 1 if differences else 0


if __name__ == "__main__":
    raise SystemExit(main())
