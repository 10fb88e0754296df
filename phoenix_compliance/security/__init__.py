"""Security rules judged on the files: the compose file and the Quadlet units.

Plain modules (no pytest), one rule a module: ``labels`` (SELinux relabel of bind
mounts), ``ports`` (unprivileged ports), ``privileges``, ``sockets`` (API socket
mounts), ``secrets``, ``labelling_off``, ``images``, ``registry``; ``common`` holds
the records and the unit reading they share.

Each rule reads parsed files and returns `Offence`s naming file, line, the
service or unit and the mount, port or variable, so a finding can be fixed
before anything runs; the running stack is judged elsewhere. Every rule has a
record in the one rule schema (phoenix_compliance.rules.RuleSpec; `RuleInfo` is its old
name) with a stable id, a one-line remediation and the check that reports it, which
checks print next to the offences.

One function per rule per source (`compose_*` takes a `ComposeFile`,
`quadlet_*` an iterable of `UnitFile`s), because the two formats spell the
same thing differently and a check usually has only one of them at hand.
"""

from __future__ import annotations

from phoenix_compliance.rules import RuleSpec
from phoenix_compliance.security.common import Offence, RuleInfo
from phoenix_compliance.security.images import IMAGES, compose_images, image_problems, quadlet_images
from phoenix_compliance.security.labelling_off import (
    LABELLING_OFF,
    compose_labelling_disabled,
    compose_labelling_off,
    labelling_off_message,
    quadlet_labelling_disabled,
    quadlet_labelling_off,
)
from phoenix_compliance.security.labels import (
    SELINUX_LABELS,
    LabelGap,
    compose_selinux_labels,
    quadlet_label_gaps,
    quadlet_selinux_labels,
)
from phoenix_compliance.security.ports import UNPRIVILEGED_PORTS, compose_unprivileged_ports, quadlet_unprivileged_ports
from phoenix_compliance.security.privileges import PRIVILEGES, compose_privileges, quadlet_privileges
from phoenix_compliance.security.registry import REGISTRY, compose_registry, from_registry, quadlet_registry
from phoenix_compliance.security.secrets import (
    SECRETS,
    compose_secrets,
    env_file_secrets,
    is_secret_name,
    quadlet_secrets,
    secret_options,
    secret_value_reason,
)
from phoenix_compliance.security.sockets import (
    SOCKET_MOUNTS,
    compose_socket_mounts,
    is_api_socket,
    quadlet_socket_mounts,
)

RULES: tuple[RuleSpec, ...] = (
    SELINUX_LABELS,
    UNPRIVILEGED_PORTS,
    PRIVILEGES,
    SOCKET_MOUNTS,
    SECRETS,
    IMAGES,
    LABELLING_OFF,
    REGISTRY,
)

__all__ = [
    "IMAGES",
    "LABELLING_OFF",
    "PRIVILEGES",
    "REGISTRY",
    "RULES",
    "SECRETS",
    "SELINUX_LABELS",
    "SOCKET_MOUNTS",
    "UNPRIVILEGED_PORTS",
    "LabelGap",
    "Offence",
    "RuleInfo",
    "RuleSpec",
    "compose_images",
    "compose_labelling_disabled",
    "compose_labelling_off",
    "compose_privileges",
    "compose_registry",
    "compose_secrets",
    "compose_selinux_labels",
    "compose_socket_mounts",
    "compose_unprivileged_ports",
    "env_file_secrets",
    "from_registry",
    "image_problems",
    "is_api_socket",
    "is_secret_name",
    "labelling_off_message",
    "quadlet_images",
    "quadlet_label_gaps",
    "quadlet_labelling_disabled",
    "quadlet_labelling_off",
    "quadlet_privileges",
    "quadlet_registry",
    "quadlet_secrets",
    "quadlet_selinux_labels",
    "quadlet_socket_mounts",
    "quadlet_unprivileged_ports",
    "secret_options",
    "secret_value_reason",
]
