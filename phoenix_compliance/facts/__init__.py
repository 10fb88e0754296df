"""What the checks know about a host, probed once per host and run.

HostFacts (host.py) is the one object a check receives; it is composed of:

- groups.py: a probe group, one script run once, its sections looked up by declared name and
  handed out only when they answered as declared (else CouldNotCheck);
- probes/: the probe scripts and the sections each one declares, with the exit codes that answer;
- identity.py: who and what the host is (user, OS, Podman, tools, ids, paths);
- podman.py: the Podman API's answers (containers, pods, inspect documents);
- containers.py: the parts of API documents the checks judge (health, ports, labels);
- endpoints.py: the stack's endpoints, asked on the checked host itself;
- files.py: the compose file and the Quadlet folder, from the host or a local override;
- source.py: the repository's Quadlet units (--source-dir) against the host's, as the generator reads them;
- optional.py: the trace each optional service group leaves (compose file, units, containers);
- systemd.py: the user's systemd (the generator, the target, the units' states);
- security.py: the security probe read (Docker's remains, kernel settings, ownership);
- memo.py: a fact computed once per host, without the lock Python 3.11 shares across hosts.

HostFacts.prefetch reads named parts ahead of the checks (run/probing.py, hosts probed at once).
"""

from __future__ import annotations

from phoenix_compliance.facts.host import HostFacts

__all__ = ["HostFacts"]
