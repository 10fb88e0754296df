"""systemd specifiers in unit files, and which volume sources are host paths.

Quadlet leaves specifiers to systemd, which expands them when the service
starts; what a source will be after expansion decides whether it is a bind
mount (a host path) or a named volume.
"""

from __future__ import annotations

# Systemd specifiers that expand to an absolute path (systemd.unit(5)
# "Specifiers"): %h home, %t runtime dir, %S state, %C cache, %L logs,
# %E config, %T/%V temp dirs, %d credentials, %y/%Y the unit file itself.
# `%N-data` is a volume name, not a path.
PATH_SPECIFIERS = frozenset("htSCLETVdyY")


def is_host_path(source: str) -> bool:
    """Absolute, relative to the unit file, or a path specifier such as %h/data."""
    if source.startswith(("/", ".")):
        return True
    return len(source) > 1 and source[0] == "%" and source[1] in PATH_SPECIFIERS
