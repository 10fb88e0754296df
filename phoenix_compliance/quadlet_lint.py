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
"""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from phoenix_compliance.quadlet import (
    QUADLET_MAIN_SECTIONS,
    Entry,
    ParseProblem,
    UnitFile,
    parse_file,
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


RULES: dict[str, Rule] = {
    rule.rule_id: rule
    for rule in (
        Rule("QL000", "error", "file cannot be read"),
        Rule("QL001", "error", "line is not a section, assignment or comment"),
        Rule("QL002", "error", "assignment outside any section"),
        Rule("QL003", "warning", "file ends inside a line continuation"),
        Rule("QL010", "error", "file type not supported by this Podman version"),
        Rule("QL011", "error", "unknown section"),
        Rule("QL012", "error", "key not supported by this Podman version"),
        Rule("QL013", "error", "unknown Quadlet key"),
        Rule("QL014", "error", "setting in the wrong section"),
        Rule("QL015", "warning", "[Install] key Quadlet does not act on"),
        Rule("QL016", "warning", "single-valued key set more than once"),
        Rule("QL020", "error", "missing required key"),
        Rule("QL021", "error", "conflicting keys"),
        Rule("QL030", "error", "Pod= does not name a .pod unit"),
        Rule("QL031", "error", "referenced Quadlet unit not found beside the file"),
        Rule("QL032", "error", "PublishPort= on a container that joins a pod"),
        Rule("QL033", "error", "two files generate the same service"),
        Rule("QL040", "error", "Volume= source is a Windows path"),
        Rule("QL041", "error", "Volume= source is a relative path"),
        Rule("QL042", "error", "Volume= source is not a valid volume name"),
        Rule("QL043", "error", "Volume= container path is not absolute"),
        Rule("QL050", "error", "unit does not join the stack target ([Install] WantedBy=)"),
        Rule("QL051", "error", "unit is not stopped with the stack target ([Unit] PartOf=)"),
        Rule("QL052", "error", "bind mount without an SELinux relabel option (:Z or :z)"),
    )
}


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


# --------------------------------------------------------------------------
# Linting
# --------------------------------------------------------------------------

_QUADLET_SUFFIXES = tuple(f".{kind}" for kind in FILE_TYPE_SINCE)
_LINTED_SUFFIXES = _QUADLET_SUFFIXES + tuple(f".{kind}" for kind in PLAIN_UNIT_SECTIONS)


class _Collector:
    def __init__(self, unit: UnitFile) -> None:
        self.unit = unit
        self.findings: list[Finding] = []

    def add(self, rule_id: str, line: int, key: str | None, message: str, fix: str) -> None:
        rule = RULES[rule_id]
        self.findings.append(Finding(rule_id, rule.severity, str(self.unit.path), line, key, message, fix))


def lint_paths(
    paths: Iterable[Path | str],
    podman_version: Version | str = DEFAULT_PODMAN_VERSION,
    stack: StackRules | None = None,
) -> list[Finding]:
    """Lint unit files (or directories of them, searched recursively like Quadlet does).

    Every problem of every file is returned, sorted by path and line.
    """
    version = parse_version(podman_version)
    files: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in _LINTED_SUFFIXES))
        else:
            files.append(path)

    findings: list[Finding] = []
    units: list[UnitFile] = []
    for path in files:
        try:
            units.append(parse_file(path))
        except (OSError, UnicodeDecodeError) as error:
            findings.append(
                Finding(
                    "QL000",
                    "error",
                    str(path),
                    1,
                    None,
                    f"cannot read the file: {error}",
                    "make the file readable UTF-8 text",
                )
            )
    findings.extend(lint_units(units, version, stack))
    return sorted(findings, key=lambda f: (f.path, f.line, f.rule_id, f.key or ""))


def lint_units(
    units: Sequence[UnitFile],
    podman_version: Version | str = DEFAULT_PODMAN_VERSION,
    stack: StackRules | None = None,
) -> list[Finding]:
    """Lint parsed units together (cross-file rules see all of them)."""
    version = parse_version(podman_version)
    linted_names = {unit.name for unit in units}
    findings: list[Finding] = []
    for unit in units:
        findings.extend(lint_unit(unit, version, stack, linted_names))
    findings.extend(_duplicate_services(units, version))
    return sorted(findings, key=lambda f: (f.path, f.line, f.rule_id, f.key or ""))


def lint_unit(
    unit: UnitFile,
    podman_version: Version | str = DEFAULT_PODMAN_VERSION,
    stack: StackRules | None = None,
    linted_names: Iterable[str] = (),
) -> list[Finding]:
    """Lint one unit. ``linted_names`` are file names linted alongside it, which count
    as present when resolving Pod=/Volume=/Network= references."""
    version = parse_version(podman_version)
    out = _Collector(unit)
    _syntax(out)
    supported = _file_type(out, version)
    _sections(out)
    _keys(out, version, judge_versions=supported)
    if unit.is_quadlet:
        _install(out)
        _single_valued(out)
        _required(out, version)
        present = set(linted_names)
        _pod(out, present)
        _volumes(out, present)
        _networks(out, present)
    if stack is not None and unit.kind in stack.kinds:
        _stack(out, stack)
    return out.findings


def _syntax(out: _Collector) -> None:
    for problem in out.unit.problems:
        out.add(*_syntax_finding(problem))


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
    if problem.kind == "bad-section-name":
        return (
            "QL001",
            problem.line,
            None,
            f"'{shown}' is not a valid section header",
            "write the header as [Name] with a non-empty name",
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
        out.add("QL011", section.line, None, why, fix)


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
    if home in SYSTEMD_KEYS:
        rejected = entry.section in QUADLET_KEYS
        effect = "Quadlet rejects the file" if rejected else "systemd ignores it"
        why = f"{entry.key}= is a systemd [{home}] setting; under [{entry.section}] {effect}"
    else:
        why = f"{entry.key}= is a Quadlet [{home}] key; under [{entry.section}] systemd ignores it"
    out.add("QL014", entry.line, entry.key, why, f"move {entry.key}= to [{home}]")


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
                    entry.line,
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
            entry.line,
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
            entry.line,
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
                entry.line,
                entry.key,
                f"{entry.key}= is set again (first on line {first.line}); Quadlet uses only the last value",
                f"keep a single {entry.key}= line",
            )


def _required(out: _Collector, version: Version) -> None:
    unit = out.unit
    main = unit.main_section_name
    if main is None:
        return
    section = unit.section(main)
    at = section.line if section else 1

    def value(key: str) -> str:
        entry = unit.last(main, key)
        return strip_matching_quotes(entry.value) if entry else ""

    if unit.kind == "container":
        image, rootfs = value("Image"), value("Rootfs")
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
                entry.line if entry else at,
                "Rootfs",
                "Image= and Rootfs= are both set; Quadlet refuses the combination",
                "keep either Image= or Rootfs=",
            )
    elif unit.kind == "kube" and not value("Yaml"):
        out.add(
            "QL020",
            at,
            "Yaml",
            "a .kube needs Yaml= in [Kube]",
            "add Yaml=<path to the Kubernetes YAML>",
        )
    elif unit.kind == "image" and not value("Image"):
        out.add(
            "QL020",
            at,
            "Image",
            "a .image needs Image= in [Image]",
            "add Image=<image reference to pull>",
        )
    elif unit.kind == "build":
        if not value("ImageTag"):
            out.add(
                "QL020",
                at,
                "ImageTag",
                "a .build needs ImageTag= in [Build]",
                "add ImageTag=<name:tag> for the built image",
            )
        has_context = (
            value("File") or value("SetWorkingDirectory") or (unit.last("Service", "WorkingDirectory") is not None)
        )
        if not has_context:
            out.add(
                "QL020",
                at,
                "File",
                "a .build needs File= or SetWorkingDirectory= to know what to build",
                "add File=<Containerfile> or SetWorkingDirectory=<context>",
            )


def _reference_present(unit: UnitFile, name: str, present: set[str]) -> bool:
    return name in present or (unit.path.parent / name).is_file()


def _pod(out: _Collector, present: set[str]) -> None:
    unit = out.unit
    if unit.kind != "container":
        return
    pod_entry = unit.last("Container", "Pod")
    if pod_entry is None or not pod_entry.value:
        return
    pod = strip_matching_quotes(pod_entry.value)
    if not pod.endswith(".pod"):
        out.add(
            "QL030",
            pod_entry.line,
            "Pod",
            f'Pod={pod} names a pod, not a .pod unit; Quadlet: "pod {pod} is not Quadlet based"',
            f"write Pod={pod}.pod and add a {pod}.pod file (PodName={pod} keeps the pod's name)",
        )
    elif not _reference_present(unit, pod, present):
        out.add(
            "QL031",
            pod_entry.line,
            "Pod",
            f'Pod={pod}: there is no {pod} beside this file; Quadlet: "quadlet pod unit {pod} does not exist"',
            f"add {pod} next to {unit.name}, or correct the name",
        )
    for entry in unit.entries_for("Container", "PublishPort"):
        out.add(
            "QL032",
            entry.line,
            "PublishPort",
            f"this container joins {pod}, and a pod's containers share its network; podman refuses ports on them",
            f"move PublishPort={entry.value} to [Pod] in {pod}",
        )


def _volume_sections(unit: UnitFile) -> list[str]:
    main = unit.main_section_name
    return [main] if main in ("Container", "Pod", "Build") else []


def _volumes(out: _Collector, present: set[str]) -> None:
    unit = out.unit
    for section in _volume_sections(unit):
        for entry in unit.entries_for(section, "Volume"):
            _volume(out, entry, present)


def _split_volume(value: str) -> tuple[str, str, str]:
    """(source, destination, options) the way Quadlet's addVolumes() splits them."""
    parts = value.split(":", 2)
    if len(parts) == 1:
        return "", parts[0], ""
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


def _is_bind_source(source: str) -> bool:
    return source.startswith(("/", ".")) or (len(source) > 1 and source[0] == "%" and source[1] in _PATH_SPECIFIERS)


def _volume(out: _Collector, entry: Entry, present: set[str]) -> None:
    value = strip_matching_quotes(entry.value)
    if _WINDOWS_PATH.match(value):
        out.add(
            "QL040",
            entry.line,
            "Volume",
            f"Volume={value}: '{value[:2]}' is a Windows drive; Quadlet splits at ':' and "
            f"would mount a volume named '{value[0]}'",
            "use an absolute Linux path or %h/..., e.g. Volume=%h/data:/data:Z",
        )
        return
    source, dest, _options = _split_volume(value)
    if source:
        if source.startswith("."):
            out.add(
                "QL041",
                entry.line,
                "Volume",
                f"Volume={value}: relative source '{source}' is resolved against the unit "
                "file's directory (~/.config/containers/systemd once installed), not the "
                "compose project",
                f"use an absolute path or a specifier, e.g. %h/{source.lstrip('./') or 'data'}",
            )
        elif source.startswith(("/", "%")):
            # Absolute, or a specifier: %h/data is a path once systemd expands it,
            # %N-data a volume name; neither can be judged further before expansion.
            pass
        elif source.endswith(".volume"):
            if not _reference_present(out.unit, source, present):
                out.add(
                    "QL031",
                    entry.line,
                    "Volume",
                    f"Volume={value}: there is no {source} beside this file; Quadlet: "
                    f'"requested Quadlet source {source} was not found"',
                    f"add {source} next to {out.unit.name}, or use a plain volume name",
                )
        elif not _VOLUME_NAME.match(source):
            out.add(
                "QL042",
                entry.line,
                "Volume",
                f"Volume={value}: '{source}' is neither an absolute path nor a valid volume "
                "name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)",
                "use an absolute path, %h/..., a volume name, or a .volume unit",
            )
    if not dest.startswith("/"):
        out.add(
            "QL043",
            entry.line,
            "Volume",
            f"Volume={value}: the container path '{dest}' is not absolute",
            "write the container path from the root, e.g. :/data",
        )


def _networks(out: _Collector, present: set[str]) -> None:
    unit = out.unit
    main = unit.main_section_name
    if main not in ("Container", "Pod", "Kube", "Build"):
        return
    for entry in unit.entries_for(main, "Network"):
        target = strip_matching_quotes(entry.value).split(":", 1)[0]
        is_unit = target.endswith((".network", ".container"))
        if is_unit and not _reference_present(unit, target, present):
            out.add(
                "QL031",
                entry.line,
                "Network",
                f"Network={entry.value}: there is no {target} beside this file; Quadlet: "
                f'"requested Quadlet unit {target} was not found"',
                f"add {target} next to {unit.name}, or name an existing network",
            )


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
            section.line if section else 1,
            "WantedBy",
            f"{unit.name} is not wanted by {target}, so starting the stack does not start it",
            f"add WantedBy={target} under [Install]",
        )
    if target not in _words(unit.values("Unit", "PartOf")):
        section = unit.section("Unit")
        out.add(
            "QL051",
            section.line if section else 1,
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
                entry.line,
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
                entry.line,
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
