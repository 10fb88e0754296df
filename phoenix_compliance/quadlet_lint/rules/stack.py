"""Stack: the project's conventions for a stack under one systemd target (QL050 to QL052).

Judged only with a stack profile (``--profile stack``): every container and
pod joins the target (WantedBy=) and stops with it (PartOf=), and each bind
mount carries an SELinux relabel option.
"""

from __future__ import annotations

from collections.abc import Iterable

from phoenix_compliance.grammar.specifiers import is_host_path
from phoenix_compliance.grammar.volumes import WINDOWS_PATH, parse_mount, split_volume, volume_relabel
from phoenix_compliance.parsers.quadlet import strip_matching_quotes
from phoenix_compliance.quadlet_lint.context import UnitContext, unit_rule
from phoenix_compliance.quadlet_lint.rules.storage import volume_sections


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
    unit = out.unit
    for section in volume_sections(unit):
        for entry in unit.entries_for(section, "Volume"):
            value = strip_matching_quotes(entry.value)
            source, _dest, options = split_volume(value)
            if not source or not is_host_path(source) or WINDOWS_PATH.match(value):
                continue
            if volume_relabel(options.split(",")) is not None:
                continue
            out.add(
                "QL052",
                entry,
                "Volume",
                f"bind mount {source} has no :Z or :z, so on an SELinux host the container cannot use it",
                f"append :Z (private) or :z (shared): Volume={source}:{_dest}:{options + ',' if options else ''}Z",
            )
        for entry in unit.entries_for(section, "Mount"):
            mount = parse_mount(strip_matching_quotes(entry.value))
            if mount is None or mount.type != "bind" or mount.relabel is not None:
                continue
            out.add(
                "QL052",
                entry,
                "Mount",
                "bind mount has no relabel option, so on an SELinux host the container cannot use it",
                "add relabel=private (like :Z) or relabel=shared (like :z)",
            )
