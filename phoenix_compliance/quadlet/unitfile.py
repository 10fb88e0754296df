"""Reading systemd and Quadlet unit files without losing where things are.

Quadlet stops at the first problem of a file and names no line for most of
them; a migration review needs every problem with its file and line. This
module parses the systemd syntax (systemd.syntax(7)) into entries that keep
their 1-based line, and records malformed lines as problems instead of
raising, so a linter can report them next to everything else.

Syntax followed, and where Quadlet's own parser
(podman ``pkg/systemd/parser/unitfile.go``) differs:

- each physical line is stripped of surrounding whitespace; empty lines and
  lines starting with ``#`` or ``;`` are comments;
- ``[Name]`` opens a section; only blanks may follow the ``]``; a section
  that appears twice is merged into one, as both systemd and Quadlet do;
- ``Key=Value``: whitespace around the first ``=`` is dropped; the key must
  not be empty;
- a line ending in an odd number of backslashes continues on the next line,
  the backslash becoming a space (systemd); comment lines inside a
  continuation are skipped. Quadlet joins without the space, which only
  changes whitespace inside a value;
- a key before the first section, and a line that is neither comment,
  section nor ``Key=Value``, are problems (Quadlet rejects the whole file).

Quadlet files (.container, .pod, ...) are read with Quadlet's own line rules,
because the generator reads them first and writes what systemd then sees;
each difference was confirmed against the 5.4.2 generator:

- any trailing backslash continues the line (an even run too), and the
  pieces are joined without a space;
- blank lines, like comment lines, are skipped inside a continuation; a
  continuation still open at the end of the file is dropped silently;
- a UTF-8 byte order mark is not skipped, so the first line is malformed;
- whitespace is Go's ``unicode.IsSpace`` (not Python's, which adds
  U+001C..U+001F), and C1 control characters make a section name invalid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from phoenix_compliance.quadlet.versions import FILE_TYPE_SINCE

# The section a Quadlet file type is configured in, e.g. [Container].
QUADLET_MAIN_SECTIONS: dict[str, str] = {kind: kind.capitalize() for kind in FILE_TYPE_SINCE}

_COMMENT_STARTS = ("#", ";")


@dataclass(frozen=True)
class Entry:
    """One ``Key=Value`` assignment and the line its key is written on.

    ``source`` is the drop-in file the entry came from, None for the unit file itself.
    """

    section: str
    key: str
    value: str
    line: int
    source: Path | None = None


@dataclass
class Section:
    """A section with its entries in file order; repeated headers are merged."""

    name: str
    line: int
    entries: list[Entry] = field(default_factory=list)
    header_lines: list[int] = field(default_factory=list)
    source: Path | None = None  # the drop-in that opened the section, None for the unit file

    def values(self, key: str) -> list[str]:
        return [entry.value for entry in self.entries if entry.key == key]

    def entries_for(self, key: str) -> list[Entry]:
        return [entry for entry in self.entries if entry.key == key]


@dataclass(frozen=True)
class ParseProblem:
    """A line the parser could not use, kept so the caller can report it."""

    line: int
    # "outside-section", "not-an-assignment", "bad-section-name", "eof-continuation",
    # "eof-continuation-dropped", "byte-order-mark", "not-utf-8", "unreadable"
    kind: str
    text: str
    message: str


# Problems Quadlet's own parser (ParseUnitFile()) fails on: the generator then loads no file of
# that folder (cmd/quadlet/main.go loadUnitsFromDir(), 5.4.2 to 5.8). A byte that is not UTF-8
# and a continuation left open are read on.
FOLDER_DROPPING_PROBLEMS = frozenset(
    {"outside-section", "not-an-assignment", "bad-section-name", "byte-order-mark", "unreadable"}
)


@dataclass
class UnitFile:
    """A parsed unit file: ``kind`` is its suffix ('container', 'pod', 'target', ...)."""

    path: Path
    kind: str
    sections: list[Section] = field(default_factory=list)
    problems: list[ParseProblem] = field(default_factory=list)
    # The files its EnvironmentFile= names, as read by whoever could (facts/files.py for a
    # local folder), by the path as written: their text, so the secret rules can judge them.
    environment_files: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_quadlet(self) -> bool:
        return self.kind in QUADLET_MAIN_SECTIONS

    @property
    def main_section_name(self) -> str | None:
        """The Quadlet section of this file type, e.g. 'Container'; None for plain units."""
        return QUADLET_MAIN_SECTIONS.get(self.kind)

    def section(self, name: str) -> Section | None:
        for section in self.sections:
            if section.name == name:
                return section
        return None

    def entries(self) -> Iterator[Entry]:
        """Every entry of the file, in line order."""
        everything = [entry for section in self.sections for entry in section.entries]
        yield from sorted(everything, key=lambda entry: entry.line)

    def entries_for(self, section: str, key: str) -> list[Entry]:
        found = self.section(section)
        return found.entries_for(key) if found else []

    def values(self, section: str, key: str) -> list[str]:
        """All values of a key in a section, in order (repeated keys accumulate)."""
        return [entry.value for entry in self.entries_for(section, key)]

    def last(self, section: str, key: str) -> Entry | None:
        """The entry that wins for single-valued keys: systemd and Quadlet use the last one."""
        found = self.entries_for(section, key)
        return found[-1] if found else None


def drops_folder(unit: UnitFile) -> ParseProblem | None:
    """The first problem for which the generator fails to load this file, and with it its folder."""
    return next((problem for problem in unit.problems if problem.kind in FOLDER_DROPPING_PROBLEMS), None)


def kind_of(path: Path) -> str:
    """The unit kind from the file suffix: 'foo.container' -> 'container'."""
    return path.suffix.lstrip(".").lower()


def _ends_with_continuation(line: str) -> bool:
    # An even run of backslashes is escaped backslashes, not a continuation.
    trailing = len(line) - len(line.rstrip("\\"))
    return trailing % 2 == 1


def _is_section_header(line: str) -> bool:
    if not line.startswith("["):
        return False
    end = line.find("]")
    return end != -1 and line[end + 1 :].strip(" \t") == ""


def _section_name_is_valid(name: str) -> bool:
    # Go's unicode.IsControl, which Quadlet uses: C0, DEL and the C1 range.
    return bool(name) and not any(c in "[]" or ord(c) < 32 or 127 <= ord(c) <= 159 for c in name)


# Go's unicode.IsSpace: what Quadlet's strings.TrimSpace removes.
_GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000"
)


def parse_text(text: str, path: Path | str = "<string>", kind: str | None = None) -> UnitFile:
    """Parse unit-file text; never raises on malformed content.

    Quadlet files follow Quadlet's line rules, other units systemd's (see the
    module docstring).
    """
    path = Path(path)
    unit = UnitFile(path=path, kind=kind if kind is not None else kind_of(path))
    by_name: dict[str, Section] = {}
    current: Section | None = None
    quadlet_rules = unit.is_quadlet
    strip_chars = _GO_SPACE if quadlet_rules else None

    def take(logical: str, line_nr: int) -> None:
        nonlocal current
        if _is_section_header(logical):
            name = logical[1 : logical.find("]")]
            if not _section_name_is_valid(name):
                message = f"invalid section name {name!r}"
                unit.problems.append(ParseProblem(line_nr, "bad-section-name", logical, message))
                current = None
                return
            section = by_name.get(name)
            if section is None:
                section = Section(name=name, line=line_nr)
                by_name[name] = section
                unit.sections.append(section)
            section.header_lines.append(line_nr)
            current = section
            return
        equals = logical.find("=")
        if equals <= 0 or not logical[:equals].strip(strip_chars):
            unit.problems.append(
                ParseProblem(
                    line_nr,
                    "not-an-assignment",
                    logical,
                    "line is not a section header, a Key=Value assignment or a comment",
                )
            )
            return
        key = logical[:equals].rstrip(strip_chars)
        value = logical[equals + 1 :].strip(strip_chars)
        if current is None:
            message = "assignment before the first [Section] header"
            unit.problems.append(ParseProblem(line_nr, "outside-section", logical, message))
            return
        current.entries.append(Entry(section=current.name, key=key, value=value, line=line_nr))

    if quadlet_rules:
        if text.startswith("\ufeff"):
            # Quadlet rejects the file for it; report that once and read the rest
            # as if it were not there, so nothing else is reported twice.
            message = "the file starts with a UTF-8 byte order mark, which Quadlet reads as part of line 1"
            unit.problems.append(ParseProblem(1, "byte-order-mark", "\ufeff", message))
            text = text[1:]
        _read_quadlet_lines(unit, text, take)
        return unit

    if text.startswith("\ufeff"):
        text = text[1:]  # systemd skips a byte order mark
    # systemd ends a line at "\n", "\r\n" or a lone "\r".
    physical = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if physical and physical[-1] == "":
        physical.pop()

    pending = ""  # a logical line being continued
    pending_start = 0
    for index, raw in enumerate(physical):
        line_nr = index + 1
        line = raw.strip()
        if pending:
            if line.startswith(_COMMENT_STARTS):
                continue  # comments inside a continuation are skipped, as in systemd
            line = pending + line
            line_nr = pending_start
            pending = ""
        elif not line or line.startswith(_COMMENT_STARTS):
            continue
        if _ends_with_continuation(line):
            if not pending:
                pending_start = line_nr
            pending = line[:-1] + " "
            continue
        take(line, line_nr)

    if pending:
        # systemd warns and still uses what it has; do the same but say so.
        unit.problems.append(
            ParseProblem(
                pending_start,
                "eof-continuation",
                pending.rstrip(),
                "file ends inside a line continuation (last line ends with a backslash)",
            )
        )
        take(pending.rstrip(), pending_start)
    return unit


def _read_quadlet_lines(unit: UnitFile, text: str, take: Callable[[str, int], None]) -> None:
    """Split logical lines the way Quadlet's UnitFile.Parse() does (pkg/systemd/parser)."""
    lines = text.removesuffix("\n").split("\n")
    last = len(lines) - 1
    remaining = ""
    start = 0
    for index, raw in enumerate(lines):
        line_nr = index + 1
        line = raw.strip(_GO_SPACE)
        if not line or line.startswith(_COMMENT_STARTS):
            continue  # inside a continuation too, blank lines included
        continued_at_end = False
        if line.endswith("\\"):
            line = line[:-1]
            if index != last:
                # Only a non-empty piece opens a continuation: a lone "\\" leaves nothing pending.
                if not remaining:
                    start = line_nr
                remaining += line
                continue
            continued_at_end = True
        if remaining:
            line = remaining + line
            line_nr = start
            remaining = ""
        if not line:
            continue  # what is left of a lone "\\" is an empty line, a comment to Quadlet
        if continued_at_end:
            unit.problems.append(
                ParseProblem(
                    line_nr,
                    "eof-continuation",
                    line.rstrip(_GO_SPACE),
                    "file ends inside a line continuation (last line ends with a backslash)",
                )
            )
        take(line, line_nr)
    if remaining:
        unit.problems.append(
            ParseProblem(
                start,
                "eof-continuation-dropped",
                remaining.rstrip(_GO_SPACE),
                "a line continuation runs into the end of the file; Quadlet drops the whole line",
            )
        )


def parse_file(path: Path | str) -> UnitFile:
    """Parse a unit file from disk (UTF-8); OSError and UnicodeDecodeError propagate.

    Line ends are left alone (no universal newlines): Quadlet splits at "\n" only, so
    a lone "\r" stays inside its line.
    """
    path = Path(path)
    with path.open(encoding="utf-8", newline="") as handle:
        return parse_text(handle.read(), path=path)


def parse_bytes(data: bytes, path: Path | str, kind: str | None = None) -> UnitFile:
    """Parse a unit file's bytes; a byte that is not UTF-8 is a problem at its own line (never an exception).

    The rest of the file is read with the bad bytes replaced, so every other problem is still found."""
    try:
        return parse_text(data.decode("utf-8"), path=path, kind=kind)
    except UnicodeDecodeError as exc:
        unit = parse_text(data.decode("utf-8", "replace"), path=path, kind=kind)
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        message = f"byte 0x{byte} is not UTF-8; save the file as UTF-8"
        unit.problems.insert(0, ParseProblem(line, "not-utf-8", f"0x{byte}", message))
        return unit


def unreadable_unit(path: Path | str, reason: str, kind: str | None = None) -> UnitFile:
    """A unit that exists but cannot be read (a dangling symlink, a FIFO, no permission), as a problem at line 1."""
    path = Path(path)
    unit = UnitFile(path=path, kind=kind if kind is not None else kind_of(path))
    unit.problems.append(ParseProblem(1, "unreadable", "", f"the file cannot be read: {reason}"))
    return unit


def merge_dropins(unit: UnitFile, dropins: Iterable[UnitFile]) -> UnitFile:
    """The unit as Quadlet converts it: each drop-in's entries appended to their sections
    (new sections at the end), in order; entries keep the drop-in they came from."""
    merged = UnitFile(
        path=unit.path, kind=unit.kind, problems=list(unit.problems), environment_files=dict(unit.environment_files)
    )
    by_name: dict[str, Section] = {}

    def add(section: Section, source: Path | None) -> None:
        target = by_name.get(section.name)
        if target is None:
            target = Section(section.name, section.line, source=section.source or source)
            by_name[section.name] = target
            merged.sections.append(target)
        target.header_lines.extend(section.header_lines)
        for entry in section.entries:
            target.entries.append(replace(entry, source=entry.source or source))

    for section in unit.sections:
        add(section, None)
    for dropin in dropins:
        for section in dropin.sections:
            add(section, dropin.path)
    return merged
