"""The systemd service the Quadlet generator makes of each file type.

GetUnitServiceName() and getServiceName() (pkg/systemd/quadlet/quadlet.go, read at
v5.3.0 to v6.0.0-rc1; confirmed with the 5.4.2 and 5.8.6 generators' dry runs):
the file name without its extension, plus a suffix per type (.container and
.kube none, .pod ``-pod``, the others ``-TYPE``), unless the main section sets
ServiceName= (from 5.3), read with Lookup() (so unquoted as the release unquotes,
and used even when empty). From 5.7 a template's ``@`` moves behind the suffix.
"""

from __future__ import annotations

from pathlib import Path

from phoenix_compliance.quadlet.readers import lookup
from phoenix_compliance.quadlet.unitfile import QUADLET_MAIN_SECTIONS, UnitFile, kind_of
from phoenix_compliance.quadlet.versions import (
    DEFAULT_PODMAN_VERSION,
    SERVICE_NAME_SINCE,
    TEMPLATE_SERVICE_NAMES_SINCE,
    Version,
)

# What getServiceName() adds to the base name, by file type.
SERVICE_SUFFIXES: dict[str, str] = {
    kind: "" if kind in ("container", "kube") else f"-{kind}" for kind in QUADLET_MAIN_SECTIONS
}


def _base(file_name: str) -> str:
    # removeExtension(): cut at the last dot, unless the name starts with it.
    dot = file_name.rfind(".")
    return file_name[:dot] if dot > 0 else file_name


def default_service_name(file_name: str, version: Version = DEFAULT_PODMAN_VERSION) -> str | None:
    """The service a Quadlet file of this name generates when it sets no ServiceName=
    (web.container and web.kube: web.service, web.pod: web-pod.service, web.volume:
    web-volume.service; from 5.7 web@.pod: web-pod@.service); None for other files."""
    kind = kind_of(Path(file_name))
    if kind not in SERVICE_SUFFIXES:
        return None
    base, suffix = _base(file_name), SERVICE_SUFFIXES[kind]
    if version >= TEMPLATE_SERVICE_NAMES_SINCE and base.endswith("@"):
        base, suffix = base[:-1], suffix + "@"
    return f"{base}{suffix}.service"


def service_name(unit: UnitFile, version: Version = DEFAULT_PODMAN_VERSION) -> str | None:
    """The service the generator of this release makes of a unit (merged with its drop-ins,
    as the generator names it after merging them); None for a plain systemd unit."""
    main = unit.main_section_name
    if main is None:
        return None
    if version >= SERVICE_NAME_SINCE:
        found = lookup(unit, main, "ServiceName", version)
        if found is not None:
            return f"{found[1]}.service"
    return default_service_name(unit.name, version)
