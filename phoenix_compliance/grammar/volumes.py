"""Volume specs (``-v``, Quadlet's Volume=, compose short syntax) and mount specs (``--mount``, Mount=).

A volume spec is ``SOURCE:DESTINATION[:OPTIONS]`` (or a lone DESTINATION, an
anonymous volume). A mount spec is a CSV record of ``key=value`` fields, read
the way podman's FindMountType() and parseMountOptions() read it
(``pkg/specgenutilexternal/mount.go``, ``pkg/specgenutil/volumes.go``).
"""

from __future__ import annotations

import re

# A Windows drive letter: split at ':', it would become a volume named after the letter.
WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")


def split_volume(value: str) -> tuple[str, str, str]:
    """(source, destination, options) the way Quadlet's addVolumes() and podman's -v split a spec."""
    parts = value.split(":", 2)
    if len(parts) == 1:
        return "", parts[0], ""
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""
