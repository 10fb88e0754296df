"""Writing a conversion: the files into a folder (never replacing a differing one unasked), the
dry run's units and diffs, and the closing report (secrets to create, notes, what was not converted).

Nothing written or printed here holds a secret's value: the units refer to Podman secrets, and
the commands that create them read the value from the shell. Printed text passes the redaction
layer all the same.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from phoenix_compliance.convert.model import Conversion
from phoenix_compliance.redact import redact
from phoenix_compliance.run.writers import write_file


@dataclass
class Written:
    """What writing did to each file: new, unchanged, replaced, or kept (differing, not replaced)."""

    new: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)


def _existing(path: Path) -> str | None:
    try:
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def diff(folder: Path, texts: dict[str, str]) -> Written:
    """How the files compare with what is in the folder (nothing is written)."""
    result = Written()
    for name, text in texts.items():
        old = _existing(folder / name) if (folder / name).exists() else None
        if old is None and not (folder / name).exists():
            result.new.append(name)
        elif old == text:
            result.unchanged.append(name)
        else:
            result.kept.append(name)
            result.diffs[name] = "".join(
                difflib.unified_diff(
                    (old or "").splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"{folder / name} (now)",
                    tofile=f"{folder / name} (converted)",
                )
            )
    return result


def write(folder: Path, texts: dict[str, str], *, replace: bool) -> Written:
    """Write each file whole or not at all; a differing file is replaced only with replace=True."""
    result = diff(folder, texts)
    for name in result.new:
        write_file(folder / name, [texts[name].encode("utf-8")], exclusive=True)
    if replace:
        for name in result.kept:
            write_file(folder / name, [texts[name].encode("utf-8")], exclusive=False)
        result.replaced, result.kept = result.kept, []
    return result


def units_text(conversion: Conversion) -> str:
    return "".join(f"---{name}---\n{text}\n" for name, text in conversion.texts().items())


def report(conversion: Conversion) -> str:
    """What the user must do and know: secrets to create, notes, compose problems, fields not converted."""
    lines: list[str] = []
    if conversion.secrets:
        lines.append("Podman secrets the units use; create each before starting (the value comes from your shell):")
        for secret in conversion.secrets:
            lines.append(f"  {secret.command}    # {secret.holds}")
    if conversion.notes:
        lines.append("Notes:")
        lines.extend(f"  {note}" for note in conversion.notes)
    if conversion.problems:
        lines.append("Problems in the compose file:")
        lines.extend(f"  {problem}" for problem in conversion.problems)
    if conversion.gaps:
        lines.append(f"Not converted ({len(conversion.gaps)}), the units are written without them:")
        lines.extend(f"  {gap}" for gap in sorted(conversion.gaps, key=lambda g: (g.line, g.key)))
    else:
        lines.append("Every compose field was converted.")
    return redact("\n".join(lines) + "\n")
