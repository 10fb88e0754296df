"""The ``phoenix-compliance`` command.

Each subcommand is a pair of functions, one adding its options and one running
it, registered in SUBCOMMANDS; a new subcommand (``verify``, say) is one more
entry there and nothing else changes. ``check`` hands its whole command line to
pytest instead (``passthrough``): every pytest option works there as it is.

Exit codes of lint, verify and convert: 0 all good, 1 problems found (convert: a differing file
kept, or with --strict a field not converted), 2 usage error or
unreadable input; check exits with the compliance run's codes (README, "Gates and
exit codes"), and so does merge for the fleet it reports on, or 15 and 16 when it refuses
its inputs (README, "Shards, merge and trend"; trend refuses them alike, else exits 0).
"""

from __future__ import annotations

import argparse
import os
import posixpath
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable, Sequence
from configparser import ConfigParser
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from phoenix_compliance import bundled
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

if TYPE_CHECKING:
    from phoenix_compliance.convert import Options as ConvertOptions
    from phoenix_compliance.report.results import LoadedResult

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
    # Runs with the rest of the command line untouched, parsed by pytest rather than argparse.
    passthrough: Callable[[list[str]], int] | None = None


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

# --------------------------------------------------------------------------
# merge and trend: JSON results of runs, verified, read back into one report
# --------------------------------------------------------------------------


def add_results_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", metavar="RESULT.json", nargs="+", type=Path, help="JSON results of runs")
    parser.add_argument(
        "--signer",
        metavar="PUBKEY",
        type=Path,
        help="an SSH public key: refuse a result whose digest was not signed with its private key",
    )
    parser.add_argument(
        "--reports-dir",
        metavar="DIR",
        type=Path,
        default=Path("reports"),
        help="where the files go (default: reports/ of the current folder)",
    )


def add_merge_arguments(parser: argparse.ArgumentParser) -> None:
    add_results_arguments(parser)
    parser.add_argument(
        "--sign-key", metavar="KEY", type=Path, help="sign the merged HTML and JSON with this SSH private key"
    )


def _load_results(args: argparse.Namespace) -> list[LoadedResult]:
    from phoenix_compliance.report.results import load_result, refuse_repeats

    for path in args.results:
        if not path.is_file():
            raise UsageError(f"{path}: no such result")
    if args.signer is not None and not args.signer.is_file():
        raise UsageError(f"--signer: {args.signer}: no such public key")
    loaded = [load_result(path, args.signer) for path in args.results]
    refuse_repeats(loaded)
    return loaded


def _stamp() -> str:
    import datetime as dt

    return f"{dt.datetime.now().astimezone():%Y%m%dT%H%M%S}"


def run_merge(args: argparse.Namespace) -> int:
    from phoenix_compliance.report.results import ResultRefused, merge
    from phoenix_compliance.report.signing import SigningError
    from phoenix_compliance.run.reporter import exit_code
    from phoenix_compliance.run.summary import readiness_lines
    from phoenix_compliance.run.writers import EXIT_REPORTS_UNWRITTEN, ReportsUnwritten, write_standalone

    if args.sign_key is not None and not args.sign_key.is_file():
        raise UsageError(f"--sign-key: {args.sign_key} is not a readable private key file")
    try:
        loaded = _load_results(args)
        run = merge(loaded)
    except ResultRefused as refused:
        print(f"{PROG} merge: {refused}", file=sys.stderr)
        return refused.code
    print(f"phoenix: merged {len(loaded)} results, {len(run.hosts)} hosts")
    base = f"readiness-fleet-{len(run.hosts)}-hosts-{_stamp()}"
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


def run_trend(args: argparse.Namespace) -> int:
    from phoenix_compliance.report.results import ResultRefused
    from phoenix_compliance.report.trend import write_trend
    from phoenix_compliance.run.writers import EXIT_REPORTS_UNWRITTEN, ReportsUnwritten

    try:
        loaded = _load_results(args)
    except ResultRefused as refused:
        print(f"{PROG} trend: {refused}", file=sys.stderr)
        return refused.code
    try:
        nights, files = write_trend([item.run for item in loaded], args.reports_dir.expanduser().absolute(), _stamp())
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

# --------------------------------------------------------------------------
# convert
# --------------------------------------------------------------------------


def add_convert_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack",
        dest="stack",
        metavar="MANIFEST",
        type=Path,
        help="the stack manifest: its pod, pod unit, target and project folder name the units "
        "(default: pod named after the compose project, phoenix.target, binds relative to the compose file)",
    )
    parser.add_argument(
        "--podman-version",
        dest="podman_version",
        metavar="X.Y[.Z]",
        type=_version_argument,
        help="write for this Podman release, using only the keys it has (default: as lint)",
    )
    parser.add_argument("--out", dest="out", metavar="DIR", type=Path, help="write the units into DIR")
    parser.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="print the units and their diff against what is in --out; write nothing",
    )
    parser.add_argument(
        "--strict", dest="strict", action="store_true", help="exit 1 when any compose field was not converted"
    )
    parser.add_argument(
        "--force", dest="force", action="store_true", help="replace files in --out that differ (else they are kept)"
    )
    parser.add_argument(
        "--env-file",
        dest="env_files",
        metavar="PATH",
        type=Path,
        action="append",
        default=[],
        help="variables for the compose files, read instead of the .env beside the first "
        "(as podman-compose --env-file); repeatable, a later file wins",
    )
    parser.add_argument(
        "compose_files", metavar="COMPOSE_FILE", nargs="+", type=Path, help="compose files, merged in order"
    )


def _convert_options(args: argparse.Namespace, version: Version) -> ConvertOptions:
    from phoenix_compliance.convert import Options as ConvertOptions

    if args.stack is None:
        return ConvertOptions(version=version)
    from phoenix_compliance.parsers import manifest
    from phoenix_compliance.parsers.yamlmarks import SourceError

    try:
        stack = manifest.load(args.stack)
    except SourceError as error:
        raise UsageError(str(error)) from None
    project = stack.project_dir
    project = "%h" + project[1:] if project.startswith("~") else project
    compose_dir = posixpath.normpath(posixpath.join(project, posixpath.dirname(stack.compose_file)))
    return ConvertOptions(version, stack.target, stack.pod, stack.pod_unit, compose_dir, origin=str(args.stack))


def run_convert(args: argparse.Namespace) -> int:
    from phoenix_compliance import convert

    for path in args.compose_files:
        if not path.is_file():
            raise UsageError(f"{path}: no such compose file")
    for path in args.env_files:
        if not path.is_file():
            raise UsageError(f"--env-file: {path}: no such file")
    if args.dry_run and args.out is None:
        raise UsageError("--dry-run compares with the files in --out DIR: give --out")
    if args.podman_version is not None:
        version = args.podman_version
    else:
        version, _source = default_podman_version()
    if version < QUADLET_SINCE:
        raise UsageError(f"Podman {format_version(version)} has no Quadlet (from {format_version(QUADLET_SINCE)})")
    source = convert.read_compose(args.compose_files, args.env_files)
    if not source.services:
        sys.stderr.write(convert.report(convert.convert(source, _convert_options(args, version))))
        raise UsageError(f"{args.compose_files[0]}: no service to convert")
    conversion = convert.convert(source, _convert_options(args, version))
    if conversion.refused:
        sys.stderr.write(convert.report(conversion))
        return EXIT_PROBLEMS
    texts = conversion.texts()
    code = EXIT_OK
    print(f"# {len(texts)} units for Podman {format_version(version)}", file=sys.stderr)
    if args.out is None:
        sys.stdout.write(convert.units_text(conversion))
    elif args.dry_run:
        sys.stdout.write(convert.units_text(conversion))
        try:
            compared = convert.diff(args.out, texts)
        except OSError as error:
            raise UsageError(f"cannot compare with {args.out}: {error.strerror or error}") from None
        for name in compared.kept:
            sys.stdout.write(compared.diffs[name])
        print(
            f"# in {args.out}: {len(compared.new)} new, {len(compared.unchanged)} unchanged, "
            f"{len(compared.kept)} differing",
            file=sys.stderr,
        )
    else:
        try:
            written = convert.write(args.out, texts, replace=args.force)
        except OSError as error:
            raise UsageError(f"cannot write into {args.out}: {error.strerror or error}; nothing written") from None
        for name in written.new:
            print(f"wrote {args.out / name}", file=sys.stderr)
        for name in written.replaced:
            print(f"replaced {args.out / name} (it differed)", file=sys.stderr)
        for name in written.kept:
            sys.stdout.write(written.diffs[name])
            print(
                f"kept {args.out / name}: it differs from the conversion (diff above); --force replaces it",
                file=sys.stderr,
            )
        if written.kept:
            code = EXIT_PROBLEMS
    sys.stderr.write(convert.report(conversion))
    if args.strict and (conversion.gaps or conversion.problems):
        return EXIT_PROBLEMS
    return code


CONVERT = Subcommand(
    name="convert",
    help="write Quadlet units (a pod, a container per service, the target) from compose files",
    add_arguments=add_convert_arguments,
    run=run_convert,
)

# --------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------

# The plugin named as its entry point is (one plugin, loaded even where the package is only on
# sys.path); hypothesis's pytest plugin, which a compliance run never uses, costs more than half
# of the start-up (`-p hypothesispytest` brings it back for a site's own checks). pytest would
# rewrite the asserts of the plugin's package, which this command has imported already: no use
# warning about it on every run.
CHECK_PLUGINS = (
    "-p",
    "phoenix_compliance.plugin",
    "-p",
    "no:hypothesispytest",
    "-W",
    "ignore:Module already imported so cannot be rewritten; phoenix_compliance:pytest.PytestAssertRewriteWarning",
)
# Where pytest reads its settings from, in its own order of precedence within one folder.
INI_FILES = ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg")
# Options that choose the ini file or rootdir themselves: given one, check leaves both to pytest.
SETUP_OPTIONS = ("-c", "--config-file", "--rootdir")


def _holds_pytest_settings(path: Path) -> bool:
    if path.name in ("pytest.toml", ".pytest.toml", "pytest.ini", ".pytest.ini"):
        return True
    if path.suffix == ".toml":
        try:
            tool = tomllib.loads(path.read_text("utf-8")).get("tool", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return False
        return isinstance(tool, dict) and "pytest" in tool
    parser = ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return parser.has_section("pytest" if path.name == "tox.ini" else "tool:pytest")


def find_ini(start: Path) -> Path | None:
    """The user's pytest settings file: the first, from the current folder up, as pytest looks for it."""
    for folder in (start, *start.parents):
        for name in INI_FILES:
            candidate = folder / name
            if candidate.is_file() and _holds_pytest_settings(candidate):
                return candidate
    return None


def _join_values(argv: list[str], takes_value: set[str]) -> list[str]:
    """`--opt VALUE` as `--opt=VALUE` for the suite's options. pytest decides its rootdir from the
    paths on the command line before any plugin has said which options take a value, so a value
    written after a space would count as a test path."""
    joined: list[str] = []
    words = iter(argv)
    for word in words:
        if word in takes_value:
            value = next(words, None)
            joined.append(word if value is None else f"{word}={value}")
        else:
            joined.append(word)
    return joined


def _names_bundled_checks(argv: list[str], checks: Path) -> bool:
    """Whether a path given on the command line is (within) the bundled checks already."""
    for word in argv:
        if word.startswith("-"):
            continue
        path = Path(word.split("::", 1)[0]).resolve()
        if path.exists() and (path == checks or checks in path.parents):
            return True
    return False


def check_arguments(argv: Sequence[str], cwd: Path) -> list[str]:
    """pytest's command line for `check ARGV`, run from the folder cwd."""
    from phoenix_compliance.run.options import OPTIONS

    args = _join_values(list(argv), {option.flag for option in OPTIONS if option.kind != "flag"})
    setup: list[str] = []
    if not any(word == option or word.startswith(option + "=") for word in args for option in SETUP_OPTIONS):
        # The user's own settings (phoenix_stack, ...) from where they stand; pytest would look
        # upwards from the paths instead, the bundled checks' among them. No settings file: none.
        ini = find_ini(cwd)
        setup = [f"--config-file={ini}"] if ini is not None else [f"--config-file={os.devnull}", f"--rootdir={cwd}"]
    checks = bundled.checks_dir().resolve()
    paths = [] if _names_bundled_checks(args, checks) else [str(checks)]
    return [*CHECK_PLUGINS, *setup, *paths, *args]


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pytest_args", metavar="[pytest options] [PATHS]", nargs="*")


def run_check_argv(argv: list[str]) -> int:
    # Imported here: lint and verify start without pytest.
    import pytest

    # Imported before pytest starts, so that pytest does not rewrite the asserts of every module
    # of the plugin's package (it marks a pytest11 distribution's whole package for that): the
    # plugin has no asserts to explain, and without a bytecode cache that is a fifth of the start.
    import phoenix_compliance.plugin  # noqa: F401

    return int(pytest.main(check_arguments(argv, Path.cwd())))


def run_check(args: argparse.Namespace) -> int:
    return run_check_argv(list(args.pytest_args))


CHECK = Subcommand(
    name="check",
    help="run the bundled checks (and a site's own, given as PATHS) with any pytest options; `check --help` lists them",
    add_arguments=add_check_arguments,
    run=run_check,
    passthrough=run_check_argv,
)

# The command's subcommands, in the order `--help` lists them.
SUBCOMMANDS: dict[str, Subcommand] = {command.name: command for command in (CHECK, LINT, VERIFY, MERGE, TREND, CONVERT)}


# --------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------


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


if __name__ == "__main__":
    raise SystemExit(main())
