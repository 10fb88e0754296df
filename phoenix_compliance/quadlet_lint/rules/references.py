"""References: what a unit names that the generator must find or resolve (QL025, QL030 to QL037, QL070).

Pod=, Image= naming a .image/.build, [Unit] dependencies on Quadlet files, the
names podman gives the objects, and across files: two files generating the
same service, a dependency written as the generated service's name. The
references of Volume=, Mount= and Network= are judged with their family
(storage, network).
"""

from __future__ import annotations

from collections.abc import Sequence

from phoenix_compliance.grammar.images import is_unambiguous_image
from phoenix_compliance.grammar.names import PODMAN_NAME
from phoenix_compliance.grammar.specifiers import expand, unresolved
from phoenix_compliance.quadlet.names import default_service_name, service_name
from phoenix_compliance.quadlet.readers import all_words, lookup, lookup_all
from phoenix_compliance.quadlet.unitfile import Entry, UnitFile
from phoenix_compliance.quadlet.versions import (
    DEPENDENCY_TRANSLATION_SINCE,
    FILE_TYPE_SINCE,
    UNIT_DEPENDENCY_KEYS,
    Version,
    format_version,
    generator_reads,
)
from phoenix_compliance.quadlet_lint.context import UnitContext, cross_file_rule, unit_rule
from phoenix_compliance.quadlet_lint.findings import Finding


def image_reference(out: UnitContext, entry: Entry, image: str) -> None:
    """handleImageSource(): an image named after a .build or .image file must be one."""
    for suffix in (".build", ".image"):
        if image.endswith(suffix) and not out.has(image):
            out.add(
                "QL031",
                entry,
                entry.key,
                f"{entry.key}={image}: there is no {image} beside this file; Quadlet: "
                f'"requested Quadlet image {image} was not found"',
                f"add {image} next to {out.unit.name}, or name the image itself",
            )


@unit_rule(100)
def image_source(out: UnitContext) -> None:
    if out.unit.kind != "container" or not out.converted:
        return
    found = lookup(out.unit, "Container", "Image", out.version)
    if found is not None and found[1]:
        image_reference(out, found[0], found[1])


@unit_rule(110)
def pod(out: UnitContext) -> None:
    unit = out.unit
    if unit.kind != "container" or not out.converted:
        return
    found = lookup(unit, "Container", "Pod", out.version)
    if found is None or not found[1]:
        return
    pod_entry, pod = found
    if not pod.endswith(".pod"):
        out.add(
            "QL030",
            pod_entry,
            "Pod",
            f'Pod={pod} names a pod, not a .pod unit; Quadlet: "pod {pod} is not Quadlet based"',
            f"write Pod={pod}.pod and add a {pod}.pod file (PodName={pod} keeps the pod's name)",
        )
    elif not out.has(pod):
        out.add(
            "QL031",
            pod_entry,
            "Pod",
            f'Pod={pod}: there is no {pod} beside this file; Quadlet: "quadlet pod unit {pod} does not exist"',
            f"add {pod} next to {unit.name}, or correct the name",
        )
    for key in ("PublishPort", "Network"):
        for entry in lookup_all(unit, "Container", key):
            out.add(
                "QL032",
                entry,
                key,
                f"this container joins {pod} and shares the pod's network; Quadlet passes {key}= on "
                "and podman refuses to create the container",
                f"move {key}={entry.value} to [Pod] in {pod}",
            )


# The keys naming the podman object each file type creates.
_NAME_KEYS = {"container": "ContainerName", "pod": "PodName", "volume": "VolumeName", "network": "NetworkName"}


@unit_rule(230)
def names(out: UnitContext) -> None:
    unit = out.unit
    key = _NAME_KEYS.get(unit.kind)
    main = out.converted_main
    if key is None or main is None:
        return
    found = lookup(unit, main, key, out.version)
    if found is None or not found[1]:
        return  # the default name
    name = expand(found[1], out.known)
    if unresolved(name):
        return  # a specifier (%N) or variable (${MAJOR}) only systemd can expand
    if not PODMAN_NAME.match(name):
        out.add(
            "QL070",
            found[0],
            key,
            f"{key}={found[1]}{_as_expanded(found[1], name)}: podman names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*; "
            "it refuses this one",
            "use letters, digits, '_', '.' and '-' only, starting with a letter or digit",
        )


def _as_expanded(written: str, expanded: str) -> str:
    return "" if written == expanded else f" (as systemd expands it: {expanded})"


@unit_rule(240)
def short_image_name(out: UnitContext) -> None:
    unit = out.unit
    main = out.converted_main
    # warnIfAmbiguousName() runs for these three file types only.
    if unit.kind not in ("container", "volume", "image") or main is None:
        return
    found = lookup(unit, main, "Image", out.version)
    if found is None:
        return
    entry, image = found
    if image.endswith((".build", ".image")) or is_unambiguous_image(image):
        return
    out.add(
        "QL025",
        entry,
        "Image",
        f'Image={image} is not a fully qualified image name; Quadlet warns ("not ideal for performance and '
        'security reasons") and podman resolves it through short-name aliases',
        f"name the registry, e.g. Image=docker.io/library/{image or 'name'}"
        if "/" not in image
        else f"name the registry, e.g. Image=docker.io/{image}",
    )


def _extension(word: str) -> str:
    """filepath.Ext(): from the last '.' of the last path element."""
    base = word.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:] if dot >= 0 else ""


@unit_rule(250)
def dependencies(out: UnitContext) -> None:
    unit = out.unit
    if not out.converted:
        return
    quadlet_extensions = {f".{kind}" for kind, since in FILE_TYPE_SINCE.items() if since <= out.version}
    translated = out.version >= DEPENDENCY_TRANSLATION_SINCE
    for key in UNIT_DEPENDENCY_KEYS:
        for entry, word in all_words(unit, "Unit", key):
            if _extension(word) not in quadlet_extensions:
                continue
            if not translated:
                out.add(
                    "QL036",
                    entry,
                    key,
                    f"{key}={word}: Podman {format_version(out.version)} passes Quadlet file names to systemd "
                    f"unchanged (translation arrived in {format_version(DEPENDENCY_TRANSLATION_SINCE)}), and "
                    "systemd ignores the dependency",
                    f"name the generated service: {key}={default_service_name(word, out.version) or word}"
                    " (or the ServiceName= it sets)",
                )
            elif not out.has(word):
                out.add(
                    "QL035",
                    entry,
                    key,
                    f'{key}={word}: there is no {word} beside this file; Quadlet: "unable to translate dependency '
                    f'for {word}"',
                    f"add {word} next to {unit.name}, or correct the name",
                )


@cross_file_rule(300)
def duplicate_services(units: Sequence[UnitFile], version: Version) -> list[Finding]:
    """Two files of the same name stem (or ServiceName=) overwrite each other's service."""
    owners: dict[str, UnitFile] = {}
    findings: list[Finding] = []
    for unit in units:
        if not generator_reads(unit.kind, version):
            continue
        service = service_name(unit, version)
        if service is None:
            continue
        first = owners.setdefault(service, unit)
        if first is not unit and first.path.resolve() != unit.path.resolve():
            findings.append(
                Finding.of(
                    "QL033",
                    str(unit.path),
                    1,
                    None,
                    f"{unit.name} generates {service}, as {first.path} does; one overwrites the other",
                    "rename one file, or set ServiceName= (Podman 5.3+)",
                )
            )
    return findings


@cross_file_rule(310)
def dependency_advice(units: Sequence[UnitFile], version: Version) -> list[Finding]:
    """From 5.5 a dependency may name the Quadlet file, which follows ServiceName= and renames."""
    if version < DEPENDENCY_TRANSLATION_SINCE:
        return []
    generated = {
        service: unit
        for unit in units
        if unit.is_quadlet and generator_reads(unit.kind, version)
        if (service := service_name(unit, version)) is not None
    }
    findings: list[Finding] = []
    for unit in units:
        if not unit.is_quadlet:
            continue
        for key in UNIT_DEPENDENCY_KEYS:
            for entry, word in all_words(unit, "Unit", key):
                target = generated.get(word)
                if target is None or target is unit:
                    continue
                findings.append(
                    Finding.of(
                        "QL037",
                        str(entry.source or unit.path),
                        entry.line,
                        key,
                        f"{key}={word} names the service {target.name} generates; from Podman "
                        f"{format_version(DEPENDENCY_TRANSLATION_SINCE)} the dependency can name the file, "
                        "which keeps working if the file sets ServiceName=",
                        f"write {key}={target.name}",
                    )
                )
    return findings
