"""The names podman accepts for containers, pods, volumes and networks."""

from __future__ import annotations

import re

# libpod's define.NameRegex.
PODMAN_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
