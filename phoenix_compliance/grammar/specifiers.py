"""systemd specifiers and environment variables in unit files, and which volume sources are host paths.

Quadlet leaves both to systemd: it writes Volume=, Mount=, ContainerName= ...
into ExecStart=, and systemd expands the specifiers (%h, %t, %U, ...,
systemd.unit(5) "Specifiers") and then ``${VAR}`` (systemd.service(5)
"Command lines": from [Service] Environment=/EnvironmentFile= and the user
manager's environment) when the service starts. So ``Volume=%h:%h`` and
``${DATA_PATH}/x:/x`` are valid; what a value will be is known only where the
values are (the host), and a value that stays unresolved is never judged as
if it were literal text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# Systemd specifiers that expand to an absolute path (systemd.unit(5)
# "Specifiers"): %h home, %t runtime dir, %S state, %C cache, %L logs,
# %E config, %T/%V temp dirs, %d credentials, %y/%Y the unit file itself.
# `%N-data` is a volume name, not a path.
PATH_SPECIFIERS = frozenset("htSCLETVdyY")

_SPECIFIER = re.compile(r"%(.)", re.DOTALL)
# ${VAR} anywhere in a word. systemd expands $VAR only as a word of its own, which a part of a
# Volume= or a name never is (Quadlet writes `-v SOURCE:DEST`): there it stays literal.
_BRACED = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_UNRESOLVED = re.compile(r"%[A-Za-z]|\$\{[A-Za-z_][A-Za-z0-9_]*\}")


@dataclass(frozen=True)
class Known:
    """What systemd will put in place of specifiers and variables, as far as it is known."""

    specifiers: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)

    def with_environment(self, environment: Mapping[str, str]) -> Known:
        """These values, with a unit's own variables (which win over the manager's)."""
        return Known(self.specifiers, {**self.environment, **environment})


NOTHING_KNOWN = Known()


def user_manager_specifiers(user: str, uid: int | str, home: str) -> dict[str, str]:
    """The path and user specifiers of a user's systemd (systemd.unit(5), user manager column)."""
    home = home.rstrip("/") or "/"
    return {
        "h": home,
        "u": user,
        "U": str(uid),
        "t": f"/run/user/{uid}",
        "S": f"{home}/.local/state",
        "C": f"{home}/.cache",
        "L": f"{home}/.local/state/log",
        "E": f"{home}/.config",
        "T": "/tmp",
        "V": "/var/tmp",
    }


def expand(value: str, known: Known = NOTHING_KNOWN) -> str:
    """The value as systemd will pass it on: known specifiers and variables replaced, %% made %,
    the others left as written (see ``unresolved()``)."""

    def specifier(match: re.Match[str]) -> str:
        letter = match.group(1)
        return "%" if letter == "%" else known.specifiers.get(letter, match.group(0))

    expanded = _SPECIFIER.sub(specifier, value)
    return _BRACED.sub(lambda match: known.environment.get(match.group(1), match.group(0)), expanded)


def unresolved(value: str) -> bool:
    """Whether a value still holds a specifier or variable only systemd can expand."""
    return _UNRESOLVED.search(value) is not None


def starts_unresolved(value: str) -> bool:
    """Whether a value begins with a specifier or variable only systemd can expand."""
    match = _UNRESOLVED.search(value)
    return match is not None and match.start() == 0


def is_host_path(source: str, known: Known = NOTHING_KNOWN) -> bool:
    """Absolute, relative to the unit file, a path specifier such as %h/data, or a path that
    starts with a variable (``${DATA}/x``: a volume name has no '/')."""
    source = expand(source, known)
    if source.startswith(("/", ".")):
        return True
    if len(source) > 1 and source[0] == "%" and source[1] in PATH_SPECIFIERS:
        return True
    return starts_unresolved(source) and "/" in source


def environment_words(words: Iterable[str]) -> dict[str, str]:
    """NAME=value words (Environment=) as a mapping; a later word wins."""
    found: dict[str, str] = {}
    for word in words:
        name, equals, value = word.partition("=")
        if equals and name:
            found[name] = value
    return found


def environment_file(text: str) -> dict[str, str]:
    """An EnvironmentFile=: NAME=value lines (comments and blanks skipped, quotes dropped)."""
    found: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        if equals and name.strip():
            found[name.strip()] = value.strip().strip("\"'")
    return found
