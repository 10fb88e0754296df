"""Readers of the files users hand the suite, with no pytest in them.

Each reports its problems as path:line: message and is unit-tested on its own:
compose files (``compose``), the stack manifest (``manifest``), waivers
(``waivers``), and the line-marked YAML
loader they share (``yamlmarks``), which also bounds every file read (size, alias
expansion, nesting) and reports a byte that is not UTF-8 at its own line. Quadlet
and systemd unit files are read by the Quadlet layer, ``phoenix_compliance.quadlet``.
"""
