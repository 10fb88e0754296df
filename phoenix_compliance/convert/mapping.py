"""The keys the converter writes: how each is read back, and the one-to-one compose mappings.

``KEY_READS`` says how the generator (or systemd) reads each key's value, from
pkg/systemd/quadlet/quadlet.go at v5.4.2 and v5.8.2 (the Lookup*() call of each key); a Quadlet
key not listed is read whole (Lookup(), the strictest form). ``ONE_TO_ONE`` is every compose
key that becomes one Quadlet key, with the release the key needs; the release comes from the
lint's tables (quadlet/versions.py), the one home of which release has which key.
"""

from __future__ import annotations

from dataclasses import dataclass

from phoenix_compliance.convert.units import Read
from phoenix_compliance.quadlet.versions import QUADLET_KEYS, Version

_SYSTEMD_SECTIONS = frozenset({"Unit", "Service", "Install"})

KEY_READS: dict[tuple[str, str], Read] = {
    # LookupAllKeyVal(), LookupAllArgs(), LookupLastArgs(): systemd words, C escapes undone.
    **{
        ("Container", key): Read.ARGS
        for key in ("Environment", "Label", "Annotation", "EnvironmentFile", "Secret", "Mount", "Exec", "PodmanArgs")
    },
    ("Network", "Label"): Read.ARGS,
    ("Network", "Options"): Read.ARGS,
    ("Volume", "Label"): Read.ARGS,
    ("Pod", "Label"): Read.ARGS,
    ("Pod", "PodmanArgs"): Read.ARGS,
    # LookupAllStrv(): words, backslashes kept.
    **{
        ("Container", key): Read.STRV
        for key in ("AddCapability", "DropCapability", "AddDevice", "Sysctl", "LogOpt", "UIDMap", "GIDMap")
    },
    # systemd's own keys that expand specifiers (systemd.unit(5) "Specifiers"): a unit name or text.
    **{
        ("Unit", key): Read.SYSTEMD
        for key in ("Description", "PartOf", "Requires", "Wants", "After", "Before", "BindsTo")
    },
    ("Install", "WantedBy"): Read.SYSTEMD,
}


def read_of(section: str, key: str) -> Read:
    """How the value of a key the converter writes is read back."""
    found = KEY_READS.get((section, key))
    if found is not None:
        return found
    # [Service] values the converter writes are numbers, sizes and policies it made itself.
    return Read.SYSTEMD_PLAIN if section in _SYSTEMD_SECTIONS else Read.LOOKUP


def since(section: str, key: str) -> Version | None:
    """The release a Quadlet key arrived in (None: systemd's own key, or one Quadlet lacks)."""
    return QUADLET_KEYS.get(section, {}).get(key)


@dataclass(frozen=True)
class OneToOne:
    """A compose key written as one Quadlet key: a scalar, a list (one entry per item) or a flag
    (`true` only); `pod`: the pod decides it for its members (their shared namespaces)."""

    compose: str
    key: str
    shape: str  # "scalar", "list" or "flag"
    pod: bool = False

    @property
    def since(self) -> Version | None:
        return since("Container", self.key)


ONE_TO_ONE: tuple[OneToOne, ...] = (
    OneToOne("cap_add", "AddCapability", "list"),
    OneToOne("cap_drop", "DropCapability", "list"),
    OneToOne("devices", "AddDevice", "list"),
    OneToOne("group_add", "GroupAdd", "list"),
    OneToOne("tmpfs", "Tmpfs", "list"),
    OneToOne("user", "User", "scalar"),
    OneToOne("working_dir", "WorkingDir", "scalar"),
    OneToOne("stop_signal", "StopSignal", "scalar"),
    OneToOne("read_only", "ReadOnly", "flag"),
    OneToOne("init", "RunInit", "flag"),
    OneToOne("hostname", "HostName", "scalar", pod=True),
    OneToOne("dns", "DNS", "list", pod=True),
    OneToOne("dns_search", "DNSSearch", "list", pod=True),
    OneToOne("dns_opt", "DNSOption", "list", pod=True),
    OneToOne("extra_hosts", "AddHost", "list", pod=True),
    OneToOne("userns_mode", "UserNS", "scalar", pod=True),
)
