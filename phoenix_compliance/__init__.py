"""phoenix-compliance: proves a host was migrated from Docker to rootless Podman with Quadlet.

Where things go, by folder (each package's docstring maps its modules):

- ``tests/phase1..3``, ``tests/security`` (top of the repository): the checks, one test
  function each with its metadata (``checks.check``; vocabulary in ``catalogue``);
- ``facts/``: what a check knows about a host, probed once per host and run
  (a new fact goes in the part of HostFacts it belongs to, its probe section in ``facts/probes``);
- ``transport/``: how a host is reached (probe runner, Podman API socket, backend dispatch);
- ``parsers/``: the files users hand the suite (compose, unit files, manifest, waivers);
- ``grammar/``: Podman's value grammars (volume, mount and port specs, specifiers, names);
- ``quadlet_lint/``: the Quadlet lint (a new rule goes in ``quadlet_lint/rules/<family>.py``);
- ``security/``: the security rules judged on compose and Quadlet files, one rule a module;
- ``run/``: the pytest side of a run, one role a module; ``plugin`` wires it to pytest's hooks;
- ``report/``: the report's data model, its page (template and CSS in ``report/resources``),
  its digest and signature (a new output format is one writer in ``report/files``);
- ``cli``: the ``phoenix-compliance`` command (check, lint, verify);
- ``bundled``: what ships with the suite (the checks, the stacks, its version), in a checkout or a wheel;
- ``refhost/``: the reference hosts the suite is proven on (``phoenix-refhost``).

The public API, for a site's own checks (README, "A site's own checks"; pinned by
selftests/test_public_api.py): the names in ``__all__``, loaded on first use so that
``import phoenix_compliance.cli`` stays light.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phoenix_compliance.catalogue import Step
    from phoenix_compliance.checks import check, container_of, not_applicable
    from phoenix_compliance.facts import HostFacts
    from phoenix_compliance.parsers.manifest import Manifest

# What the `observed` fixture is: call it with what a check saw, shown as evidence when it passes.
Observed = Callable[[str], None]

_EXPORTS = {
    "check": "phoenix_compliance.checks",
    "not_applicable": "phoenix_compliance.checks",
    "container_of": "phoenix_compliance.checks",
    "HostFacts": "phoenix_compliance.facts",
    "Manifest": "phoenix_compliance.parsers.manifest",
    "Step": "phoenix_compliance.catalogue",
}
__all__ = ["HostFacts", "Manifest", "Observed", "Step", "check", "container_of", "not_applicable"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
