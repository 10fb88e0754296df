"""The lint's rules, one module per family; importing this package declares them all.

A rule is one function in the family it belongs to, declared with
``@unit_rule(order)`` (or ``@cross_file_rule(order)``), plus its entry in
``findings.RULES``. The families:

- ``syntax``: lines the parser could not read, and the folder such a file costs (QL001-QL006);
- ``structure``: file type, sections and keys per Podman version, [Install], repeated keys (QL010-QL017, QL029);
- ``required``: the key a file type cannot be converted without (QL020, QL021);
- ``references``: Pod=, Image=, dependencies, object names, services two files generate (QL025, QL030-QL037, QL070);
- ``storage``: Volume=, Mount=, .volume units, working directory (QL040-QL046, and QL020/22/24/31 for these);
- ``network``: Network=, subnets, ExposeHostPort=, PublishPort= (QL023, QL026, QL031, QL034, QL038, QL061);
- ``values``: values podman or Quadlet refuses (QL018, QL022, QL027, QL028, QL047, QL060-QL064);
- ``stack``: the stack profile's conventions (QL050-QL052);
- ``systemd``: [Unit], [Service] and [Install] lines systemd ignores, per systemd release (QL071-QL076).
"""

from phoenix_compliance.quadlet_lint.rules import (  # noqa: F401  (imported to declare their rules)
    network,
    references,
    required,
    stack,
    storage,
    structure,
    syntax,
    systemd,
    values,
)
