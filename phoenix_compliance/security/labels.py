"""SELinux labels of bind mounts (PHX-S.01, and the lint's QL052 through quadlet_label_gaps())."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from phoenix_compliance.grammar.labels import system_content
from phoenix_compliance.grammar.specifiers import NOTHING_KNOWN, Known, expand, is_host_path
from phoenix_compliance.grammar.volumes import WINDOWS_PATH, parse_mount, split_volume, volume_relabel
from phoenix_compliance.parsers.compose import ComposeFile
from phoenix_compliance.quadlet.readers import strip_matching_quotes, unit_environment
from phoenix_compliance.quadlet.unitfile import Entry, UnitFile
from phoenix_compliance.rules import RuleSpec
from phoenix_compliance.security.common import MOUNT_SECTIONS, Offence, entries, unit_offence
from phoenix_compliance.security.labelling_off import compose_labelling_off, quadlet_labelling_off

SELINUX_LABELS = RuleSpec(
    id="SEC-LABEL",
    title="Bind mounts carry an SELinux relabel option (:Z or :z)",
    remediation="append :Z (private to the container) or :z (shared) to the bind mount; Mount= takes relabel=private",
    check="PHX-S.01",
)

# Mount types whose source is a host path; podman allows relabel= only on these.
_HOST_PATH_MOUNT_TYPES = frozenset({"bind", "glob"})


@dataclass(frozen=True)
class LabelGap:
    """One mount whose SELinux label is wrong: `message` says why, `fix` what to write.

    The one judgement behind PHX-S.01 and the lint's QL052, so both say the same of a mount."""

    entry: Entry
    subject: str
    message: str
    fix: str


def _system_relabel(what: str, source: str, why: str, relabel: str, disable: str) -> tuple[str, str]:
    return (
        f"{what} {source} is {why} and :{relabel} relabels it on the host; Podman's docs warn that relabelling "
        "system content can make other confined services of the host fail",
        f"drop the {relabel} option; if SELinux then denies the container access, turn separation off for "
        f"this container instead ({disable})",
    )


def quadlet_label_gaps(
    unit: UnitFile, *, named_volumes_too: bool = False, known: Known = NOTHING_KNOWN, home: str | None = None
) -> list[LabelGap]:
    """Bind mounts (Volume= with a host path, Mount=type=bind|glob) of the stack's own data without
    :Z/:z or relabel=, and system content (/etc, /proc, a socket, a whole home) relabelled anyway.

    Sources are read as systemd will pass them (``known``: specifiers and variables whose value is
    known); a container with labelling turned off (SecurityLabelDisable=, SecurityLabelType=,
    --security-opt label=...) needs no relabel. Named volumes are labelled by podman when it creates
    them, so they are judged only with ``named_volumes_too``."""
    if quadlet_labelling_off(unit) is not None:
        return []
    known = known.with_environment(unit_environment(unit))
    disable = "SecurityLabelDisable=true under [Container]"
    gaps: list[LabelGap] = []
    for entry in entries(unit, MOUNT_SECTIONS, "Volume"):
        value = strip_matching_quotes(entry.value)
        source, target, options = split_volume(value)
        if not source or WINDOWS_PATH.match(value):
            continue  # a Windows drive is a volume named after the letter (QL040)
        is_bind = is_host_path(source, known)
        relabel = volume_relabel(options.split(","))
        subject = f"Volume={source}:{target}"
        system = system_content(expand(source, known), home) if is_bind else None
        if system is not None:
            if relabel is not None:
                gaps.append(LabelGap(entry, subject, *_system_relabel("bind mount", source, system, relabel, disable)))
            continue
        if not (is_bind or named_volumes_too) or relabel is not None:
            continue
        what = "bind mount" if is_bind else "named volume"
        gaps.append(
            LabelGap(
                entry,
                subject,
                f"{what} {source} has no :Z or :z, so on an SELinux host the container is denied access to it",
                f"append :Z (private) or :z (shared): Volume={source}:{target}:{options + ',' if options else ''}Z",
            )
        )
    for entry in entries(unit, MOUNT_SECTIONS, "Mount"):
        mount = parse_mount(strip_matching_quotes(entry.value))
        if mount is None:
            continue  # podman cannot read it; the Quadlet linter reports it (QL045)
        # No type= at all (Quadlet refuses it before 5.8, QL045) is judged as Docker would read it: a volume.
        kind = mount.type or "volume"
        source = mount.source or ""
        subject = f"Mount type={kind} source={source}"
        if kind in _HOST_PATH_MOUNT_TYPES:
            system = system_content(expand(source, known), home)
            if system is not None:
                if mount.relabel is not None:
                    gaps.append(
                        LabelGap(entry, subject, *_system_relabel(f"{kind} mount", source, system, "relabel", disable))
                    )
                continue
            if mount.relabel is not None:
                continue
            gaps.append(
                LabelGap(
                    entry,
                    subject,
                    f"{kind} mount {source} has no relabel option, so on an SELinux host the container is denied "
                    "access to it",
                    "add relabel=private (like :Z) or relabel=shared (like :z)",
                )
            )
        elif kind == "volume" and named_volumes_too:
            # podman accepts relabel= only on bind and glob mounts, so the label has to come
            # from the Volume= spelling instead.
            gaps.append(
                LabelGap(
                    entry,
                    subject,
                    f"named volume {source} cannot carry a relabel option as Mount=type=volume",
                    f"write it as Volume={source}:{mount.target or ''}:Z",
                )
            )
    return gaps


def compose_selinux_labels(compose: ComposeFile, *, named_volumes_too: bool = False) -> list[Offence]:
    """Bind mounts (short `:Z` or long `bind: {selinux: Z}`) of the stack's own data must carry a
    relabel option, and system content must not (as for Quadlet, quadlet_label_gaps()).

    Named volumes are labelled by podman when it creates them, so they are
    exempt unless `named_volumes_too`; anonymous volumes and tmpfs always are;
    a service with `security_opt: [label=disable]` needs no relabel.
    """
    offences = []
    for service in compose.services.values():
        if compose_labelling_off(service) is not None:
            continue
        for mount in service.volumes:
            judged = mount.kind == "bind" or (named_volumes_too and mount.kind == "volume")
            if not judged:
                continue
            subject = f"service {service.name}, volume {mount.source}:{mount.target}"
            system = system_content(mount.source or "") if mount.kind == "bind" else None
            if system is not None:
                if mount.selinux is not None:
                    message, fix = _system_relabel(
                        "bind mount", mount.source or "", system, mount.selinux, "security_opt: [label=disable]"
                    )
                    offences.append(
                        Offence(SELINUX_LABELS.id, *compose.locate(mount.line), subject, f"{message}; {fix}")
                    )
                continue
            if mount.selinux is not None:
                continue
            what = "bind mount" if mount.kind == "bind" else "named volume"
            fix = (
                f"{mount.source}:{mount.target}:{','.join((*mount.options, 'Z'))}"
                if mount.syntax == "short"
                else "bind: {selinux: Z} (honoured by podman-compose 1.2.0 and later)"
            )
            offences.append(
                Offence(
                    SELINUX_LABELS.id,
                    *compose.locate(mount.line),
                    subject,
                    f"{what} {mount.source} has no :Z or :z, so on an SELinux host the container "
                    f"is denied access to it; write {fix}",
                )
            )
    return offences


def quadlet_selinux_labels(
    units: Iterable[UnitFile], *, named_volumes_too: bool = False, known: Known = NOTHING_KNOWN, home: str | None = None
) -> list[Offence]:
    """quadlet_label_gaps() of every unit, as offences."""
    return [
        unit_offence(SELINUX_LABELS, unit, gap.entry, gap.subject, f"{gap.message}; {gap.fix}")
        for unit in units
        for gap in quadlet_label_gaps(unit, named_volumes_too=named_volumes_too, known=known, home=home)
    ]
