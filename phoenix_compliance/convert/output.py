"""Writing a conversion: the files into a folder (never replacing a differing one unasked), the
dry run's units and diffs, and the closing report (secrets to create, notes, what was not converted).

Nothing written or printed here holds a secret's value: the units refer to Podman secrets, and
the commands that create them read the value from the shell. Printed text passes the redaction
layer all the same.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from phoenix_compliance.convert.model import Conversion
from phoenix_compliance.convert.names import NameRefused, unit_file_name
from phoenix_compliance.publish import Refused, folder_descriptor, write_whole_set
from phoenix_compliance.redact import redact

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# An existing unit bigger than this is not read for a diff (a unit is a few KB).
_READ_LIMIT = 1 << 20


@dataclass
class Written:
    """What writing did to each file: new, unchanged, replaced, or kept (differing, not replaced)."""

    new: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    diffs: dict[str, str] = field(default_factory=dict)


def _plain_name(name: str) -> str:
    stem, _dot, suffix = name.rpartition(".")
    try:
        return unit_file_name(stem, suffix, "unit file")
    except NameRefused as error:
        raise Refused(str(error)) from None


def _existing(folder_fd: int | None, name: str) -> str | None:
    """The text of a regular file `name` directly in the folder, None when there is none; never
    through a symbolic link, never a FIFO or device (refused by type before it is opened)."""
    if folder_fd is None:
        return None
    try:
        info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        raise Refused(f"{name} is a symbolic link; it is never written or read through")
    if not stat.S_ISREG(info.st_mode):
        raise Refused(f"{name} is not a regular file")
    fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd)
    try:
        data = os.read(fd, _READ_LIMIT + 1)
    finally:
        os.close(fd)
    if len(data) > _READ_LIMIT:
        return "(larger than a unit, not shown)\n"
    return data.decode("utf-8", errors="replace")


def _compare(folder: Path, folder_fd: int | None, texts: dict[str, str]) -> Written:
    result = Written()
    for name, text in texts.items():
        _plain_name(name)
        old = _existing(folder_fd, name)
        if old is None:
            result.new.append(name)
        elif old == text:
            result.unchanged.append(name)
        else:
            result.kept.append(name)
            # The file on disk may hold anything (a secret the user keeps there): redacted.
            result.diffs[name] = redact(
                "".join(
                    difflib.unified_diff(
                        old.splitlines(keepends=True),
                        text.splitlines(keepends=True),
                        fromfile=f"{folder / name} (now)",
                        tofile=f"{folder / name} (converted)",
                    )
                )
            )
    return result


def diff(folder: Path, texts: dict[str, str]) -> Written:
    """How the files compare with what is in the folder (nothing is written); Refused when a
    name is a symbolic link or not a regular file."""
    with folder_descriptor(folder, create=False) as folder_fd:
        return _compare(folder, folder_fd, texts)


def write(folder: Path, texts: dict[str, str], *, replace: bool) -> Written:
    """Write the set whole or not at all, each file directly in the folder and never through a
    symbolic link; a differing file is replaced only with replace=True. Refused (nothing
    written) when a name in the way is a link or not a regular file."""
    with folder_descriptor(folder, create=True) as folder_fd:
        assert folder_fd is not None
        result = _compare(folder, folder_fd, texts)
        wanted = result.new + (result.kept if replace else [])
        write_whole_set(folder_fd, {name: texts[name] for name in wanted}, set(result.new))
    if replace:
        result.replaced, result.kept = result.kept, []
    return result


def units_text(conversion: Conversion) -> str:
    return "".join(f"---{name}---\n{text}\n" for name, text in conversion.texts().items())


def report(conversion: Conversion) -> str:
    """What the user must do and know: names refused, secrets to create, notes, compose problems,
    fields not converted."""
    lines: list[str] = []
    if conversion.refused:
        lines.append("Refused as file names (nothing is written):")
        lines.extend(f"  {refused}" for refused in conversion.refused)
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
    # Each entry names compose names and values as read: one line each, whatever they hold.
    return redact("\n".join(_one_line(line) for line in lines) + "\n")


def _one_line(text: str) -> str:
    return _CONTROL.sub(lambda found: f"\\u{ord(found.group()):04x}", text)
