"""What merge and trend share: the JSON results of runs they are given, verified and read back."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from phoenix_compliance.cli.subcommand import UsageError

if TYPE_CHECKING:
    from phoenix_compliance.report.results import LoadedResult


def add_signer_argument(parser: argparse.ArgumentParser) -> None:
    """--signer, as every command that reads results back takes it (merge, trend, plan)."""
    parser.add_argument(
        "--signer",
        metavar="PUBKEY",
        type=Path,
        help="an SSH public key: refuse a result whose digest was not signed with its private key",
    )


def add_results_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", metavar="RESULT.json", nargs="+", type=Path, help="JSON results of runs")
    add_signer_argument(parser)
    parser.add_argument(
        "--reports-dir",
        metavar="DIR",
        type=Path,
        default=Path("reports"),
        help="where the files go (default: reports/ of the current folder)",
    )


def load_results(args: argparse.Namespace) -> list[LoadedResult]:
    from phoenix_compliance.report.results import load_result, refuse_repeats

    for path in args.results:
        if not path.is_file():
            raise UsageError(f"{path}: no such result")
    if args.signer is not None and not args.signer.is_file():
        raise UsageError(f"--signer: {args.signer}: no such public key")
    loaded = [load_result(path, args.signer) for path in args.results]
    refuse_repeats(loaded)
    return loaded


def stamp() -> str:
    import datetime as dt

    return f"{dt.datetime.now().astimezone():%Y%m%dT%H%M%S}"
