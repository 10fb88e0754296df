"""Quadlet cases for the generator differential, one behaviour each: the rules that changed after 5.4 and the
generator's own warnings, folders one broken file drops, the service name of each file type, and the key probe.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from quadlet_generator import (
    Case,
    Generator,
    _case,
    lint_case,
    run_generator,
)

from phoenix_compliance.quadlet.versions import (
    FILE_TYPE_SINCE,
    generator_reads,
    keys_for,
)
from phoenix_compliance.quadlet_lint import QUADLET_KEYS, Version

# --------------------------------------------------------------------------
# Rules that changed after 5.4 and the generator's own warnings, case by case
# --------------------------------------------------------------------------

_C = "[Container]\nImage=localhost/app:1\n"
_B = "[Build]\nImageTag=localhost/b:1\n"

# Origin -> files: each behaviour the issue 14 lint follows per release, and Podman's own table of
# generator warnings (test/e2e/quadlet_test.go, "Running expected warning quadlet test case").
RELEASE_RULES: dict[str, dict[str, str]] = {
    "ReloadCmd= with ReloadSignal=": {"app.container": _C + "ReloadCmd=/bin/kill -HUP 1\nReloadSignal=SIGHUP\n"},
    "empty ReloadCmd= with ReloadSignal=": {"app.container": _C + "ReloadCmd=\nReloadSignal=SIGHUP\n"},
    "ReloadCmd= alone": {"app.container": _C + "ReloadCmd=/bin/kill -HUP 1\n"},
    "two Yaml=": {"app.kube": "[Kube]\nYaml=/srv/a.yaml\nYaml=/srv/b.yaml\n"},
    "two Yaml= with SetWorkingDirectory=yaml": {
        "app.kube": "[Kube]\nYaml=/srv/a.yaml\nYaml=/srv/b.yaml\nSetWorkingDirectory=yaml\n"
    },
    "one Yaml= with SetWorkingDirectory=yaml": {"app.kube": "[Kube]\nYaml=a.yaml\nSetWorkingDirectory=yaml\n"},
    "a lone quote": {"app.container": '[Container]\nImage="\n'},
    "an empty pair of quotes": {"app.container": '[Container]\nImage=""\n'},
    "a leading quote": {"app.container": '[Container]\nImage="localhost/app:1\n'},
    "a specifier in File=": {"app.build": _B + "File=%h/src/Containerfile\n"},
    "an escaped percent in File=": {"app.build": _B + "File=%%src/Containerfile\n"},
    "Mount= without type=": {"app.container": _C + "Mount=source=/srv/a,destination=/a\n"},
    "Mount= volume without source": {"app.container": _C + "Mount=type=volume,destination=/a\n"},
    "HttpProxy=": {"app.container": _C + "HttpProxy=false\n"},
    "AppArmor=": {"app.container": _C + "AppArmor=unconfined\n"},
    "[Build] BuildArg=": {"app.build": _B + "File=/src/Containerfile\nBuildArg=A=1\n"},
    "[Build] IgnoreFile=": {"app.build": _B + "File=/src/Containerfile\nIgnoreFile=/src/.containerignore\n"},
    "[Pod] StopTimeout=": {"app.pod": "[Pod]\nStopTimeout=20\n"},
    "an .artifact without Artifact=": {"app.artifact": "[Artifact]\nQuiet=true\n"},
    "an .artifact": {"app.artifact": "[Artifact]\nArtifact=localhost/a:1\n"},
    # Accepted by the generator (the lint: warnings, errors only in the stack profile), refused by
    # podman or ignored by systemd once started.
    "PublishPort= on a container in a pod": {
        "p.pod": "[Pod]\n",
        "app.container": _C + "Pod=p.pod\nPublishPort=8080:80\n",
    },
    "a Windows drive in Volume=": {"app.container": _C + "Volume=e:/data:/data\n"},
    "[Network] in a .pod": {"p.pod": "[Pod]\n\n[Network]\nSubnet=10.0.0.0/24\n"},
    # What 6.0 removed and the generator still passes on (podman refuses it at start).
    "Network=slirp4netns": {"app.container": _C + "Network=slirp4netns:port_handler=slirp4netns\n"},
    "--network-cmd-path in GlobalArgs=": {"app.container": _C + "GlobalArgs=--network-cmd-path=/usr/bin/slirp4netns\n"},
    "--network slirp4netns in PodmanArgs=": {"app.container": _C + "PodmanArgs=--network slirp4netns\n"},
    # Quadlet 6.0: new [Volume] keys, Options= without Device=, a source only for non-volume mounts.
    "[Volume] UID= and GID=": {"v.volume": "[Volume]\nUID=1000\nGID=1000\n"},
    "[Volume] Options= without Device=": {"v.volume": "[Volume]\nOptions=nodev\n"},
    "[Volume] Type= without Device=": {"v.volume": "[Volume]\nType=tmpfs\n"},
    "Mount= volume with an empty source": {"app.container": _C + "Mount=type=volume,source=,destination=/a\n"},
    "Mount= bind without source": {"app.container": _C + "Mount=type=bind,destination=/a\n"},
    "Mount= image without source": {"app.container": _C + "Mount=type=image,destination=/a\n"},
    # systemd's specifiers and variables: the generator passes them on, systemd expands them.
    "specifiers and variables": {
        "app.container": _C + "Volume=%h:%h\nVolume=${DATA_PATH}/x:/x\nContainerName=nc-${MAJOR}-job\n"
        "PublishPort=${PORT}:80\n[Service]\nEnvironment=MAJOR=29\n"
    },
    "labelling off": {"app.container": _C + "Volume=/srv/a:/a\nSecurityLabelDisable=true\nSecurityLabelType=spc_t\n"},
    "resource settings under [Container]": {"app.container": _C + "CPUAccounting=yes\n"},
    "resource settings under [Service]": {"app.container": _C + "[Service]\nCPUAccounting=yes\nAllowedCPUs=0\n"},
    "warning table: label-unsupported-escape": {"l.container": _C + "Label=regex=^foo(\\?.*)?$\n"},
    "warning table: shortname": {"s.container": "[Container]\nImage=shortname\n"},
    "warning table: service-user": {"u.container": _C + "User=1000\n[Service]\nUser=1000\n"},
    "warning table: service-group": {"g.container": _C + "User=1000\nGroup=1000\n[Service]\nGroup=1000\n"},
    **{
        f"warning table: service-dynamicuser.{kind}": {f"d.{kind}": f"{main}[Service]\nDynamicUser=foobar\n"}
        for kind, main in (
            ("build", "[Build]\nImageTag=localhost/b:1\nSetWorkingDirectory=unit\n"),
            ("container", _C),
            ("image", "[Image]\nImage=localhost/app:1\n"),
            ("kube", "[Kube]\nYaml=deployment.yml\n"),
            ("network", ""),
            ("pod", ""),
            ("volume", ""),
        )
    },
    "warning table: exec-unsupported-escape": {"e.container": _C + "Exec='test\\.com'\n"},
    "warning table: reloadcmd-unsupported-escape": {"r.container": _C + "ReloadCmd='test\\.sh'\n"},
}


def release_rule_cases(version: Version) -> list[Case]:
    """The cases whose file types the release reads: a type it skips generates nothing without
    a word (exit 0), which the lint calls an error on purpose (QL010: no service)."""
    return [
        _case(files, f"release-rule: {what}")
        for what, files in RELEASE_RULES.items()
        if all(generator_reads(name.rsplit(".", 1)[1], version) for name in files)
    ]


# --------------------------------------------------------------------------
# Folders: one file the generator cannot parse costs its whole folder
# --------------------------------------------------------------------------

_SIBLINGS = {
    "a.container": _C,
    "p.pod": "[Pod]\n",
    "v.volume": "[Volume]\n",
    "n.network": "[Network]\n",
    "sub/c.container": _C,
}

# Origin -> files: a file its parser fails on beside valid ones (podman-facts.md section 10).
FOLDER_CASES: dict[str, dict[str, str]] = {
    "a '---' line": {**_SIBLINGS, "b.container": "---\n" + _C},
    "a template line in a .pod": {**_SIBLINGS, "b.pod": "[Pod]\n{{ pod_options }}\n"},
    "a key before any section in a .volume": {**_SIBLINGS, "b.volume": "Label=a=b\n[Volume]\n"},
    "a byte order mark": {**_SIBLINGS, "b.container": "\ufeff" + _C},
    "a bad section header": {**_SIBLINGS, "b.network": "[Net\x01work]\n"},
    "two broken files": {**_SIBLINGS, "b.container": "---\n" + _C, "z.pod": "[Pod\n"},
    "the broken file in the subfolder only": {**_SIBLINGS, "sub/b.container": "---\n" + _C},
    "a broken drop-in (only its unit loses it)": {**_SIBLINGS, "a.container.d/10-x.conf": "---\n"},
    "a broken .artifact (read from 5.7 only)": {**_SIBLINGS, "b.artifact": "---\n"},
    "a broken file beside one of its name in a subfolder": {**_SIBLINGS, "x.container": "---\n", "sub/x.container": _C},
    "a broken plain unit (the generator does not read it)": {**_SIBLINGS, "b.target": "---\n"},
}


def folder_cases() -> list[Case]:
    return [_case(files, f"folder: {what}") for what, files in FOLDER_CASES.items()]


# Origin -> files: the service each file type, template and ServiceName= gives (quadlet/names.py).
NAME_CASES: dict[str, dict[str, str]] = {
    "every file type": {
        "k.kube": "[Kube]\nYaml=/srv/k.yaml\n",
        "p.pod": "[Pod]\n",
        "v.volume": "[Volume]\n",
        "n.network": "[Network]\n",
        "i.image": "[Image]\nImage=localhost/i:1\n",
        "b.build": _B + "File=/srv/Containerfile\n",
        "a.artifact": "[Artifact]\nArtifact=localhost/a:1\n",
        "c.container": _C,
    },
    "templates and instances": {
        "web@.pod": "[Pod]\n",
        "web@b.pod": "[Pod]\n",
        "web@.container": _C,
        "web@a.container": _C,
        "vol@.volume": "[Volume]\n",
    },
    "ServiceName= quoted, half quoted, twice quoted, empty": {
        "a.container": _C + 'ServiceName="qa"\n',
        "b.container": _C + 'ServiceName="qb\n',
        "c.container": _C + 'ServiceName=""qc""\n',
        "d.pod": "[Pod]\nServiceName=\n",
    },
    "ServiceName= in a drop-in": {"e.container": _C, "e.container.d/10.conf": "[Container]\nServiceName=qe\n"},
    "two files of one name": {"x.container": _C, "sub/x.container": _C + "ServiceName=qsub\n"},
    # Two drop-ins of one name: up to 5.5 the earlier unit folder's wins, from 5.6 the more specific name's.
    "two drop-ins of one name": {
        "w.container": _C,
        "container.d/10.conf": "[Container]\nServiceName=qtop\n",
        "sub/w.container.d/10.conf": "[Container]\nServiceName=qsub\n",
    },
}


def name_cases() -> list[Case]:
    return [_case(files, f"names: {what}") for what, files in NAME_CASES.items()]


def lint_generates(case: Case, directory: Path, version: Version) -> set[str]:
    """The services the lint says the generator makes: every unit it loads (merged with its
    drop-ins, as the Quadlet layer finds them) that neither its parser fails on nor its folder's (QL006)."""
    from phoenix_compliance.quadlet.discovery import merged_folder
    from phoenix_compliance.quadlet.names import service_name
    from phoenix_compliance.quadlet.unitfile import drops_folder

    findings = lint_case(case, directory, version)
    dropped = {Path(f.path) for f in findings if f.rule_id in ("QL006", "QL039")}
    made = set()
    for unit in merged_folder(directory, version).values():
        if not generator_reads(unit.kind, version) or unit.path in dropped or drops_folder(unit) is not None:
            continue
        if (service := service_name(unit, version)) is not None:
            made.add(service)
    return made


# --------------------------------------------------------------------------
# The key probe: every key in every section, one minimal file each
# --------------------------------------------------------------------------

# The least each file type needs to be converted, so that only the probed key can be refused.
PROBE_UNITS: dict[str, str] = {
    "container": "[Container]\nImage=localhost/probe:1\n",
    "pod": "[Pod]\n",
    "volume": "[Volume]\n",
    "network": "[Network]\n",
    "kube": "[Kube]\nYaml=/srv/probe.yaml\n",
    "image": "[Image]\nImage=localhost/probe:1\n",
    "build": "[Build]\nImageTag=localhost/probe:1\nFile=/srv/Containerfile\n",
    "artifact": "[Artifact]\nArtifact=localhost/probe:1\n",
}
assert set(PROBE_UNITS) == set(FILE_TYPE_SINCE)

# Every key any release knows in any section (the man pages of 4.4.0 to 5.8.2 name none
# beyond them), so each section also meets every other section's keys.
EVERY_KEY = sorted({key for table in QUADLET_KEYS.values() for key in table})


@dataclass(frozen=True)
class Probe:
    section: str
    key: str


def key_probe(version: Version) -> tuple[Case, dict[str, Probe]]:
    """One case holding a file per (section, key) of the file types this release reads,
    plus every key in a container's [Quadlet] section. The generator converts each file on
    its own, so one run judges them all; the value is unique, so no two files make one name."""
    files: dict[str, str] = {}
    probes: dict[str, Probe] = {}
    for kind, base in PROBE_UNITS.items():
        if not generator_reads(kind, version):
            continue
        for number, key in enumerate(EVERY_KEY):
            name = f"k{number:03d}-{kind}.{kind}"
            files[name] = f"{base}{key}=probe{number}\n"
            probes[name] = Probe(kind.capitalize(), key)
    for number, key in enumerate(EVERY_KEY):
        name = f"q{number:03d}.container"
        files[name] = f"{PROBE_UNITS['container']}[Quadlet]\n{key}=probe{number}\n"
        probes[name] = Probe("Quadlet", key)
    return _case(files, "probe: every key in every section"), probes


_KEY_RULES = ("QL012", "QL013", "QL014")


@dataclass
class ProbeResult:
    probed: int = 0
    accepted: int = 0
    # (section, key, what the generator did, what the tables or the lint say)
    wrong_tables: list[str] = field(default_factory=list)
    wrong_lint: list[str] = field(default_factory=list)


def run_key_probe(generator: Generator, tmp_path: Path) -> ProbeResult:
    case, probes = key_probe(generator.version)
    said = run_generator([case], generator)[case.name]
    assert not said.crashed, f"the generator crashed on the key probe: {said.stderr[-5:]}"
    refused = said.unsupported_keys()
    findings = lint_case(case, tmp_path, generator.version)
    lint_refused = {Path(f.path).name for f in findings if f.rule_id in _KEY_RULES}
    result = ProbeResult()
    for name, probe in sorted(probes.items()):
        result.probed += 1
        accepted = name not in refused
        result.accepted += accepted
        if name in refused:
            assert refused[name] == (probe.key, probe.section), f"{name}: refused for {refused[name]}, not {probe}"
        in_tables = probe.key in keys_for(probe.section, generator.version)
        said_of = f"[{probe.section}] {probe.key}=: {'accepted' if accepted else 'refused'} by {generator.release}"
        if accepted != in_tables:
            result.wrong_tables.append(f"{said_of}, tables say {'known' if in_tables else 'unknown'}")
        if accepted == (name in lint_refused):
            result.wrong_lint.append(f"{said_of}, the lint {'refuses' if name in lint_refused else 'accepts'} it")
    return result


def file_type_probe(generator: Generator) -> dict[str, tuple[bool, bool]]:
    """Kind -> (the generator made a service of it, the tables say this release reads it)."""
    files = {f"t.{kind}": base for kind, base in PROBE_UNITS.items()}
    case = _case(files, "probe: file types")
    said = run_generator([case], generator)[case.name]
    made = {name.rsplit("/", 1)[-1] for name in said.services}
    services = {"container": "t.service", "kube": "t.service"}
    return {
        kind: (services.get(kind, f"t-{kind}.service") in made, generator_reads(kind, generator.version))
        for kind in PROBE_UNITS
    }
