"""Reading values the way the Quadlet generator does (``pkg/systemd/parser/unitfile.go``, ``split.go``).

Which values the generator refuses follows its conversion code, read the way
the judged release reads it: Lookup() trims every surrounding quote (one
matched pair from 5.8.2), LookupAll() restarts at an empty value, words split like systemd's
extract_first_word() (with C unescaping). The rules read values only through
these readers, so a change of the generator's reading is made once; what a
value means to podman (a volume, mount or port spec) is read by
``phoenix_compliance.grammar``.

Everything that reads a Quadlet or systemd value as words reads it here (the lint,
the facts, the security rules): systemd's and Quadlet's splitting differ from a
shell's (C escapes, no $ or backquote), so no ``shlex`` stands in for them.
"""

from __future__ import annotations

from phoenix_compliance.grammar.specifiers import environment_file, environment_words
from phoenix_compliance.quadlet.unitfile import Entry, UnitFile
from phoenix_compliance.quadlet.versions import MATCHED_QUOTES_SINCE, Version


def strip_matching_quotes(value: str) -> str:
    """Lookup()'s unquoting from 5.8.2: one matched pair of surrounding double quotes."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def unquote(value: str, version: Version) -> str:
    """Lookup()'s unquoting: up to 5.8.1 every leading and trailing '"' goes (strings.Trim),
    matched or not (seen on 5.4.2); from 5.8.2 one matched pair only, so a lone '"' stays."""
    if version < MATCHED_QUOTES_SINCE:
        return value.strip('"')
    return strip_matching_quotes(value)


def lookup(unit: UnitFile, section: str, key: str, version: Version) -> tuple[Entry, str] | None:
    """Lookup(): the last entry and its value unquoted as the given release does."""
    entry = unit.last(section, key)
    return None if entry is None else (entry, unquote(entry.value, version))


def lookup_value(unit: UnitFile, section: str, key: str, version: Version) -> str:
    found = lookup(unit, section, key, version)
    return found[1] if found else ""


def lookup_all(unit: UnitFile, section: str, key: str) -> list[Entry]:
    """LookupAll(): every entry in order, raw (quotes kept); an empty value clears those before it."""
    kept: list[Entry] = []
    for entry in unit.entries_for(section, key):
        if entry.value:
            kept.append(entry)
        else:
            kept = []
    return kept


# Flags of Quadlet's splitString() (pkg/systemd/parser/split.go, ported from systemd's
# extract_first_word()); only those Quadlet's lookups use are honoured.
_SPLIT_RELAX = 1
_SPLIT_CUNESCAPE = 2
_SPLIT_UNQUOTE = 32
_SPLIT_RETAIN_ESCAPE = 128
# LookupAllArgs()/LookupLastArgs()/LookupAllKeyVal() versus LookupAllStrv().
SPLIT_ARGS = _SPLIT_RELAX | _SPLIT_UNQUOTE | _SPLIT_CUNESCAPE
SPLIT_STRV = _SPLIT_RETAIN_ESCAPE | _SPLIT_UNQUOTE
# systemd's own reading of [Service] Environment= (config_parse_environ(): EXTRACT_CUNESCAPE |
# EXTRACT_UNQUOTE, not relaxed): an unclosed quote or a bad escape makes it ignore the line.
SPLIT_SYSTEMD_ENVIRONMENT = _SPLIT_UNQUOTE | _SPLIT_CUNESCAPE
_SEPARATORS = " \t\n\r"
_END = "\0"  # the Go code marks the end of the string with a NUL, as systemd's C does


class _SplitError(ValueError):
    pass


def _c_unescape_one(text: str) -> tuple[int, str]:
    """cUnescapeOne(): characters consumed and the character, or (-1, "") if not an escape."""
    if not text:
        return -1, ""
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
    simple.update({'"': '"', "'": "'", "s": " "})
    head = text[0]
    if head in simple:
        return 1, simple[head]
    digits = {"x": (2, 16), "u": (4, 16), "U": (8, 16)}
    if head in digits:
        count, base = digits[head]
        chunk = text[1 : 1 + count]
        if len(chunk) < count or any(c not in "0123456789abcdefABCDEF" for c in chunk):
            return -1, ""
        code = int(chunk, base)
        if code == 0 or code > 0x10FFFF:
            return -1, ""
        return count + 1, chr(code)
    if head in "01234567":
        chunk = text[:3]
        if len(chunk) < 3 or any(c not in "01234567" for c in chunk):
            return -1, ""
        code = int(chunk, 8)
        if code == 0 or code > 255:
            return -1, ""
        return 3, chr(code)
    return -1, ""


def _extract_first_word(text: str, flags: int) -> tuple[str, str, bool]:
    """extractFirstWord(): (word, rest, found); raises _SplitError where Quadlet errs."""
    out: list[str] = []
    quote = ""
    backslash = False
    end = len(text)
    p = 0

    def char(index: int) -> str:
        return text[index] if index < end else _END

    def word(rest_at: int) -> tuple[str, str, bool]:
        # An empty word (say '' alone) ends the splitting, as in the Go code.
        return ("".join(out), text[rest_at:], True) if out else ("", "", False)

    if not text:
        return "", "", False
    c = text[0]
    while c in _SEPARATORS and c != _END:
        p += 1
        c = char(p)
    if c == _END:
        return word(end)
    while True:
        if backslash:
            if c == _END:
                if flags & _SPLIT_RELAX:
                    return word(end)
                raise _SplitError("unbalanced escape")
            if flags & _SPLIT_CUNESCAPE:
                consumed, unescaped = _c_unescape_one(text[p:])
                if consumed <= 0:
                    raise _SplitError("unsupported escape char")
                p += consumed - 1
                out.append(unescaped)
            else:
                out.append(c)
            backslash = False
        elif quote:
            while True:
                if c == _END:
                    if flags & _SPLIT_RELAX:
                        return word(end)
                    raise _SplitError("unbalanced quotes")
                if c == quote:
                    quote = ""
                    if flags & _SPLIT_UNQUOTE:
                        break
                elif c == "\\" and not flags & _SPLIT_RETAIN_ESCAPE:
                    backslash = True
                    break
                out.append(c)
                if not quote:
                    break
                p += 1
                c = char(p)
        else:
            while True:
                if c == _END:
                    return word(end)
                if c in "'\"" and flags & _SPLIT_UNQUOTE:
                    quote = c
                    break
                if c == "\\" and not flags & _SPLIT_RETAIN_ESCAPE:
                    backslash = True
                    break
                if c in _SEPARATORS:
                    while c in _SEPARATORS:
                        p += 1
                        c = char(p)
                    return word(end if c == _END else p)
                out.append(c)
                p += 1
                c = char(p)
        p += 1
        c = char(p)


def split_words(value: str, flags: int = SPLIT_ARGS) -> list[str] | None:
    """splitString(): the words of a value, or None where Quadlet fails to split it
    (then it ignores the whole value)."""
    words: list[str] = []
    rest = value
    try:
        while True:
            word, rest, found = _extract_first_word(rest, flags)
            if not found:
                return words
            words.append(word)
    except _SplitError:
        return None


def all_words(unit: UnitFile, section: str, key: str, flags: int = SPLIT_STRV) -> list[tuple[Entry, str]]:
    """LookupAllStrv() (default) or LookupAllArgs(): each word of each kept value, with its entry."""
    found: list[tuple[Entry, str]] = []
    for entry in lookup_all(unit, section, key):
        for word in split_words(entry.value, flags) or []:
            found.append((entry, word))
    return found


def unit_environment(unit: UnitFile) -> dict[str, str]:
    """The variables systemd sets for the unit's commands: its EnvironmentFile= files as read, then
    [Service] Environment= (which wins), later words over earlier; a line systemd cannot split
    (unclosed quote, bad escape) is ignored, as systemd ignores it."""
    found: dict[str, str] = {}
    for text in unit.environment_files.values():
        found.update(environment_file(text))
    for value in unit.values("Service", "Environment"):
        found.update(environment_words(split_words(value, SPLIT_SYSTEMD_ENVIRONMENT) or []))
    return found
