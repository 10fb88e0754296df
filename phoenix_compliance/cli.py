"""The ``phoenix-compliance`` command.

Each subcommand is a pair of functions, one adding its options and one running
it, registered in SUBCOMMANDS; a new subcommand (``verify``, say) is one more
entry there and nothing else changes.

Exit codes, the same for every subcommand: 0 all good, 1 problems found,
2 usage error or unreadable input.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from phoenix_compliance.quadlet_lint import (
    FILE_TYPE_SINCE,
    LINTED_SUFFIXES,
    NEWEST_KNOWN_VERSION,
    QUADLET_SINCE,
    RULES,
    STACK_RULE_IDS,
    StackRules,
    Version,
    collect_files,
    format_version,
    lint_paths,
    parse_version,
)
from phoenix_compliance.quadlet_lint.output import RENDERERS, LintRun

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

PROG = "phoenix-compliance"
DEFAULT_TARGET = "phoenix.target"
# `podman version` talks to nothing, but a wedged storage lock can still hang it.
PODMAN_VERSION_TIMEOUT = 15.0


class UsageError(Exception):
    """A mistake in how the command was called: reported on stderr, exit code 2."""


@dataclass(frozen=True)
class Subcommand:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


# --------------------------------------------------------------------------
# lint
# --------------------------------------------------------------------------


def _version_argument(text: str) -> Version:
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", text):
        raise argparse.ArgumentTypeError(f"expected X.Y or X.Y.Z, got {text!r}")
    return parse_version(text)


def add_lint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--podman-version",
        dest="podman_version",
        metavar="X.Y[.Z]",
        type=_version_argument,
        help="judge against this Podman release (default: the installed podman if it has Quadlet, "
        f"else the newest release the tables know, {format_version(NEWEST_KNOWN_VERSION)})",
    )
    parser.add_argument(
        "--profile",
        dest="profile",
        choices=("validity", "stack"),
        default="stack",
        help="validity: only what Quadlet and podman refuse or warn about; "
        "stack: also the stack's conventions (target membership, :Z labels, ...) (default: stack)",
    )
    parser.add_argument(
        "--format",
        dest="output_format",
        choices=sorted(RENDERERS),
        default="text",
        help="text (file:line: severity[ID]: message), json, or sarif (SARIF 2.1.0) (default: text)",
    )
    parser.add_argument(
        "--target",
        dest="target",
        metavar="NAME",
        help=f"the systemd target the stack's units join, with --profile stack (default: {DEFAULT_TARGET})",
    )
    parser.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        help="unit files, or folders searched recursively for them",
    )


def installed_podman_version(timeout: float = PODMAN_VERSION_TIMEOUT) -> Version | None:
    """The local podman's client version, or None when there is no usable podman."""
    try:
        done = subprocess.run(
            ["podman", "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        return parse_version(done.stdout.strip())
    except ValueError:
        return None


def default_podman_version() -> tuple[Version, str]:
    """The version to judge against when none is given, and where it came from."""
    installed = installed_podman_version()
    newest = format_version(NEWEST_KNOWN_VERSION)
    if installed is None:
        return NEWEST_KNOWN_VERSION, f"the newest known release {newest} (no usable podman here)"
    if installed < QUADLET_SINCE:
        return NEWEST_KNOWN_VERSION, (
            f"the newest known release {newest} (the installed podman {format_version(installed)} has no Quadlet)"
        )
    return installed, "the installed podman"


def _stack_rules(args: argparse.Namespace) -> StackRules | None:
    if args.profile == "validity":
        if args.target is not None:
            raise UsageError("--target applies to --profile stack only")
        return None
    target = args.target or DEFAULT_TARGET
    if not target.endswith(".target"):
        target += ".target"
    return StackRules(target=target)


def _check_paths(paths: Sequence[str]) -> None:
    for item in paths:
        path = Path(item)
        if not path.exists():
            raise UsageError(f"{item}: no such file or directory")
        if path.is_file() and path.suffix not in LINTED_SUFFIXES:
            quadlet = ", ".join(f".{kind}" for kind in FILE_TYPE_SINCE)
            raise UsageError(f"{item}: not a Quadlet file ({quadlet}) or a systemd unit")


def run_lint(args: argparse.Namespace) -> int:
    stack = _stack_rules(args)
    _check_paths(args.paths)
    if args.podman_version is not None:
        version, source = args.podman_version, "--podman-version"
    else:
        version, source = default_podman_version()
    files = [str(path) for path in collect_files(args.paths)]
    findings = lint_paths(args.paths, version, stack)
    rules = [rule for rule in RULES.values() if stack is not None or rule.rule_id not in STACK_RULE_IDS]
    run = LintRun(findings, rules, files, format_version(version), source, args.profile)
    sys.stdout.write(RENDERERS[args.output_format](run))
    if any(finding.rule_id == "QL000" for finding in findings):
        return EXIT_USAGE  # input that cannot be read is not a verdict on the units
    return EXIT_PROBLEMS if any(finding.severity == "error" for finding in findings) else EXIT_OK


LINT = Subcommand(
    name="lint",
    help="lint Quadlet and systemd unit files against a Podman release",
    add_arguments=add_lint_arguments,
    run=run_lint,
)

# --------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------


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

# The command's subcommands, in the order `--help` lists them.
SUBCOMMANDS: dict[str, Subcommand] = {command.name: command for command in (LINT, VERIFY)}


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Checks of a Docker-to-Podman migration.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in SUBCOMMANDS.values():
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        # argparse exits by itself: 0 after --help, 2 after printing a usage error.
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    try:
        code: int = args.run(args)
    except UsageError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    raise SystemExit(main())
