"""Required keys: what each Quadlet file type cannot be converted without (QL020, QL021).

The key a .container, .kube, .image, .build or .artifact is made from; the keys other
keys need are with their family (Driver=image in storage, File= of a .build
with the working directory).
"""

from __future__ import annotations

from phoenix_compliance.quadlet.readers import lookup_all, lookup_value
from phoenix_compliance.quadlet_lint.context import UnitContext, unit_rule


@unit_rule(70)
def required(out: UnitContext) -> None:
    unit = out.unit
    main = out.converted_main
    if main is None:
        return
    at = out.section_line(main)

    if unit.kind == "container":
        image, rootfs = lookup_value(unit, main, "Image", out.version), lookup_value(unit, main, "Rootfs", out.version)
        if not image and not rootfs:
            out.add(
                "QL020",
                at,
                "Image",
                'a .container needs Image= (or Rootfs=) in [Container]; Quadlet: "no Image or Rootfs key specified"',
                "add Image=<image reference> under [Container]",
            )
        elif image and rootfs:
            entry = unit.last(main, "Rootfs")
            out.add(
                "QL021",
                entry if entry else at,
                "Rootfs",
                "Image= and Rootfs= are both set; Quadlet refuses the combination",
                "keep either Image= or Rootfs=",
            )
    elif unit.kind == "kube" and not lookup_value(unit, main, "Yaml", out.version):
        out.add(
            "QL020",
            at,
            "Yaml",
            'a .kube needs Yaml= in [Kube]; Quadlet: "no Yaml key specified"',
            "add Yaml=<path to the Kubernetes YAML>",
        )
    elif unit.kind == "image" and not lookup_value(unit, main, "Image", out.version):
        out.add(
            "QL020",
            at,
            "Image",
            'a .image needs Image= in [Image]; Quadlet: "no Image key specified"',
            "add Image=<image reference to pull>",
        )
    elif unit.kind == "artifact" and not lookup_value(unit, main, "Artifact", out.version):
        out.add(
            "QL020",
            at,
            "Artifact",
            'a .artifact needs Artifact= in [Artifact]; Quadlet: "no Artifact key specified"',
            "add Artifact=<artifact reference to pull>",
        )
    elif unit.kind == "build" and not lookup_all(unit, main, "ImageTag"):
        # The built image's name is the first ImageTag= that LookupAll() keeps.
        out.add(
            "QL020",
            at,
            "ImageTag",
            'a .build needs ImageTag= in [Build]; Quadlet: "no ImageTag key specified"',
            "add ImageTag=<name:tag> for the built image",
        )
