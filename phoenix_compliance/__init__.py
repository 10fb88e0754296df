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
- ``security_rules``: the security rules judged on compose and Quadlet files;
- ``run/``: the pytest side of a run, one role a module; ``plugin`` wires it to pytest's hooks;
- ``report/``: the report's data model, its page (template and CSS in ``report/resources``),
  its digest and signature (a new output format is one writer in ``run/writers``);
- ``cli``: the ``phoenix-compliance`` command (lint, verify);
- ``refhost/``: the reference hosts the suite is proven on (``phoenix-refhost``).
"""
