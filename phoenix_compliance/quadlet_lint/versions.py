"""What each Podman release understands: file types, keys per section, and release boundaries.

The tables say in which release the Quadlet generator started reading a file
type or a key; ``keys_for()`` answers for one release. Where they come from
(trust these over memory; re-check on change):

- the full key set per section: ``pkg/systemd/quadlet/quadlet.go`` on
  Podman's main branch (5.6 era);
- the release a key arrived: podlet's downgrade tables (``src/quadlet/*.rs``;
  container keys 4.4 to 5.2, pod keys 5.0 to 5.5, volume, network, kube),
  Podman's RELEASE_NOTES (5.6 additions) and the project notes
  (``shared/notes/podman-facts.md`` section 4: file types by release,
  StartWithPod/CgroupsMode/ServiceName in 5.3);
- the 5.4.2 boundary is confirmed against the real generator
  (``/usr/libexec/podman/quadlet -dryrun -user`` on the reference host, one
  file per key): it accepts every key listed up to 5.4 and rejects exactly
  those listed later. Releases before 5.4 rest on the sources above; where
  they disagreed the later candidate is listed, so the linter errs towards
  asking rather than passing.

The systemd tables (SYSTEMD_KEYS, PLAIN_UNIT_SECTIONS) follow systemd's man
pages and are enough to say where a stray setting belongs, not a catalogue.
Behaviour of other releases is carried over from 5.4.2 except where a release
boundary is named here (dependency translation from 5.5, Network=foo.container
from 5.3).
"""

from __future__ import annotations

import re

Version = tuple[int, ...]

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
            (4, 4): """AddCapability AddDevice Annotation ContainerName DropCapability
                Environment EnvironmentFile EnvironmentHost Exec ExposeHostPort Group Image
                Label Network NoNewPrivileges Notify PodmanArgs PublishPort ReadOnly
                RemapGid RemapUid RemapUidSize RemapUsers RunInit SeccompProfile
                SecurityLabelDisable SecurityLabelFileType SecurityLabelLevel
                SecurityLabelType Timezone User VolatileTmp Volume""",
            (4, 5): """HealthCmd HealthInterval HealthOnFailure HealthRetries HealthStartPeriod
                HealthStartupCmd HealthStartupInterval HealthStartupRetries
                HealthStartupSuccess HealthStartupTimeout HealthTimeout IP IP6 LogDriver
                Mount Rootfs Secret Tmpfs UserNS""",
            (4, 6): "AutoUpdate HostName Mask Pull SecurityLabelNested Sysctl Unmask WorkingDir",
            (4, 7): "DNS DNSOption DNSSearch PidsLimit ShmSize Ulimit",
            (4, 8): """ContainersConfModule GIDMap GlobalArgs ReadOnlyTmpfs SubGIDMap
                SubUIDMap UIDMap""",
            (5, 0): "Entrypoint Pod StopTimeout",
            (5, 1): "AddHost GroupAdd",
            (5, 2): "LogOpt NetworkAlias StopSignal",
            (5, 3): """CgroupsMode HealthLogDestination HealthMaxLogCount HealthMaxLogSize
                ServiceName StartWithPod""",
            (5, 5): "Memory ReloadCmd ReloadSignal Retry RetryDelay",
        }
    ),
    "Pod": _since(
        {
            (5, 0): "ContainersConfModule GlobalArgs Network PodName PodmanArgs PublishPort Volume",
            (5, 2): "NetworkAlias",
            (5, 3): """AddHost DNS DNSOption DNSSearch GIDMap IP IP6 RemapGid RemapUid
                RemapUidSize RemapUsers ServiceName SubGIDMap SubUIDMap UIDMap UserNS""",
            (5, 4): "ShmSize",
            (5, 5): "HostName",
            (5, 6): "ExitPolicy Label",
        }
    ),
    "Volume": _since(
        {
            (4, 4): "Copy Device Group Label Options Type User",
            (4, 6): "PodmanArgs VolumeName",
            (4, 8): "ContainersConfModule Driver GlobalArgs Image",
            (5, 3): "ServiceName",
        }
    ),
    "Network": _since(
        {
            (4, 4): """DisableDNS Driver Gateway IPAMDriver IPRange IPv6 Internal Label
                Options Subnet""",
            (4, 6): "NetworkName PodmanArgs",
            (4, 7): "DNS",
            (4, 8): "ContainersConfModule GlobalArgs",
            (5, 3): "ServiceName",
            (5, 5): "NetworkDeleteOnStop",
            (5, 6): "InterfaceName",
        }
    ),
    "Kube": _since(
        {
            (4, 4): """ConfigMap Network PublishPort RemapGid RemapUid RemapUidSize RemapUsers
                UserNS Yaml""",
            (4, 5): "LogDriver",
            (4, 6): "ExitCodePropagation PodmanArgs SetWorkingDirectory",
            (4, 7): "AutoUpdate",
            (4, 8): "ContainersConfModule GlobalArgs",
            (5, 0): "KubeDownForce",
            (5, 2): "LogOpt",
            (5, 3): "ServiceName",
        }
    ),
    "Image": _since(
        {
            (4, 8): """AllTags Arch AuthFile CertDir ContainersConfModule Creds DecryptionKey
                GlobalArgs Image OS PodmanArgs TLSVerify Variant""",
            (5, 0): "ImageTag",
            (5, 3): "ServiceName",
            (5, 5): "Retry RetryDelay",
            (5, 6): "Policy",
        }
    ),
    "Build": _since(
        {
            (5, 2): """Annotation Arch AuthFile ContainersConfModule DNS DNSOption DNSSearch
                Environment File ForceRM GlobalArgs GroupAdd ImageTag Label Network
                PodmanArgs Pull Secret SetWorkingDirectory Target TLSVerify Variant Volume""",
            (5, 3): "ServiceName",
            (5, 5): "Retry RetryDelay",
        }
    ),
    # The [Quadlet] section (generator options, not podman flags). The 5.4.2
    # generator already knows it; earlier releases were not checked.
    "Quadlet": _since({(5, 4): "DefaultDependencies"}),
}

# Release notes list no per-key history for .artifact yet; its keys are not judged.
UNJUDGED_SECTIONS = frozenset({"Artifact"})

# Quadlet's single-valued keys: Lookup() takes the last value, so a repeat is
# almost always a leftover (Image=, Pod= or Exec= written twice).
SINGLE_VALUED_KEYS = keyset(
    """ContainerName Entrypoint Exec Group HostName Image NetworkName Notify Pod PodName
    Rootfs ServiceName StartWithPod Timezone User VolumeName WorkingDir Yaml"""
)

# systemd sections and some of their keys, enough to say where a stray
# setting belongs (systemd.unit(5), systemd.service(5), systemd.exec(5),
# systemd.kill(5), systemd.resource-control(5)). Not a full catalogue: keys
# absent here are never reported as unknown in these sections.
SYSTEMD_KEYS: dict[str, frozenset[str]] = {
    "Unit": keyset(
        """Description Documentation Wants Requires Requisite BindsTo PartOf Upholds
        Conflicts Before After OnFailure OnSuccess PropagatesReloadTo ReloadPropagatedFrom
        PropagatesStopTo StopPropagatedFrom JoinsNamespaceOf RequiresMountsFor
        WantsMountsFor OnFailureJobMode IgnoreOnIsolate StopWhenUnneeded RefuseManualStart
        RefuseManualStop AllowIsolate DefaultDependencies SurviveFinalKillSignal
        CollectMode FailureAction SuccessAction FailureActionExitStatus
        SuccessActionExitStatus JobTimeoutSec JobRunningTimeoutSec JobTimeoutAction
        JobTimeoutRebootArgument StartLimitIntervalSec StartLimitBurst StartLimitAction
        RebootArgument SourcePath"""
    ),
    "Service": keyset(
        """Type ExitType RemainAfterExit GuessMainPID PIDFile BusName ExecStart
        ExecStartPre ExecStartPost ExecCondition ExecReload ExecStop ExecStopPost
        RestartSec RestartSteps RestartMaxDelaySec TimeoutStartSec TimeoutStopSec
        TimeoutAbortSec TimeoutSec TimeoutStartFailureMode TimeoutStopFailureMode
        RuntimeMaxSec RuntimeRandomizedExtraSec WatchdogSec Restart RestartMode
        SuccessExitStatus RestartPreventExitStatus RestartForceExitStatus
        RootDirectoryStartOnly NonBlocking NotifyAccess Sockets FileDescriptorStoreMax
        FileDescriptorStorePreserve OOMPolicy OpenFile ReloadSignal
        KillMode KillSignal RestartKillSignal SendSIGHUP SendSIGKILL FinalKillSignal
        WatchdogSignal
        WorkingDirectory RootDirectory User Group SupplementaryGroups DynamicUser
        Environment EnvironmentFile PassEnvironment UnsetEnvironment UMask
        StandardInput StandardOutput StandardError SyslogIdentifier SyslogFacility
        SyslogLevel LogLevelMax Nice CPUSchedulingPolicy IOSchedulingClass
        LimitCPU LimitFSIZE LimitDATA LimitSTACK LimitCORE LimitRSS LimitNOFILE LimitAS
        LimitNPROC LimitMEMLOCK LimitLOCKS LimitSIGPENDING LimitMSGQUEUE LimitNICE
        LimitRTPRIO LimitRTTIME NoNewPrivileges PrivateTmp PrivateDevices PrivateNetwork
        ProtectSystem ProtectHome ReadWritePaths ReadOnlyPaths InaccessiblePaths
        StateDirectory RuntimeDirectory CacheDirectory LogsDirectory ConfigurationDirectory
        CPUQuota CPUWeight MemoryMax MemoryHigh MemoryLow MemoryMin MemorySwapMax
        TasksMax IOWeight Delegate Slice OOMScoreAdjust"""
    ),
    "Install": keyset("Alias WantedBy RequiredBy UpheldBy Also DefaultInstance"),
}

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
    """Accept (5, 4, 2) or '5.4.2' (an optional leading 'v' and suffix like '-dev')."""
    if isinstance(version, str):
        match = re.match(r"^v?(\d+(?:\.\d+)*)", version.strip())
        if not match:
            raise ValueError(f"not a Podman version: {version!r}")
        return tuple(int(part) for part in match.group(1).split("."))
    return tuple(version)


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


def keys_for(section: str, version: Version) -> frozenset[str]:
    """The keys the given Podman version accepts in a Quadlet section."""
    table = QUADLET_KEYS.get(section, {})
    return frozenset(key for key, since in table.items() if since <= version)


# The first release with a Quadlet generator, and the newest release these tables
# describe (what the command line judges against when no usable podman is installed).
QUADLET_SINCE: Version = (4, 4)
NEWEST_KNOWN_VERSION: Version = max(
    [*FILE_TYPE_SINCE.values(), *(since for table in QUADLET_KEYS.values() for since in table.values())]
)


# Network=foo.container (join another container's network) arrived in Podman 5.3.
NETWORK_CONTAINER_SINCE: Version = (5, 3)

# Quadlet translates these [Unit] keys from Podman 5.5 (translateUnitDependencies).
UNIT_DEPENDENCY_KEYS = keyset(
    """After Before BindsTo Conflicts OnFailure OnSuccess PartOf PropagatesReloadTo PropagatesStopTo
    ReloadPropagatedFrom Requires Requisite StopPropagatedFrom Upholds Wants"""
)
DEPENDENCY_TRANSLATION_SINCE: Version = (5, 5)


def generator_reads(kind: str, version: Version) -> bool:
    """Whether the generator of this release reads files of this kind (plain systemd units: never)."""
    return FILE_TYPE_SINCE.get(kind, (99,)) <= version
