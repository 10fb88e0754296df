"""`phoenix-compliance verify`: was a report altered since it was sealed (and who signed it)?"""

from __future__ import annotations

import argparse
from pathlib import Path

from phoenix_compliance.cli.subcommand import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Subcommand, UsageError


def add_verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "report",
        metavar="REPORT",
        type=Path,
        help="a readiness report, .html or .json (a .pdf: which page it was printed from)",
    )
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
    if args.report.suffix == ".pdf":
        return _pdf_carries(args.report)
    verdict = verify_report(args.report, args.signer)
    for line in verdict.lines:
        print(line)
    if verdict.unreadable:
        return EXIT_USAGE  # not a report at all: no verdict on one
    return EXIT_OK if verdict.intact else EXIT_PROBLEMS


def _pdf_carries(path: Path) -> int:
    """A PDF is a print, not the record: say which page it was printed from; the HTML decides."""
    from phoenix_compliance.report.bounded import InputRefused, read_report_bytes
    from phoenix_compliance.report.pdf import pdf_digest

    try:
        digest = pdf_digest(read_report_bytes(path))
    except InputRefused as exc:
        print(exc)
        return EXIT_USAGE
    if digest is None:
        print(f"{path}: carries no page digest (not printed by phoenix-compliance pdf)")
        return EXIT_USAGE
    print(f"{path}: printed from the page with SHA-256 {digest}; verify that page (.html): the PDF is not the record")
    return EXIT_OK


VERIFY = Subcommand(
    name="verify",
    help="recompute a report's digest (and check its signature): was it altered?",
    add_arguments=add_verify_arguments,
    run=run_verify,
)
