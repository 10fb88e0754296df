"""Lint Quadlet unit files against a given Podman version, reporting everything.

The Quadlet generator stops at the first unsupported key of a file and says
nothing about settings systemd silently ignores (a Restart= under [Unit], a
WantedBy= outside [Install]). This linter judges every file at once and names
file, line, key, why and the fix.

Where the key tables come from (trust these over memory; re-check on change):

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

Which values the generator refuses (the error rules) follows its conversion
code (``pkg/systemd/quadlet/quadlet.go``, ``pkg/systemd/parser``), read the
way the 5.4.2 generator reads it: Lookup() trims every surrounding quote,
LookupAll() restarts at an empty value, words split like systemd's
extract_first_word(), drop-ins merged, the first file of a name wins. The
selftests in selftests/test_quadlet_differential.py run thousands of files
through both this linter and the real 5.4.2 generator and require the same
verdict on each; the cases that once disagreed are kept in
selftests/quadlet_regressions/. Behaviour of other releases is carried over
from 5.4.2 except where a release boundary is named (dependency translation
from 5.5, Network=foo.container from 5.3).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from phoenix_compliance.parsers.quadlet import (
    QUADLET_MAIN_SECTIONS,
    QUADLET_SERVICE_SUFFIXES,
    Entry,
    ParseProblem,
    Section,
    UnitFile,
    find_dropins,
    kind_of,
    merge_dropins,
    parse_file,
    parse_text,
    service_name,
    strip_matching_quotes,
)

Version = tuple[int, ...]

DEFAULT_PODMAN_VERSION: Version = (5, 4, 2)


# --------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    rule_id: str
    severity: str  # 'error' | 'warning' | 'info'
    title: str


# Severity is honest about who fails: "error" only where the Quadlet generator
# of the judged version refuses the file (proven for 5.4.2 by the differential
# selftests), "warning" where the generator accepts it but warns, or passes it
# on to podman or systemd, which then refuse or ignore it, "info" for advice.
# Stack rules (QL05x) are project conventions, errors by the project's choice.
RULES: dict[str, Rule] = {
    rule.rule_id: rule
    for rule in (
        Rule("QL000", "error", "file cannot be read"),
        Rule("QL001", "error", "line is not a section, assignment or comment"),
        Rule("QL002", "error", "assignment outside any section"),
        Rule("QL003", "warning", "file ends inside a line continuation"),
        Rule("QL004", "error", "file starts with a byte order mark"),
        Rule("QL005", "warning", "line systemd ignores in a plain unit"),
        Rule("QL010", "error", "file type not supported by this Podman version"),
        Rule("QL011", "warning", "unknown section"),
        Rule("QL012", "error", "key not supported by this Podman version"),
        Rule("QL013", "error", "unknown Quadlet key"),
        Rule("QL014", "error", "setting in a Quadlet section it does not belong to"),
        Rule("QL015", "warning", "[Install] key Quadlet does not act on"),
        Rule("QL016", "warning", "single-valued key set more than once"),
        Rule("QL017", "warning", "setting in a section where systemd ignores it"),
        Rule("QL018", "error", "[Service] KillMode= or Type= Quadlet refuses"),
        Rule("QL020", "error", "missing required key"),
        Rule("QL021", "error", "conflicting keys"),
        Rule("QL022", "error", "key set without the key it needs"),
        Rule("QL023", "error", "network Gateway= or IPRange= without a matching Subnet="),
        Rule("QL024", "error", "SetWorkingDirectory= or File= the generator cannot use"),
        Rule("QL025", "warning", "image name is not fully qualified"),
        Rule("QL026", "error", "ExposeHostPort= is not a port or range"),
        Rule("QL027", "error", "RemapUsers= value Quadlet refuses"),
        Rule("QL028", "error", "deprecated Remap keys combined with explicit ID mappings"),
        Rule("QL030", "error", "Pod= does not name a .pod unit"),
        Rule("QL031", "error", "referenced Quadlet unit not found beside the file"),
        Rule("QL032", "warning", "PublishPort= or Network= on a container that joins a pod"),
        Rule("QL033", "warning", "two files generate the same service"),
        Rule("QL034", "error", "network options when joining another container's network"),
        Rule("QL035", "error", "dependency on a Quadlet unit that does not exist"),
        Rule("QL036", "warning", "dependency names a Quadlet file this Podman version does not translate"),
        Rule("QL037", "info", "dependency names a generated service instead of its Quadlet file"),
        Rule("QL038", "error", "Network= joins a container whose name Quadlet cannot resolve"),
        Rule("QL039", "warning", "file hidden by one of the same name found earlier"),
        Rule("QL040", "warning", "Volume= source is a Windows path"),
        Rule("QL041", "warning", "Volume= source is a relative path"),
        Rule("QL042", "warning", "Volume= source is not a valid volume name"),
        Rule("QL043", "warning", "Volume= container path is not absolute"),
        Rule("QL044", "warning", "Volume= option podman does not know"),
        Rule("QL045", "error", "Mount= value the generator refuses"),
        Rule("QL046", "warning", "Mount= type podman does not know"),
        Rule("QL047", "warning", "value in quotes that Quadlet passes on with the quotes"),
        Rule("QL050", "error", "unit does not join the stack target ([Install] WantedBy=)"),
        Rule("QL051", "error", "unit is not stopped with the stack target ([Unit] PartOf=)"),
        Rule("QL052", "error", "bind mount without an SELinux relabel option (:Z or :z)"),
        Rule("QL060", "warning", "Environment=, Label= or Annotation= word without '='"),
        Rule("QL061", "warning", "PublishPort= is not a port mapping podman accepts"),
        Rule("QL062", "warning", "Secret= value podman refuses"),
        Rule("QL063", "warning", "UserNS= mode podman does not know"),
        Rule("QL064", "warning", "AutoUpdate= policy podman does not know"),
        Rule("QL070", "warning", "container, pod, volume or network name podman refuses"),
    )
}

# Rules that are project conventions rather than validity: --profile validity leaves them out.
STACK_RULE_IDS = frozenset({"QL050", "QL051", "QL052"})


@dataclass(frozen=True)
class Finding:
    """One problem: where (path:line, key), why (message) and what to do (fix)."""

    rule_id: str
    severity: str
    path: str
    line: int
    key: str | None
    message: str
    fix: str

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def __str__(self) -> str:
        return f"{self.location}: {self.rule_id} {self.severity}: {self.message} Fix: {self.fix}"


@dataclass(frozen=True)
class StackRules:
    """Project conventions for a stack grouped under one systemd target."""

    target: str = "phoenix.target"
    require_selinux_relabel: bool = True
    kinds: tuple[str, ...] = ("container", "pod")


# --------------------------------------------------------------------------
# What each Podman version understands
# --------------------------------------------------------------------------

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


def _keyset(names: str) -> frozenset[str]:
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
SINGLE_VALUED_KEYS = _keyset(
    """ContainerName Entrypoint Exec Group HostName Image NetworkName Notify Pod PodName
    Rootfs ServiceName StartWithPod Timezone User VolumeName WorkingDir Yaml"""
)

# systemd sections and some of their keys, enough to say where a stray
# setting belongs (systemd.unit(5), systemd.service(5), systemd.exec(5),
# systemd.kill(5), systemd.resource-control(5)). Not a full catalogue: keys
# absent here are never reported as unknown in these sections.
SYSTEMD_KEYS: dict[str, frozenset[str]] = {
    "Unit": _keyset(
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
    "Service": _keyset(
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
    "Install": _keyset("Alias WantedBy RequiredBy UpheldBy Also DefaultInstance"),
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

# Systemd specifiers that expand to an absolute path (systemd.unit(5)
# "Specifiers"): %h home, %t runtime dir, %S state, %C cache, %L logs,
# %E config, %T/%V temp dirs, %d credentials, %y/%Y the unit file itself.
_PATH_SPECIFIERS = frozenset("htSCLETVdyY")

# Podman's volume name rule (libpod define.NameRegex).
_VOLUME_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")


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


# --------------------------------------------------------------------------
# Linting
# --------------------------------------------------------------------------

_QUADLET_SUFFIXES = tuple(f".{kind}" for kind in FILE_TYPE_SINCE)
_LINTED_SUFFIXES = _QUADLET_SUFFIXES + tuple(f".{kind}" for kind in PLAIN_UNIT_SECTIONS)
LINTED_SUFFIXES = _LINTED_SUFFIXES


class _Collector:
    def __init__(
        self, unit: UnitFile, version: Version, present: frozenset[str], others: Mapping[str, UnitFile]
    ) -> None:
        self.unit = unit
        self.version = version
        # Names of the Quadlet files the generator would have loaded with this one,
        # and those of them that were parsed (to look inside a referenced unit).
        self.present = present
        self.others = others
        self.findings: list[Finding] = []

    def add(self, rule_id: str, where: int | Entry | Section, key: str | None, message: str, fix: str) -> None:
        """Record a finding at a line of the unit, or where an entry or section was written
        (which may be a drop-in)."""
        rule = RULES[rule_id]
        if isinstance(where, int):
            path, line = self.unit.path, where
        else:
            path, line = where.source or self.unit.path, where.line
        if path != self.unit.path:
            # One drop-in (container.d/, say) can reach several units: say which one.
            message = f"{message} [drop-in of {self.unit.name}]"
        self.findings.append(Finding(rule_id, rule.severity, str(path), line, key, message, fix))

    def has(self, name: str) -> bool:
        """Whether a referenced Quadlet file is there for the generator to resolve."""
        return name in self.present or (self.unit.path.parent / name).is_file()


def _walk(directory: Path) -> Iterator[Path]:
    """A directory and its subdirectories in Quadlet's order (depth first, by name),
    leaving out drop-in folders (*.d), which Quadlet does not search for units."""
    yield directory
    for child in sorted(directory.iterdir()):
        if child.is_dir() and not child.name.endswith(".d"):
            yield from _walk(child)


def unit_dirs(paths: Iterable[Path | str]) -> list[Path]:
    """The directories Quadlet would search: each folder given with its subfolders, and
    the folder of each file given (drop-ins may sit beside it)."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        for directory in _walk(path) if path.is_dir() else [path.parent]:
            if directory not in found:
                found.append(directory)
    return found


def collect_files(paths: Iterable[Path | str]) -> list[Path]:
    """Files to lint: each file given, and the unit files in each directory and its
    subdirectories (drop-in folders excepted, as Quadlet does), in Quadlet's order."""
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            for directory in _walk(path):
                files.extend(p for p in sorted(directory.iterdir()) if p.suffix in _LINTED_SUFFIXES and p.is_file())
        else:
            files.append(path)
    return files


def _hidden(path: Path, first: Path) -> Finding:
    return Finding(
        "QL039",
        RULES["QL039"].severity,
        str(path),
        1,
        None,
        f"Quadlet reads only the first {path.name} it finds ({first}) and ignores this one",
        "rename one of the two files, or remove the one that is not meant to be used",
    )


def _unreadable(path: Path, error: Exception) -> Finding:
    return Finding(
        "QL000", "error", str(path), 1, None, f"cannot read the file: {error}", "make the file readable UTF-8 text"
    )


def _with_dropins(unit: UnitFile, directories: list[Path], version: Version) -> tuple[UnitFile, list[Finding]]:
    """The unit with its .conf drop-ins merged, as the generator converts it, and what is
    wrong in the drop-ins' own syntax (the generator fails the run for it)."""
    dropins: list[UnitFile] = []
    findings: list[Finding] = []
    for path in find_dropins(unit.name, directories):
        try:
            with path.open(encoding="utf-8", newline="") as handle:
                dropin = parse_text(handle.read(), path=path, kind=unit.kind)
        except (OSError, UnicodeDecodeError) as error:
            findings.append(_unreadable(path, error))
            continue
        syntax = _Collector(dropin, version, frozenset(), {})
        _syntax(syntax)
        findings.extend(syntax.findings)
        dropins.append(replace(dropin, problems=[]))
    return (merge_dropins(unit, dropins) if dropins else unit), findings


def lint_paths(
    paths: Iterable[Path | str],
    podman_version: Version | str = DEFAULT_PODMAN_VERSION,
    stack: StackRules | None = None,
) -> list[Finding]:
    """Lint unit files (or directories of them, searched recursively like Quadlet does),
    each with the drop-ins Quadlet would merge into it.

    Every problem of every file is returned, sorted by path and line.
    """
    version = parse_version(podman_version)
    paths = list(paths)
    directories = unit_dirs(paths)
    findings: list[Finding] = []
    units: list[UnitFile] = []
    # Folders given are searched like Quadlet's unit folders; files given are taken as they are.
    walked = {folder.resolve() for item in paths if Path(item).is_dir() for folder in _walk(Path(item))}
    first_of_name: dict[str, Path] = {}
    for path in collect_files(paths):
        if path.suffix.lstrip(".") in FILE_TYPE_SINCE and path.parent.resolve() in walked:
            # Within the folders searched, the generator loads one file per name: the first.
            first = first_of_name.setdefault(path.name, path)
            if first != path:
                findings.append(_hidden(path, first))
                continue
        try:
            unit = parse_file(path)
        except (OSError, UnicodeDecodeError) as error:
            findings.append(_unreadable(path, error))
            continue
        if unit.is_quadlet:
            unit, dropin_findings = _with_dropins(unit, directories, version)
            findings.extend(dropin_findings)
        units.append(unit)
    findings.extend(lint_units(units, version, stack))
    return sorted(findings, key=lambda f: (f.path, f.line, f.rule_id, f.key or ""))


def lint_units(
    units: Sequence[UnitFile],
    podman_version: Version | str = DEFAULT_PODMAN_VERSION,
    stack: StackRules | None = None,
) -> list[Finding]:
    """Lint parsed units together (cross-file rules see all of them)."""
    version = parse_version(podman_version)
    by_name = {unit.name: unit for unit in units}
    findings: list[Finding] = []
    for unit in units:
        findings.extend(lint_unit(unit, version, stack, by_name, linted_units=by_name))
    findings.extend(_duplicate_services(units, version))
    findings.extend(_dependency_advice(units, version))
    return sorted(findings, key=lambda f: (f.path, f.line, f.rule_id, f.key or ""))


def lint_unit(
    unit: UnitFile,
    podman_version: Version | str = DEFAULT_PODMAN_VERSION,
    stack: StackRules | None = None,
    linted_names: Iterable[str] = (),
    linted_units: Mapping[str, UnitFile] | None = None,
) -> list[Finding]:
    """Lint one unit. ``linted_names`` are file names linted alongside it, which count
    as present when resolving Pod=/Volume=/Network=/Image= references; ``linted_units``
    are those parsed, for rules that look inside a referenced unit."""
    version = parse_version(podman_version)
    # The generator only loads file types it knows, so only those can be referenced.
    present = frozenset(name for name in linted_names if FILE_TYPE_SINCE.get(kind_of(Path(name)), (99,)) <= version)
    out = _Collector(unit, version, present, linted_units or {})
    _syntax(out)
    supported = _file_type(out, version)
    _sections(out)
    _keys(out, version, judge_versions=supported)
    if unit.is_quadlet:
        _install(out)
        _single_valued(out)
        _required(out, version)
        _service_overrides(out)
        _user_and_mappings(out)
        _image_source(out)
        _pod(out)
        _volumes(out)
        _mounts(out)
        _networks(out)
        _network_subnets(out)
        _volume_unit(out)
        _working_directory(out)
        _ports(out)
        _key_values(out)
        _secrets(out)
        _auto_update(out)
        _userns(out)
        _names(out)
        _short_image_name(out)
        _dependencies(out)
    if stack is not None and unit.kind in stack.kinds:
        _stack(out, stack)
    return out.findings


# --------------------------------------------------------------------------
# Reading values the way the generator does (pkg/systemd/parser/unitfile.go)
# --------------------------------------------------------------------------


def _lookup(unit: UnitFile, section: str, key: str) -> tuple[Entry, str] | None:
    """Lookup(): the last entry and its value without double quotes at either end.

    Seen on 5.4.2: every leading and trailing '"' goes (strings.Trim), matched or
    not; Podman's main branch now drops one matched pair only. The release that
    changed it is not pinned down, so the 5.4.2 behaviour is used throughout.
    """
    entry = unit.last(section, key)
    return None if entry is None else (entry, entry.value.strip('"'))


def _lookup_value(unit: UnitFile, section: str, key: str) -> str:
    found = _lookup(unit, section, key)
    return found[1] if found else ""


def _lookup_all(unit: UnitFile, section: str, key: str) -> list[Entry]:
    """LookupAll(): every entry in order, raw (quotes kept); an empty value clears those before it."""
    kept: list[Entry] = []
    for entry in unit.entries_for(section, key):
        if entry.value:
            kept.append(entry)
        else:
            kept = []
    return kept


# Flags of Quadlet's splitString() (pkg/systemd/parser/split.go, ported from systemd's
# extract_first_word()); only those Quadlet's lookups use are honoured.
_SPLIT_RELAX = 1
_SPLIT_CUNESCAPE = 2
_SPLIT_UNQUOTE = 32
_SPLIT_RETAIN_ESCAPE = 128
# LookupAllArgs()/LookupLastArgs()/LookupAllKeyVal() versus LookupAllStrv().
SPLIT_ARGS = _SPLIT_RELAX | _SPLIT_UNQUOTE | _SPLIT_CUNESCAPE
SPLIT_STRV = _SPLIT_RETAIN_ESCAPE | _SPLIT_UNQUOTE
_SEPARATORS = " \t\n\r"
_END = "\0"  # the Go code marks the end of the string with a NUL, as systemd's C does


class _SplitError(ValueError):
    pass


def _c_unescape_one(text: str) -> tuple[int, str]:
    """cUnescapeOne(): characters consumed and the character, or (-1, "") if not an escape."""
    if not text:
        return -1, ""
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
    simple.update({'"': '"', "'": "'", "s": " "})
    head = text[0]
    if head in simple:
        return 1, simple[head]
    digits = {"x": (2, 16), "u": (4, 16), "U": (8, 16)}
    if head in digits:
        count, base = digits[head]
        chunk = text[1 : 1 + count]
        if len(chunk) < count or any(c not in "0123456789abcdefABCDEF" for c in chunk):
            return -1, ""
        code = int(chunk, base)
        if code == 0 or code > 0x10FFFF:
            return -1, ""
        return count + 1, chr(code)
    if head in "01234567":
        chunk = text[:3]
        if len(chunk) < 3 or any(c not in "01234567" for c in chunk):
            return -1, ""
        code = int(chunk, 8)
        if code == 0 or code > 255:
            return -1, ""
        return 3, chr(code)
    return -1, ""


def _extract_first_word(text: str, flags: int) -> tuple[str, str, bool]:
    """extractFirstWord(): (word, rest, found); raises _SplitError where Quadlet errs."""
    out: list[str] = []
    quote = ""
    backslash = False
    end = len(text)
    p = 0

    def char(index: int) -> str:
        return text[index] if index < end else _END

    def word(rest_at: int) -> tuple[str, str, bool]:
        # An empty word (say '' alone) ends the splitting, as in the Go code.
        return ("".join(out), text[rest_at:], True) if out else ("", "", False)

    if not text:
        return "", "", False
    c = text[0]
    while c in _SEPARATORS and c != _END:
        p += 1
        c = char(p)
    if c == _END:
        return word(end)
    while True:
        if backslash:
            if c == _END:
                if flags & _SPLIT_RELAX:
                    return word(end)
                raise _SplitError("unbalanced escape")
            if flags & _SPLIT_CUNESCAPE:
                consumed, unescaped = _c_unescape_one(text[p:])
                if consumed <= 0:
                    raise _SplitError("unsupported escape char")
                p += consumed - 1
                out.append(unescaped)
            else:
                out.append(c)
            backslash = False
        elif quote:
            while True:
                if c == _END:
                    if flags & _SPLIT_RELAX:
                        return word(end)
                    raise _SplitError("unbalanced quotes")
                if c == quote:
                    quote = ""
                    if flags & _SPLIT_UNQUOTE:
                        break
                elif c == "\\" and not flags & _SPLIT_RETAIN_ESCAPE:
                    backslash = True
                    break
                out.append(c)
                if not quote:
                    break
                p += 1
                c = char(p)
        else:
            while True:
                if c == _END:
                    return word(end)
                if c in "'\"" and flags & _SPLIT_UNQUOTE:
                    quote = c
                    break
                if c == "\\" and not flags & _SPLIT_RETAIN_ESCAPE:
                    backslash = True
                    break
                if c in _SEPARATORS:
                    while c in _SEPARATORS:
                        p += 1
                        c = char(p)
                    return word(end if c == _END else p)
                out.append(c)
                p += 1
                c = char(p)
        p += 1
        c = char(p)


def split_words(value: str, flags: int = SPLIT_ARGS) -> list[str] | None:
    """splitString(): the words of a value, or None where Quadlet fails to split it
    (then it ignores the whole value)."""
    words: list[str] = []
    rest = value
    try:
        while True:
            word, rest, found = _extract_first_word(rest, flags)
            if not found:
                return words
            words.append(word)
    except _SplitError:
        return None


def _all_words(unit: UnitFile, section: str, key: str, flags: int = SPLIT_STRV) -> list[tuple[Entry, str]]:
    """LookupAllStrv() (default) or LookupAllArgs(): each word of each kept value, with its entry."""
    found: list[tuple[Entry, str]] = []
    for entry in _lookup_all(unit, section, key):
        for word in split_words(entry.value, flags) or []:
            found.append((entry, word))
    return found


def _syntax(out: _Collector) -> None:
    for problem in out.unit.problems:
        if not out.unit.is_quadlet and _systemd_skips(problem):
            key = problem.text.split("=", 1)[0].strip() if problem.kind == "outside-section" else None
            out.add(
                "QL005",
                problem.line,
                key,
                f"'{problem.text[:60]}' is {'outside any section' if key else 'not Key=Value'}; "
                "systemd ignores the line",
                f"put {key}= under its section header" if key else "add the missing '=', or comment the line out",
            )
            continue
        out.add(*_syntax_finding(problem))


def _systemd_skips(problem: ParseProblem) -> bool:
    """systemd drops these lines with a warning; a broken [section] header fails the unit instead."""
    return problem.kind == "outside-section" or (
        problem.kind == "not-an-assignment" and not problem.text.startswith("[")
    )


def _syntax_finding(problem: ParseProblem) -> tuple[str, int, str | None, str, str]:
    shown = problem.text if len(problem.text) <= 60 else problem.text[:57] + "..."
    if problem.kind == "outside-section":
        key = problem.text.split("=", 1)[0].strip()
        return (
            "QL002",
            problem.line,
            key,
            f"'{shown}' comes before any [Section] header; Quadlet rejects the file "
            "('key file does not start with a group')",
            f"put {key}= under its section header",
        )
    if problem.kind == "eof-continuation":
        return (
            "QL003",
            problem.line,
            None,
            "the last line ends with a backslash, so the value continues into nothing",
            "remove the trailing backslash",
        )
    if problem.kind == "eof-continuation-dropped":
        return (
            "QL003",
            problem.line,
            None,
            f"'{shown}' ends with a backslash and only blank or comment lines follow; "
            "Quadlet silently drops the whole line",
            "remove the trailing backslash",
        )
    if problem.kind == "byte-order-mark":
        return (
            "QL004",
            problem.line,
            None,
            "the file starts with a UTF-8 byte order mark; Quadlet does not skip it and rejects "
            "the file (line 1 'is not a key-value pair, group, or comment')",
            "save the file as UTF-8 without a byte order mark",
        )
    if problem.kind == "bad-section-name":
        return (
            "QL001",
            problem.line,
            None,
            f"'{shown}' is not a valid section header; Quadlet rejects the file ('invalid group name')",
            "write the header as [Name] with a non-empty name and no control characters",
        )
    return (
        "QL001",
        problem.line,
        None,
        f"'{shown}' is neither [Section], Key=Value nor a comment; Quadlet rejects the whole file",
        "add the missing '=' (Key=Value), or comment the line out with '#'",
    )


def _file_type(out: _Collector, version: Version) -> bool:
    """Report a Quadlet file type this version ignores; True if the type is supported."""
    since = FILE_TYPE_SINCE.get(out.unit.kind)
    if since is None or since <= version:
        return True
    out.add(
        "QL010",
        1,
        None,
        f".{out.unit.kind} files are read by Quadlet from Podman {format_version(since)}; "
        f"Podman {format_version(version)} skips this file, so no service is generated",
        f"upgrade Podman to {format_version(since)} or later, or express the unit in a file type this version supports",
    )
    return False


def _allowed_sections(unit: UnitFile) -> frozenset[str]:
    main = unit.main_section_name
    if main is not None:
        return SYSTEMD_PASSTHROUGH_SECTIONS | {main, "Quadlet"}
    return PLAIN_UNIT_SECTIONS.get(unit.kind, SYSTEMD_PASSTHROUGH_SECTIONS)


def _sections(out: _Collector) -> None:
    unit = out.unit
    allowed = _allowed_sections(unit)
    for section in unit.sections:
        if section.name in allowed or section.name.startswith("X-"):
            continue
        owner = next((kind for kind, name in QUADLET_MAIN_SECTIONS.items() if name == section.name), None)
        if owner is not None:
            why = (
                f"[{section.name}] configures .{owner} files; in a .{unit.kind} file it is "
                "passed to systemd, which ignores it"
            )
            fix = f"move these settings into the matching .{owner} file, or rename the section"
        else:
            close = difflib.get_close_matches(section.name, sorted(allowed), n=1)
            hint = f" (did you mean [{close[0]}]?)" if close else ""
            why = (
                f"[{section.name}] is not a section of a .{unit.kind} unit{hint}; "
                f"systemd ignores it with every setting in it"
            )
            choices = ", ".join(f"[{name}]" for name in sorted(allowed))
            fix = f"rename it to [{close[0]}]" if close else f"use one of {choices}, or prefix it with X-"
        out.add("QL011", section, None, why, fix)


def _home_of(key: str, unit: UnitFile, exclude: str) -> str | None:
    """The section a stray key belongs in, judged by systemd's and Quadlet's key lists."""
    for name in ("Unit", "Service", "Install"):
        if name != exclude and key in SYSTEMD_KEYS[name]:
            return name
    main = unit.main_section_name
    if main is not None and main != exclude and key in QUADLET_KEYS.get(main, {}):
        return main
    return None


def _keys(out: _Collector, version: Version, judge_versions: bool) -> None:
    unit = out.unit
    main = unit.main_section_name
    for section in unit.sections:
        name = section.name
        if name in UNJUDGED_SECTIONS or name.startswith("X-"):
            continue
        is_quadlet_section = name == main or (main is not None and name == "Quadlet")
        if is_quadlet_section:
            _quadlet_section_keys(out, section.entries, name, version, judge_versions)
        elif name in SYSTEMD_KEYS and name in _allowed_sections(unit):
            for entry in section.entries:
                if entry.key in SYSTEMD_KEYS[name]:
                    continue
                home = _home_of(entry.key, unit, exclude=name)
                if home is not None:
                    _misplaced(out, entry, home)


def _misplaced(out: _Collector, entry: Entry, home: str) -> None:
    if entry.section in QUADLET_KEYS:
        # The generator checks its own sections ([Container], ..., [Quadlet]) key by key.
        owner = "systemd " if home in SYSTEMD_KEYS else ""
        why = f"{entry.key}= is a {owner}[{home}] setting; under [{entry.section}] Quadlet rejects the file"
        out.add("QL014", entry, entry.key, why, f"move {entry.key}= to [{home}]")
        return
    if home in SYSTEMD_KEYS:
        why = f"{entry.key}= is a systemd [{home}] setting; under [{entry.section}] systemd ignores it"
    else:
        why = f"{entry.key}= is a Quadlet [{home}] key; under [{entry.section}] systemd ignores it"
    out.add("QL017", entry, entry.key, why, f"move {entry.key}= to [{home}]")


def _quadlet_section_keys(
    out: _Collector, entries: list[Entry], section: str, version: Version, judge_versions: bool
) -> None:
    table = QUADLET_KEYS.get(section, {})
    for entry in entries:
        since = table.get(entry.key)
        if since is not None:
            if judge_versions and since > version:
                out.add(
                    "QL012",
                    entry,
                    entry.key,
                    f"{entry.key}= in [{section}] needs Podman {format_version(since)}; "
                    f"Podman {format_version(version)} rejects the file "
                    f"(\"unsupported key '{entry.key}' in group '{section}'\")",
                    f"upgrade Podman to {format_version(since)} or later, or pass the "
                    "equivalent podman flag through PodmanArgs=",
                )
            continue
        home = _home_of(entry.key, out.unit, exclude=section)
        if home is not None:
            _misplaced(out, entry, home)
            continue
        known = sorted(table)
        exact_case = [k for k in known if k.lower() == entry.key.lower()]
        close = exact_case or difflib.get_close_matches(entry.key, known, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}=?" if close else ""
        out.add(
            "QL013",
            entry,
            entry.key,
            f"{entry.key}= is not a [{section}] key in any Podman release{hint} "
            f"(Quadlet: \"unsupported key '{entry.key}' in group '{section}'\")",
            f"rename it to {close[0]}=" if close else "remove it, or pass the podman flag through PodmanArgs=",
        )


def _install(out: _Collector) -> None:
    section = out.unit.section("Install")
    if section is None:
        return
    for entry in section.entries:
        if entry.key in QUADLET_INSTALL_KEYS or entry.key not in SYSTEMD_KEYS["Install"]:
            continue
        out.add(
            "QL015",
            entry,
            entry.key,
            f"Quadlet only creates links for Alias=, WantedBy=, RequiredBy= and UpheldBy=; "
            f"{entry.key}= is ignored because generated units cannot be 'systemctl enable'd",
            f"remove {entry.key}= and use WantedBy=/RequiredBy= instead",
        )


def _single_valued(out: _Collector) -> None:
    main = out.unit.main_section_name
    section = out.unit.section(main) if main else None
    if section is None:
        return
    seen: dict[str, Entry] = {}
    for entry in section.entries:
        if entry.key not in SINGLE_VALUED_KEYS:
            continue
        first = seen.setdefault(entry.key, entry)
        if first is not entry:
            out.add(
                "QL016",
                entry,
                entry.key,
                f"{entry.key}= is set again (first on line {first.line}); Quadlet uses only the last value",
                f"keep a single {entry.key}= line",
            )


def _generator_checks_apply(out: _Collector) -> bool:
    """The generator's own checks only matter for a file type this version reads."""
    return FILE_TYPE_SINCE.get(out.unit.kind, (99,)) <= out.version


def _section_line(unit: UnitFile, name: str | None) -> int:
    section = unit.section(name) if name else None
    return section.line if section else 1


def _required(out: _Collector, version: Version) -> None:
    unit = out.unit
    main = unit.main_section_name
    if main is None or not _generator_checks_apply(out):
        return
    at = _section_line(unit, main)

    if unit.kind == "container":
        image, rootfs = _lookup_value(unit, main, "Image"), _lookup_value(unit, main, "Rootfs")
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
    elif unit.kind == "kube" and not _lookup_value(unit, main, "Yaml"):
        out.add(
            "QL020",
            at,
            "Yaml",
            'a .kube needs Yaml= in [Kube]; Quadlet: "no Yaml key specified"',
            "add Yaml=<path to the Kubernetes YAML>",
        )
    elif unit.kind == "image" and not _lookup_value(unit, main, "Image"):
        out.add(
            "QL020",
            at,
            "Image",
            'a .image needs Image= in [Image]; Quadlet: "no Image key specified"',
            "add Image=<image reference to pull>",
        )
    elif unit.kind == "build" and not _lookup_all(unit, main, "ImageTag"):
        # The built image's name is the first ImageTag= that LookupAll() keeps.
        out.add(
            "QL020",
            at,
            "ImageTag",
            'a .build needs ImageTag= in [Build]; Quadlet: "no ImageTag key specified"',
            "add ImageTag=<name:tag> for the built image",
        )


def _service_overrides(out: _Collector) -> None:
    """Quadlet runs containers and kube units its own way and refuses [Service] settings against it."""
    unit = out.unit
    if unit.kind not in ("container", "kube") or not _generator_checks_apply(out):
        return
    found = _lookup(unit, "Service", "KillMode")
    if found is not None and found[1] not in ("mixed", "control-group"):
        out.add(
            "QL018",
            found[0],
            "KillMode",
            f"KillMode={found[1]}: Quadlet only allows mixed or control-group (\"invalid KillMode '{found[1]}'\")",
            "remove KillMode= (Quadlet sets mixed) or use control-group",
        )
    found = _lookup(unit, "Service", "Type")
    if found is not None and found[1] not in ("notify", "oneshot"):
        out.add(
            "QL018",
            found[0],
            "Type",
            f"Type={found[1]}: Quadlet only allows notify or oneshot (\"invalid service Type '{found[1]}'\")",
            "remove Type= (Quadlet sets notify) or use oneshot",
        )


# Where handleUserMappings() runs, and whether it accepts RemapUsers=manual there.
_REMAP_MANUAL_ALLOWED = {"container": True, "pod": True, "kube": False}


def _user_and_mappings(out: _Collector) -> None:
    unit = out.unit
    main = unit.main_section_name
    if main is None or not _generator_checks_apply(out):
        return
    if unit.kind == "container":
        group = _lookup(unit, main, "Group")
        if group is not None and group[1] and not _lookup_value(unit, main, "User"):
            out.add(
                "QL022",
                group[0],
                "Group",
                'Group= is set without User=; Quadlet refuses it ("invalid Group set without User")',
                "add User= as well (podman takes --user USER:GROUP)",
            )
    if unit.kind not in _REMAP_MANUAL_ALLOWED:
        return
    explicit: list[Entry] = []
    for key in ("UserNS", "SubUIDMap", "SubGIDMap"):
        found = _lookup(unit, main, key)
        if found is not None and found[1]:
            explicit.append(found[0])
    for key in ("UIDMap", "GIDMap"):
        words = _all_words(unit, main, key)
        if words:
            explicit.append(words[0][0])
    remap = [entry for key in ("RemapUid", "RemapGid", "RemapUsers") if (entry := unit.last(main, key))]
    if explicit:
        if remap:
            first = min(remap, key=lambda entry: entry.line)
            mapping = min(explicit, key=lambda entry: entry.line)
            out.add(
                "QL028",
                first,
                first.key,
                f"the deprecated {first.key}= is combined with {mapping.key}= (line {mapping.line}); Quadlet "
                'refuses the file ("deprecated Remap keys are set along with explicit mapping keys")',
                "drop RemapUsers=/RemapUid=/RemapGid= and keep UserNS=, UIDMap=/GIDMap= or SubUIDMap=/SubGIDMap=",
            )
        return
    uid_maps = _all_words(unit, main, "RemapUid")
    gid_maps = _all_words(unit, main, "RemapGid")
    users = unit.last(main, "RemapUsers")
    mode = users.value if users else ""  # LookupLast(): quotes are not dropped here
    if mode == "":
        for maps, key in ((uid_maps, "RemapUid"), (gid_maps, "RemapGid")):
            if maps:
                out.add(
                    "QL022",
                    maps[0][0],
                    key,
                    f"{key}= is set without RemapUsers=; Quadlet refuses it",
                    "use UIDMap=/GIDMap= (RemapUid=/RemapGid= are deprecated), or add RemapUsers=",
                )
    elif users is not None and mode == "manual" and not _REMAP_MANUAL_ALLOWED[unit.kind]:
        out.add(
            "QL027",
            users,
            "RemapUsers",
            f'RemapUsers=manual is not supported in a .{unit.kind} file; Quadlet: "RemapUsers=manual is not supported"',
            "use RemapUsers=auto or keep-id, or UserNS=",
        )
    elif users is not None and mode == "keep-id":
        for maps, key in ((uid_maps, "RemapUid"), (gid_maps, "RemapGid")):
            if len(maps) > 1:
                out.add(
                    "QL027",
                    maps[1][0],
                    key,
                    f"RemapUsers=keep-id takes a single {key}= value; Quadlet refuses several",
                    f"keep one {key}= value",
                )
    elif users is not None and mode not in ("manual", "auto", "keep-id"):
        out.add(
            "QL027",
            users,
            "RemapUsers",
            f"RemapUsers={mode} is not manual, auto or keep-id; Quadlet: \"unsupported RemapUsers option '{mode}'\"",
            "use UserNS= instead (RemapUsers= is deprecated)",
        )


def _image_reference(out: _Collector, entry: Entry, image: str) -> None:
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


def _image_source(out: _Collector) -> None:
    if out.unit.kind != "container" or not _generator_checks_apply(out):
        return
    found = _lookup(out.unit, "Container", "Image")
    if found is not None and found[1]:
        _image_reference(out, found[0], found[1])


def _pod(out: _Collector) -> None:
    unit = out.unit
    if unit.kind != "container" or not _generator_checks_apply(out):
        return
    found = _lookup(unit, "Container", "Pod")
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
        for entry in _lookup_all(unit, "Container", key):
            out.add(
                "QL032",
                entry,
                key,
                f"this container joins {pod} and shares the pod's network; Quadlet passes {key}= on "
                "and podman refuses to create the container",
                f"move {key}={entry.value} to [Pod] in {pod}",
            )


def _volume_sections(unit: UnitFile) -> list[str]:
    main = unit.main_section_name
    return [main] if main in ("Container", "Pod", "Build") else []


def _is_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == value[-1] == '"'


def _quoted(out: _Collector, entry: Entry) -> bool:
    """Report a value Quadlet reads raw and hands to podman with its quotes; True if so."""
    if not _is_quoted(entry.value):
        return False
    out.add(
        "QL047",
        entry,
        entry.key,
        f"{entry.key}={entry.value}: Quadlet does not unquote {entry.key}=, so podman receives the "
        "quotes as part of the value",
        f"drop the quotes: {entry.key}={entry.value[1:-1]}",
    )
    return True


def _volumes(out: _Collector) -> None:
    if not _generator_checks_apply(out):
        return
    for section in _volume_sections(out.unit):
        for entry in _lookup_all(out.unit, section, "Volume"):
            # A quoted value is still resolved raw (a leading '"' and a trailing '.volume'
            # is a reference); only the advice about its parts would be noise.
            _volume(out, entry, advise=not _quoted(out, entry))


def _split_volume(value: str) -> tuple[str, str, str]:
    """(source, destination, options) the way Quadlet's addVolumes() splits them."""
    parts = value.split(":", 2)
    if len(parts) == 1:
        return "", parts[0], ""
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def _is_bind_source(source: str) -> bool:
    return source.startswith(("/", ".")) or (len(source) > 1 and source[0] == "%" and source[1] in _PATH_SPECIFIERS)


# Options podman's -v takes (podman-run(1) --volume; pkg/util ProcessOptions).
_VOLUME_OPTIONS = _keyset(
    """rw ro z Z O U copy nocopy dev nodev exec noexec suid nosuid bind rbind private rprivate
    shared rshared slave rslave unbindable runbindable sync async atime noatime relatime
    norelatime strictatime nostrictatime diratime nodiratime norelabel noswap"""
)
_VOLUME_OPTIONS_WITH_VALUE = ("idmap", "upperdir=", "workdir=")


def _volume(out: _Collector, entry: Entry, advise: bool = True) -> None:
    value = entry.value
    if not advise:
        source = _split_volume(value)[0]
        if not source.startswith((".", "/")) and source.endswith(".volume") and not out.has(source):
            out.add(
                "QL031",
                entry,
                "Volume",
                f"Volume={value}: Quadlet keeps the quotes and looks for a unit named {source}, which is not "
                f'there; Quadlet: "requested Quadlet source {source} was not found"',
                f"drop the quotes: Volume={value[1:-1]}",
            )
        return
    if _WINDOWS_PATH.match(value):
        out.add(
            "QL040",
            entry,
            "Volume",
            f"Volume={value}: '{value[:2]}' is a Windows drive; Quadlet splits at ':' and "
            f"would mount a volume named '{value[0]}'",
            "use an absolute Linux path or %h/..., e.g. Volume=%h/data:/data:Z",
        )
        return
    source, dest, options = _split_volume(value)
    # handleStorageSource() tests in this order: '.', '/', then the .volume suffix.
    if source.startswith("."):
        out.add(
            "QL041",
            entry,
            "Volume",
            f"Volume={value}: relative source '{source}' is resolved against the unit "
            "file's directory (~/.config/containers/systemd once installed), not the "
            "compose project",
            f"use an absolute path or a specifier, e.g. %h/{source.lstrip('./') or 'data'}",
        )
    elif source.startswith("/"):
        pass
    elif source.endswith(".volume"):
        if not out.has(source):
            out.add(
                "QL031",
                entry,
                "Volume",
                f"Volume={value}: there is no {source} beside this file; Quadlet: "
                f'"requested Quadlet source {source} was not found"',
                f"add {source} next to {out.unit.name}, or use a plain volume name",
            )
    elif source and "%" not in source and not _VOLUME_NAME.match(source):
        # A specifier (%h/data, %N-data) cannot be judged before systemd expands it.
        out.add(
            "QL042",
            entry,
            "Volume",
            f"Volume={value}: '{source}' is neither an absolute path nor a valid volume "
            "name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)",
            "use an absolute path, %h/..., a volume name, or a .volume unit",
        )
    if not dest.startswith("/"):
        out.add(
            "QL043",
            entry,
            "Volume",
            f"Volume={value}: the container path '{dest}' is not absolute; podman refuses it",
            "write the container path from the root, e.g. :/data",
        )
    for option in options.split(",") if options else ():
        if option in _VOLUME_OPTIONS or option.startswith(_VOLUME_OPTIONS_WITH_VALUE):
            continue
        out.add(
            "QL044",
            entry,
            "Volume",
            f"Volume={value}: podman does not know the option '{option}' and refuses the mount",
            "use options such as ro, rw, z, Z, U, O, nocopy, separated by commas",
        )


def go_csv_fields(text: str) -> list[str] | None:
    """One record read by Go's encoding/csv (strict quotes), as podman's FindMountType() does."""
    fields: list[str] = []
    index = 0
    while True:
        if index < len(text) and text[index] == '"':
            index += 1
            field: list[str] = []
            while True:
                end = text.find('"', index)
                if end == -1:
                    return None  # no closing quote
                field.append(text[index:end])
                index = end + 1
                if index < len(text) and text[index] == '"':
                    field.append('"')
                    index += 1
                    continue
                break
            fields.append("".join(field))
            if index == len(text):
                return fields
            if text[index] != ",":
                return None  # extraneous text after the closing quote
            index += 1
        else:
            end = text.find(",", index)
            field_text = text[index:] if end == -1 else text[index:end]
            if '"' in field_text:
                return None  # a bare quote in an unquoted field
            fields.append(field_text)
            if end == -1:
                return fields
            index = end + 1


# Mount types podman knows (podman-run(1) --mount), and those Quadlet resolves a source for.
_MOUNT_TYPES = frozenset({"bind", "volume", "tmpfs", "ramfs", "image", "devpts", "glob", "artifact"})
_MOUNT_SOURCE_TYPES = frozenset({"bind", "volume", "glob", "image"})
_MOUNT_FORMAT = "type=<bind|glob|tmpfs|volume>,[src=<host-dir|volume-name>,]target=<ctr-dir>[,options]"


def _mounts(out: _Collector) -> None:
    if out.unit.kind != "container" or not _generator_checks_apply(out):
        return
    for entry, word in _all_words(out.unit, "Container", "Mount", SPLIT_ARGS):
        _mount(out, entry, word)


def _mount(out: _Collector, entry: Entry, word: str) -> None:
    def refuse(why: str, fix: str) -> None:
        out.add("QL045", entry, "Mount", f"Mount={word}: {why}", fix)

    fields = go_csv_fields(word)
    if fields is None:
        refuse("is not valid comma-separated text (stray double quote); Quadlet refuses it", "remove the quotes")
        return
    mount_type: str | None = None
    tokens: list[str] = []
    for field in fields:
        parts = field.split("=")
        if mount_type is None and len(parts) == 2 and parts[0] == "type":
            mount_type = parts[1]
        else:
            tokens.append(field)
    if mount_type is None:
        refuse(
            f'has no type=; Quadlet: "incorrect mount format: should be --mount {_MOUNT_FORMAT}"',
            "start with type=bind, type=volume or type=tmpfs",
        )
        return
    if mount_type not in _MOUNT_TYPES:
        out.add(
            "QL046",
            entry,
            "Mount",
            f"Mount={word}: podman does not know the mount type '{mount_type}'",
            "use type=bind, volume, tmpfs, image, devpts, glob or ramfs",
        )
    if mount_type not in _MOUNT_SOURCE_TYPES:
        return
    source: str | None = None
    for token in tokens:
        key, has_value, value = token.partition("=")
        if key in ("source", "src"):
            if not has_value:
                refuse('"source parameter does not include a value"', "write source=<path or volume>")
                return
            source = value
    if not source:
        # Seen on 5.4.2: handleStorageSource() indexes the empty source and the generator panics.
        refuse(
            f"a {mount_type} mount without a source (or with an empty one) makes the Quadlet generator "
            "crash (index out of range), so no unit of the directory is generated",
            "add source=<host path, volume or .volume unit>",
        )
        return
    if source.startswith((".", "/")):
        return
    if source.endswith((".volume", ".image")) and not out.has(source):
        out.add(
            "QL031",
            entry,
            "Mount",
            f"Mount={word}: there is no {source} beside this file; Quadlet: "
            f'"requested Quadlet source {source} was not found"',
            f"add {source} next to {out.unit.name}, or name an existing volume",
        )


# Network=foo.container (join another container's network) arrived in Podman 5.3.
NETWORK_CONTAINER_SINCE: Version = (5, 3)


def _networks(out: _Collector) -> None:
    unit = out.unit
    main = unit.main_section_name
    if main not in ("Container", "Pod", "Kube", "Build") or not _generator_checks_apply(out):
        return
    for entry in _lookup_all(unit, main, "Network"):
        _quoted(out, entry)
        # addNetworks() reads the value raw (quotes kept) and cuts at the first ':'.
        target, colon, _options = entry.value.partition(":")
        is_network = target.endswith(".network")
        is_container = target.endswith(".container") and out.version >= NETWORK_CONTAINER_SINCE
        if not (is_network or is_container):
            continue
        if not out.has(target):
            out.add(
                "QL031",
                entry,
                "Network",
                f"Network={entry.value}: there is no {target} beside this file; Quadlet: "
                f'"requested Quadlet unit {target} was not found"',
                f"add {target} next to {unit.name}, or name an existing network",
            )
        elif is_container and (joined := out.others.get(target)) is not None and not container_resource_name(joined):
            out.add(
                "QL038",
                entry,
                "Network",
                f"Network={entry.value}: {target} names its container with a specifier Quadlet cannot expand "
                f'(only %N is), so it cannot join its network; Quadlet: "cannot get the resource name of {target}"',
                f"set ContainerName= in {target} to a plain name (or one using only %N)",
            )
        elif is_container and colon:
            out.add(
                "QL034",
                entry,
                "Network",
                f"Network={entry.value}: Quadlet refuses options when joining another container's "
                'network ("extra options are not supported when joining another container\'s network")',
                f"write Network={target} without options",
            )


def container_resource_name(unit: UnitFile) -> str:
    """GetContainerResourceName(): the container's name with %N expanded, "" when other
    specifiers remain (the default name of a template, systemd-%p_%i, among them)."""
    name = _lookup_value(unit, "Container", "ContainerName")
    if not name:
        name = "systemd-%p_%i" if "@" in unit.name else "systemd-%N"
    service = _lookup_value(unit, "Container", "ServiceName") or unit.name.rpartition(".")[0]
    resolved = name.replace("%N", service)
    return "" if "%" in resolved else resolved


def _network_subnets(out: _Collector) -> None:
    unit = out.unit
    if unit.kind != "network" or not _generator_checks_apply(out):
        return
    subnets = _lookup_all(unit, "Network", "Subnet")
    for key in ("Gateway", "IPRange"):
        extra = _lookup_all(unit, "Network", key)[len(subnets) :]
        if not extra:
            continue
        said = "has no Subnet=" if not subnets else f"has more {key}= values than Subnet= values"
        out.add(
            "QL023",
            extra[0],
            key,
            f"{key}={extra[0].value}: the network {said}; Quadlet pairs each {key}= with a Subnet= "
            "and refuses the file",
            f"add the Subnet= this {key}= belongs to",
        )


def _volume_unit(out: _Collector) -> None:
    unit = out.unit
    if unit.kind != "volume" or not _generator_checks_apply(out):
        return
    driver = _lookup(unit, "Volume", "Driver")
    if driver is not None and driver[1] == "image":
        image = _lookup(unit, "Volume", "Image")
        if image is None:
            out.add(
                "QL020",
                driver[0],
                "Image",
                'Driver=image needs Image= in [Volume]; Quadlet: "the key Image is mandatory when using the '
                'image driver"',
                "add Image=<image, or a .image/.build unit>",
            )
        else:
            _image_reference(out, image[0], image[1])
        return
    if _lookup_value(unit, "Volume", "Device"):
        return
    for key in ("Type", "Options"):
        found = _lookup(unit, "Volume", key)
        if found is not None and found[1]:
            out.add(
                "QL022",
                found[0],
                key,
                f'{key}= is set without Device=; Quadlet: "key {key} can\'t be used without Device"',
                f"add Device= (what to mount), or remove {key}=",
            )


# isURL() in quadlet.go, unanchored alternatives included.
_URL = re.compile(r"^((https?)|(git)://)|(github\.com/).+$")


def _refused_working_directory(kind: str, value: str) -> str | None:
    """Why handleSetWorkingDirectory() refuses a value for this file type, or None."""
    mode = value.lower()
    if mode == "yaml" and kind != "kube":
        return f"SetWorkingDirectory={value} is only supported in .kube files; Quadlet refuses it"
    if mode == "file" and kind != "build":
        return f"SetWorkingDirectory={value} is only supported in .build files; Quadlet refuses it"
    if mode not in ("yaml", "file", "unit") and kind != "build":
        return f"SetWorkingDirectory={value}: a .{kind} file takes only yaml or unit; Quadlet refuses it"
    return None


def _working_directory(out: _Collector) -> None:
    """handleSetWorkingDirectory() and the build context rules of ConvertBuild()."""
    unit = out.unit
    main = unit.main_section_name
    if unit.kind not in ("build", "kube") or main is None or not _generator_checks_apply(out):
        return
    found = _lookup(unit, main, "SetWorkingDirectory")
    at = _section_line(unit, main)
    swd_entry, swd = found if found is not None else (None, "")
    context = ""
    adds_directory = False
    mode = swd.lower()
    if swd_entry is not None and swd:
        refused = _refused_working_directory(unit.kind, swd)
        if refused is not None:
            out.add("QL024", swd_entry, "SetWorkingDirectory", refused, "use unit, or a value this file type takes")
            return
        relative_to = ""
        if mode == "file":
            file_entry = _lookup(unit, main, "File")
            if file_entry is None:
                why = 'SetWorkingDirectory=file needs File=; Quadlet: "no File key specified"'
                out.add("QL020", swd_entry, "File", why, "add File=<Containerfile>")
                return
            relative_to = file_entry[1]
        elif mode == "yaml":
            relative_to = _lookup_value(unit, main, "Yaml")
        elif mode == "unit":
            relative_to = str(unit.path)
        else:
            context = swd
            relative_to = "" if context.startswith("/") else str(unit.path)
        if relative_to and not _URL.search(context):
            if _lookup_value(unit, "Service", "WorkingDirectory"):
                context = ""  # an explicit WorkingDirectory= wins and the context is dropped
            else:
                adds_directory = True
    if unit.kind != "build":
        return
    has_directory = adds_directory or bool(_lookup_value(unit, "Service", "WorkingDirectory"))
    file = _lookup_value(unit, main, "File")
    if not has_directory and not file and not context:
        out.add(
            "QL020",
            at,
            "File",
            'a .build needs File= or SetWorkingDirectory=; Quadlet: "neither SetWorkingDirectory, nor File '
            'key specified"',
            "add File=<Containerfile> or SetWorkingDirectory=<context>",
        )
    elif not context and not file.startswith("/") and not _URL.search(file) and not has_directory:
        last_file = unit.last(main, "File")
        out.add(
            "QL024",
            last_file if last_file else at,
            "File",
            f'File={file} is relative and nothing says relative to what; Quadlet: "relative path in File key '
            'requires SetWorkingDirectory key to be set"',
            "add SetWorkingDirectory=unit (or a context directory), or make File= absolute",
        )


_EXPOSE_PORT = re.compile(r"\d+(-\d+)?(/udp|/tcp)?$")


def _port_range(text: str, lowest: int) -> tuple[int, int] | None:
    match = re.fullmatch(r"(\d+)(?:-(\d+))?", text)
    if not match:
        return None
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if not lowest <= first <= last <= 65535:
        return None
    return first, last


def publish_port_problem(value: str) -> str | None:
    """Why podman would refuse a --publish value, or None (podman-run(1) --publish)."""
    body, _slash, protocols = value.partition("/")
    if protocols and not all(p in ("tcp", "udp", "sctp") for p in protocols.split(",")):
        return f"'{protocols}' is not tcp, udp or sctp"
    address = ""
    if body.startswith("["):
        end = body.find("]")
        if end == -1 or body[end + 1 : end + 2] != ":":
            return "an IPv6 address must be written [address]:hostPort:containerPort"
        address, rest = body[1:end], body[end + 2 :]
        parts = rest.split(":")
        if len(parts) != 2:
            return "expected [address]:hostPort:containerPort"
        host, container = parts
    else:
        parts = body.split(":")
        if len(parts) > 3:
            return "too many ':'; expected [[address:]hostPort:]containerPort"
        container = parts[-1]
        host = parts[-2] if len(parts) >= 2 else ""
        address = parts[0] if len(parts) == 3 else ""
    if address:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return f"'{address}' is not an IP address"
    container_range = _port_range(container, 1)
    if container_range is None:
        return f"'{container}' is not a container port or range (1-65535)"
    if host:
        host_range = _port_range(host, 0)
        if host_range is None:
            return f"'{host}' is not a host port or range (0-65535)"
        if host_range[1] - host_range[0] != container_range[1] - container_range[0] and host_range[0] != 0:
            return "the host and container ranges differ in length"
    return None


def _ports(out: _Collector) -> None:
    unit = out.unit
    main = unit.main_section_name
    if main is None or not _generator_checks_apply(out):
        return
    if unit.kind == "container":
        for entry in _lookup_all(unit, main, "ExposeHostPort"):
            port = entry.value.strip()
            if not _EXPOSE_PORT.search(port):
                out.add(
                    "QL026",
                    entry,
                    "ExposeHostPort",
                    f"ExposeHostPort={port} is not a port or range; Quadlet: \"invalid port format '{port}'\"",
                    "write a port (8080), a range (8000-8010) and optionally /tcp or /udp",
                )
    if main not in ("Container", "Pod", "Kube"):
        return
    for entry in _lookup_all(unit, main, "PublishPort"):
        if _quoted(out, entry) or "%" in entry.value:
            continue
        problem = publish_port_problem(entry.value)
        if problem is not None:
            out.add(
                "QL061",
                entry,
                "PublishPort",
                f"PublishPort={entry.value}: {problem}; podman refuses to start the container",
                "write [[address:]hostPort:]containerPort[/tcp|udp], e.g. PublishPort=8080:80",
            )


# Keys read with LookupAllKeyVal(), per section: each word must be KEY=VALUE.
_KEY_VALUE_KEYS: dict[str, tuple[str, ...]] = {
    "Container": ("Environment", "Label", "Annotation"),
    "Build": ("Environment", "Label", "Annotation"),
    "Pod": ("Label",),
    "Volume": ("Label",),
    "Network": ("Label", "Options"),
}


def _key_values(out: _Collector) -> None:
    unit = out.unit
    main = unit.main_section_name
    if main not in _KEY_VALUE_KEYS or not _generator_checks_apply(out):
        return
    for key in _KEY_VALUE_KEYS[main]:
        for entry in _lookup_all(unit, main, key):
            words = split_words(entry.value, SPLIT_ARGS)
            if words is None:
                out.add(
                    "QL060",
                    entry,
                    key,
                    f"{key}={entry.value}: the value has an escape sequence Quadlet cannot read "
                    "(such as \\q); it drops the whole line",
                    "write a literal backslash as \\\\",
                )
                continue
            for word in words:
                if "=" in word:
                    continue
                out.add(
                    "QL060",
                    entry,
                    key,
                    f"{key}=: '{word}' has no '='; each space-separated word is one KEY=VALUE, so Quadlet "
                    "drops it (5.4) or passes it on as a key without a value",
                    f'write {key}=NAME=value, and quote values with spaces: {key}="NAME=a b"',
                )


_SECRET_OPTIONS = frozenset({"type", "target", "uid", "gid", "mode"})


def _secrets(out: _Collector) -> None:
    unit = out.unit
    # A .build's Secret= follows buildah's id=,src= syntax; only containers are judged.
    if unit.kind != "container" or not _generator_checks_apply(out):
        return
    for entry, word in _all_words(unit, "Container", "Secret", SPLIT_ARGS):
        name, *options = word.split(",")
        problem = "" if name and "=" not in name else "the secret's name must come first"
        for option in options:
            key, _eq, value = option.partition("=")
            if key not in _SECRET_OPTIONS:
                problem = problem or f"'{key}' is not one of type, target, uid, gid, mode"
            elif key == "type" and value not in ("mount", "env"):
                problem = problem or f"type={value} is not mount or env"
        if problem:
            out.add(
                "QL062",
                entry,
                "Secret",
                f"Secret={word}: {problem}; podman refuses to create the container",
                "write Secret=name[,type=mount|env][,target=...][,uid=,gid=,mode=]",
            )


_USERNS_MODES = frozenset({"", "auto", "host", "keep-id", "nomap", "private", "ns", "container"})


def _auto_update(out: _Collector) -> None:
    unit = out.unit
    if not _generator_checks_apply(out):
        return
    if unit.kind == "container":
        found = _lookup(unit, "Container", "AutoUpdate")
        if found is not None and found[1] and found[1] not in ("registry", "local"):
            _bad_policy(out, found[0], found[1])
    elif unit.kind == "kube":
        for entry, word in _all_words(unit, "Kube", "AutoUpdate"):
            policy = word.rsplit("/", 1)[-1]
            if policy not in ("registry", "local"):
                _bad_policy(out, entry, word)


def _userns(out: _Collector) -> None:
    unit = out.unit
    main = unit.main_section_name
    if unit.kind in ("container", "pod", "kube") and main is not None and _generator_checks_apply(out):
        found = _lookup(unit, main, "UserNS")
        if found is not None and found[1]:
            mode, colon, rest = found[1].partition(":")
            needs_value = mode in ("ns", "container")
            if mode not in _USERNS_MODES or (needs_value and not rest) or (colon and not rest):
                out.add(
                    "QL063",
                    found[0],
                    "UserNS",
                    f"UserNS={found[1]} is not a user namespace mode podman knows; it refuses to start",
                    "use auto, keep-id, host, nomap, private, ns:<path> (options after ':', e.g. keep-id:uid=1000)",
                )


def _bad_policy(out: _Collector, entry: Entry, value: str) -> None:
    out.add(
        "QL064",
        entry,
        "AutoUpdate",
        f"AutoUpdate={value}: podman auto-update knows only the registry and local policies",
        "use AutoUpdate=registry or AutoUpdate=local",
    )


# The keys naming the podman object each file type creates.
_NAME_KEYS = {"container": "ContainerName", "pod": "PodName", "volume": "VolumeName", "network": "NetworkName"}


def _names(out: _Collector) -> None:
    unit = out.unit
    key = _NAME_KEYS.get(unit.kind)
    main = unit.main_section_name
    if key is None or main is None or not _generator_checks_apply(out):
        return
    found = _lookup(unit, main, key)
    if found is None or not found[1] or "%" in found[1]:
        return  # the default name, or a specifier only systemd can expand
    if not _VOLUME_NAME.match(found[1]):
        out.add(
            "QL070",
            found[0],
            key,
            f"{key}={found[1]}: podman names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*; it refuses this one",
            "use letters, digits, '_', '.' and '-' only, starting with a letter or digit",
        )


def _is_image_id(name: str) -> bool:
    return name.startswith("sha256:") or (len(name) == 64 and all(c in "0123456789abcdefABCDEF" for c in name))


def is_unambiguous_image(name: str) -> bool:
    """isUnambiguousName() of Quadlet's main.go: an image id, or a registry before the first '/'."""
    if _is_image_id(name):
        return True
    slash = name.find("/")
    if slash == -1:
        return False
    domain = name[:slash]
    return any(c in domain for c in ".:") or domain == "localhost"


def _short_image_name(out: _Collector) -> None:
    unit = out.unit
    main = unit.main_section_name
    # warnIfAmbiguousName() runs for these three file types only.
    if unit.kind not in ("container", "volume", "image") or main is None or not _generator_checks_apply(out):
        return
    found = _lookup(unit, main, "Image")
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


# Quadlet translates these [Unit] keys from Podman 5.5 (translateUnitDependencies).
UNIT_DEPENDENCY_KEYS = _keyset(
    """After Before BindsTo Conflicts OnFailure OnSuccess PartOf PropagatesReloadTo PropagatesStopTo
    ReloadPropagatedFrom Requires Requisite StopPropagatedFrom Upholds Wants"""
)
DEPENDENCY_TRANSLATION_SINCE: Version = (5, 5)


def _extension(word: str) -> str:
    """filepath.Ext(): from the last '.' of the last path element."""
    base = word.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:] if dot >= 0 else ""


def _default_service(name: str) -> str:
    stem, _dot, kind = name.rpartition(".")
    return f"{stem}{QUADLET_SERVICE_SUFFIXES.get(kind, '')}.service"


def _dependencies(out: _Collector) -> None:
    unit = out.unit
    if not _generator_checks_apply(out):
        return
    quadlet_extensions = {f".{kind}" for kind, since in FILE_TYPE_SINCE.items() if since <= out.version}
    translated = out.version >= DEPENDENCY_TRANSLATION_SINCE
    for key in UNIT_DEPENDENCY_KEYS:
        for entry, word in _all_words(unit, "Unit", key):
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
                    f"name the generated service: {key}={_default_service(word)} (or the ServiceName= it sets)",
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


def _dependency_advice(units: Sequence[UnitFile], version: Version) -> list[Finding]:
    """From 5.5 a dependency may name the Quadlet file, which follows ServiceName= and renames."""
    if version < DEPENDENCY_TRANSLATION_SINCE:
        return []
    generated = {
        service: unit
        for unit in units
        if unit.is_quadlet and FILE_TYPE_SINCE.get(unit.kind, (99,)) <= version
        if (service := service_name(unit, version)) is not None
    }
    findings: list[Finding] = []
    for unit in units:
        if not unit.is_quadlet:
            continue
        for key in UNIT_DEPENDENCY_KEYS:
            for entry, word in _all_words(unit, "Unit", key):
                target = generated.get(word)
                if target is None or target is unit:
                    continue
                findings.append(
                    Finding(
                        "QL037",
                        RULES["QL037"].severity,
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


def _duplicate_services(units: Sequence[UnitFile], version: Version) -> list[Finding]:
    owners: dict[str, UnitFile] = {}
    findings: list[Finding] = []
    for unit in units:
        if FILE_TYPE_SINCE.get(unit.kind, (99,)) > version:
            continue
        service = service_name(unit, version)
        if service is None:
            continue
        first = owners.setdefault(service, unit)
        if first is not unit and first.path.resolve() != unit.path.resolve():
            findings.append(
                Finding(
                    "QL033",
                    RULES["QL033"].severity,
                    str(unit.path),
                    1,
                    None,
                    f"{unit.name} generates {service}, as {first.path} does; one overwrites the other",
                    "rename one file, or set ServiceName= (Podman 5.3+)",
                )
            )
    return findings


def _words(values: Iterable[str]) -> set[str]:
    return {word for value in values for word in value.split()}


def _stack(out: _Collector, stack: StackRules) -> None:
    unit = out.unit
    target = stack.target
    if target not in _words(unit.values("Install", "WantedBy")):
        section = unit.section("Install")
        out.add(
            "QL050",
            section if section else 1,
            "WantedBy",
            f"{unit.name} is not wanted by {target}, so starting the stack does not start it",
            f"add WantedBy={target} under [Install]",
        )
    if target not in _words(unit.values("Unit", "PartOf")):
        section = unit.section("Unit")
        out.add(
            "QL051",
            section if section else 1,
            "PartOf",
            f"{unit.name} is not PartOf={target}, so stopping or restarting the stack leaves it running",
            f"add PartOf={target} under [Unit]",
        )
    if stack.require_selinux_relabel:
        _relabel(out)


def _relabel(out: _Collector) -> None:
    unit = out.unit
    for section in _volume_sections(unit):
        for entry in unit.entries_for(section, "Volume"):
            value = strip_matching_quotes(entry.value)
            source, _dest, options = _split_volume(value)
            if not source or not _is_bind_source(source) or _WINDOWS_PATH.match(value):
                continue
            if {"z", "Z"} & set(options.split(",")):
                continue
            out.add(
                "QL052",
                entry,
                "Volume",
                f"bind mount {source} has no :Z or :z, so on an SELinux host the container cannot use it",
                f"append :Z (private) or :z (shared): Volume={source}:{_dest}:{options + ',' if options else ''}Z",
            )
        for entry in unit.entries_for(section, "Mount"):
            tokens = [t.strip() for t in strip_matching_quotes(entry.value).split(",")]
            if "type=bind" not in tokens:
                continue
            if {"relabel=private", "relabel=shared", "z", "Z"} & set(tokens):
                continue
            out.add(
                "QL052",
                entry,
                "Mount",
                "bind mount has no relabel option, so on an SELinux host the container cannot use it",
                "add relabel=private (like :Z) or relabel=shared (like :z)",
            )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m phoenix_compliance.quadlet_lint [--podman 5.4.2] [--target T] PATH...`"""
    args = list(sys.argv[1:] if argv is None else argv)
    version: Version = DEFAULT_PODMAN_VERSION
    stack: StackRules | None = None
    paths: list[str] = []
    while args:
        arg = args.pop(0)
        if arg == "--podman" and args:
            version = parse_version(args.pop(0))
        elif arg == "--target" and args:
            stack = StackRules(target=args.pop(0))
        else:
            paths.append(arg)
    if not paths:
        usage = "usage: quadlet_lint [--podman VERSION] [--target NAME.target] PATH..."
        print(usage, file=sys.stderr)
        return 2
    findings = lint_paths(paths, version, stack)
    for finding in findings:
        print(finding)
    return 1 if any(f.severity == "error" for f in findings) else 0


if __name__ == "__main__":
    raise SystemExit(main())
