"""`phoenix-compliance merge`: one report from the JSON results of shards."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from phoenix_compliance.cli.results import add_results_arguments, load_results, stamp
from phoenix_compliance.cli.subcommand import PROG, Subcommand, UsageError


def add_merge_arguments(parser: argparse.ArgumentParser) -> None:
    add_results_arguments(parser)
    parser.add_argument(
        "--sign-key", metavar="KEY", type=Path, help="sign the merged HTML and JSON with this SSH private key"
    )


def run_merge(args: argparse.Namespace) -> int:
    from phoenix_compliance.publish import EXIT_REPORTS_UNWRITTEN, ReportsUnwritten
    from phoenix_compliance.report.files import write_standalone
    from phoenix_compliance.report.results import ResultRefused, merge
    from phoenix_compliance.report.signing import SigningError, key_fingerprint
    from phoenix_compliance.run.reporter import exit_code
    from phoenix_compliance.run.summary import readiness_lines

    if args.sign_key is not None and not args.sign_key.is_file():
        raise UsageError(f"--sign-key: {args.sign_key} is not a readable private key file")
    try:
        loaded = load_results(args)
        run = merge(loaded)
    except ResultRefused as refused:
        print(f"{PROG} merge: {refused}", file=sys.stderr)
        return refused.code
    print(f"phoenix: merged {len(loaded)} results, {len(run.hosts)} hosts")
    if args.sign_key is not None:
        try:
            run.signer_fingerprint = key_fingerprint(args.sign_key)
        except SigningError as exc:
            raise UsageError(f"cannot sign the report: {exc}") from None
    base = f"readiness-fleet-{len(run.hosts)}-hosts-{stamp()}"
    try:
        files = write_standalone(run, args.reports_dir.expanduser().absolute(), base, args.sign_key)
    except SigningError as exc:
        raise UsageError(f"cannot sign the report: {exc}") from None
    except ReportsUnwritten as exc:
        files = {}
        print(f"phoenix: {exc}", file=sys.stderr)
    for line, _ in readiness_lines(run, files.values()):
        print(line)
    return exit_code(run) if files else EXIT_REPORTS_UNWRITTEN


MERGE = Subcommand(
    name="merge",
    help="one report (HTML, JUnit, JSON, Prometheus) from the JSON results of shards (--shard K/N)",
    add_arguments=add_merge_arguments,
    run=run_merge,
)
