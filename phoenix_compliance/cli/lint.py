"""`phoenix-compliance lint`: Quadlet and systemd unit files judged against a Podman release."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from phoenix_compliance.cli.podman_version import default_podman_version, version_argument
from phoenix_compliance.cli.subcommand import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, Subcommand, UsageError
from phoenix_compliance.quadlet.systemd_values import TABLED_RELEASES, judging_systemd, release_label
from phoenix_compliance.quadlet_lint import (
    FILE_TYPE_SINCE,
    LINTED_SUFFIXES,
    NEWEST_KNOWN_VERSION,
    RULES,
    STACK_RULE_IDS,
    StackRules,
    collect_files,
    format_version,
    lint_paths,
)
from phoenix_compliance.quadlet_lint.output import RENDERERS, LintRun

DEFAULT_TARGET = "phoenix.target"


def add_lint_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--podman-version",
        dest="podman_version",
        metavar="X.Y[.Z]",
        type=version_argument,
        help="judge against this Podman release (default: the installed podman if it has Quadlet, "
        f"else the newest release the tables know, {format_version(NEWEST_KNOWN_VERSION)})",
    )
    parser.add_argument(
        "--systemd-version",
        dest="systemd_version",
        metavar="N",
        type=systemd_release_argument,
        help="judge the [Unit], [Service] and [Install] lines as this systemd release reads them (as the newest "
        f"tabled release not after it: {', '.join(map(release_label, TABLED_RELEASES))}) "
        "(default: a line is ignored only when every tabled release ignores it)",
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


def systemd_release_argument(text: str) -> int:
    """A systemd release as `systemctl --version` names it: 257 (not 257.9, not v257)."""
    if not re.fullmatch(r"[1-9]\d{0,3}", text):
        raise argparse.ArgumentTypeError(f"expected a systemd release number such as 257, got {text!r}")
    return int(text)


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
    with judging_systemd(args.systemd_version):
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
