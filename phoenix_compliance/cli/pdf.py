"""`phoenix-compliance pdf PAGE.html`: a sealed readiness page printed to PDF (headless Chromium).

A subcommand of its own rather than `--pdf` on check and merge: one command prints any page the
suite sealed (a run's, a merge's), it verifies the page before printing it, and it can be run
later, on a machine that has Chromium, from a page written where there is none (a CI host).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from phoenix_compliance.cli.subcommand import EXIT_OK, EXIT_USAGE, PROG, Subcommand, UsageError

# No Chromium on this machine: the page stands, only the PDF was not made.
EXIT_NO_BROWSER = 17


def add_pdf_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("page", metavar="PAGE", type=Path, help="a sealed readiness page (.html) of check or merge")
    parser.add_argument(
        "--out",
        metavar="PDF",
        type=Path,
        help="where the PDF goes (default: the page's name with .pdf); never over an existing file",
    )


def run_pdf(args: argparse.Namespace) -> int:
    from phoenix_compliance.report.pdf import PdfError, find_browser, render_pdf
    from phoenix_compliance.report.results import EXIT_INPUT_ALTERED
    from phoenix_compliance.report.signing import verify_report

    page: Path = args.page
    if not page.is_file() or page.suffix != ".html":
        raise UsageError(f"{page}: no such readiness page (.html)")
    out: Path = args.out if args.out is not None else page.with_suffix(".pdf")
    verdict = verify_report(page, None)
    if verdict.unreadable:
        print(f"{PROG} pdf: {'; '.join(verdict.lines)}", file=sys.stderr)
        return EXIT_USAGE
    if not verdict.intact:
        print(f"{PROG} pdf: {'; '.join(verdict.lines)}; no PDF made of an altered page", file=sys.stderr)
        return EXIT_INPUT_ALTERED
    digest = verdict.lines[0].rsplit(" ", 1)[-1]
    browser = find_browser()
    if browser is None:
        print(
            f"{PROG} pdf: no headless browser found (chromium, chromium-browser, google-chrome): no PDF made;"
            f" the page {page} stands as it is (apt-get install chromium)",
            file=sys.stderr,
        )
        return EXIT_NO_BROWSER
    try:
        render_pdf(page, digest, out, browser)
    except PdfError as exc:
        print(f"{PROG} pdf: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"pdf: {out} (from {page}, page SHA-256 {digest})")
    return EXIT_OK


PDF = Subcommand(
    name="pdf",
    help="print a sealed readiness page to PDF with headless Chromium; the PDF carries the page's digest",
    add_arguments=add_pdf_arguments,
    run=run_pdf,
)
