"""Volume specs (``-v``, Quadlet's Volume=, compose short syntax) and mount specs (``--mount``, Mount=).

A volume spec is ``SOURCE:DESTINATION[:OPTIONS]`` (or a lone DESTINATION, an
anonymous volume). Podman's ``-v`` splits it at every ':' and refuses more than
three fields (``GenVolumeMounts()``, ``pkg/specgen/volumes.go``), as
podman-compose does with the short syntax; Quadlet's addVolumes() first splits
a Volume= into at most three fields to resolve the source, then hands it to -v.

A mount spec is a CSV record: one ``type=`` field and the others in order
(``FindMountType()``, ``pkg/specgenutilexternal/mount.go``), whose options
podman's ``parseMountOptions()`` reads (``pkg/specgenutil/volumes.go``).

SELinux relabelling, the same in Podman 5.4.2 and 5.8.2: a volume spec takes
``z`` (shared) or ``Z`` (private) among its options; a mount spec takes the same
bare ``z``/``Z`` fields, or ``relabel=shared``/``relabel=private``, which
parseMountOptions() turns into ``z``/``Z`` (volumes.go ``case "relabel"`` and
``case ..., "Z", "z", ...``, lines 354-371 at v5.4.2, 409-426 at v5.8.2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# A Windows drive letter: split at ':', it would become a volume named after the letter.
WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")

# The relabel options of a volume spec: Z private to the container, z shared.
RELABEL_OPTIONS = frozenset({"z", "Z"})
# relabel= values of a mount spec and the volume option each stands for.
_MOUNT_RELABEL = {"private": "Z", "shared": "z"}


def split_volume(value: str) -> tuple[str, str, str]:
    """(source, destination, options) the way Quadlet's addVolumes() splits a Volume= (at most three fields)."""
    parts = value.split(":", 2)
    if len(parts) == 1:
        return "", parts[0], ""
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def volume_fields(spec: str) -> list[str] | None:
    """The one to three fields of a -v spec split at every ':', or None where there are more."""
    fields = spec.split(":")
    return fields if len(fields) <= 3 else None


def volume_relabel(options: Iterable[str]) -> str | None:
    """The SELinux relabel option among a volume spec's options ('Z' or 'z'), or None."""
    return next((option for option in options if option in RELABEL_OPTIONS), None)


def go_csv_fields(text: str) -> list[str] | None:
    """One record read by Go's encoding/csv (strict quotes), as podman's FindMountType() does."""
    fields: list[str] = []
    index = 0
    while True:
        if index < len(text) and text[index] == '"':
            index += 1
            field: list[str] = []
            while True:
                end = text.find('"', index)
                if end == -1:
                    return None  # no closing quote
                field.append(text[index:end])
                index = end + 1
                if index < len(text) and text[index] == '"':
                    field.append('"')
                    index += 1
                    continue
                break
            fields.append("".join(field))
            if index == len(text):
                return fields
            if text[index] != ",":
                return None  # extraneous text after the closing quote
            index += 1
        else:
            end = text.find(",", index)
            field_text = text[index:] if end == -1 else text[index:end]
            if '"' in field_text:
                return None  # a bare quote in an unquoted field
            fields.append(field_text)
            if end == -1:
                return fields
            index = end + 1


@dataclass(frozen=True)
class MountSpec:
    """One --mount value: its type (None if it has no ``type=`` field) and its other fields, in order."""

    type: str | None
    tokens: tuple[str, ...]

    def _last(self, names: tuple[str, ...]) -> str | None:
        found = None
        for token in self.tokens:
            key, _equals, value = token.partition("=")
            if key in names:
                found = value
        return found

    @property
    def source(self) -> str | None:
        """The last ``source=``/``src=`` value (the one Quadlet resolves), None if there is none."""
        return self._last(("source", "src"))

    @property
    def target(self) -> str | None:
        """The last ``target=``/``destination=``/``dst=`` value (``dest=`` is read from 5.8 only)."""
        return self._last(("target", "destination", "dst"))

    @property
    def relabel(self) -> str | None:
        """The SELinux relabel the mount asks for, as the volume option ('Z' or 'z'), or None."""
        for token in self.tokens:
            key, equals, value = token.partition("=")
            if not equals and key in RELABEL_OPTIONS:
                return key
            if equals and key == "relabel" and value in _MOUNT_RELABEL:
                return _MOUNT_RELABEL[value]
        return None


def parse_mount(spec: str) -> MountSpec | None:
    """A mount spec as FindMountType() reads it, or None where it is not a CSV record podman reads."""
    fields = go_csv_fields(spec)
    if fields is None:
        return None
    mount_type: str | None = None
    tokens: list[str] = []
    for field in fields:
        parts = field.split("=")
        if mount_type is None and len(parts) == 2 and parts[0] == "type":
            mount_type = parts[1]
        else:
            tokens.append(field)
    return MountSpec(mount_type, tuple(tokens))
