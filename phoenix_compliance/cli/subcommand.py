"""What every subcommand shares: its record (options, how it runs), the usage error, the exit codes."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

PROG = "phoenix-compliance"


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
