"""From a compose file to Quadlet units for one Podman release: ``phoenix-compliance convert``.

A plain package (no pytest), by role:

- ``converter``: the stack (pod, volumes, networks, target); ``services``: a service as a
  .container; ``settings``: a service's keys with one Quadlet key each and its [Service] limits;
  what cannot be expressed is a Gap with its file, line and service;
- ``base``: the converter's state and the two gates: ``write()``, the only way a key reaches a
  unit (the release checked against the lint's tables, the value escaped by ``units.escape()``
  or refused), and ``file_name()``, the only way a name becomes a file name (``names``);
- ``mapping``: how each key is read back (``KEY_READS``) and the one-to-one compose keys with
  the release each needs (``ONE_TO_ONE``); ``values``: compose values read (sizes, durations,
  ports); ``model``: the options and the result;
- ``units``: a unit as sections of keys, and the escaping of a value as Quadlet and systemd
  read it;
- ``output``: writing the set into a folder (whole or not at all, never through a symbolic
  link, never replacing a differing file unasked), the dry run's redacted diff and the report.

The selftests lint every unit written at every release of the lint's tables, draw hostile names
and values (test_convert_property.py), and run both reference generators (5.4.2 and 5.8.6).
"""

from __future__ import annotations

from phoenix_compliance.convert.converter import convert
from phoenix_compliance.convert.model import (
    DEFAULT_TARGET,
    Conversion,
    Gap,
    Options,
    SecretToCreate,
    is_system_path,
    read_compose,
)
from phoenix_compliance.convert.output import Written, diff, report, units_text, write
from phoenix_compliance.publish import Refused

__all__ = [
    "DEFAULT_TARGET",
    "Conversion",
    "Gap",
    "Options",
    "Refused",
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
