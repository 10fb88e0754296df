"""What ships with the suite, found the same way from a checkout and from an installed wheel.

In the repository the checks live in ``tests/`` and the stack manifests and reference files
in ``fixtures/``, beside the package; the wheel maps those two folders into the package
(``phoenix_compliance/suite``, ``phoenix_compliance/fixtures``, see pyproject.toml), so one
copy serves both. A checkout is recognised by the repository's own pyproject.toml beside
the package, so an install inside another project's repository is never taken for one.
"""

from __future__ import annotations

import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "phoenix-compliance"
_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent
# The checks' folders, in the order a run collects them.
CHECK_FOLDERS = ("phase1", "phase2", "phase3", "security", "upgrade")
DEFAULT_STACK_NAME = "phoenix-hydra.yaml"


def is_checkout() -> bool:
    """Whether the package is imported from a checkout of this repository (not from a wheel)."""
    pyproject = _CHECKOUT / "pyproject.toml"
    if not (pyproject.is_file() and (_CHECKOUT / "tests" / "phase1").is_dir()):
        return False
    return f'name = "{DISTRIBUTION}"' in pyproject.read_text("utf-8")


def checks_dir() -> Path:
    """The folder of the bundled checks (tests/ of the repository)."""
    return _CHECKOUT / "tests" if is_checkout() else _PACKAGE / "suite"


def fixtures_dir() -> Path:
    """The stack manifests and reference files (fixtures/ of the repository)."""
    return _CHECKOUT / "fixtures" if is_checkout() else _PACKAGE / "fixtures"


def default_stack() -> Path:
    """The stack manifest a run checks against when --stack is not given: the guide's stack."""
    return fixtures_dir() / "stacks" / DEFAULT_STACK_NAME


def package_version() -> str:
    """The suite's version from the package metadata."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown"


def _git_revision() -> str | None:
    if not (_CHECKOUT / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(_CHECKOUT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


@cache
def suite_version() -> str:
    """The version a report and its sign-off record: the package's, plus the git revision
    only when the suite runs from a checkout of its own repository."""
    version = package_version()
    revision = _git_revision() if is_checkout() else None
    return f"{version} (git {revision})" if revision else version
