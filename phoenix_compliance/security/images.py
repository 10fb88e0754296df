"""Images fully qualified and pinned."""

from __future__ import annotations

from collections.abc import Iterable

from phoenix_compliance.grammar.images import parse_image
from phoenix_compliance.parsers.compose import ComposeFile
from phoenix_compliance.quadlet.readers import strip_matching_quotes
from phoenix_compliance.quadlet.unitfile import UnitFile
from phoenix_compliance.rules import RuleSpec
from phoenix_compliance.security.common import Offence, entries, unit_offence

IMAGES = RuleSpec(
    id="SEC-IMAGE",
    title="Images are fully qualified and pinned",
    remediation="name the registry and a tag other than latest, or a digest: docker.io/library/nginx:1.27",
    check="PHX-S.18",
)


def image_problems(reference: str) -> list[str]:
    """What is wrong with an image reference: not fully qualified, not pinned (empty if fine)."""
    image = parse_image(reference)
    problems = []
    if not image.qualified:
        problems.append(
            f"{reference} is a short name, so the registry it is pulled from depends on the host's "
            "unqualified-search-registries (and podman auto-update refuses it)"
        )
    if not image.digest_ok:
        problems.append(f"{reference} has a malformed digest (expected @sha256: and 64 hex digits)")
    elif image.digest is None and not image.image_id:
        if image.tag is None:
            problems.append(f"{reference} has no tag, which means :latest, so a new pull can change what runs")
        elif image.tag == "latest":
            problems.append(f"{reference} uses :latest, so a new pull can change what runs")
    return problems


def compose_images(compose: ComposeFile) -> list[Offence]:
    """`image:` of every service that is pulled (a service with `build:` names its own result)."""
    offences = []
    for service in compose.services.values():
        image = service.image
        # `${TAG}` is only known after interpolation; judge what can be judged.
        if image is None or service.has_build or "$" in image:
            continue
        problems = image_problems(image)
        if problems:
            offences.append(
                Offence(
                    IMAGES.id,
                    *compose.locate(service.line_of("image")),
                    f"service {service.name}, image {image}",
                    "; ".join(problems),
                )
            )
    return offences


def quadlet_images(units: Iterable[UnitFile]) -> list[Offence]:
    """`Image=` of .container and .image units; `x.image`/`x.build` references are judged in those units."""
    offences = []
    for unit in units:
        for entry in entries(unit, ("Container", "Image"), "Image"):
            image = strip_matching_quotes(entry.value)
            if not image or image.endswith((".image", ".build")):
                continue
            problems = image_problems(image)
            if problems:
                offences.append(unit_offence(IMAGES, unit, entry, f"Image={image}", "; ".join(problems)))
    return offences
