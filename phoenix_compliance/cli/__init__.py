"""The ``phoenix-compliance`` command.

Each subcommand is a module of this package (check, lint, verify, merge, trend, convert, plan)
holding a pair of functions, one adding its options and one running it, and its Subcommand
record, registered in SUBCOMMANDS; a new subcommand is one more module and entry there, and
nothing else changes. ``check`` hands its whole command line to pytest instead
(``passthrough``): every pytest option works there as it is. What several share is beside
them: the record and exit codes (subcommand), the Podman release (podman_version), the results
merge and trend read (results).

Exit codes of lint, verify and convert: 0 all good, 1 problems found (convert: a differing file
kept, or with --strict a field not converted), 2 usage error or
unreadable input; check exits with the compliance run's codes (README, "Gates and
exit codes"), and so does merge for the fleet it reports on, or 15 and 16 when it refuses
its inputs (README, "Shards, merge and trend"; trend refuses them alike, else exits 0).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from phoenix_compliance import bundled
from phoenix_compliance.cli.check import CHECK, check_arguments, find_ini
from phoenix_compliance.cli.convert import CONVERT
from phoenix_compliance.cli.lint import LINT
from phoenix_compliance.cli.merge import MERGE
from phoenix_compliance.cli.pdf import PDF
from phoenix_compliance.cli.plan import PLAN
from phoenix_compliance.cli.subcommand import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, PROG, Subcommand, UsageError
from phoenix_compliance.cli.trend import TREND
from phoenix_compliance.cli.verify import VERIFY

__all__ = [
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "SUBCOMMANDS",
    "Subcommand",
    "UsageError",
    "build_parser",
    "check_arguments",
    "find_ini",
    "main",
]

# The command's subcommands, in the order `--help` lists them.
SUBCOMMANDS: dict[str, Subcommand] = {
    command.name: command for command in (CHECK, LINT, VERIFY, MERGE, TREND, CONVERT, PLAN, PDF)
}


class _VersionAction(argparse.Action):
    """--version, computed only when asked for (in a checkout it runs git)."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"{PROG} {bundled.suite_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Checks of a Docker-to-Podman migration.")
    parser.add_argument("--version", action=_VersionAction, help="the suite's version (and git revision in a checkout)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in SUBCOMMANDS.values():
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in SUBCOMMANDS:
        passthrough = SUBCOMMANDS[words[0]].passthrough
        if passthrough is not None:
            return passthrough(words[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(words)
    except SystemExit as stop:
        # argparse exits by itself: 0 after --help, 2 after printing a usage error.
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        code: int = args.run(args)
    except UsageError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return code
