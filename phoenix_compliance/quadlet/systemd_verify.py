"""What ``systemd-analyze verify`` says of generated units, read back to the Quadlet file's lines.

systemd names the generated service's line ("web.service:16: Failed to parse ...,
ignoring"); the author wrote the line in web.container. Quadlet copies the [Unit],
[Service] and [Install] lines in order, so the n-th copy of a line in the service is
the n-th time it was written in the Quadlet file (``source_line()``). A plain module:
the differential selftest reads its guests' answers with it, and a host check can
read a host's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_LINE_MESSAGE = re.compile(r"^(?P<file>[^\s:]+\.service):(?P<line>\d+): (?P<text>.*)$")
_NOT_FOUND = re.compile(r"Unit (\S+) not found")
_FATAL = ("bad unit file setting", "has fatal error")
# How systemd says it drops a line: "Unknown key ..., ignoring", "Failed to parse ..., ignoring",
# "Unknown section ... Ignoring", and 262's "Support for option X= has been removed and it is ignored".
_IGNORED = ("ignoring", "is ignored")
_KEY_UNKNOWN = ("Unknown key", "has been removed")


@dataclass(frozen=True)
class VerifyMessage:
    """One line of systemd's verdict: the unit file and line it names (0: none), and what it says."""

    unit: str
    line: int
    text: str

    @property
    def ignored(self) -> bool:
        """systemd dropped the line and loads the unit without it."""
        return self.line > 0 and any(word in self.text.lower() for word in _IGNORED)

    @property
    def unknown_key(self) -> bool:
        return self.ignored and any(word in self.text for word in _KEY_UNKNOWN)

    @property
    def fatal(self) -> bool:
        """systemd refuses to load the unit at all."""
        return any(word in self.text for word in _FATAL)

    @property
    def not_found(self) -> str | None:
        """The unit a dependency names that systemd cannot find."""
        found = _NOT_FOUND.search(self.text)
        return found.group(1) if found else None


def parse_verify(output: str, folder: str = "") -> list[VerifyMessage]:
    """systemd-analyze verify's lines; ``folder`` is cut from the paths it names."""
    messages = []
    for raw in output.splitlines():
        line = raw.replace(f"{folder.rstrip('/')}/", "") if folder else raw
        line = line.removeprefix("./")
        match = _LINE_MESSAGE.match(line)
        if match is not None:
            messages.append(VerifyMessage(match.group("file"), int(match.group("line")), match.group("text")))
        elif line.strip():
            unit = line.split(":", 1)[0] if ":" in line else ""
            messages.append(VerifyMessage(unit, 0, line.strip()))
    return messages


def normal_line(line: str) -> str:
    """A unit line as systemd and Quadlet compare it ('Key = v' and 'Key=v' alike)."""
    text = line.strip()
    if text.startswith("[") or "=" not in text:
        return text
    key, value = text.split("=", 1)
    return f"{key.strip()}={value.strip()}"


def source_line(generated: Sequence[str], number: int, source: Sequence[str]) -> int | None:
    """The line of the Quadlet file (1-based) that the generated service's line ``number`` copies,
    or None for a line Quadlet wrote itself."""
    if not 0 < number <= len(generated):
        return None
    wanted = normal_line(generated[number - 1])
    nth = sum(1 for line in generated[: number - 1] if normal_line(line) == wanted)
    seen = 0
    for index, line in enumerate(source, start=1):
        if normal_line(line) == wanted:
            if seen == nth:
                return index
            seen += 1
    return None
