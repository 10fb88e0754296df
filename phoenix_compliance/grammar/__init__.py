"""Podman's value grammars, one implementation each: the one reading of every value, for the compose
parser, the lint, the facts, the security rules, convert and the redactor.

- ``volumes``: volume specs ``SOURCE:DESTINATION:OPTIONS`` (``-v``, Quadlet's
  Volume=, the compose short syntax) and mount specs ``type=bind,src=..,dst=..``
  (``--mount``, Quadlet's Mount=), and whether a mount is relabelled for SELinux;
- ``ports``: publish specs ``[[ip:]host:]container[/protocols]`` (-p, PublishPort=, compose
  ``ports:`` short and long) and port ranges;
- ``images``: image references, qualified or short, pinned or not, well formed or not;
- ``sockets``: the Podman and Docker API sockets in every spelling;
- ``secrets``: the one secret vocabulary (names in every case style, values by shape) of the
  detector, the redactor and convert;
- ``podman_args``: podman options as PodmanArgs= passes them;
- ``versions``: Podman and podman-compose releases, ordered with ``packaging``;
- ``specifiers``: systemd's specifiers (%h, %t, ...) and ${VAR}s, expanded where known, and what
  counts as a host path;
- ``labels``: content never to relabel (system trees, sockets, a whole home) and the
  --security-opt values that turn SELinux labelling off;
- ``names``: the names podman gives containers, pods, volumes and networks.

Plain modules (no pytest, nothing of the checks): each function reads one value
the way Podman does and says what it found; the callers decide what is wrong.
"""
