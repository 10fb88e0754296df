"""`phoenix-compliance verify`: was a report altered since it was sealed (and who signed it)?"""

from __future__ import annotations

import argparse
from pathlib import Path

from phoenix_compliance.cli.subcommand import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Subcommand, UsageError


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("report", metavar="REPORT", type=Path, help="a readiness report, .html or .json")
    parser.add_argument(
        "--signer",
        metavar="PUBKEY",
        type=Path,
        help="an SSH public key: also prove the report's digest was signed with its private key",
    )


def run_verify(args: argparse.Namespace) -> int:
    # Imported here: the report package pulls in jinja2, which lint does not need.
    from phoenix_compliance.report.signing import verify_report

    if not args.report.is_file():
        raise UsageError(f"{args.report}: no such report")
    if args.signer is not None and not args.signer.is_file():
        raise UsageError(f"--signer: {args.signer}: no such public key")
    verdict = verify_report(args.report, args.signer)
    for line in verdict.lines:
        print(line)
    if verdict.unreadable:
        return EXIT_USAGE  # not a report at all: no verdict on one
    return EXIT_OK if verdict.intact else EXIT_PROBLEMS


VERIFY = Subcommand(
    name="verify",
    help="recompute a report's digest (and check its signature): was it altered?",
    add_arguments=add_verify_arguments,
    run=run_verify,
)
