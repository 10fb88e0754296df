"""Quadlet cases for the generator differential: mutations of the reference units, and unit files drawn by
hypothesis over sections, keys and values (fixed seed, bounded count).
"""

from __future__ import annotations

import functools

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from quadlet_generator import (
    REFERENCE_DIR,
    Case,
    _case,
)

from phoenix_compliance.quadlet.versions import (
    generator_reads,
    keys_for,
)
from phoenix_compliance.quadlet_lint import QUADLET_KEYS, Version

# Hypothesis draws this many cases (fixed seed; some repeat and are judged once): with
# the mutations, over two thousand cases in well under a minute of guest time.
GENERATED_CASES = 2000


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
