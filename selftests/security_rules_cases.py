"""What the selftests of the file security rules share: the reference stack, a digest, and compose files and units
parsed from text.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from phoenix_compliance.parsers.compose import ComposeFile, parse
from phoenix_compliance.quadlet.unitfile import UnitFile, parse_text
from phoenix_compliance.security import Offence

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "infra" / "podman"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def compose(text: str) -> ComposeFile:
    text = textwrap.dedent(text)
    # The named volume these files mount, declared after their lines (podman-compose refuses it undeclared).
    if "\nvolumes:" not in text:
        text += "volumes:\n  data: {}\n"
    result = parse(text, "compose.yaml")
    assert result.ok, result.problems
    return result


def unit(text: str, name: str = "web.container") -> UnitFile:
    result = parse_text(textwrap.dedent(text), name)
    assert not result.problems, result.problems
    return result


def where(offences: list[Offence]) -> list[tuple[str, int, str]]:
    return [(offence.path, offence.line, offence.subject) for offence in offences]
