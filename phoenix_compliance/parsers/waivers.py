"""Waivers: a failing check accepted for a while, with a justification.

    waivers:
      - check: PHX-1.05
        hosts: "ssh://web*"        # optional, a shell pattern on the host id
        justification: "fuse-overlayfs comes with the Q3 image"
        expires: 2027-01-31

A plain module (no pytest): the plugin turns WaiverError into a usage error.
"""

from __future__ import annotations

import datetime as dt
import difflib
import fnmatch
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from phoenix_compliance.parsers import yamlmarks
from phoenix_compliance.parsers.manifest import refuse_control_bytes, unknown_key_message
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList

KEYS = ("check", "hosts", "justification", "expires")


class WaiverError(yamlmarks.SourceError):
    """A waivers file that cannot be used, with file and line."""


@dataclass(frozen=True)
class Waiver:
    check: str
    hosts: str
    justification: str
    expires: dt.date
    path: str
    line: int

    def matches(self, check_id: str, host: str) -> bool:
        return check_id == self.check and fnmatch.fnmatchcase(host, self.hosts)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def parse(text: str, path: str) -> list[Waiver]:
    refuse_control_bytes(text, path, WaiverError)
    try:
        document = yamlmarks.loads(text, path)
    except yamlmarks.YamlError as exc:
        raise WaiverError(exc.path, exc.line, exc.message) from None
    if not isinstance(document, MarkedDict) or not isinstance(document.get("waivers"), MarkedList):
        line = document.line if isinstance(document, MarkedDict | MarkedList) else 1
        raise WaiverError(path, line, "expected a mapping with a list under 'waivers:'")
    entries: MarkedList = document["waivers"]
    waivers = []
    for index, entry in enumerate(entries):
        what = f"waivers[{index}]"
        line = entries.line_of(index)
        if not isinstance(entry, MarkedDict):
            raise WaiverError(path, line, f"{what}: expected a mapping with check, justification, expires")
        for key in entry:
            if key not in KEYS:
                raise WaiverError(path, entry.line_of(key), unknown_key_message(key, KEYS, f"{what}: "))
        for key in ("check", "justification", "expires"):
            if entry.get(key) in (None, ""):
                raise WaiverError(path, entry.line, f"{what}: missing required key '{key}'")
        check = entry["check"]
        justification = entry["justification"]
        hosts = entry.get("hosts", "*")
        for key, value in (("check", check), ("justification", justification), ("hosts", hosts)):
            if not isinstance(value, str) or not value.strip():
                raise WaiverError(path, entry.line_of(key), f"{what}.{key}: expected a non-empty string")
        expires = entry["expires"]
        if isinstance(expires, str):
            try:
                expires = dt.date.fromisoformat(expires)
            except ValueError:
                expires = None
        if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
            raise WaiverError(path, entry.line_of("expires"), f"{what}.expires: expected a date such as 2027-01-31")
        waivers.append(Waiver(check, hosts, justification.strip(), expires, path, line))
    return waivers


def load(path: Path) -> list[Waiver]:
    return parse(yamlmarks.read_source(path, "the waivers file"), str(path))


def check_ids(waivers: list[Waiver], known: Collection[str]) -> None:
    """Raise WaiverError for the first waiver naming a check the catalogue does not have.

    Ids are compared exactly, as waivers are applied: `phx-1.05` waives nothing, so it is
    an error that names the id it most likely meant."""
    if not known:
        return
    by_upper = {check_id.upper(): check_id for check_id in known}
    for waiver in waivers:
        if waiver.check in known:
            continue
        guess = by_upper.get(waiver.check.upper())
        if guess is None:
            close = difflib.get_close_matches(waiver.check.upper(), list(by_upper), n=1, cutoff=0.6)
            guess = by_upper[close[0]] if close else None
        hint = f"; did you mean {guess}?" if guess else ""
        raise WaiverError(waiver.path, waiver.line, f"check {waiver.check!r} is not a check of this suite{hint}")


def find(waivers: list[Waiver], check_id: str, host: str) -> Waiver | None:
    """The waiver for a check on a host; a live one wins over an expired one."""
    matching = [w for w in waivers if w.matches(check_id, host)]
    return max(matching, key=lambda w: w.expires) if matching else None
