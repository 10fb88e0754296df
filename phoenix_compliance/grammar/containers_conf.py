"""containers.conf as Podman reads it: the files in the installed release's order, each parsed
as TOML, and the value a key ends with, named by the file and line that set it.

The one reader of containers.conf (PHX-U.01, U.02, U.06 and PHX-1.03 name their config lines
through it). Its input is what the upgrade probe prints (facts/probes/probe_upgrade.sh): every
containers.conf file that exists on the host, in no particular order, with the environment that
changes the order. Plain module, no pytest.

Two orders, read from the sources of containers/common:
- Podman 5 (c/common <= 0.67, pkg/config/new.go systemConfigs): $CONTAINERS_CONF alone if set;
  else /usr/share/containers/containers.conf, /etc/containers/containers.conf, then
  /etc/containers/containers.conf.d/*.conf (sorted), then the user's
  $XDG_CONFIG_HOME/containers/containers.conf ($HOME/.config/...) and its containers.conf.d/*.conf;
  every file merged over the ones before. $CONTAINERS_CONF_OVERRIDE last.
- Podman 6 ("requires the new config file layout": c/common >= 0.68, container-libs
  storage/pkg/configfile Read): $CONTAINERS_CONF alone if set; else only the FIRST main file that
  exists of the user's, /etc's and /usr/share's; then the drop-ins of
  /usr/share/containers/containers.conf.d, containers.rootless.conf.d (rootful for root),
  containers.rootless.conf.d/UID, the same three under /etc, and the user's containers.conf.d,
  a later folder's file replacing an earlier one of the same name, all sorted by file name.
  $CONTAINERS_CONF_OVERRIDE last. Debian's golang-github-containers-common 0.69.1 (installed
  with podman 6.1.1) documents the same order in containers.conf(5).
The effective value of a key is the last one set.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from typing import Literal

# A file larger than this is read only this far, and judged unreadable (never a guess).
MAX_BYTES = 256 * 1024
# At most this many files are read (the probe stops there and says so).
MAX_FILES = 64
Layout = Literal["merged", "layered"]
MERGED: Layout = "merged"
LAYERED: Layout = "layered"
# The first Podman release that reads the new layout.
LAYERED_SINCE = (6, 0)

SHARE = "/usr/share/containers"
ETC = "/etc/containers"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)")


def shown(text: str, limit: int = 120) -> str:
    """Text for evidence: control characters escaped, bounded."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= limit else text[:limit] + "..."


@dataclass(frozen=True)
class ConfFile:
    path: str
    text: str
    size: int  # bytes on the host; more than MAX_BYTES: read only in part


@dataclass(frozen=True)
class Setting:
    """A key's value and the line that set it."""

    table: str
    key: str
    value: object
    path: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def __str__(self) -> str:
        return f"{self.where}: {self.key} = {shown(repr(self.value))}"


@dataclass(frozen=True)
class Problem:
    """A file Podman could not read either (bad TOML), or one this reader could not read whole."""

    path: str
    line: int | None
    message: str
    # Podman fails on it too (bad TOML, unreadable); False: only this reader did not read it whole.
    fatal: bool = True

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {shown(self.message, 200)}"


@dataclass
class ContainersConf:
    """The containers.conf files of a host as the probe printed them."""

    uid: int | None = None
    conf: str = ""  # $CONTAINERS_CONF
    override: str = ""  # $CONTAINERS_CONF_OVERRIDE
    user_dir: str = ""  # $XDG_CONFIG_HOME/containers or $HOME/.config/containers
    files: dict[str, ConfFile] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    more: bool = False  # the probe stopped at MAX_FILES
    _parsed: dict[str, dict[str, object] | Problem] = field(default_factory=dict, repr=False)

    def order(self, layout: Layout) -> list[str]:
        """The files Podman reads, first to last (a later one wins), of those that exist."""
        exists = set(self.files) | set(self.unreadable)
        chosen: list[str] = []
        if self.conf:
            chosen.append(self.conf)
        elif layout == MERGED:
            user = f"{self.user_dir}/containers.conf" if self.user_dir else ""
            chosen += [f"{SHARE}/containers.conf", f"{ETC}/containers.conf"]
            chosen += self._drop_ins([f"{ETC}/containers.conf.d"], exists)
            if user:
                chosen += [user, *self._drop_ins([f"{user}.d"], exists)]
        else:
            mains = [f"{self.user_dir}/containers.conf" if self.user_dir else "", f"{ETC}/containers.conf"]
            first = next((p for p in [*mains, f"{SHARE}/containers.conf"] if p and p in exists), None)
            chosen += [first] if first else []
            special = "rootful" if self.uid == 0 else "rootless"
            folders: list[str] = []
            for base in (SHARE, ETC):
                folders += [f"{base}/containers.conf.d", f"{base}/containers.{special}.conf.d"]
                if special == "rootless" and self.uid is not None:
                    folders.append(f"{base}/containers.rootless.conf.d/{self.uid}")
            if self.user_dir:
                folders.append(f"{self.user_dir}/containers.conf.d")
            by_name: dict[str, str] = {}
            for folder in folders:
                for path in self._drop_ins([folder], exists):
                    by_name[path.rsplit("/", 1)[1]] = path
            chosen += [by_name[name] for name in sorted(by_name)]
        if self.override:
            chosen.append(self.override)
        return [path for path in chosen if path in exists]

    @staticmethod
    def _drop_ins(folders: list[str], exists: set[str]) -> list[str]:
        found = [p for folder in folders for p in exists if p.rsplit("/", 1)[0] == folder and p.endswith(".conf")]
        return sorted(found)

    def parsed(self, path: str) -> dict[str, object] | Problem:
        """A file's TOML, or why it cannot be read (a bad line, too large, unreadable)."""
        if path not in self._parsed:
            self._parsed[path] = _parse(self.files.get(path), path)
        return self._parsed[path]

    def effective(self, table: str, key: str, layout: Layout) -> tuple[Setting | None, list[Problem]]:
        """The value Podman ends with for [table] key (None: no file sets it, the built-in default),
        and the files on the way that cannot be read (Podman refuses a bad TOML file; this
        reader does not guess past a file it could not read whole)."""
        found: Setting | None = None
        problems: list[Problem] = []
        if self.more:
            problems.append(
                Problem("containers.conf", None, f"more than {MAX_FILES} files: the rest were not read", fatal=False)
            )
        for path in self.order(layout):
            document = self.parsed(path)
            if isinstance(document, Problem):
                problems.append(document)
                continue
            section = document.get(table)
            if isinstance(section, dict) and key in section:
                text = self.files[path].text
                found = Setting(table, key, section[key], path, _line_of(text, table, key))
        return found, problems

    def settings(self, table: str, key: str, layout: Layout) -> list[Setting]:
        """Every line that sets [table] key, in the order read (the last one wins)."""
        out: list[Setting] = []
        for path in self.order(layout):
            document = self.parsed(path)
            if isinstance(document, dict):
                section = document.get(table)
                if isinstance(section, dict) and key in section:
                    out.append(Setting(table, key, section[key], path, _line_of(self.files[path].text, table, key)))
        return out

    def where(self, layout: Layout) -> str:
        """The files read, in order, for evidence."""
        order = self.order(layout)
        return "containers.conf files " + (", ".join(order) if order else "(none)")


def layout_of(version: tuple[int, ...] | None) -> Layout:
    """The order the installed Podman reads its files in (unknown: Podman 5's)."""
    return LAYERED if version is not None and version[:2] >= LAYERED_SINCE else MERGED


def parse_probe(text: str) -> ContainersConf:
    """The upgrade probe's containers_conf section:
    `@@UID n`, `@@ENV NAME=value`, `@@USERDIR path`, `@@FILE size path` then `@@L line`s,
    `@@UNREADABLE path`, `@@MORE`. Lines without a marker are the probe's separators."""
    conf = ContainersConf()
    current: tuple[str, int, list[str]] | None = None

    def close() -> None:
        if current is not None:
            path, size, lines = current
            conf.files[path] = ConfFile(path, "\n".join(lines), size)

    for raw in text.split("\n"):
        marker, _, rest = raw.partition(" ")
        if marker == "@@L":
            if current is not None:
                current[2].append(rest)
            continue
        if marker == "@@FILE":
            close()
            size, _, path = rest.partition(" ")
            current = (path, int(size) if size.isdigit() else 0, [])
            continue
        if marker == "@@UID" and rest.strip().isdigit():
            conf.uid = int(rest.strip())
        elif marker == "@@ENV":
            name, _, value = rest.partition("=")
            if name == "CONTAINERS_CONF":
                conf.conf = value
            elif name == "CONTAINERS_CONF_OVERRIDE":
                conf.override = value
        elif marker == "@@USERDIR":
            conf.user_dir = rest.rstrip("/")
        elif marker == "@@UNREADABLE":
            conf.unreadable.append(rest)
        elif marker == "@@MORE":
            conf.more = True
    close()
    return conf


def _parse(found: ConfFile | None, path: str) -> dict[str, object] | Problem:
    if found is None:
        return Problem(path, None, "the file exists but could not be read by the checked user")
    if found.size > MAX_BYTES:
        return Problem(path, None, f"{found.size} bytes, more than the {MAX_BYTES} read: not judged", fatal=False)
    try:
        return tomllib.loads(found.text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        at = _TOML_LINE.search(message)
        line = int(at.group(1)) if at else None
        cause = _TOML_LINE.sub("", message).strip()
        return Problem(path, line, f"not valid TOML ({cause}): podman refuses to start with it")


def _line_of(text: str, table: str, key: str) -> int:
    """The line of `key = ...` under `[table]` (or `table.key = ...` at the top): tomllib gives no
    lines. The last such line, as the value read is the last one of the table (TOML forbids two)."""
    current = ""
    found = 1
    header = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\-\"]+)\s*\]")
    assign = re.compile(rf"^\s*(?:\"{re.escape(key)}\"|{re.escape(key)})\s*=")
    dotted = re.compile(rf"^\s*{re.escape(table)}\s*\.\s*{re.escape(key)}\s*=")
    for number, line in enumerate(text.split("\n"), start=1):
        opened = header.match(line)
        if opened:
            current = opened.group(1).strip('"')
            continue
        if (current == table and assign.match(line)) or (current == "" and dotted.match(line)):
            found = number
    return found
