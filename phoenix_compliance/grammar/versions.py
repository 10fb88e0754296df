"""Release numbers of Podman and podman-compose, ordered as the packaging library orders them.

``podman version`` prints ``5.4.2``, ``5.8.0-rc1`` or ``5.9.0-dev``; a
pre-release or development build comes before its release (PEP 440 ordering,
through ``packaging``), so ``5.8.0-rc1`` does not yet have what 5.8.0 brought.
A version is a tuple of its release numbers (``(5, 8, 0)``, how the version
tables are written and how it is printed) that orders itself with its
pre-release part: ``PodmanVersion("5.8.0-rc1") < (5, 8)``.
"""

from __future__ import annotations

import re
from typing import Any

from packaging.version import InvalidVersion
from packaging.version import Version as _Packaged

_LEADING = re.compile(r"^v?(\d+(?:\.\d+)*)(.*)$")


class PodmanVersion(tuple[int, ...]):
    """A release tuple that knows whether it is a pre-release (then it sorts before the release)."""

    packaged: _Packaged

    def __new__(cls, text: str) -> PodmanVersion:
        match = _LEADING.match(text.strip())
        if not match:
            raise ValueError(f"not a Podman version: {text!r}")
        release, rest = match.groups()
        self = super().__new__(cls, (int(part) for part in release.split(".")))
        try:
            self.packaged = _Packaged(release + rest)
        except InvalidVersion:
            # A suffix packaging cannot read (a distribution's build tag): the release alone.
            self.packaged = _Packaged(release)
        return self

    @property
    def prerelease(self) -> bool:
        """A release candidate, alpha, beta or development build."""
        return self.packaged.is_prerelease

    @staticmethod
    def _order(other: Any) -> _Packaged | None:
        if isinstance(other, PodmanVersion):
            return other.packaged
        if isinstance(other, tuple) and other and all(isinstance(part, int) for part in other):
            return _Packaged(".".join(str(part) for part in other))
        return None

    def __lt__(self, other: Any) -> bool:
        found = self._order(other)
        return self.packaged < found if found is not None else NotImplemented

    def __le__(self, other: Any) -> bool:
        found = self._order(other)
        return self.packaged <= found if found is not None else NotImplemented

    def __gt__(self, other: Any) -> bool:
        found = self._order(other)
        return self.packaged > found if found is not None else NotImplemented

    def __ge__(self, other: Any) -> bool:
        found = self._order(other)
        return self.packaged >= found if found is not None else NotImplemented

    # Equality and hashing stay the tuple's: (5, 8, 0) names the release a build belongs to.
    __eq__ = tuple.__eq__
    __hash__ = tuple.__hash__


def read_version(text: str) -> PodmanVersion:
    """``5.4.2``, ``v4.4.0-dev``, ``5.8.0-rc1``: the version, or ValueError."""
    return PodmanVersion(text)


def find_version(text: str) -> PodmanVersion | None:
    """The first X.Y[.Z][-suffix] in a command's output, or None."""
    match = re.search(r"\d+\.\d+(?:\.\d+)*(?:[-~+.]?[A-Za-z][\w.]*)?", text)
    return PodmanVersion(match.group(0)) if match else None
