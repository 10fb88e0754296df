"""Podman's value grammars, one implementation each, for the lint, the compose parser and the security rules.

- ``volumes``: volume specs ``SOURCE:DESTINATION:OPTIONS`` (``-v``, Quadlet's
  Volume=, the compose short syntax) and mount specs ``type=bind,src=..,dst=..``
  (``--mount``, Quadlet's Mount=), and whether a mount is relabelled for SELinux;
- ``ports``: publish specs ``[[ip:]host:]container[/protocol]`` and port ranges;
- ``specifiers``: systemd's specifiers (%h, %t, ...) and ${VAR}s, expanded where known, and what
  counts as a host path;
- ``labels``: content never to relabel (system trees, sockets, a whole home) and the
  --security-opt values that turn SELinux labelling off;
- ``names``: the names podman gives containers, pods, volumes and networks.

Plain modules (no pytest, nothing of the checks): each function reads one value
the way Podman does and says what it found; the callers decide what is wrong.
"""
