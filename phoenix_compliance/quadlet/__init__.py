"""The Quadlet layer: how the generator reads files, below the lint, the facts and the checks.

Each reading of the generator has one home here, and the lint (``quadlet_lint``),
the facts (``facts.files``, ``facts.source``), the manifest, convert and the
security rules ask it:

- ``unitfile``: the unit-file syntax (systemd's, and Quadlet's own line rules), parsed
  into entries that keep their file and line; merging drop-ins into a unit;
- ``discovery``: finding the files as the generator does, in a folder on disk or in a
  host's listing (walk order, the first file of a name wins, drop-in folders and their
  order per release, a broken file drops its folder); ``merged_units()`` is a folder's
  units each merged with its drop-ins, what every file check judges;
- ``readers``: reading values as the generator does (Lookup() per release, LookupAll(),
  systemd word splitting with C unescaping, a unit's environment);
- ``versions``: what each Podman release understands (file types, keys per section,
  behaviour boundaries), with their sources;
- ``names``: the service the generator makes of each file (``service_name()``).

Plain modules: no pytest, nothing read from a host here (the facts hand the host's
files over as a ``discovery.ListingTree``).
"""
