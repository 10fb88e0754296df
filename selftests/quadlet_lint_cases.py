"""What the Quadlet linter's selftests share: the reference units, the releases, a good container,
and the helpers that write, lint and compare.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

from phoenix_compliance.quadlet_lint import (
    Finding,
    StackRules,
    Version,
    lint_paths,
)

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "infra" / "podman" / "systemd"
PODMAN_5_4: Version = (5, 4, 2)
PODMAN_4_4: Version = (4, 4, 0)

GOOD_CONTAINER = """\
[Unit]
Description=demo

[Container]
Image=localhost/demo:1.0
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def lint(*paths: Path, version: Version = PODMAN_5_4, stack: StackRules | None = None) -> list[Finding]:
    return lint_paths(paths, version, stack)


def hits(findings: Iterable[Finding]) -> set[tuple[str, int]]:
    """(rule id, line) of each finding: what the tests compare."""
    return {(finding.rule_id, finding.line) for finding in findings}


def only(findings: Sequence[Finding], rule_id: str) -> list[Finding]:
    return [finding for finding in findings if finding.rule_id == rule_id]


def line_of(path: Path, prefix: str) -> int:
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text.startswith(prefix):
            return number
    raise AssertionError(f"{prefix!r} not in {path}")
