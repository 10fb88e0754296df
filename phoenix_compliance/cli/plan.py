"""`phoenix-compliance plan`: per host, the shell script that puts a verified result's failures right."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from phoenix_compliance.cli.results import add_signer_argument
from phoenix_compliance.cli.subcommand import EXIT_OK, PROG, Subcommand, UsageError


def add_plan_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("result", metavar="RESULT.json", type=Path, help="the JSON result of a run (or of a merge)")
    parser.add_argument("--host", metavar="HOST", help="the plan of this host only (default: every host of the result)")
    add_signer_argument(parser)
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="write plan-HOST.sh per host into DIR (never over a file there); default: print the one host's plan",
    )
    parser.add_argument(
        "--source-dir",
        metavar="DIR",
        type=Path,
        help="the repository's infra folder (systemd/): the units the plan installs, written into the script",
    )
    parser.add_argument(
        "--stack",
        metavar="FILE",
        type=Path,
        help="the stack manifest the run checked (default: the one the result names; its sha256 must match)",
    )


def run_plan(args: argparse.Namespace) -> int:
    from phoenix_compliance import plan
    from phoenix_compliance.parsers import manifest
    from phoenix_compliance.publish import write_file
    from phoenix_compliance.report.results import ResultRefused, load_result
    from phoenix_compliance.run.bundled_checks import load_catalogue

    if not args.result.is_file():
        raise UsageError(f"{args.result}: no such result")
    if args.signer is not None and not args.signer.is_file():
        raise UsageError(f"--signer: {args.signer}: no such public key")
    if args.source_dir is not None and not (args.source_dir / "systemd").is_dir():
        raise UsageError(f"--source-dir: {args.source_dir} has no systemd/ folder (the repository's Quadlet units)")
    try:
        loaded = load_result(args.result, args.signer)
    except ResultRefused as refused:
        print(f"{PROG} plan: {args.result}: {refused}; no plan is made from it", file=sys.stderr)
        return refused.code
    run = loaded.run
    hosts = list(run.hosts.values())
    if args.host is not None:
        hosts = [host for host in hosts if host.host == args.host]
        if not hosts:
            raise UsageError(f"--host: {args.host!r} is not a host of {args.result} ({', '.join(run.hosts)})")
    if args.out is None and len(hosts) != 1:
        raise UsageError(
            f"{args.result} has {len(hosts)} hosts: name one with --host, or write them all with --out DIR"
        )
    stack_path = args.stack if args.stack is not None else Path(run.stack)
    if not stack_path.is_file() or plan.manifest_digest(stack_path) != run.stack_digest:
        raise UsageError(
            f"{stack_path}: not the stack manifest the run checked (missing, or its sha256 is not the result's"
            f" {run.stack_digest[:16]}...): give --stack FILE"
        )
    try:
        stack = manifest.load(stack_path)
    except manifest.ManifestError as exc:
        raise UsageError(str(exc)) from None
    specs = load_catalogue()
    plans = []
    for host in hosts:
        user = plan.user_of(host)
        context = plan.Context(user, stack, args.source_dir) if user is not None else None
        plans.append(plan.plan_host(run, loaded.digest, host, context, specs))
    if args.out is None:
        sys.stdout.write(plans[0].script)
        return EXIT_OK
    targets: dict[str, Path] = {}
    for made in plans:
        # Two host ids may make one file name (ssh://a, ssh:/a): the second gets a suffix.
        name, suffix = plan.slug(made.host), 1
        while (path := args.out / f"plan-{name}{f'-{suffix}' if suffix > 1 else ''}.sh") in targets.values():
            suffix += 1
        targets[made.host] = path
    in_the_way = [str(path) for path in targets.values() if path.exists() or path.is_symlink()]
    if in_the_way:
        raise UsageError(f"--out: {', '.join(in_the_way)} exists already; the plan writes no file over another")
    for made in plans:
        try:
            write_file(targets[made.host], [made.script.encode("utf-8")], exclusive=True)
        except FileExistsError:
            raise UsageError(f"--out: {targets[made.host]} exists already") from None
        except OSError as exc:
            raise UsageError(f"--out: cannot write {targets[made.host]}: {exc.strerror or exc}") from None
        print(f"phoenix: {targets[made.host]}: {len(made.steps)} steps, {len(made.notes)} to fix by hand ({made.host})")
    return EXIT_OK


PLAN = Subcommand(
    name="plan",
    help="per host, the shell script that fixes a result's failures (guarded, in the guide's order); runs nothing",
    add_arguments=add_plan_arguments,
    run=run_plan,
)
