"""`phoenix-compliance trend`: hosts READY per phase over nightly runs, and what changed each night."""

from __future__ import annotations

import argparse
import sys

from phoenix_compliance.cli.results import add_results_arguments, load_results, stamp
from phoenix_compliance.cli.subcommand import EXIT_OK, PROG, Subcommand


def run_trend(args: argparse.Namespace) -> int:
    from phoenix_compliance.publish import EXIT_REPORTS_UNWRITTEN, ReportsUnwritten
    from phoenix_compliance.report.results import ResultRefused
    from phoenix_compliance.report.trend import write_trend

    try:
        loaded = load_results(args)
    except ResultRefused as refused:
        print(f"{PROG} trend: {refused}", file=sys.stderr)
        return refused.code
    try:
        nights, files = write_trend([item.run for item in loaded], args.reports_dir.expanduser().absolute(), stamp())
    except ReportsUnwritten as exc:
        print(f"phoenix: {exc}", file=sys.stderr)
        return EXIT_REPORTS_UNWRITTEN
    for night in nights:
        print(night.line())
    for path in files.values():
        print(f"report: {path}")
    return EXIT_OK


TREND = Subcommand(
    name="trend",
    help="hosts READY per phase over nightly runs, newly failing and fixed checks per night (HTML and Prometheus)",
    add_arguments=add_results_arguments,
    run=run_trend,
)
