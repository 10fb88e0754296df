"""What each Podman release understands: file types, keys per section, and release boundaries.

The tables say in which release the Quadlet generator started reading a file
type or a key; ``keys_for()`` answers for one release. Where they come from
(trust these over memory; re-check on change):

- the key set of every section at every release tag from 4.4.0 to 5.8.2:
  ``pkg/systemd/quadlet/quadlet.go`` at the tag (containers/podman), the
  release of a key being the first tag whose tables list it (every key
  arrived in an X.Y.0 release; none was ever removed). The podman-systemd.unit
  man page of the same tags names no key the source lacks;
- 6.0: the same file at v6.0.0-rc1 of podman-container-tools/podman, where the
  repository moved (v5.8.3 has no Quadlet change, nor has its main branch of
  2026-06 after rc1); 6.1.1 rests on its real generator (below), as no 6.1 tag
  was at hand;
- the behaviour boundaries below, each from the source at the tags around it
  (cited where the constant is);
- proven against three real generators (``/usr/libexec/podman/quadlet -dryrun
  -user``, one minimal file per key and section: selftests/
  test_quadlet_differential.py, the key probe): 5.4.2 (Debian trixie),
  5.8.6 (Debian forky) and 6.1.1 (Debian experimental) accept exactly the
  keys listed up to their release.
  Releases between rest on the source alone.

The systemd keys (SYSTEMD_KEYS) are those of systemd_tables.py, generated from
systemd itself; PLAIN_UNIT_SECTIONS follows systemd's man pages.
A release newer than NEWEST_KNOWN_VERSION is judged with what these tables
know, and the lint says so once (``newer_than_known()``); a key the tables
lack is then a warning, not an error (``beyond_tables()``), and so is an error of
a rule a tabled release relaxed: each gate from which the generator accepts what
it refused before has its ``Relaxation`` (the end of this module), the key and
file-type arrivals theirs from the tables (``newest_key_arrival()``,
``newest_file_type()``); quadlet_lint.findings.RELAXED names the rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from phoenix_compliance.grammar.versions import PodmanVersion, read_version
from phoenix_compliance.quadlet.systemd_values import known_keys

Version = tuple[int, ...]

# What lint_paths()/lint_units() judge against when no release is given.
DEFAULT_PODMAN_VERSION: Version = (5, 4, 2)


# Release in which the generator started reading each file type (quadlet.go
# SupportedExtensions at each tag); older generators skip the file entirely.
FILE_TYPE_SINCE: dict[str, Version] = {
    "container": (4, 4),
    "volume": (4, 4),
    "network": (4, 4),
    "kube": (4, 4),
    "image": (4, 8),
    "pod": (5, 0),
    "build": (5, 2),
    "artifact": (5, 7),
}


def keyset(names: str) -> frozenset[str]:
    """Key lists are written as whitespace-separated words to keep the tables readable."""
    return frozenset(names.split())


def _since(table: dict[Version, str]) -> dict[str, Version]:
    keys: dict[str, Version] = {}
    for version, names in table.items():
        for name in names.split():
            keys[name] = version
    return keys


# Keys of each Quadlet section and the release each arrived in.
QUADLET_KEYS: dict[str, dict[str, Version]] = {
    "Container": _since(
        {
            (4, 4): """AddCapability AddDevice Annotation ContainerName DropCapability Environment
                EnvironmentFile EnvironmentHost Exec ExposeHostPort Group Image Label Network
                NoNewPrivileges Notify PodmanArgs PublishPort ReadOnly RemapGid RemapUid RemapUidSize
                RemapUsers RunInit SeccompProfile Timezone User VolatileTmp Volume""",
            (4, 5): """HealthCmd HealthInterval HealthOnFailure HealthRetries HealthStartPeriod
                HealthStartupCmd HealthStartupInterval HealthStartupRetries HealthStartupSuccess
                HealthStartupTimeout HealthTimeout IP IP6 LogDriver Mount Rootfs Secret
                SecurityLabelDisable SecurityLabelFileType SecurityLabelLevel SecurityLabelType Tmpfs
                UserNS""",
            (4, 6): "AutoUpdate HostName Mask Pull SecurityLabelNested Sysctl Unmask WorkingDir",
            (4, 7): "DNS DNSOption DNSSearch PidsLimit ShmSize Ulimit",
            (4, 8): "ContainersConfModule GIDMap GlobalArgs ReadOnlyTmpfs SubGIDMap SubUIDMap UIDMap",
            (5, 0): "Entrypoint Pod StopTimeout",
            (5, 1): "GroupAdd",
            (5, 2): "LogOpt NetworkAlias StopSignal",
            (5, 3): """AddHost CgroupsMode HealthLogDestination HealthMaxLogCount HealthMaxLogSize ServiceName
                StartWithPod""",
            (5, 5): "Memory ReloadCmd ReloadSignal Retry RetryDelay",
            (5, 7): "HttpProxy",
            (5, 8): "AppArmor",
        }
    ),
    "Pod": _since(
        {
            (5, 0): "ContainersConfModule GlobalArgs Network PodName PodmanArgs PublishPort Volume",
            (5, 2): "NetworkAlias",
            (5, 3): """AddHost DNS DNSOption DNSSearch GIDMap IP IP6 RemapGid RemapUid RemapUidSize RemapUsers
                ServiceName SubGIDMap SubUIDMap UIDMap UserNS""",
            (5, 4): "ShmSize",
            (5, 5): "HostName",
            (5, 6): "ExitPolicy Label",
            (5, 7): "StopTimeout",
        }
    ),
    "Volume": _since(
        {
            (4, 4): "Copy Device Group Label Options Type User",
            (4, 6): "PodmanArgs",
            (4, 7): "VolumeName",
            (4, 8): "ContainersConfModule Driver GlobalArgs Image",
            (5, 3): "ServiceName",
            (6, 0): "GID UID",
        }
    ),
    "Network": _since(
        {
            (4, 4): "DisableDNS Driver Gateway IPAMDriver IPRange IPv6 Internal Label Options Subnet",
            (4, 6): "PodmanArgs",
            (4, 7): "DNS NetworkName",
            (4, 8): "ContainersConfModule GlobalArgs",
            (5, 3): "ServiceName",
            (5, 5): "NetworkDeleteOnStop",
            (5, 6): "InterfaceName",
        }
    ),
    "Kube": _since(
        {
            (4, 4): "ConfigMap Network PublishPort RemapGid RemapUid RemapUidSize RemapUsers Yaml",
            (4, 5): "LogDriver UserNS",
            (4, 6): "ExitCodePropagation PodmanArgs",
            (4, 7): "AutoUpdate SetWorkingDirectory",
            (4, 8): "ContainersConfModule GlobalArgs KubeDownForce",
            (5, 2): "LogOpt",
            (5, 3): "ServiceName",
        }
    ),
    "Image": _since(
        {
            (4, 8): """AllTags Arch AuthFile CertDir ContainersConfModule Creds DecryptionKey GlobalArgs Image
                ImageTag OS PodmanArgs TLSVerify Variant""",
            (5, 3): "ServiceName",
            (5, 5): "Retry RetryDelay",
            (5, 6): "Policy",
        }
    ),
    "Build": _since(
        {
            (5, 2): """Annotation Arch AuthFile ContainersConfModule DNS DNSOption DNSSearch Environment File
                ForceRM GlobalArgs GroupAdd ImageTag Label Network PodmanArgs Pull Secret
                SetWorkingDirectory TLSVerify Target Variant Volume""",
            (5, 3): "ServiceName",
            (5, 5): "Retry RetryDelay",
            (5, 7): "BuildArg IgnoreFile",
        }
    ),
    "Artifact": _since(
        {
            (5, 7): """Artifact AuthFile CertDir ContainersConfModule Creds DecryptionKey GlobalArgs PodmanArgs
                Quiet Retry RetryDelay ServiceName TLSVerify""",
        }
    ),
    # The [Quadlet] section: generator options, not podman flags.
    "Quadlet": _since({(5, 3): "DefaultDependencies"}),
}

# Sections whose keys are not judged (every Quadlet section is judged now).
UNJUDGED_SECTIONS: frozenset[str] = frozenset()

# Quadlet's single-valued keys: Lookup() takes the last value, so a repeat is
# almost always a leftover (Image=, Pod= or Exec= written twice).
SINGLE_VALUED_KEYS = keyset(
    """ContainerName Entrypoint Exec Group HostName Image NetworkName Notify Pod PodName
    Rootfs ServiceName StartWithPod Timezone User VolumeName WorkingDir Yaml"""
)

# From 5.7 ConvertKube() reads every Yaml= (LookupAllStrv) and plays them all:
# several are no longer a leftover.
KUBE_MULTIPLE_YAML_SINCE: Version = (5, 7)


def single_valued_keys(section: str, version: Version) -> frozenset[str]:
    """The keys of a Quadlet section of which the given release uses only the last value."""
    if section == "Kube" and version >= KUBE_MULTIPLE_YAML_SINCE:
        return SINGLE_VALUED_KEYS - {"Yaml"}
    return SINGLE_VALUED_KEYS


# systemd.resource-control(5) of systemd 252 to 262: every one belongs in [Service] of a Quadlet
# file (the generator copies [Service] into the service it writes), none in [Container].
RESOURCE_CONTROL_KEYS = keyset(
    """CPUAccounting CPUWeight StartupCPUWeight CPUQuota CPUQuotaPeriodSec AllowedCPUs
    StartupAllowedCPUs AllowedMemoryNodes StartupAllowedMemoryNodes MemoryAccounting MemoryMin
    MemoryLow StartupMemoryLow MemoryHigh StartupMemoryHigh MemoryMax StartupMemoryMax
    MemorySwapMax StartupMemorySwapMax MemoryZSwapMax StartupMemoryZSwapMax MemoryZSwapWriteback
    TasksAccounting TasksMax IOAccounting IOWeight StartupIOWeight IODeviceWeight
    IOReadBandwidthMax IOWriteBandwidthMax IOReadIOPSMax IOWriteIOPSMax IODeviceLatencyTargetSec
    IPAccounting IPAddressAllow IPAddressDeny SocketBindAllow SocketBindDeny
    RestrictNetworkInterfaces NFTSet IPIngressFilterPath IPEgressFilterPath BPFProgram
    DeviceAllow DevicePolicy Slice Delegate DelegateSubgroup DisableControllers ManagedOOMSwap
    ManagedOOMMemoryPressure ManagedOOMMemoryPressureLimit ManagedOOMMemoryPressureDurationSec
    ManagedOOMPreference MemoryPressureWatch MemoryPressureThresholdSec CoredumpReceive
    CPUShares StartupCPUShares MemoryLimit BlockIOAccounting BlockIOWeight StartupBlockIOWeight
    BlockIODeviceWeight BlockIOReadBandwidth BlockIOWriteBandwidth"""
)

# systemd's keys of the sections Quadlet passes through, as any tabled systemd release
# reads them (systemd_tables.py, generated from each release's own parser table):
# where a stray setting belongs. Per release: systemd_values.key_kind().
SYSTEMD_KEYS: dict[str, frozenset[str]] = {name: known_keys(name) for name in ("Unit", "Service", "Install")}

# Quadlet's enableServiceFile() creates links only for these; Also= and
# DefaultInstance= would need `systemctl enable`, which generated units refuse.
QUADLET_INSTALL_KEYS = frozenset({"Alias", "WantedBy", "RequiredBy", "UpheldBy"})

# Sections systemd accepts in a plain unit of each kind (systemd.target(5) etc.).
PLAIN_UNIT_SECTIONS: dict[str, frozenset[str]] = {
    "target": frozenset({"Unit", "Install"}),
    "service": frozenset({"Unit", "Service", "Install"}),
    "socket": frozenset({"Unit", "Socket", "Install"}),
    "timer": frozenset({"Unit", "Timer", "Install"}),
    "path": frozenset({"Unit", "Path", "Install"}),
    "mount": frozenset({"Unit", "Mount", "Install"}),
    "slice": frozenset({"Unit", "Slice", "Install"}),
}

SYSTEMD_PASSTHROUGH_SECTIONS = frozenset({"Unit", "Service", "Install"})


def parse_version(version: Version | str) -> Version:
    """Accept (5, 4, 2) or '5.4.2' (an optional leading 'v' and suffix like '-dev' or '-rc1',
    which sorts before its release: grammar.versions)."""
    if isinstance(version, str):
        return read_version(version)
    return version if isinstance(version, PodmanVersion) else tuple(version)


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


def keys_for(section: str, version: Version) -> frozenset[str]:
    """The keys the given Podman version accepts in a Quadlet section."""
    table = QUADLET_KEYS.get(section, {})
    return frozenset(key for key, since in table.items() if since <= version)


# The first release with a Quadlet generator, and the newest release these tables
# describe (what the command line judges against when no usable podman is installed):
# the source is read up to 6.0.0-rc1, the real 6.1.1 generator is probed key by key.
QUADLET_SINCE: Version = (4, 4)
NEWEST_KNOWN_VERSION: Version = (6, 1, 1)


def newer_than_known(version: Version) -> str | None:
    """What to say once when a release newer than the tables is judged, or None."""
    if version <= NEWEST_KNOWN_VERSION:
        return None
    newest = format_version(NEWEST_KNOWN_VERSION)
    return (
        f"Podman {format_version(version)} is newer than {newest}, the newest release the lint's tables know; "
        f"judged with what {newest} accepts (keys and rules of later releases are not known: a key the tables "
        "lack is a warning, and on a host the generator's own verdict decides)"
    )


def beyond_tables(version: Version) -> bool:
    """Whether the release is newer than the tables, so a key they lack may be one it added."""
    return version > NEWEST_KNOWN_VERSION


@dataclass(frozen=True)
class Relaxation:
    """A release from which the generator accepts what every release before it refused."""

    since: Version
    what: str

    def __str__(self) -> str:
        return f"{format_version(self.since)} accepts {self.what}"


def newest_key_arrival() -> Relaxation:
    """The newest release that added keys, by the tables (a key it added was refused before it)."""
    since = max(since for table in QUADLET_KEYS.values() for since in table.values())
    keys = sorted(
        f"[{section}] {key}=" for section, table in QUADLET_KEYS.items() for key, at in table.items() if at == since
    )
    return Relaxation(since, ", ".join(keys))


def newest_file_type() -> Relaxation:
    """The newest release that added a file type, by the tables."""
    since = max(FILE_TYPE_SINCE.values())
    return Relaxation(since, ", ".join(f".{kind} files" for kind, at in sorted(FILE_TYPE_SINCE.items()) if at == since))


# Network=foo.container (join another container's network) arrived in Podman 5.3.
NETWORK_CONTAINER_SINCE: Version = (5, 3)

# From 5.6 the generator warns about an escape it cannot read in Exec= and ReloadCmd=
# (LookupLastArgs() returns the split error); 5.5 and earlier drop the value silently.
# ReloadCmd= with ReloadSignal= is refused from their first release, 5.5 (handleExecReload()).
EXEC_ESCAPE_WARNING_SINCE: Version = (5, 6)
# From 5.6 main.go's warnIfUnsupportedServiceKeys() warns about these in any Quadlet file.
UNSUPPORTED_SERVICE_KEYS = ("User", "Group", "DynamicUser")
SERVICE_KEY_WARNING_SINCE: Version = (5, 6)
# From 5.8.2 Lookup() strips one matched pair of double quotes; before, every
# leading and trailing '"' (strings.Trim), so a lone '"' was read as empty.
MATCHED_QUOTES_SINCE: Version = (5, 8, 2)
# From 5.6 a Mount= without type= is a volume mount (FindMountType(); before, it is refused).
MOUNT_DEFAULT_TYPE_SINCE: Version = (5, 6)
# From 5.7 handleStorageSource() refuses an empty source ("source cannot be empty"); before, the
# generator indexes it and panics (seen on 5.4.2).
EMPTY_SOURCE_ERROR_SINCE: Version = (5, 7)
# From 5.7 ConvertBuild() takes a File= that starts with a systemd specifier as absolute.
BUILD_FILE_SPECIFIERS_SINCE: Version = (5, 7)
# From 6.0 a Mount=type=volume without a source (or with an empty one) is an anonymous volume
# (resolveContainerMountParams() resolves a source only when there is one); every other type
# that takes a source is refused without one ("source parameter is required for mount type X").
ANONYMOUS_VOLUME_MOUNT_SINCE: Version = (6, 0)
# From 6.0 ConvertVolume() passes [Volume] Options= on without Device= (before: "key Options can't
# be used without Device"); Type= still needs Device=.
VOLUME_OPTIONS_WITHOUT_DEVICE_SINCE: Version = (6, 0)
# 6.0 removed slirp4netns and with it podman's --network-cmd-path flag. The generator still
# passes Network=slirp4netns and the flag on; podman then refuses to start the unit ("slirp4netns
# support has been removed, use --network=pasta instead", "unknown flag: --network-cmd-path":
# podman-facts.md section 12, seen on 6.1.1).
SLIRP4NETNS_REMOVED_IN: Version = (6, 0)

# ServiceName= (in every Quadlet section) arrived in 5.3; older generators refuse the key.
SERVICE_NAME_SINCE: Version = (5, 3)
# From 5.7 getServiceName() moves a template's '@' behind the type suffix: web@.pod gives
# web-pod@.service (before: web@-pod.service, which systemd does not take for a template).
TEMPLATE_SERVICE_NAMES_SINCE: Version = (5, 7)
# From 5.6 loadUnitDropins() searches the drop-in folder names most specific first, each in every
# unit folder (commit 022bac25ea, "fix dropin overwrites if different parent dirs"); up to 5.5
# each unit folder first, each with every drop-in folder name (seen on 5.4.2 and 5.8.6).
DROPIN_NAME_FIRST_SINCE: Version = (5, 6)

# Notify=healthy (the unit is started once the healthcheck passes) arrived in 5.0; before, Notify= is a
# boolean and `healthy` reads as false (quadlet.go, ConvertContainer() at v4.9.0 and v5.0.0).
NOTIFY_HEALTHY_SINCE: Version = (5, 0)

# Quadlet translates these [Unit] keys from Podman 5.5 (translateUnitDependencies).
UNIT_DEPENDENCY_KEYS = keyset(
    """After Before BindsTo Conflicts OnFailure OnSuccess PartOf PropagatesReloadTo PropagatesStopTo
    ReloadPropagatedFrom Requires Requisite StopPropagatedFrom Upholds Wants"""
)
DEPENDENCY_TRANSLATION_SINCE: Version = (5, 5)


def generator_reads(kind: str, version: Version) -> bool:
    """Whether the generator of this release reads files of this kind (plain systemd units: never)."""
    return FILE_TYPE_SINCE.get(kind, (99,)) <= version


# The gates above from which the generator accepts what it refused before, each named as the lint's
# findings name it (a later release may relax such a requirement again: quadlet_lint.findings.RELAXED).
# MATCHED_QUOTES_SINCE is not one: it changed how Lookup() reads a value, not what a rule requires.
MOUNT_WITHOUT_TYPE = Relaxation(MOUNT_DEFAULT_TYPE_SINCE, "Mount= without type= (a volume mount)")
BUILD_FILE_SPECIFIER = Relaxation(BUILD_FILE_SPECIFIERS_SINCE, "[Build] File= starting with a systemd specifier")
ANONYMOUS_VOLUME_MOUNT = Relaxation(ANONYMOUS_VOLUME_MOUNT_SINCE, "Mount=type=volume without a source")
VOLUME_OPTIONS_WITHOUT_DEVICE = Relaxation(VOLUME_OPTIONS_WITHOUT_DEVICE_SINCE, "[Volume] Options= without Device=")
