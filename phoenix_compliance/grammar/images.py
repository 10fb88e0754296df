"""Image references: qualified or short, pinned or floating, well formed or not; one reading.

A reference is ``[registry/]path[:tag][@digest]``, or an image id (``sha256:HEX``
or 64 hex digits) which names one image and no registry. The first component
of the path is a registry when it has a '.' or a ':' (a port), or is
``localhost`` (containers/image's ``splitDockerDomain()``, the same rule as
Quadlet's ``isUnambiguousName()`` in ``cmd/quadlet/main.go``); otherwise the
name is short and the host's ``unqualified-search-registries`` decide where it
comes from. Docker, and so a compose file written for it, reads a short
``postgres:16`` as ``docker.io/library/postgres:16`` (``qualified_image()``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class ImageRef:
    """One image reference as written, split into its parts."""

    written: str
    registry: str | None  # None: a short name (or an image id)
    path: str
    tag: str | None
    digest: str | None  # what follows '@', well formed or not
    image_id: bool = False

    @property
    def qualified(self) -> bool:
        """Names its registry (or is an image id): no search list decides what is pulled."""
        return self.image_id or self.registry is not None

    @property
    def digest_ok(self) -> bool:
        """The digest, if any, is sha256: and 64 hex digits."""
        return self.digest is None or _DIGEST.fullmatch(self.digest) is not None

    @property
    def pinned(self) -> bool:
        """Names one image: an id, a well-formed digest, or a tag other than latest."""
        if self.image_id or self.digest is not None:
            return self.digest_ok
        return self.tag is not None and self.tag != "latest"


def is_image_id(name: str) -> bool:
    """An image id: ``sha256:...`` or 64 hex digits."""
    return name.startswith("sha256:") or _HEX64.fullmatch(name) is not None


def parse_image(reference: str) -> ImageRef:
    """The parts of an image reference, as containers/image splits them."""
    if is_image_id(reference):
        digest = reference if reference.startswith("sha256:") else None
        return ImageRef(reference, None, "", None, digest, image_id=True)
    # The registry is read before the digest, from the first '/' of the whole text, as Quadlet's
    # isUnambiguousName() does: both agree on every well-formed reference, and this on the others too.
    first, slash, rest = reference.partition("/")
    registry = first if slash and ("." in first or ":" in first or first == "localhost") else None
    path, at, digest = (rest if registry is not None else reference).partition("@")
    last = path.rsplit("/", 1)[-1]
    tag = last.partition(":")[2] if ":" in last else None
    if tag is not None:
        path = path[: len(path) - len(tag) - 1]
    return ImageRef(reference, registry, path, tag, digest if at else None)


def is_unambiguous_image(name: str) -> bool:
    """isUnambiguousName() of Quadlet's main.go: an image id, or a registry before the first '/'."""
    return parse_image(name).qualified


def qualified_image(name: str) -> str:
    """An image name as Docker reads it, which is what a compose file means: a short `postgres:16`
    is `docker.io/library/postgres:16`, `user/app` is `docker.io/user/app`; a tag or digest is kept."""
    if is_unambiguous_image(name):
        return name
    return f"docker.io/{name}" if "/" in name else f"docker.io/library/{name}"


def from_registry(image: str, registry: str) -> bool:
    """The image is named under the registry (`registry.example.com/phoenix/core:1.2` under
    `registry.example.com/phoenix`)."""
    return image.startswith(registry.rstrip("/") + "/")
