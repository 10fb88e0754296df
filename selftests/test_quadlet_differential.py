"""The lint's validity profile against real Quadlet generators, each judged at its own release.

The generators are those of the reference guests, one per release
(conftest.py ``refhost_guest_name``: Podman 5.4.2 on trixie, 5.8.6 on forky);
every test here runs once per guest, and the lint judges at the version that
guest's podman reports. Each case is a directory of Quadlet files. The
generator accepts a case when ``quadlet -dryrun -user`` exits 0 for it; the
lint accepts it when ``--profile validity`` reports no error. The two must
agree on every case, and on the generator's own warnings (short image names;
from 5.6 [Service] User=/Group=/DynamicUser= and escapes it cannot read).

Cases come from three places:

- mutations of the reference units (fixtures/infra/podman/systemd): a key
  renamed, moved to another section, a value broken, a header dropped, a
  referenced file removed;
- unit files drawn by hypothesis over sections, keys and values (fixed seed,
  bounded count, so the run takes a bounded time);
- every case that ever disagreed, kept under quadlet_regressions/ with the
  verdict of each release it was judged at (replayed without a guest, at each
  of those releases, by test_regressions_replay).

The key probe writes one minimal file per key and section, for every key the
tables know in any section (the podman-systemd.unit man pages of 4.4.0 to
5.8.2 name no key outside them), and compares what the generator accepts
with the tables and with the lint.

All cases of a kind go to the guest in one exec (guest_batches.py); a shell loop
runs the generator per case directory and prints one marker line per case with
its exit code, then its stderr.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from guest_batches import run_batches
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from phoenix_compliance.quadlet.versions import (
    EXEC_ESCAPE_WARNING_SINCE,
    FILE_TYPE_SINCE,
    SERVICE_KEY_WARNING_SINCE,
    generator_reads,
    keys_for,
)
from phoenix_compliance.quadlet_lint import QUADLET_KEYS, Finding, Version, format_version, lint_paths, parse_version

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "infra" / "podman" / "systemd"
REGRESSIONS = Path(__file__).resolve().parent / "quadlet_regressions"

# Hypothesis draws this many cases (fixed seed; some repeat and are judged once): with
# the mutations, over two thousand cases in well under a minute of guest time.
GENERATED_CASES = 2000

_GENERATOR_SCRIPT = r"""
for c in "$d"/cases/*/; do
  n=$(basename "$c")
  QUADLET_UNIT_DIRS="$c" timeout 20 /usr/libexec/podman/quadlet -dryrun -user >"$d/out" 2>"$d/err"
  echo "@@CASE $n $?"
  sed 's/^/@@E /' "$d/err"
  grep '^---' "$d/out" | sed 's/^/@@O /'
done
"""


# What Quadlet hands podman for the stack-profile errors; each container made is removed again.
_REFUSED_SCRIPT = r"""
set -u
image=$1
pod=phx-severity-$$
podman pod create --name "$pod" >/dev/null || exit 90
judge() {
  what=$1; shift
  if id=$(podman create "$@" 2>/dev/null); then podman rm -f "$id" >/dev/null; echo "@@ $what created"
  else echo "@@ $what refused"; fi
}
judge publish-in-pod --pod "$pod" -p 18089:80 "$image" true
judge windows-drive -v e:/data:/data "$image" true
podman pod rm -f "$pod" >/dev/null
"""


# What podman 6 says when run with what 6.0 removed: the first line of each refusal (or "ran").
_REMOVED_SCRIPT = r"""
set -u
image=$1
say() {
  what=$1; shift
  if out=$("$@" 2>&1); then echo "@@ $what ran"; else echo "@@ $what $(printf '%s' "$out" | tail -n 1)"; fi
}
say network-slirp4netns podman run --rm --network slirp4netns "$image" true
say network-cmd-path podman --network-cmd-path=/usr/bin/slirp4netns run --rm "$image" true
"""


@dataclass(frozen=True)
class Generator:
    """A real Quadlet generator: the guest it runs in and the Podman release it belongs to."""

    guest: str
    version: Version

    @property
    def release(self) -> str:
        return format_version(self.version)


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str]
    origin: str


@dataclass
class GeneratorResult:
    exit_code: int
    stderr: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    @property
    def accepts(self) -> bool:
        return self.exit_code == 0

    @property
    def crashed(self) -> bool:
        return any(line.startswith("panic:") for line in self.stderr)

    def short_name_warnings(self) -> set[str]:
        pattern = re.compile(r"Warning: (\S+) specifies the image .* not a fully qualified image name")
        return {match.group(1) for line in self.stderr if (match := pattern.search(line))}

    def service_key_warnings(self) -> Counter[str]:
        """The keys of 'using key X in the Service group is not supported' (the line names no file)."""
        pattern = re.compile(r"Warning: using key (\w+) in the Service group is not supported")
        return Counter(match.group(1) for line in self.stderr if (match := pattern.search(line)))

    def escape_warnings(self) -> int:
        return sum(line.count("unsupported escape char") for line in self.stderr)

    def unsupported_keys(self) -> dict[str, tuple[str, str]]:
        """File name -> (key, section) of each 'unsupported key' refusal."""
        pattern = re.compile(r"converting \"([^\"]+)\": unsupported key '([^']*)' in group '([^']*)'")
        return {m.group(1): (m.group(2), m.group(3)) for line in self.stderr if (m := pattern.search(line))}


# --------------------------------------------------------------------------
# Running cases on both sides
# --------------------------------------------------------------------------


def run_generator(cases: list[Case], generator: Generator) -> dict[str, GeneratorResult]:
    """The generator's verdict on each case, by case name; a few exec calls in all."""
    results: dict[str, GeneratorResult] = {}
    answers = run_batches(_GENERATOR_SCRIPT, [case.files for case in cases], generator.guest)
    for case, (code, lines) in zip(cases, answers, strict=True):
        said = results[case.name] = GeneratorResult(code)
        for line in lines:
            if line.startswith("@@E "):
                said.stderr.append(re.sub(r"^quadlet-generator\[\d+\]: ", "", line[4:]))
            elif line.startswith("@@O "):
                said.services.append(line[4:].strip("-"))
    return results


def lint_case(case: Case, directory: Path, version: Version) -> list[Finding]:
    for name, text in case.files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(text.encode("utf-8"))
    return lint_paths([directory], version, None)


def lint_accepts(findings: list[Finding]) -> bool:
    return not any(finding.severity == "error" for finding in findings)


def _case_name(files: dict[str, str], origin: str) -> str:
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode("utf-8")).hexdigest()[:12]
    return f"{origin.split(':', 1)[0]}-{digest}"


def _case(files: dict[str, str], origin: str) -> Case:
    return Case(_case_name(files, origin), files, origin)


@dataclass
class Comparison:
    compared: int = 0
    agreed: int = 0
    disagreements: list[str] = field(default_factory=list)
    warnings_compared: int = 0
    warnings_agreed: int = 0
    # Warning kind -> cases where the generator said it (so a reader sees the comparison bit).
    warned: Counter[str] = field(default_factory=Counter)


def compare(cases: list[Case], tmp_path: Path, generator: Generator, save: bool = True) -> Comparison:
    """Run cases on both sides; keep every disagreeing case as a regression file."""
    unique = list({case.name: case for case in cases}.values())
    verdicts = run_generator(unique, generator)
    result = Comparison()
    for number, case in enumerate(unique):
        said = verdicts[case.name]
        findings = lint_case(case, tmp_path / f"{number:05d}", generator.version)
        result.compared += 1
        if said.accepts == lint_accepts(findings):
            result.agreed += 1
        else:
            result.disagreements.append(_describe(case, said, findings))
            if save:
                save_regression(case, said, generator)
        result.warned.update(
            what
            for what, count in (
                ("short-name", len(said.short_name_warnings())),
                ("[Service] key", sum(said.service_key_warnings().values())),
                ("escape", said.escape_warnings()),
            )
            if count
        )
        for what, agrees in _warnings_compared(said, findings, generator.version):
            result.warnings_compared += 1
            if agrees:
                result.warnings_agreed += 1
            else:
                result.disagreements.append(f"{what} warning: " + _describe(case, said, findings))
    return result


def _warnings_compared(said: GeneratorResult, findings: list[Finding], version: Version) -> Iterator[tuple[str, bool]]:
    """The generator's own warnings against the lint's, where the generator got far enough to say them."""
    unreadable = {Path(f.path).name for f in findings if f.rule_id in ("QL001", "QL002", "QL004")}
    if said.crashed or unreadable:
        return
    # Said before any file is converted (main.go), so whatever the verdict.
    linted = {_unit_of(finding) for finding in findings if finding.rule_id == "QL025"}
    yield "short-name", linted == said.short_name_warnings()
    if version >= SERVICE_KEY_WARNING_SINCE:
        keys = Counter(finding.key or "" for finding in findings if finding.rule_id == "QL019")
        yield "[Service] key", keys == said.service_key_warnings()
    # Said while converting: complete only when every file converted.
    if version >= EXEC_ESCAPE_WARNING_SINCE and said.accepts:
        escapes = sum(1 for finding in findings if finding.rule_id == "QL065")
        yield "escape", escapes == said.escape_warnings()


def _unit_of(finding: Finding) -> str:
    """The unit a finding is about: its file, or the unit a drop-in was merged into."""
    merged = re.search(r"\[drop-in of (\S+)\]$", finding.message)
    return merged.group(1) if merged else Path(finding.path).name


def _describe(case: Case, generator: GeneratorResult, findings: list[Finding]) -> str:
    said = [line for line in generator.stderr if not line.startswith("Loading source")]
    lint = [f"{Path(f.path).name}:{f.line} {f.rule_id} {f.severity}" for f in findings]
    return f"{case.name} ({case.origin}): generator exit {generator.exit_code} {said[:3]}, lint {lint}\n" + "\n".join(
        f"  --- {name}\n" + "\n".join(f"  | {line}" for line in text.splitlines()) for name, text in case.files.items()
    )


def _verdict(said: GeneratorResult) -> dict[str, object]:
    return {
        "accepts": said.accepts,
        "exit": said.exit_code,
        "stderr": [line for line in said.stderr if not line.startswith("Loading source")][:20],
    }


def save_regression(case: Case, said: GeneratorResult, generator: Generator) -> Path:
    """Keep a case with the verdict of this release (added to those of other releases)."""
    REGRESSIONS.mkdir(exist_ok=True)
    path = REGRESSIONS / f"{case.name}.json"
    if path.exists():
        record = json.loads(path.read_text(encoding="utf-8"))
    else:
        record = {"origin": case.origin, "verdicts": {}, "files": case.files}
    record["verdicts"].setdefault(generator.release, _verdict(said))
    record["verdicts"] = dict(sorted(record["verdicts"].items(), key=lambda item: parse_version(item[0])))
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class KeptCase:
    case: Case
    # Release ("5.4.2") -> whether its generator accepted the case.
    accepts: dict[str, bool]


def regression_cases() -> list[KeptCase]:
    """Every kept case with the verdict of each release it was judged at."""
    found: list[KeptCase] = []
    for path in sorted(REGRESSIONS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        accepts = {release: bool(verdict["accepts"]) for release, verdict in record["verdicts"].items()}
        found.append(KeptCase(Case(path.stem, record["files"], record["origin"]), accepts))
    return found


# --------------------------------------------------------------------------
# Mutations of the reference units
# --------------------------------------------------------------------------

# Values that break a key (or look broken and are not), tried on the reference units.
BROKEN_VALUES: dict[str, list[str]] = {
    "Image": ["", "busybox", "missing.image", '""'],
    "Pod": ["phoenix-hydra", "missing.pod", '"phoenix-hydra.pod"'],
    "Volume": ["%h/x:www:Z", "missing.volume:/www", "/srv/x:/www:Q", "C:\\x:/www", '"/srv/x:/www"'],
    "PublishPort": ["abc", "", "8080:80/xyz", '"8080:8080"'],
    "ContainerName": ["-bad", "bad name", ""],
    "PodName": ["bad name", ""],
    "Exec": ["", "sh -c 'unterminated"],
    "HealthCmd": [""],
    "HealthInterval": ["soon"],
    "PartOf": ["missing.container", "phoenix.container"],
    "WantedBy": ["phoenix.container"],
    "Restart": ["sometimes"],
    "Description": [""],
}
GENERIC_BROKEN = ["", '"unterminated']


def _entry(line: str) -> tuple[str, str] | None:
    stripped = line.strip()
    if not stripped or stripped.startswith(("#", ";", "[")) or "=" not in stripped:
        return None
    key, value = stripped.split("=", 1)
    return key.strip(), value.strip()


def _misspell(key: str) -> str:
    return key[:-1] if len(key) > 3 else key + "x"


def reference_units() -> dict[str, str]:
    return {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted(REFERENCE_DIR.iterdir())
        if path.suffix in (".container", ".pod")
    }


def reference_mutations() -> list[Case]:
    originals = reference_units()
    cases = [_case(originals, "reference: unchanged")]

    def mutated(name: str, lines: list[str], what: str) -> None:
        files = dict(originals)
        files[name] = "\n".join(lines) + "\n"
        cases.append(_case(files, f"mutation: {name}: {what}"))

    for name, text in originals.items():
        lines = text.splitlines()
        headers = [index for index, line in enumerate(lines) if line.startswith("[")]
        for index, line in enumerate(lines):
            entry = _entry(line)
            if entry is None:
                continue
            key, value = entry
            for new_key in (key.lower(), _misspell(key)):
                mutated(name, [*lines[:index], f"{new_key}={value}", *lines[index + 1 :]], f"{key} renamed {new_key}")
            for header in headers:
                if header < index and all(h < header or h > index for h in headers if h != header):
                    continue  # its own section
                moved = [*lines[:index], *lines[index + 1 :]]
                at = header if header < index else header - 1
                mutated(name, [*moved[: at + 1], line, *moved[at + 1 :]], f"{key} moved to {lines[header]}")
            for broken in BROKEN_VALUES.get(key, GENERIC_BROKEN):
                mutated(name, [*lines[:index], f"{key}={broken}", *lines[index + 1 :]], f"{key}={broken}")
        for header in headers:
            mutated(name, [*lines[:header], *lines[header + 1 :]], f"header {lines[header]} dropped")
        mutated(name, ["\ufeff" + lines[0], *lines[1:]], "byte order mark")
        mutated(name, [*lines, "Exec=true \\"], "ends in a continuation")
        main = f"[{name.rsplit('.', 1)[1].capitalize()}]"
        for index, line in enumerate(lines):
            entry = _entry(line)
            if entry is None or entry[0] not in ("Image", "PodName", "Pod", "Restart"):
                continue
            # The setting moved into a drop-in, and a drop-in that breaks the unit.
            section = next(lines[h] for h in reversed(headers) if h < index)
            files = dict(originals)
            files[name] = "\n".join([*lines[:index], *lines[index + 1 :]]) + "\n"
            files[f"{name}.d/10-moved.conf"] = f"{section}\n{line}\n"
            cases.append(_case(files, f"mutation: {name}: {entry[0]} moved into a drop-in"))
        for dropin in (f"{name}.d/50-x.conf", f"{name.rsplit('.', 1)[1]}.d/50-x.conf"):
            for text in (f"{main}\nBogus=1\n", "Bogus=1\n", "[Service]\nKillMode=process\n", f"{main}\nLabel=a=b\n"):
                cases.append(_case({**originals, dropin: text}, f"mutation: {name}: drop-in {dropin}: {text!r}"))
    for name in originals:
        if name.endswith(".pod"):
            files = {other: text for other, text in originals.items() if other != name}
            cases.append(_case(files, f"mutation: {name} removed"))
    return cases


# --------------------------------------------------------------------------
# Hypothesis: unit files over sections, keys and values
# --------------------------------------------------------------------------

# Files a drawn unit may refer to (Pod=p.pod, Volume=v.volume:/x, ...): valid ones, and
# containers whose name Quadlet cannot resolve when another joins their network.
SIBLINGS: dict[str, list[str]] = {
    "p.pod": ["[Pod]\nPodName=p\n"],
    "v.volume": ["[Volume]\n"],
    "n.network": ["[Network]\n"],
    "i.image": ["[Image]\nImage=localhost/i:1\n"],
    "b.build": ["[Build]\nImageTag=localhost/b:1\nFile=/src/Containerfile\n"],
    "c.container": [
        "[Container]\nImage=localhost/c:1\n",
        "[Container]\nImage=localhost/c:1\nContainerName=%N-c\n",
        "[Container]\nImage=localhost/c:1\nContainerName=%p-c\n",
    ],
    "t@.container": ["[Container]\nImage=localhost/t:1\n"],
}

# What each file type needs to be accepted at all; a drawn file keeps each most of the time.
REQUIRED: dict[str, list[tuple[str, str]]] = {
    "container": [("Image", "localhost/app:1")],
    "kube": [("Yaml", "/srv/app.yaml")],
    "image": [("Image", "localhost/app:1")],
    "build": [("ImageTag", "localhost/app:1"), ("File", "/src/Containerfile")],
    "pod": [],
    "volume": [],
    "network": [],
}
KINDS = ["container"] * 5 + ["pod"] * 2 + ["volume", "network", "image", "build", "kube"]
REQUIRED["artifact"] = [("Artifact", "localhost/a:1")]


def kinds_for(version: Version) -> list[str]:
    """The file types to draw: those the release reads (a skipped type says nothing either way)."""
    return [*KINDS, *(["artifact"] if generator_reads("artifact", version) else [])]


DEPENDENCIES = ["network-online.target", "c.container", "missing.container", "c.service", "p-pod.service", "v.volume"]
VALUES: dict[str, list[str]] = {
    "Image": ["localhost/app:1", "docker.io/library/busybox:1", "busybox", "library/fedora", "", '""', "i.image",
              "b.build", "missing.image", "sha256:abc", "server:5000/app", '"', '"localhost/app:1'],
    "Rootfs": ["/srv/rootfs", ""],
    "Pod": ["p.pod", "missing.pod", "p", "", '"p.pod"'],
    "Volume": ["/srv/a:/a", "/srv/a:/a:Z", "./rel:/a", "v.volume:/data", "missing.volume:/data", "data:/data",
               "/srv/a:data", "/a:/b:Q", "C:\\x:/x", "%h/x:/x:z", "/cache", "", "bad name:/x", '"/srv/a:/a"',
               "%N.volume:/x", ":/x", '"v.volume:/x"'],
    "Network": ["host", "n.network", "missing.network", "c.container", "c.container:ip=10.0.0.9",
                "n.network:ip=10.0.0.5", "missing.container", "", '"n.network"', "none", "t@.container"],
    "PublishPort": ["8080:80", "80", "127.0.0.1:8080:80", "abc", "8080:80/tcp", "99999:80", "1-3:1-2", "[::1]:80:80",
                    "", '"80:80"', "8080:80/xyz"],
    "ExposeHostPort": ["80", "80-90/tcp", "abc", "x1", "", "/udp", " 80 "],
    "Environment": ["A=1", "A=1 B=2", "FOO", '"A=a b"', "A=1 B", "", "A=\\", "A=\\q"],
    "BuildArg": ["A=1", "A", "A=\\q", ""],
    "Label": ["a=b", "foo", "a=b c", ""],
    "Annotation": ["a=b", "foo", ""],
    "Secret": ["s1", "s1,type=env", "s1,type=bogus", ",type=env", "s1,foo=bar", ""],
    "UserNS": ["keep-id", "auto", "host", "bogus", "keep-id:uid=1000", "ns:", "", "nomap"],
    "AutoUpdate": ["registry", "local", "bogus", ""],
    "RemapUsers": ["auto", "keep-id", "manual", "bogus", "", '"auto"'],
    "RemapUid": ["0:1:1", "1", ""],
    "RemapGid": ["0:1:1", "1", ""],
    "UIDMap": ["0:1:1", ""],
    "GIDMap": ["0:1:1", ""],
    "SubUIDMap": ["phoenix", ""],
    "User": ["1000", "", "nobody"],
    "Group": ["1000", ""],
    "ContainerName": ["web", "-bad", "bad name", "%N-x", "", "a.b_c"],
    "PodName": ["p1", "bad name", ""],
    "VolumeName": ["vol", "bad/name", ""],
    "NetworkName": ["net", "bad name", ""],
    "Mount": ["type=bind,source=/srv,destination=/x", "type=bind,destination=/x", "type=bind,source=,destination=/x",
              "type=bind,source,destination=/x", "source=/a,destination=/x", "type=tmpfs,destination=/x",
              "type=volume,source=v.volume,destination=/x", "type=volume,source=missing.volume,destination=/x",
              "type=image,source=i.image,destination=/x", "type=Bind,source=/a,destination=/x",
              'type=bind,"source=/a",destination=/x', 'type=bind,source=/a"b,destination=/x',
              "type=bind,src=./rel,dst=/x", ""],
    "Subnet": ["10.0.0.0/24", "10.1.0.0/24", ""],
    "Gateway": ["10.0.0.1", ""],
    "IPRange": ["10.0.0.128/25", ""],
    "Driver": ["image", "local", ""],
    "Device": ["/dev/sda1", "tmpfs", ""],
    "Type": ["nfs", "tmpfs", "", "notify", "oneshot", "simple"],
    "Options": ["ro", "", "a=b"],
    "Yaml": ["/srv/app.yaml", "app.yaml", ""],
    "SetWorkingDirectory": ["unit", "yaml", "file", "/ctx", "ctx", "https://github.com/x/y", "", "FILE"],
    "File": ["/src/Containerfile", "Containerfile", "https://x/Containerfile", "", "%h/Containerfile", "%%x"],
    "Artifact": ["localhost/a:1", "", '"'],
    "ImageTag": ["localhost/b:1", "", '""', "busybox"],
    "KillMode": ["mixed", "control-group", "process", "none", ""],
    "WorkingDirectory": ["/srv", ""],
    "After": DEPENDENCIES,
    "Requires": DEPENDENCIES,
    "Wants": DEPENDENCIES,
    "PartOf": DEPENDENCIES,
    "WantedBy": ["default.target", "c.container"],
    "Exec": ["true", "sh -c 'echo hi'", "", "echo \\q", "echo '\\x'"],
    "ReloadCmd": ["/bin/kill -HUP 1", "", "echo \\q"],
    "ReloadSignal": ["SIGHUP", "", '""'],
    "DynamicUser": ["yes", ""],
    "DefaultDependencies": ["false", "true"],
}  # fmt: skip
GENERIC_VALUES = ["1", "true", "", "x", "/srv/x"]

UNKNOWN_KEYS = ["image", "Imagee", "PublishPorts", "Restart", "After", "WantedBy", "Foo", "X-Key"]


def _weighted_keys(section: str, version: Version) -> list[str]:
    """Keys to draw for a Quadlet section, as a list whose repeats are the weights: mostly
    keys the release knows and that have value pools, sometimes any known key, rarely newer
    or unknown ones (each of those alone decides the verdict, so they must not dominate)."""
    known = sorted(keys_for(section, version))
    newer = sorted(set(QUADLET_KEYS[section]) - set(known))
    focus = [key for key in known if key in VALUES]
    return focus * 12 + known * 2 + newer + UNKNOWN_KEYS[:3]


# Section -> keys to draw (repeats are weights), for one release.
WeightedKeys = dict[str, list[str]]


@functools.cache
def weighted_keys(version: Version) -> WeightedKeys:
    return {section: _weighted_keys(section, version) for section in QUADLET_KEYS if section != "Quadlet"}


SYSTEMD_SECTION_KEYS: dict[str, list[str]] = {
    "Unit": ["Description", "After", "Requires", "Wants", "PartOf", "Before", "Image", "Restart"],
    "Service": [
        "Restart",
        "KillMode",
        "Type",
        "WorkingDirectory",
        "Environment",
        "TimeoutStartSec",
        "Image",
        "User",
        "Group",
        "DynamicUser",
    ],
    "Install": ["WantedBy", "RequiredBy", "Also", "Alias"],
    "Quadlet": ["DefaultDependencies", "Foo"],
}
OTHER_SECTIONS = ["Unit"] * 4 + ["Service"] * 4 + ["Install"] * 3 + ["Quadlet", "X-Extra", "Contaner", "Pod", "Volume"]
NOISE = ["garbage", "=x", "[]", "[Bad", "Key = spaced", "# comment", "; comment", "", "   ", "Exec=a \\", "\\"]


# Characters that matter to unit-file and podman syntax, for free-form values.
WILD_ALPHABET = " \t\"'\\:/%.=,-_abcZ019@[]#;"


# Strategies are built once per key: building them anew for every drawn line costs more than the draw.
@functools.cache
def _value(key: str) -> st.SearchStrategy[str]:
    pool = st.sampled_from(VALUES.get(key, GENERIC_VALUES))
    wild = st.text(WILD_ALPHABET, max_size=12)
    # Mostly chosen values; now and then free text, or a chosen value with free text around it.
    return st.one_of(pool, pool, pool, pool, pool, pool, wild, st.builds(lambda a, b, c: a + b + c, wild, pool, wild))


# Strategies are built once and reused: building them anew for every draw (and hypothesis
# validating each new one) costs more than the drawing. The cases drawn stay the same.
@functools.cache
def _one_of(options: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(options)


@functools.cache
def _integers(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high)


@functools.cache
def _plain_line(section: str, version: Version) -> st.SearchStrategy[str]:
    return _plain_entry_line(section, version)


@functools.cache
def _lines(section: str, version: Version, least: int, most: int) -> st.SearchStrategy[list[str]]:
    return st.lists(_entry_line(section, version), min_size=least, max_size=most)


@st.composite
def _entry_line(draw: st.DrawFn, section: str, version: Version) -> str:
    line = draw(_plain_line(section, version))
    # Spacing Quadlet's parser trims (or, for other whitespace, does not).
    if draw(_integers(0, 10)) == 5:
        key, _eq, value = line.partition("=")
        line = draw(_one_of((" ", "\t", "  "))) + key + draw(_one_of((" ", "", "\t"))) + "=" + value
        line += draw(_one_of(("", " ", "\t", "\r")))
    return line


@st.composite
def _plain_entry_line(draw: st.DrawFn, section: str, version: Version) -> str:
    if section in SYSTEMD_SECTION_KEYS:
        key = draw(_one_of(tuple(SYSTEMD_SECTION_KEYS[section])))
    elif section in (weighted := weighted_keys(version)):
        key = draw(_one_of(tuple(weighted[section])))
    else:
        key = draw(_one_of(tuple(UNKNOWN_KEYS)))
    return f"{key}={draw(_value(key))}"


@st.composite
def generated_case(draw: st.DrawFn, version: Version) -> dict[str, str]:
    kind = draw(_one_of(tuple(kinds_for(version))))
    main = kind.capitalize()
    main_lines = [f"{key}={value}" for key, value in REQUIRED[kind] if draw(_integers(0, 8)) != 4]
    main_lines += draw(_lines(main, version, 0, 6))
    sections: list[tuple[str, list[str]]] = [(main, main_lines)]
    for _ in range(draw(_integers(0, 3))):
        name = draw(_one_of(tuple(OTHER_SECTIONS)))
        sections.append((name, draw(_lines(name, version, 0, 3))))
    sections = draw(st.permutations(sections))
    lines = [line for name, entries in sections for line in (f"[{name}]", *entries)]
    # Rare events test a middle value: hypothesis favours the bounds of a range.
    for _ in range(2):
        if draw(_integers(0, 12)) == 6:
            lines.insert(draw(_integers(0, len(lines))), draw(_one_of(tuple(NOISE))))
    ending = "\r\n" if draw(_integers(0, 12)) == 6 else "\n"
    text = ending.join(lines) + draw(_one_of((ending, ending, "", ending * 2)))
    if draw(_integers(0, 40)) == 20:
        text = "\ufeff" + text
    files = {f"app.{kind}": text}
    # Drop-ins: beside the unit, for every unit of the type, or for a name prefix.
    for _ in range(draw(_integers(0, 1))):
        folder = draw(_one_of((f"app.{kind}.d", f"{kind}.d", f"app.{kind}.d", f"sub/app.{kind}.d")))
        section = draw(_one_of((main, main, "Service", "Unit")))
        entries = draw(_lines(section, version, 1, 3))
        files[f"{folder}/{draw(_one_of(('10-a', '20-b')))}.conf"] = "\n".join([f"[{section}]", *entries]) + "\n"
    # sorted: a set's order follows string hashing, which changes from one process to the next.
    for sibling in sorted(draw(st.sets(_one_of(tuple(sorted(SIBLINGS))), max_size=3))):
        # Now and then a referenced file sits in a subdirectory, which both sides search.
        where = "sub/" if draw(_integers(0, 8)) == 4 else ""
        files[where + sibling] = draw(_one_of(tuple(SIBLINGS[sibling])))
    return files


def generated_cases(version: Version) -> list[Case]:
    drawn: list[dict[str, str]] = []

    # A fixed seed (derandomize) and no shrinking: the draw is only collected here
    # and judged in one batch, so the same cases come back on every run.
    @settings(
        max_examples=GENERATED_CASES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(generated_case(version))
    def collect(files: dict[str, str]) -> None:
        drawn.append(files)

    collect()
    return [_case(files, "hypothesis") for files in drawn]


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generator(refhost_guest_name: str) -> Generator:
    """The Quadlet generator of a reference guest (one per release), at the version its podman reports."""
    from phoenix_compliance import refhost

    done = refhost.run_in_guest(["podman", "--version"], user="phoenix", timeout=60, name=refhost_guest_name)
    assert done.returncode == 0, f"podman --version failed in {refhost_guest_name}: {done.stderr}"
    return Generator(refhost_guest_name, parse_version(done.stdout.split()[-1]))


def _assert_agreement(result: Comparison, what: str, generator: Generator) -> None:
    summary = (
        f"{what} at {generator.release} ({generator.guest}): {result.agreed}/{result.compared} cases agree "
        f"on errors, {result.warnings_agreed}/{result.warnings_compared} on the generator's warnings "
        f"(cases it warned in: {dict(sorted(result.warned.items())) or 'none'})"
    )
    print(summary)
    assert not result.disagreements, (
        f"{summary}; the disagreeing cases are saved under {REGRESSIONS.name}/ (fix the lint, not the test):\n"
        + "\n".join(result.disagreements[:10])
    )


# --------------------------------------------------------------------------
# Podman's own corpus: test/e2e/quadlet of the tag nearest the generator's release
# --------------------------------------------------------------------------

# A Podman git directory (fetched or cloned; nothing is downloaded here); unset: the corpus
# test is skipped. The corpus is read from it, never kept in this repository.
PODMAN_GIT_ENV = "PHOENIX_PODMAN_GIT"
CORPUS_DIR = "test/e2e/quadlet"
_TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)(?:-rc(\d+))?$")


def corpus_tag(git_dir: Path, version: Version) -> str | None:
    """The newest tag at or before the release (a release candidate counts as its release, after
    the final tags before it): the generator's own tag, or the nearest one at hand."""
    tags = subprocess.run(
        ["git", f"--git-dir={git_dir}", "tag", "--list", "v*"], capture_output=True, text=True, check=False
    ).stdout.split()
    ranked = []
    for tag in tags:
        m = _TAG.match(tag)
        if m and (release := (int(m[1]), int(m[2]), int(m[3]))) <= version:
            ranked.append((release, int(m[4]) if m[4] else 10_000, tag))
    return max(ranked)[2] if ranked else None


def corpus_cases(git_dir: Path, tag: str) -> list[Case]:
    """One case per Quadlet file of the corpus at the tag, alone in its folder (a file naming
    another is then refused by both sides, which is agreement too)."""
    listing = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "--name-only", f"{tag}:{CORPUS_DIR}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    cases = []
    for name in listing:
        if name.rpartition(".")[2] not in FILE_TYPE_SINCE:
            continue
        text = subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"{tag}:{CORPUS_DIR}/{name}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        cases.append(_case({name: text}, f"corpus: {tag} {name}"))
    return cases


@pytest.mark.refhost
class TestAgainstTheRealGenerator:
    def test_reference_unit_mutations(self, generator: Generator, tmp_path: Path) -> None:
        cases = reference_mutations()
        assert len(cases) > 300
        _assert_agreement(compare(cases, tmp_path, generator), "reference mutations", generator)

    def test_generated_units(self, generator: Generator, tmp_path: Path) -> None:
        cases = generated_cases(generator.version)
        assert len(cases) >= GENERATED_CASES * 0.9
        _assert_agreement(compare(cases, tmp_path, generator), "hypothesis cases", generator)

    def test_release_rules_and_warnings(self, generator: Generator, tmp_path: Path) -> None:
        cases = release_rule_cases(generator.version)
        assert len(cases) == len(RELEASE_RULES) - (0 if generator_reads("artifact", generator.version) else 2)
        _assert_agreement(compare(cases, tmp_path, generator), "release rules", generator)

    def test_one_broken_file_drops_its_folder(self, generator: Generator, tmp_path: Path) -> None:
        """The services generated are those the lint says: none of a folder with a file its
        parser fails on (QL006 on each of them), every one of the other folders."""
        cases = folder_cases()
        verdicts = run_generator(cases, generator)
        wrong = []
        for number, case in enumerate(cases):
            said = verdicts[case.name]
            made = {name.rsplit("/", 1)[-1] for name in said.services}
            predicted = lint_generates(case, tmp_path / f"{number:05d}", generator.version)
            if made != predicted:
                wrong.append(f"{case.origin}: generator made {sorted(made)}, the lint says {sorted(predicted)}")
        print(
            f"folders at {generator.release}: {len(cases) - len(wrong)}/{len(cases)} cases generate what the lint says"
        )
        assert not wrong, "\n".join(wrong)
        _assert_agreement(
            compare(
                [c for c in cases if "artifact" not in c.origin or generator_reads("artifact", generator.version)],
                tmp_path / "verdicts",
                generator,
            ),
            "folder cases",
            generator,
        )

    def test_service_names(self, generator: Generator, tmp_path: Path) -> None:
        """Each file type, template, instance and ServiceName= (quoted as the release unquotes,
        from a drop-in) gives the service the Quadlet layer names (quadlet/names.py)."""
        cases = name_cases()
        verdicts = run_generator(cases, generator)
        wrong = []
        for number, case in enumerate(cases):
            made = {name.rsplit("/", 1)[-1] for name in verdicts[case.name].services}
            predicted = lint_generates(case, tmp_path / f"{number:05d}", generator.version)
            if made != predicted:
                wrong.append(f"{case.origin}: generator made {sorted(made)}, the layer says {sorted(predicted)}")
        print(f"service names at {generator.release}: {len(cases) - len(wrong)}/{len(cases)} cases agree")
        assert not wrong, "\n".join(wrong)

    def test_what_the_stack_profile_calls_an_error_podman_refuses(self, generator: Generator) -> None:
        """The generator accepts PublishPort= on a pod member and a Windows drive in Volume= (the
        release-rule cases); podman then refuses to create the container, as the stack profile says."""
        from phoenix_compliance import refhost
        from phoenix_compliance.refhost.deploy import IMAGE

        done = refhost.run_in_guest(
            ["sh", "-c", _REFUSED_SCRIPT, "sh", IMAGE], user="phoenix", timeout=120, name=generator.guest
        )
        assert done.returncode == 0, f"the script failed in {generator.guest}: {done.stderr[-1000:]}"
        codes = dict(line.split()[1:3] for line in done.stdout.splitlines() if line.startswith("@@ "))
        print(f"podman {generator.release} refuses: {codes}")
        assert codes == {"publish-in-pod": "refused", "windows-drive": "refused"}, done.stdout[-2000:]

    def test_what_podman_6_removed_is_refused_at_start(self, generator: Generator) -> None:
        """The generator of 6.x accepts Network=slirp4netns and --network-cmd-path (release-rule
        cases); podman then refuses to run the container, as the stack profile's QL048 says."""
        from phoenix_compliance import refhost
        from phoenix_compliance.quadlet.versions import SLIRP4NETNS_REMOVED_IN
        from phoenix_compliance.refhost.deploy import IMAGE

        if generator.version < SLIRP4NETNS_REMOVED_IN:
            pytest.skip(f"Podman {generator.release} still has slirp4netns; QL048 judges from 6.0 only")
        done = refhost.run_in_guest(
            ["sh", "-c", _REMOVED_SCRIPT, "sh", IMAGE], user="phoenix", timeout=120, name=generator.guest
        )
        assert done.returncode == 0, f"the script failed in {generator.guest}: {done.stderr[-1000:]}"
        said = {line.split()[1]: line.split(None, 2)[2] for line in done.stdout.splitlines() if line.startswith("@@ ")}
        print(f"podman {generator.release} says: {said}")
        assert "slirp4netns support has been removed" in said["network-slirp4netns"], done.stdout[-2000:]
        assert "unknown flag: --network-cmd-path" in said["network-cmd-path"], done.stdout[-2000:]

    def test_podmans_own_corpus(self, generator: Generator, tmp_path: Path) -> None:
        """Podman's own Quadlet test files (test/e2e/quadlet at the generator's tag, or the nearest
        before it), each alone: the generator's verdict against the lint's. Not kept as
        regressions: the files are Podman's, read from the git directory each time."""
        git_dir = os.environ.get(PODMAN_GIT_ENV)
        if not git_dir:
            pytest.skip(f"set {PODMAN_GIT_ENV} to a Podman git directory to judge its own Quadlet corpus")
        tag = corpus_tag(Path(git_dir), generator.version)
        if tag is None:
            pytest.skip(f"{git_dir} has no tag at or before {generator.release}")
        cases = [
            c
            for c in corpus_cases(Path(git_dir), tag)
            if generator_reads(c.origin.rpartition(".")[2], generator.version)
        ]
        assert cases, f"no Quadlet files under {CORPUS_DIR} at {tag}"
        _assert_agreement(compare(cases, tmp_path, generator, save=False), f"Podman's corpus ({tag})", generator)

    def test_kept_regressions(self, generator: Generator, tmp_path: Path) -> None:
        """Each kept case: the verdict recorded for this release still holds (a case not yet
        judged at it is recorded now), and the lint at this release agrees with it."""
        kept = regression_cases()
        if not kept:
            pytest.skip("no regression cases kept yet")
        verdicts = run_generator([item.case for item in kept], generator)
        changed, wrong = [], []
        for number, item in enumerate(kept):
            said = verdicts[item.case.name]
            recorded = item.accepts.get(generator.release)
            if recorded is None:
                save_regression(item.case, said, generator)
            elif recorded != said.accepts:
                changed.append(item.case.name)
            findings = lint_case(item.case, tmp_path / f"{number:05d}", generator.version)
            if lint_accepts(findings) != said.accepts:
                wrong.append(_describe(item.case, said, findings))
        print(
            f"kept regressions at {generator.release}: {len(kept) - len(wrong)}/{len(kept)} agree; "
            f"{sum(v.accepts for v in verdicts.values())} accepted"
        )
        assert not changed, f"the {generator.release} generator now judges these differently: {changed}"
        assert not wrong, "\n".join(wrong[:10])


@pytest.mark.refhost
class TestKeyProbe:
    def test_every_key_in_every_section(self, generator: Generator, tmp_path: Path) -> None:
        result = run_key_probe(generator, tmp_path)
        print(
            f"key probe at {generator.release}: {result.probed} (section, key) pairs, {result.accepted} accepted; "
            f"{len(result.wrong_tables)} differ from the tables, {len(result.wrong_lint)} from the lint"
        )
        assert result.probed > 1000
        assert not result.wrong_tables, "\n".join(result.wrong_tables)
        assert not result.wrong_lint, "\n".join(result.wrong_lint)

    def test_file_types_are_read_from_their_release(self, generator: Generator) -> None:
        found = file_type_probe(generator)
        wrong = {kind: made for kind, (made, expected) in found.items() if made != expected}
        assert not wrong, (
            f"generator {generator.release} made a service (True) or not (False) unlike the tables: {wrong}"
        )


def test_regressions_replay(tmp_path: Path) -> None:
    """Every kept case gets, at each release it was judged at, that generator's verdict
    from the lint (no guest needed)."""
    wrong = []
    for number, item in enumerate(regression_cases()):
        for release, accepts in item.accepts.items():
            findings = lint_case(item.case, tmp_path / f"{number:05d}-{release}", parse_version(release))
            if lint_accepts(findings) != accepts:
                wrong.append(
                    f"{item.case.name} at {release}: generator {'accepts' if accepts else 'rejects'}, "
                    f"lint {[f.rule_id for f in findings]}"
                )
    assert not wrong, "\n".join(wrong)
