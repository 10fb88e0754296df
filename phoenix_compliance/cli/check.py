"""`phoenix-compliance check`: the bundled checks (and a site's own) run by pytest, every pytest
option passed through as it is."""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Sequence
from configparser import ConfigParser
from pathlib import Path

from phoenix_compliance import bundled
from phoenix_compliance.cli.subcommand import Subcommand

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
