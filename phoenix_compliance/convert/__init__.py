"""From a compose file to Quadlet units for one Podman release: ``phoenix-compliance convert``.

A plain package (no pytest), by role:

- ``converter``: reading the compose file (only through ``parsers.compose``) and building the
  units: a .pod, a .container per service, .volume and .network units, the stack's target;
  what cannot be expressed is a Gap with its service and line;
- ``units``: a unit as sections of keys, and writing values the way Quadlet and systemd read them;
- ``output``: writing the files (atomically, never replacing a differing one unasked), the dry
  run's diff and the closing report.

Keys are chosen by release from the lint's tables (quadlet/versions.py), so the units of
a release never carry a key it lacks; the selftests lint every unit written and run both
reference generators (5.4.2 and 5.8.6) over them.
"""

from __future__ import annotations

from phoenix_compliance.convert.converter import (
    DEFAULT_TARGET,
    Conversion,
    Gap,
    Options,
    SecretToCreate,
    convert,
    is_system_path,
    read_compose,
)
from phoenix_compliance.convert.output import Written, diff, report, units_text, write

__all__ = [
    "DEFAULT_TARGET",
    "Conversion",
    "Gap",
    "Options",
    "SecretToCreate",
    "Written",
    "convert",
    "diff",
    "is_system_path",
    "read_compose",
    "report",
    "units_text",
    "write",
]
