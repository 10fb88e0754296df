"""How systemd reads the values of its own sections, and which keys each release knows.

Quadlet copies [Unit], [Service] and [Install] into the generated unit as written;
systemd then parses each line, and a line it cannot parse is ignored with one
journal line ("Unknown key", "Failed to parse ..., ignoring"), while the unit still
starts. These are plain functions over the generated tables (``systemd_tables``):
the key a release knows (``key_kind()``), and the grammars of the values whose
rejection changes what the unit does (``value_problem()``). Each returns a reason
in systemd's terms, or None when systemd takes the value.

The release judged is set around a lint run with ``judging_systemd(release)``;
outside one, a key counts as known when any tabled release knows it (so the lint
never claims systemd ignores what some host reads).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
from collections.abc import Iterator

from phoenix_compliance.quadlet import systemd_tables

# Releases whose key table was read from systemd's source, not dumped by a host running them.
SOURCE_ONLY_RELEASES: frozenset[int] = frozenset(systemd_tables.SOURCE_ONLY_RELEASES)
# Every tabled release: the lint asked for a release judges it with the newest of these not after it.
TABLED_RELEASES: tuple[int, ...] = tuple(sorted(systemd_tables.KEYS))
# The releases tabled from a host's own systemd (with its unit listings); a lint run not asked for
# one release judges against these, as the differential selftests verified them.
SYSTEMD_RELEASES: tuple[int, ...] = tuple(sorted(set(TABLED_RELEASES) - SOURCE_ONLY_RELEASES))
SYSTEMD_SECTIONS = ("Unit", "Service", "Install")

# The systemd releases of the hosts this suite is written for (those tabled from the real binaries).
RELEASE_HOSTS: dict[int, str] = {
    252: "Debian 12, RHEL 9",
    257: "Debian 13 trixie, RHEL 10, Fedora 42",
    262: "Debian forky",
}

_judged: contextvars.ContextVar[int | None] = contextvars.ContextVar("judged_systemd", default=None)


@contextlib.contextmanager
def judging_systemd(release: int | None) -> Iterator[None]:
    """Judge the systemd sections at this release (None: any tabled release)."""
    token = _judged.set(release)
    try:
        yield
    finally:
        _judged.reset(token)


def judged_release() -> int | None:
    return _judged.get()


def table_release(release: int, tabled: tuple[int, ...] = TABLED_RELEASES) -> int:
    """The tabled release that stands for ``release``: the newest one not after it (the oldest for older ones)."""
    older = [known for known in tabled if known <= release]
    return older[-1] if older else tabled[0]


def release_label(release: int) -> str:
    """A release as the lint names it: source-only tables say so."""
    return f"{release} (from source)" if release in SOURCE_ONLY_RELEASES else str(release)


@functools.cache
def keys_of(release: int, section: str) -> dict[str, str]:
    """Key -> kind of value, of one section at one tabled release."""
    text = systemd_tables.KEYS[release].get(section, "")
    return dict(word.split(":", 1) for word in text.split())


def key_kind(section: str, key: str, release: int | None = None) -> str | None:
    """The kind of value systemd reads for a key (None: the release ignores the key)."""
    releases = SYSTEMD_RELEASES if release is None else (table_release(release),)
    for number in releases:
        kind = keys_of(number, section).get(key)
        if kind is not None:
            return kind
    return None


def key_releases(section: str, key: str) -> list[int]:
    """The tabled releases that know a key."""
    return [number for number in SYSTEMD_RELEASES if key in keys_of(number, section)]


def known_keys(section: str) -> frozenset[str]:
    """Every key any tabled release knows in a section."""
    return frozenset(key for number in SYSTEMD_RELEASES for key in keys_of(number, section))


@functools.cache
def user_units(release: int) -> frozenset[str]:
    """The units the user manager of a release ships (its /usr/lib/systemd/user)."""
    return frozenset(systemd_tables.USER_UNITS[table_release(release, SYSTEMD_RELEASES)].split())


@functools.cache
def system_units(release: int) -> frozenset[str]:
    """The units only the system manager of a release has (multi-user.target, network-online.target)."""
    return frozenset(systemd_tables.SYSTEM_UNITS[table_release(release, SYSTEMD_RELEASES)].split())


# --------------------------------------------------------------------------
# Value grammars (systemd's parse_boolean, parse_sec, safe_atou, ...)
# --------------------------------------------------------------------------

_SPECIFIER = re.compile(r"%[A-Za-z%]|\$")


def expanded(value: str) -> bool:
    """Whether systemd puts a specifier's or a variable's value in first (judged with a host's values elsewhere)."""
    return bool(_SPECIFIER.search(value))


_TRUE = frozenset({"1", "yes", "y", "true", "t", "on"})
_FALSE = frozenset({"0", "no", "n", "false", "f", "off"})


def parse_boolean(value: str) -> bool | None:
    word = value.lower()
    return True if word in _TRUE else False if word in _FALSE else None


# parse_sec's units; a number without one is seconds. Case matters: M is months, m minutes.
_TIME_UNITS = frozenset(
    (
        "seconds",
        "second",
        "sec",
        "s",
        "minutes",
        "minute",
        "min",
        "months",
        "month",
        "M",
        "msec",
        "ms",
        "m",
        "hours",
        "hour",
        "hr",
        "h",
        "days",
        "day",
        "d",
        "weeks",
        "week",
        "w",
        "years",
        "year",
        "y",
        "usec",
        "us",
        "µs",
        "μs",
        "nsec",
        "ns",
    )
)
_TIME_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Zµμ]*)")


def parse_timespan(value: str) -> bool:
    """Whether systemd's parse_sec() reads the value ("infinity", "90", "1min 30s", "2.5h")."""
    text = value.strip()
    if text == "infinity":
        return True
    if not text:
        return False
    position = 0
    while position < len(text):
        match = _TIME_PART.match(text, position)
        if match is None or (match.group(2) and match.group(2) not in _TIME_UNITS):
            return False
        position = match.end()
        if not match.group(2) and text[position:].strip():
            return False  # a bare number ends the span
    return True


def parse_unsigned(value: str) -> bool:
    return bool(re.fullmatch(r"\s*\+?\d+\s*", value)) and int(value) < 2**32


# parse_size() with the 1024 base: upper-case suffixes only (Docker's "512m" is not one).
_SIZE = re.compile(r"\d+(?:\.\d+)?\s*[KMGTPE]?B?|\d+(?:\.\d+)?%|\d+(?:\.\d+)?‰|\d+(?:\.\d+)?‱|infinity")


def parse_memory_limit(value: str) -> bool:
    return bool(_SIZE.fullmatch(value.strip()))


# setrlimit() resources by how systemd reads their values.
_RLIMIT_BYTES = frozenset({"LimitFSIZE", "LimitDATA", "LimitSTACK", "LimitCORE", "LimitRSS", "LimitAS", "LimitMEMLOCK",
                           "LimitMSGQUEUE"})  # fmt: skip
_RLIMIT_TIME = frozenset({"LimitCPU", "LimitRTTIME"})
_BYTES = re.compile(r"\d+(?:\.\d+)?\s*[KMGTPE]?B?")


def _rlimit_part(key: str, part: str) -> bool:
    if part == "infinity":
        return True
    if key in _RLIMIT_BYTES:
        return bool(_BYTES.fullmatch(part))
    if key in _RLIMIT_TIME:
        return parse_timespan(part)
    if key == "LimitNICE":
        return bool(re.fullmatch(r"[+-]?\d+", part))
    return part.isdigit()


def limit_problem(key: str, text: str) -> str | None:
    """Why systemd ignores a memory, IO or resource limit (Docker's lower-case "512m" among them)."""
    if "Memory" in key:
        return None if not text or parse_memory_limit(text) else "not a size (K, M, G, T in upper case) or percentage"
    if key.startswith("Limit"):
        parts = text.split(":", 1)
        if text and all(_rlimit_part(key, part.strip()) for part in parts):
            return None
        return "not a resource limit systemd reads (a number, a size in upper case, or infinity)"
    if key.startswith("IO") and key.endswith("Max"):
        words = text.split()
        if not text or (len(words) == 2 and words[0].startswith("/")):
            return None
        return "not 'DEVICE VALUE' (the device path first)"
    return None


RESTART_VALUES = frozenset({"no", "on-success", "on-failure", "on-abnormal", "on-watchdog", "on-abort", "always"})
KILL_MODES = frozenset({"control-group", "process", "mixed", "none"})
EXIT_TYPES = frozenset({"main", "cgroup"})
# Type=notify-reload is read from systemd 253.
SERVICE_TYPES: dict[str, int] = {
    name: 0 for name in ("simple", "exec", "forking", "oneshot", "dbus", "notify", "idle")
} | {"notify-reload": 253}

# Docker's restart policies, and what systemd does for each.
DOCKER_RESTART: dict[str, str] = {
    "unless-stopped": "Restart=always (systemd never restarts a unit stopped with systemctl stop)",
    "on-failure:": "Restart=on-failure with StartLimitBurst= in [Unit] for the count",
    "always": "Restart=always",
}

_URL = re.compile(r"(https?|file|info|man):\S+")
_EXEC_PREFIXES = "-@:+!|"
# Paths systemd needs absolute before it can load the unit at all (a relative one is fatal).
FATAL_PATH_KEYS = frozenset({"RootDirectory", "RootImage", "RootVerity"})
_UNIT_NAME = re.compile(
    r"[A-Za-z0-9:_.\\@-]+\.(service|socket|target|device|mount|automount|swap|timer|path|slice|scope)"
)


def exec_problem(value: str) -> tuple[str, bool] | None:
    """(reason, fatal) for an Exec*= line systemd cannot use; fatal when the whole unit fails to load.

    The executable may be a plain file name (looked up in PATH) or an absolute path; a
    relative path with a '/' makes the unit fail to load unless the line starts with '-'.
    """
    text = value.strip()
    if not text:
        return None  # resets the list
    prefix = ""
    while text and text[0] in _EXEC_PREFIXES:
        prefix += text[0]
        text = text[1:]
    word = text.split(None, 1)[0] if text.strip() else ""
    if text.startswith(" ") or not word:
        return f"no command after the prefix {prefix!r}", "-" not in prefix
    if "%" in word or "$" in word:
        return None  # specifiers and variables are expanded first; judged with the host's values elsewhere
    if word.startswith("/") or "/" not in word:
        return None
    return f"{word!r} is neither a plain command name nor an absolute path", "-" not in prefix


def unit_name_problem(name: str) -> str | None:
    """Why systemd cannot take a word of After=/Requires=/WantedBy= ... as a unit name."""
    if "%" in name:
        return None
    if not _UNIT_NAME.fullmatch(name) or len(name) > 255:
        return f"{name!r} is not a unit name"
    return None


def value_problem(section: str, key: str, value: str, release: int | None = None) -> str | None:
    """Why systemd ignores this line's value (None: it reads it, or the grammar is not judged here)."""
    kind = key_kind(section, key, release)
    text = value.strip()
    if kind is None or expanded(text):
        return None
    if key == "Restart":
        return None if text in RESTART_VALUES else "not a restart setting systemd knows"
    if key == "Type" and section == "Service":
        since = SERVICE_TYPES.get(text)
        if since is None:
            return None if not text else "not a service type systemd knows"
        if release is not None and since > release:
            return f"Type={text} is read from systemd {since}"
        return None
    if key == "KillMode":
        return None if text in KILL_MODES or not text else "not a kill mode systemd knows"
    if key == "ExitType":
        return None if text in EXIT_TYPES or not text else "not an exit type systemd knows"
    if kind == "BOOLEAN":
        return None if parse_boolean(text) is not None else "not a boolean"
    # An empty time span or number is refused, not a reset (seen on 252, 257 and 262).
    if kind == "SECONDS" or (kind == "OTHER" and key.endswith("Sec")):
        return None if parse_timespan(text) else "not a time span"
    if kind == "UNSIGNED":
        return None if parse_unsigned(text) else "not an unsigned number"
    if kind == "URL":
        bad = [word for word in text.split() if not _URL.fullmatch(word)]
        return f"{bad[0]!r} is not a URL systemd takes (http, https, file, info, man)" if bad else None
    if kind == "LIMIT":
        return limit_problem(key, text)
    return None


def inline_comment(value: str) -> bool:
    """Whether a value carries what its author meant as a trailing comment (systemd has none)."""
    return bool(re.search(r"\s[#;]", value))


def fatal_path_problem(key: str, value: str) -> str | None:
    """Why a path systemd needs before loading the unit is refused (fatal), or None."""
    text = value.strip()
    if key not in FATAL_PATH_KEYS or not text or "%" in text or text.startswith("/"):
        return None
    return f"{text!r} is not an absolute path"


# Path lists whose words may carry prefixes ('-' ignore if missing, '+' relative to RootDirectory=).
_PREFIXED_PATH_LISTS: dict[str, str] = {
    name: "-+"
    for name in [
        "ReadWritePaths",
        "ReadOnlyPaths",
        "InaccessiblePaths",
        "ExecPaths",
        "NoExecPaths",
        "ReadWriteDirectories",
        "ReadOnlyDirectories",
        "InaccessibleDirectories",
    ]
} | {"ExtensionDirectories": "-", "RequiresMountsFor": "", "WantsMountsFor": ""}
# Single absolute paths, no prefix.
_ABSOLUTE_PATHS = frozenset(
    [
        "TTYPath",
        "SourcePath",
        "UserNamespacePath",
        "NetworkNamespacePath",
        "IPCNamespacePath",
        "USBFunctionDescriptors",
        "USBFunctionStrings",
    ]
)


def path_problem(key: str, value: str) -> str | None:
    """Why systemd ignores a path setting's value (a word not absolute), or None."""
    text = value.strip()
    if not text or expanded(text):
        return None
    if key in _ABSOLUTE_PATHS:
        return None if text.startswith("/") else f"{text!r} is not an absolute path"
    if key == "ExecSearchPath":
        bad = [part for part in text.split(":") if not part.startswith("/")]
        return f"{bad[0]!r} is not an absolute path" if bad else None
    prefixes = _PREFIXED_PATH_LISTS.get(key)
    if prefixes is None:
        return None
    for word in text.split():
        bare = word
        for prefix in prefixes:
            bare = bare.removeprefix(prefix)
        if not bare.startswith("/"):
            return f"{word!r} is not an absolute path"
    return None
