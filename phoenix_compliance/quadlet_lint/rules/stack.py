"""Stack: the project's conventions for a stack under one systemd target (QL050 to QL053).

Judged only with a stack profile (``--profile stack``): every container and
pod joins the target (WantedBy=) and stops with it (PartOf=), each bind mount
of the stack's own data carries an SELinux relabel option and no system
content does (QL052, the same judgement as PHX-S.01), and a container that
turns labelling off says so (QL053).
"""

from __future__ import annotations

from collections.abc import Iterable

from phoenix_compliance.quadlet_lint.context import UnitContext, unit_rule
from phoenix_compliance.security.labelling_off import LABELLING_OFF, labelling_off_message, quadlet_labelling_off
from phoenix_compliance.security.labels import quadlet_label_gaps


def _words(values: Iterable[str]) -> set[str]:
    return {word for value in values for word in value.split()}


@unit_rule(260, quadlet_only=False)
def stack_profile(out: UnitContext) -> None:
    unit, stack = out.unit, out.stack
    if stack is None or unit.kind not in stack.kinds:
        return
    target = stack.target
    memberships = (
        ("QL050", "Install", "WantedBy", f"is not wanted by {target}, so starting the stack does not start it"),
        ("QL051", "Unit", "PartOf", f"is not PartOf={target}, so stopping or restarting the stack leaves it running"),
    )
    for rule_id, section_name, key, why in memberships:
        if target in _words(unit.values(section_name, key)):
            continue
        section = unit.section(section_name)
        out.add(
            rule_id, section if section else 1, key, f"{unit.name} {why}", f"add {key}={target} under [{section_name}]"
        )
    if stack.require_selinux_relabel:
        relabel(out)


def relabel(out: UnitContext) -> None:
    """QL052 says of a mount what PHX-S.01 says (security.labels.quadlet_label_gaps(), one judgement);
    QL053 where the container turns labelling off instead."""
    for gap in quadlet_label_gaps(out.unit, known=out.known):
        out.add("QL052", gap.entry, gap.entry.key, gap.message, gap.fix)
    off = quadlet_labelling_off(out.unit)
    if off is not None:
        entry, how = off
        out.add("QL053", entry, entry.key, f"{how}: {labelling_off_message(how)}", LABELLING_OFF.remediation)
