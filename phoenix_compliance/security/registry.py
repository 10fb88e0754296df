"""Images from the stack's registry, judged only where the manifest names it (`registry:`)."""

from __future__ import annotations

from collections.abc import Iterable

from phoenix_compliance.grammar.images import from_registry
from phoenix_compliance.parsers.compose import ComposeFile
from phoenix_compliance.quadlet.readers import strip_matching_quotes
from phoenix_compliance.quadlet.unitfile import UnitFile
from phoenix_compliance.rules import RuleSpec
from phoenix_compliance.security.common import Offence, entries, unit_offence

__all__ = ["REGISTRY", "compose_registry", "from_registry", "quadlet_registry"]

REGISTRY = RuleSpec(
    id="SEC-REGISTRY",
    title="Images come from the stack's registry",
    remediation="build and push the image to the stack's registry and name it there: REGISTRY/NAME:TAG",
    check="PHX-S.21",
)


def compose_registry(compose: ComposeFile, registry: str) -> list[Offence]:
    """`image:` of every service (a built one too: what it is tagged as is what runs)."""
    return [
        Offence(
            REGISTRY.id,
            *compose.locate(service.line_of("image")),
            f"service {service.name}, image {service.image}",
            f"not from {registry}",
        )
        for service in compose.services.values()
        if service.image is not None and "$" not in service.image and not from_registry(service.image, registry)
    ]


def quadlet_registry(units: Iterable[UnitFile], registry: str) -> list[Offence]:
    """`Image=` of .container and .image units; `x.image`/`x.build` references are judged in those units."""
    offences = []
    for unit in units:
        for entry in entries(unit, ("Container", "Image"), "Image"):
            image = strip_matching_quotes(entry.value)
            if image and not image.endswith((".image", ".build")) and not from_registry(image, registry):
                offences.append(unit_offence(REGISTRY, unit, entry, f"Image={image}", f"not from {registry}"))
    return offences
