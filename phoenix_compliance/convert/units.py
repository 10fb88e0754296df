"""Unit files as the converter builds them, and the one escaping of a value into a unit line.

A value reaches a unit only through ``escape()`` (called by the converter's one key writer,
``Base.write()``), in the form the reader of its key takes it back:

- Quadlet's readers (pkg/systemd/parser/unitfile.go at 5.4.2 and 5.8.2): ``Lookup()`` takes the
  whole value and trims its double quotes, ``LookupAll()`` takes it whole as written,
  ``LookupAllArgs()``/``LookupAllKeyVal()``/``LookupLastArgs()`` split it into words with
  C unescaping, ``LookupAllStrv()`` splits it keeping backslashes as written;
- systemd itself for [Unit], [Service] and [Install], which expands ``%`` specifiers in some keys.

Every Quadlet value becomes part of podman's command line in the generated ExecStart=, where
systemd expands ``%`` specifiers and ``$VAR`` references; Quadlet quotes words
(``escapeWords()``, pkg/systemd/parser/split.go) but escapes neither, so a literal ``%`` is
written ``%%`` and a literal ``$`` ``$$``. The compose parser has substituted the variables
already (compose's ``$$`` is one ``$`` by then). What no form can hold is refused, never written:
a control character (systemd and Quadlet end a line at a newline, CR and NUL are line ends to
systemd too), a trailing backslash (it continues the line), whitespace at a value's ends (both
parsers strip it), a double quote at the ends of a Lookup() value (trimmed), an empty value
(LookupAll() restarts there).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field


class Read(enum.Enum):
    """How the program that reads a key takes its value back."""

    LOOKUP = "the whole value, its surrounding double quotes trimmed (Lookup)"
    ALL = "the whole value as written (LookupAll)"
    ARGS = "words, C escapes undone (LookupAllArgs, LookupAllKeyVal)"
    STRV = "words, backslashes kept as written (LookupAllStrv)"
    SYSTEMD = "systemd's own value, % specifiers expanded"
    SYSTEMD_PLAIN = "systemd's own value, nothing expanded"


@dataclass(frozen=True)
class Specifier:
    """A systemd specifier the converter writes on purpose (%h: the home, %t: the runtime folder)."""

    text: str

    def __post_init__(self) -> None:
        if self.text not in ("%h", "%t"):
            raise ValueError(f"not a specifier the converter writes: {self.text!r}")


# A value: literal text, or literal pieces joined to specifiers (`%h` + `/data`).
Text = str | tuple[str | Specifier, ...]


class Unrepresentable(ValueError):
    """A value no unit line can hold so that it reads back as it is."""


# C0, DEL and C1 control characters, and the separators Python's splitlines() ends lines at.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Go's unicode.IsSpace(): what Quadlet strips around a line; systemd strips less, never more.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"
)
# Quadlet's wordNeedEscape(): whitespace, control characters, quotes and backslashes.
_NEEDS_QUOTES = re.compile(r"[\s\"'\\]")
_C_ESCAPES = {"\\": "\\\\", '"': '\\"'}


def literal(text: str, read: Read) -> str:
    """Literal text with systemd's expansions undone: `%` doubled where specifiers are expanded,
    `$` doubled where variables are (Quadlet's values all end in ExecStart=)."""
    if read is Read.SYSTEMD_PLAIN:
        return text
    text = text.replace("%", "%%")
    return text if read is Read.SYSTEMD else text.replace("$", "$$")


def _plain(value: Text) -> str:
    return value if isinstance(value, str) else "".join(p.text if isinstance(p, Specifier) else p for p in value)


def _joined(value: Text, read: Read) -> str:
    if isinstance(value, str):
        return literal(value, read)
    return "".join(part.text if isinstance(part, Specifier) else literal(part, read) for part in value)


def _check(value: Text, what: str) -> str:
    plain = _plain(value)
    found = _CONTROL.search(plain)
    if found is not None:
        raise Unrepresentable(
            f"{what} holds the control character U+{ord(found.group()):04X}, which ends or breaks a unit line"
        )
    return plain


def quote_word(word: str) -> str:
    """One word as systemd's word splitting (LookupAllArgs, LookupAllKeyVal) reads it back."""
    if word and not _NEEDS_QUOTES.search(word):
        return word
    return '"' + "".join(_C_ESCAPES.get(c, c) for c in word) + '"'


def _strv_word(word: str, plain: str) -> str:
    # LookupAllStrv() unquotes but keeps every backslash as written: a quote or backslash inside
    # cannot be written so that it reads back.
    if re.search(r"[\\\"']", plain):
        raise Unrepresentable(f"the word {plain!r} holds a quote or backslash, which Quadlet reads back changed")
    return f'"{word}"' if re.search(r"\s", word) or not word else word


def escape(value: Text | Sequence[Text], read: Read) -> str:
    """The text of a unit line's value that reads back, in the given form, as `value` (a list of
    words for ARGS and STRV); raises Unrepresentable for what cannot."""
    if read in (Read.ARGS, Read.STRV):
        words = [value] if isinstance(value, (str, tuple)) else list(value)
        written: list[str] = []
        for word in words:
            plain = _check(word, "a word")
            if plain == ";":
                raise Unrepresentable("a lone ';' separates commands in the generated ExecStart=")
            escaped = _joined(word, read)
            written.append(quote_word(escaped) if read is Read.ARGS else _strv_word(escaped, plain))
        if not written:
            raise Unrepresentable("no words")
        return " ".join(written)
    assert isinstance(value, (str, tuple))
    plain = _check(value, "the value")
    if not plain:
        raise Unrepresentable("is empty, which a unit reads as unset")
    if plain[0] in _GO_SPACE or plain[-1] in _GO_SPACE:
        raise Unrepresentable("starts or ends with whitespace, which the unit parser strips")
    if plain.endswith("\\"):
        raise Unrepresentable("ends with a backslash, which joins the next line of the unit")
    if read is Read.LOOKUP and (plain.startswith('"') or plain.endswith('"')):
        raise Unrepresentable("starts or ends with a double quote, which Quadlet trims")
    return _joined(value, read)


def comment_line(text: str) -> str:
    """A comment line of our own (it names compose files and services): never two lines."""
    return _CONTROL.sub("?", text).rstrip("\\")


@dataclass
class Unit:
    """One file to write: its name, a comment on top and its sections in order. Entries are added
    only by the converter's key writer (``Base.write()``), already escaped."""

    name: str
    comment: list[str] = field(default_factory=list)
    sections: dict[str, list[tuple[str, str, str | None]]] = field(default_factory=dict)

    def add(self, section: str, key: str, value: str, comment: str | None = None) -> None:
        self.sections.setdefault(section, []).append((key, value, comment))

    def values(self, section: str, key: str) -> list[str]:
        return [value for name, value, _ in self.sections.get(section, []) if name == key]

    def text(self) -> str:
        lines = [f"# {comment_line(line)}" if line else "#" for line in self.comment]
        for section, entries in self.sections.items():
            if lines:
                lines.append("")
            lines.append(f"[{section}]")
            for key, value, comment in entries:
                if comment:
                    lines.append(f"# {comment_line(comment)}")
                lines.append(f"{key}={value}")
        return "\n".join(lines) + "\n"
