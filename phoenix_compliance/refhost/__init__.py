"""The reference hosts: Debian guests under systemd-nspawn with systemd, a lingering
rootless user ``phoenix``, Podman with Quadlet and sshd; one base per release
(trixie: Podman 5.4.2, the default; forky: Podman 5.8.6; podman6: forky with Podman
6.1.1 from experimental), see ``paths.RELEASES``.

The compliance suite reaches it over ssh (``ssh_config_text``); selftests apply
drifts inside it with ``run_in_guest`` and get a clean guest back from ``down`` and
``up``; ``deploy`` puts the stand-in stack on it with podman-compose or Quadlet.
``up_fleet`` boots several at once, each in its own network namespace, for fleet
runs (``ssh_config_all`` reaches them); ``list_guests`` and ``down_all`` go with it.
The command line is ``phoenix-refhost`` (``refhost.cli``). A guest's parts, one role a module:
``guest_state`` (recorded, read only; named apart from the function ``state``), ``boot``,
``readiness``, ``exec`` (commands inside), ``teardown``, ``ssh_config`` (how ssh reaches it).
"""

from __future__ import annotations

from ._util import RefhostError
from .boot import freeze, up, up_fleet
from .deploy import deploy
from .exec import run_in_guest
from .guest_state import GuestState, is_up, list_guests, state
from .rootfs import build
from .ssh_config import ssh_config_all, ssh_config_text, write_ssh_config
from .teardown import down, down_all

__all__ = [
    "GuestState",
    "RefhostError",
    "build",
    "deploy",
    "down",
    "down_all",
    "freeze",
    "is_up",
    "list_guests",
    "run_in_guest",
    "ssh_config_all",
    "ssh_config_text",
    "state",
    "up",
    "up_fleet",
    "write_ssh_config",
]
