"""Unit files as the converter builds them: sections of ordered keys, written as Quadlet reads them.

Every value that comes from the compose file goes into podman's command line in
the generated ExecStart=, where systemd expands ``%`` specifiers and ``$VAR``
references; Quadlet quotes words (``escapeWords()``, pkg/systemd/parser/split.go)
but escapes neither, so a literal ``%`` is written ``%%`` here and a literal
``$`` ``$$``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Quadlet's wordNeedEscape(): whitespace, control characters, quotes and backslashes.
_NEEDS_QUOTES = re.compile(r"[\s\"'\\\x00-\x1f\x7f]")
_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def systemd_literal(text: str) -> str:
    """A compose value as it must be written so that podman receives it: ``%`` and ``$`` doubled.
    The compose parser has substituted the variables already (``$$`` is one ``$`` by then), so
    every ``$`` left is one podman-compose passes on as it is."""
    return text.replace("%", "%%").replace("$", "$$")


def quote_word(word: str) -> str:
    """One word as systemd's word splitting (Quadlet's Exec=, Environment=, ...) reads it back."""
    if word and not _NEEDS_QUOTES.search(word):
        return word
    escaped = "".join(_C_ESCAPES.get(c, f"\\x{ord(c):02x}" if ord(c) < 32 or ord(c) == 127 else c) for c in word)
    return f'"{escaped}"'


def join_words(words: list[str]) -> str:
    return " ".join(quote_word(systemd_literal(word)) for word in words)


@dataclass
class Unit:
    """One file to write: its name, a comment on top and its sections in order."""

    name: str
    comment: list[str] = field(default_factory=list)
    sections: dict[str, list[tuple[str, str, str | None]]] = field(default_factory=dict)

    def add(self, section: str, key: str, value: str, comment: str | None = None) -> None:
        self.sections.setdefault(section, []).append((key, value, comment))

    def values(self, section: str, key: str) -> list[str]:
        return [value for name, value, _ in self.sections.get(section, []) if name == key]

    def text(self) -> str:
        lines = [f"# {line}" if line else "#" for line in self.comment]
        for section, entries in self.sections.items():
            if lines:
                lines.append("")
            lines.append(f"[{section}]")
            for key, value, comment in entries:
                if comment:
                    lines.append(f"# {comment}")
                lines.append(f"{key}={value}")
        return "\n".join(lines) + "\n"
