"""The lint's validity profile against the real Quadlet generator (Podman 5.4.2 on the reference host).

Each case is a directory of Quadlet files. The generator accepts a case when
``quadlet -dryrun -user`` exits 0 for it; the lint accepts it when
``--profile validity`` reports no error. The two must agree on every case.

Cases come from three places:

- mutations of the reference units (fixtures/infra/podman/systemd): a key
  renamed, moved to another section, a value broken, a header dropped, a
  referenced file removed;
- unit files drawn by hypothesis over sections, keys and values (fixed seed,
  bounded count, so the run takes a bounded time);
- every case that ever disagreed, kept under quadlet_regressions/ with the
  generator's verdict (replayed without the guest by test_regressions_replay).

All cases of a kind go to the guest in one exec: a gzipped tar, base64 in the
arguments (run_in_guest passes no stdin), unpacked under a mktemp -d that is
removed on exit; a shell loop runs the generator per case directory and prints
one marker line per case with its exit code, then its stderr.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from phoenix_compliance.quadlet_lint import QUADLET_KEYS, Finding, lint_paths

GENERATOR_VERSION = "5.4.2"
REFERENCE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "infra" / "podman" / "systemd"
REGRESSIONS = Path(__file__).resolve().parent / "quadlet_regressions"

# Hypothesis draws this many cases (fixed seed; some repeat and are judged once): with
# the mutations, over two thousand cases in well under a minute of guest time.
GENERATED_CASES = 2000

# One argument of an exec may not exceed 128 KiB (MAX_ARG_STRLEN); stay below.
_ARG_CHUNK = 100_000
_CALL_LIMIT = 1_000_000

_GENERATOR_SCRIPT = r"""
set -u
d=$(mktemp -d /tmp/ql-differential.XXXXXX)
trap 'rm -rf "$d"' EXIT
printf '%s' "$@" | base64 -d | tar -xz -C "$d/" || exit 90
for c in "$d"/cases/*/; do
  n=$(basename "$c")
  QUADLET_UNIT_DIRS="$c" timeout 20 /usr/libexec/podman/quadlet -dryrun -user >"$d/out" 2>"$d/err"
  echo "@@CASE $n $?"
  sed 's/^/@@E /' "$d/err"
  grep '^---' "$d/out" | sed 's/^/@@O /'
done
"""


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


# --------------------------------------------------------------------------
# Running cases on both sides
# --------------------------------------------------------------------------


def _tar(cases: list[Case]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for number, case in enumerate(cases):
            for name, text in case.files.items():
                data = text.encode("utf-8")
                info = tarfile.TarInfo(f"cases/{number:05d}/{name}")
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _batches(cases: list[Case]) -> Iterator[list[Case]]:
    """Cases in groups whose encoded tar fits the argument limits of one exec."""
    pending: list[Case] = []
    size = 0
    for case in cases:
        weight = sum(len(text) + 600 for text in case.files.values())  # tar headers compress well
        if pending and size + weight > _CALL_LIMIT * 3:
            yield pending
            pending, size = [], 0
        pending.append(case)
        size += weight
    if pending:
        yield pending


def run_generator(cases: list[Case]) -> dict[str, GeneratorResult]:
    """The generator's verdict on each case, by case name; a few exec calls in all."""
    from phoenix_compliance import refhost

    results: dict[str, GeneratorResult] = {}
    for batch in _batches(cases):
        blob = base64.b64encode(_tar(batch)).decode("ascii")
        assert len(blob) < _CALL_LIMIT, f"batch of {len(batch)} cases too large for one exec ({len(blob)} bytes)"
        chunks = [blob[i : i + _ARG_CHUNK] for i in range(0, len(blob), _ARG_CHUNK)]
        done = refhost.run_in_guest(["sh", "-c", _GENERATOR_SCRIPT, "sh", *chunks], user="phoenix", timeout=600)
        assert done.returncode == 0, f"the case loop failed in the guest ({done.returncode}): {done.stderr[-2000:]}"
        by_number: dict[int, GeneratorResult] = {}
        current: GeneratorResult | None = None
        for line in done.stdout.splitlines():
            if line.startswith("@@CASE "):
                _marker, case_number, code = line.split(" ")
                current = by_number[int(case_number)] = GeneratorResult(int(code))
            elif current is not None and line.startswith("@@E "):
                current.stderr.append(re.sub(r"^quadlet-generator\[\d+\]: ", "", line[4:]))
            elif current is not None and line.startswith("@@O "):
                current.services.append(line[4:].strip("-"))
        assert len(by_number) == len(batch), f"{len(by_number)} of {len(batch)} cases reported back"
        for number, case in enumerate(batch):
            results[case.name] = by_number[number]
    return results


def lint_case(case: Case, directory: Path) -> list[Finding]:
    for name, text in case.files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(text.encode("utf-8"))
    return lint_paths([directory], GENERATOR_VERSION, None)


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


def compare(cases: list[Case], tmp_path: Path, save: bool = True) -> Comparison:
    """Run cases on both sides; keep every disagreeing case as a regression file."""
    unique = list({case.name: case for case in cases}.values())
    verdicts = run_generator(unique)
    result = Comparison()
    for number, case in enumerate(unique):
        generator = verdicts[case.name]
        findings = lint_case(case, tmp_path / f"{number:05d}")
        result.compared += 1
        if generator.accepts == lint_accepts(findings):
            result.agreed += 1
        else:
            result.disagreements.append(_describe(case, generator, findings))
            if save:
                save_regression(case, generator)
        # Quadlet's one warning: compare it wherever the generator read every file.
        unreadable = {Path(f.path).name for f in findings if f.rule_id in ("QL001", "QL002", "QL004")}
        if not generator.crashed and not unreadable:
            result.warnings_compared += 1
            linted = {_unit_of(finding) for finding in findings if finding.rule_id == "QL025"}
            if linted == generator.short_name_warnings():
                result.warnings_agreed += 1
            else:
                result.disagreements.append("short-name warning: " + _describe(case, generator, findings))
    return result


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


def save_regression(case: Case, generator: GeneratorResult) -> Path:
    REGRESSIONS.mkdir(exist_ok=True)
    path = REGRESSIONS / f"{case.name}.json"
    if not path.exists():
        record = {
            "origin": case.origin,
            "podman": GENERATOR_VERSION,
            "generator": {
                "accepts": generator.accepts,
                "exit": generator.exit_code,
                "stderr": [line for line in generator.stderr if not line.startswith("Loading source")][:20],
            },
            "files": case.files,
        }
        path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def regression_cases() -> list[tuple[Case, bool]]:
    """Every kept case with the generator's verdict on it."""
    found: list[tuple[Case, bool]] = []
    for path in sorted(REGRESSIONS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        found.append((Case(path.stem, record["files"], record["origin"]), bool(record["generator"]["accepts"])))
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

DEPENDENCIES = ["network-online.target", "c.container", "missing.container", "c.service", "p-pod.service", "v.volume"]
VALUES: dict[str, list[str]] = {
    "Image": ["localhost/app:1", "docker.io/library/busybox:1", "busybox", "library/fedora", "", '""', "i.image",
              "b.build", "missing.image", "sha256:abc", "server:5000/app"],
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
    "Environment": ["A=1", "A=1 B=2", "FOO", '"A=a b"', "A=1 B", "", "A=\\"],
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
    "File": ["/src/Containerfile", "Containerfile", "https://x/Containerfile", ""],
    "ImageTag": ["localhost/b:1", "", '""', "busybox"],
    "KillMode": ["mixed", "control-group", "process", "none", ""],
    "WorkingDirectory": ["/srv", ""],
    "After": DEPENDENCIES,
    "Requires": DEPENDENCIES,
    "Wants": DEPENDENCIES,
    "PartOf": DEPENDENCIES,
    "WantedBy": ["default.target", "c.container"],
    "Exec": ["true", "sh -c 'echo hi'", ""],
    "DefaultDependencies": ["false", "true"],
}  # fmt: skip
GENERIC_VALUES = ["1", "true", "", "x", "/srv/x"]

UNKNOWN_KEYS = ["image", "Imagee", "PublishPorts", "Restart", "After", "WantedBy", "Foo", "X-Key"]


def _weighted_keys(section: str) -> list[str]:
    """Keys to draw for a Quadlet section, as a list whose repeats are the weights: mostly
    keys 5.4.2 knows and that have value pools, sometimes any known key, rarely newer or
    unknown ones (each of those alone decides the verdict, so they must not dominate)."""
    table = QUADLET_KEYS[section]
    known = sorted(key for key, since in table.items() if since <= (5, 4, 2))
    newer = sorted(key for key, since in table.items() if since > (5, 4, 2))
    focus = [key for key in known if key in VALUES]
    return focus * 12 + known * 2 + newer + UNKNOWN_KEYS[:3]


WEIGHTED_KEYS = {section: _weighted_keys(section) for section in QUADLET_KEYS if section != "Quadlet"}
SYSTEMD_SECTION_KEYS: dict[str, list[str]] = {
    "Unit": ["Description", "After", "Requires", "Wants", "PartOf", "Before", "Image", "Restart"],
    "Service": ["Restart", "KillMode", "Type", "WorkingDirectory", "Environment", "TimeoutStartSec", "Image"],
    "Install": ["WantedBy", "RequiredBy", "Also", "Alias"],
    "Quadlet": ["DefaultDependencies", "Foo"],
}
OTHER_SECTIONS = ["Unit"] * 4 + ["Service"] * 4 + ["Install"] * 3 + ["Quadlet", "X-Extra", "Contaner", "Pod", "Volume"]
NOISE = ["garbage", "=x", "[]", "[Bad", "Key = spaced", "# comment", "; comment", "", "   ", "Exec=a \\", "\\"]


# Characters that matter to unit-file and podman syntax, for free-form values.
WILD_ALPHABET = " \t\"'\\:/%.=,-_abcZ019@[]#;"


def _value(key: str) -> st.SearchStrategy[str]:
    pool = st.sampled_from(VALUES.get(key, GENERIC_VALUES))
    wild = st.text(WILD_ALPHABET, max_size=12)
    # Mostly chosen values; now and then free text, or a chosen value with free text around it.
    return st.one_of(pool, pool, pool, pool, pool, pool, wild, st.builds(lambda a, b, c: a + b + c, wild, pool, wild))


@st.composite
def _entry_line(draw: st.DrawFn, section: str) -> str:
    line = draw(_plain_entry_line(section))
    # Spacing Quadlet's parser trims (or, for other whitespace, does not).
    if draw(st.integers(0, 10)) == 5:
        key, _eq, value = line.partition("=")
        line = draw(st.sampled_from([" ", "\t", "  "])) + key + draw(st.sampled_from([" ", "", "\t"])) + "=" + value
        line += draw(st.sampled_from(["", " ", "\t", "\r"]))
    return line


@st.composite
def _plain_entry_line(draw: st.DrawFn, section: str) -> str:
    if section in SYSTEMD_SECTION_KEYS:
        key = draw(st.sampled_from(SYSTEMD_SECTION_KEYS[section]))
    elif section in WEIGHTED_KEYS:
        key = draw(st.sampled_from(WEIGHTED_KEYS[section]))
    else:
        key = draw(st.sampled_from(UNKNOWN_KEYS))
    return f"{key}={draw(_value(key))}"


@st.composite
def generated_case(draw: st.DrawFn) -> dict[str, str]:
    kind = draw(st.sampled_from(KINDS))
    main = kind.capitalize()
    main_lines = [f"{key}={value}" for key, value in REQUIRED[kind] if draw(st.integers(0, 8)) != 4]
    main_lines += draw(st.lists(_entry_line(main), max_size=6))
    sections: list[tuple[str, list[str]]] = [(main, main_lines)]
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from(OTHER_SECTIONS))
        sections.append((name, draw(st.lists(_entry_line(name), max_size=3))))
    sections = draw(st.permutations(sections))
    lines = [line for name, entries in sections for line in (f"[{name}]", *entries)]
    # Rare events test a middle value: hypothesis favours the bounds of a range.
    for _ in range(2):
        if draw(st.integers(0, 12)) == 6:
            lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(NOISE)))
    ending = "\r\n" if draw(st.integers(0, 12)) == 6 else "\n"
    text = ending.join(lines) + draw(st.sampled_from([ending, ending, "", ending * 2]))
    if draw(st.integers(0, 40)) == 20:
        text = "\ufeff" + text
    files = {f"app.{kind}": text}
    # Drop-ins: beside the unit, for every unit of the type, or for a name prefix.
    for _ in range(draw(st.integers(0, 1))):
        folder = draw(st.sampled_from([f"app.{kind}.d", f"{kind}.d", f"app.{kind}.d", f"sub/app.{kind}.d"]))
        section = draw(st.sampled_from([main, main, "Service", "Unit"]))
        entries = draw(st.lists(_entry_line(section), min_size=1, max_size=3))
        files[f"{folder}/{draw(st.sampled_from(['10-a', '20-b']))}.conf"] = "\n".join([f"[{section}]", *entries]) + "\n"
    # sorted: a set's order follows string hashing, which changes from one process to the next.
    for sibling in sorted(draw(st.sets(st.sampled_from(sorted(SIBLINGS)), max_size=3))):
        # Now and then a referenced file sits in a subdirectory, which both sides search.
        where = "sub/" if draw(st.integers(0, 8)) == 4 else ""
        files[where + sibling] = draw(st.sampled_from(SIBLINGS[sibling]))
    return files


def generated_cases() -> list[Case]:
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
    @given(generated_case())
    def collect(files: dict[str, str]) -> None:
        drawn.append(files)

    collect()
    return [_case(files, "hypothesis") for files in drawn]


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guest() -> None:
    """The reference host, booted on demand like the other refhost selftests."""
    from phoenix_compliance import refhost

    if not refhost.is_up():
        refhost.up()
    done = refhost.run_in_guest(["podman", "--version"], user="phoenix", timeout=60)
    assert done.stdout.split()[-1] == GENERATOR_VERSION, f"the guest runs {done.stdout.strip()}"


def _assert_agreement(result: Comparison, what: str) -> None:
    summary = (
        f"{what}: {result.agreed}/{result.compared} cases agree on errors, "
        f"{result.warnings_agreed}/{result.warnings_compared} on the short-name warning"
    )
    print(summary)
    assert not result.disagreements, (
        f"{summary}; the disagreeing cases are saved under {REGRESSIONS.name}/ (fix the lint, not the test):\n"
        + "\n".join(result.disagreements[:10])
    )


@pytest.mark.refhost
class TestAgainstTheRealGenerator:
    def test_reference_unit_mutations(self, guest: None, tmp_path: Path) -> None:
        cases = reference_mutations()
        assert len(cases) > 300
        _assert_agreement(compare(cases, tmp_path), "reference mutations")

    def test_generated_units(self, guest: None, tmp_path: Path) -> None:
        cases = generated_cases()
        assert len(cases) >= GENERATED_CASES * 0.9
        _assert_agreement(compare(cases, tmp_path), "hypothesis cases")

    def test_kept_regressions_still_get_the_same_verdict(self, guest: None) -> None:
        kept = regression_cases()
        if not kept:
            pytest.skip("no regression cases kept yet")
        verdicts = run_generator([case for case, _accepts in kept])
        changed = [case.name for case, accepts in kept if verdicts[case.name].accepts != accepts]
        assert not changed, f"the generator now judges these differently: {changed}"


def test_regressions_replay(tmp_path: Path) -> None:
    """Every case that once disagreed gets the generator's verdict from the lint (no guest needed)."""
    wrong = []
    for number, (case, accepts) in enumerate(regression_cases()):
        findings = lint_case(case, tmp_path / f"{number:05d}")
        if lint_accepts(findings) != accepts:
            wrong.append(
                f"{case.name}: generator {'accepts' if accepts else 'rejects'}, lint {[f.rule_id for f in findings]}"
            )
    assert not wrong, "\n".join(wrong)
