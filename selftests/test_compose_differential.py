"""The compose parser against real podman-compose, each release judged by its own rules.

podman-compose runs in the reference guests (conftest.py ``refhost_guest_name``:
1.3.0 on trixie, 1.6.0 on forky); the parser reads each case at the release the
guest's podman-compose reports. A case is a folder of files, the compose files
given with -f in order, an environment (podman-compose runs under ``env -i`` with
only that) and at most one --env-file. podman-compose accepts a case when
``podman-compose -f ... config`` exits 0; the parser accepts it when no problem
is one podman-compose itself refuses (ComposeProblem.refused). Where both accept,
the normalised view must match: the same services, and for each its image,
ports, volumes and environment (names and values) after substitution. `config`
prints the files merged but before `extends:` is resolved, so a service that
extends another is compared by name only (its merge is the unit tests' subject).

Cases come from four places:

- the compose features the parser follows (substitution in every form, .env and
  --env-file, -f merging, include:, extends:, networks and volumes declared);
- podman-compose's own test files (compose_cases/podman-compose/, see its README);
- files drawn by hypothesis over expressions, environments and .env files (fixed
  seed, bounded count);
- every case that ever disagreed, kept under compose_regressions/ with the
  verdict and view of each release it was judged at (replayed without a guest by
  test_regressions_replay).

All cases go to a guest in one or two exec calls (guest_batches.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from guest_batches import run_batches
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from phoenix_compliance.parsers.compose import ComposeFile, load, port_spec, volume_spec

HERE = Path(__file__).resolve().parent
UPSTREAM = HERE / "compose_cases" / "podman-compose"
REGRESSIONS = HERE / "compose_regressions"
GENERATED_CASES = 400

# podman-compose imported once and forked per case (a new interpreter per case costs
# ten times more): each child runs `podman-compose -f ... config` as the command would,
# in the first file's folder, with only the case's environment.
_SCRIPT = r"""
python3 - "$d" <<'DRIVER'
import os, signal, sys, traceback
d = sys.argv[1]
sys.argv = ["podman-compose"]
import podman_compose
home = os.environ.get("HOME", "/tmp")
for n in sorted(os.listdir(d + "/cases")):
    c = f"{d}/cases/{n}/"
    lines = lambda name: [line for line in open(c + name, encoding="utf-8").read().split("\n") if line]
    args = [a for f in lines("_args") for a in ("-f", c + f)]
    args += [a for f in lines("_envfile") for a in ("--env-file", c + f)]
    out = os.open(d + "/out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    err = os.open(d + "/err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        signal.alarm(20)
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.chdir(os.path.dirname(c + lines("_args")[0]))
        os.environ.clear()
        os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home})
        os.environ.update(dict(v.split("=", 1) for v in lines("_env")))
        sys.argv = ["podman-compose", *args, "config"]
        code = 0
        try:
            podman_compose.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    os.close(out)
    os.close(err)
    _, status = os.waitpid(pid, 0)
    print(f"@@CASE {n} {os.waitstatus_to_exitcode(status)}")
    for line in open(d + "/err", encoding="utf-8", errors="replace").read().splitlines()[-3:]:
        print("@@E " + line)
    for line in open(d + "/out", encoding="utf-8", errors="replace").read().splitlines():
        print("@@O " + line)
DRIVER
"""

Release = tuple[int, ...]
View = dict[str, Any]


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str]
    compose_files: tuple[str, ...]
    environ: dict[str, str]
    env_file: str | None
    origin: str

    def guest_files(self) -> dict[str, str]:
        return {
            **self.files,
            "_args": "".join(f"{name}\n" for name in self.compose_files),
            "_env": "".join(f"{key}={value}\n" for key, value in self.environ.items()),
            "_envfile": f"{self.env_file}\n" if self.env_file else "",
        }

    def record(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "files": self.files,
            "compose_files": list(self.compose_files),
            "environ": self.environ,
            "env_file": self.env_file,
        }


def make_case(
    files: dict[str, str],
    origin: str,
    compose_files: tuple[str, ...] = ("compose.yml",),
    environ: dict[str, str] | None = None,
    env_file: str | None = None,
) -> Case:
    environ = environ or {}
    key = json.dumps([files, compose_files, environ, env_file], sort_keys=True)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return Case(f"{origin.split(':', 1)[0]}-{digest}", files, compose_files, environ, env_file, origin)


@dataclass
class Said:
    """What podman-compose said of a case: its exit code, last stderr lines and the merged file."""

    exit_code: int
    stderr: list[str] = field(default_factory=list)
    view: View | None = None

    @property
    def accepts(self) -> bool:
        return self.exit_code == 0


# --------------------------------------------------------------------------
# Normalised views: what both sides are compared on
# --------------------------------------------------------------------------


def _ports(items: Any) -> list[list[Any]]:
    found: list[list[Any]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            published = item.get("published")
            found.append(
                [
                    item.get("host_ip"),
                    None if published in (None, "") else int(published),
                    int(item["target"]),
                    item.get("protocol") or "tcp",
                ]
            )
        else:
            mappings, _problems = port_spec(str(item))
            found += [[m.host_ip, m.host_port, m.container_port, m.protocol] for m in mappings]
    return sorted(found, key=repr)


def _volumes(items: Any) -> list[list[Any]]:
    found: list[list[Any]] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            found.append([item.get("source") or None, item.get("target")])
        elif isinstance(item, str):
            mount, _problems = volume_spec(item)
            found.append([mount.source, mount.target] if mount else [item, None])
    return sorted(found, key=repr)


def _environment(value: Any) -> dict[str, str | None]:
    if isinstance(value, dict):
        return {str(k): None if v is None else str(v) for k, v in value.items()}
    if isinstance(value, list):
        pairs = [str(item).partition("=") for item in value]
        return {name: (rest if equals else None) for name, equals, rest in pairs}
    return {}


def their_view(merged: Any) -> View:
    services = merged.get("services") if isinstance(merged, dict) else None
    view: View = {}
    for name, body in (services or {}).items():
        if not isinstance(body, dict) or "profiles" in body:
            continue
        if "extends" in body:
            view[name] = "extends"
            continue
        view[name] = {
            "image": None if body.get("image") is None else str(body["image"]),
            "ports": _ports(body.get("ports")),
            "volumes": _volumes(body.get("volumes")),
            "environment": _environment(body.get("environment")),
        }
    return view


def our_view(parsed: ComposeFile, theirs: View) -> View:
    view: View = {}
    for name, service in parsed.services.items():
        if "profiles" in service.key_lines:
            continue
        if theirs.get(name) == "extends":
            view[name] = "extends"
            continue
        view[name] = {
            "image": service.image,
            "ports": sorted(([p.host_ip, p.host_port, p.container_port, p.protocol] for p in service.ports), key=repr),
            "volumes": sorted(([v.source, v.target] for v in service.volumes), key=repr),
            "environment": {var.name: var.value for var in service.environment},
        }
    return view


def judge(case: Case, directory: Path, release: Release) -> ComposeFile:
    for name, text in case.files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
    return load(
        [directory / name for name in case.compose_files],
        environ=case.environ,
        env_files=[directory / case.env_file] if case.env_file else (),
        release=release,
    )


def differences(case: Case, parsed: ComposeFile, said: Said) -> list[str]:
    if said.accepts != (not parsed.refused):
        theirs = "accepts" if said.accepts else "refuses"
        ours = "refuses" if parsed.refused else "accepts"
        return [f"podman-compose {theirs}, the parser {ours}: {[str(p) for p in parsed.problems[:2]]}"]
    if not said.accepts or said.view is None:
        return []
    view = our_view(parsed, said.view)
    return [
        f"service {name}: podman-compose {said.view.get(name)}, the parser {view.get(name)}"
        for name in sorted(set(view) | set(said.view))
        if view.get(name) != said.view.get(name)
    ]


# --------------------------------------------------------------------------
# Running cases in a guest
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PodmanCompose:
    guest: str
    version: Release

    @property
    def release(self) -> str:
        return ".".join(str(part) for part in self.version)


class _TaggedLoader(yaml.SafeLoader):
    """1.6 prints the merged file with the !reset and !override tags it read."""


_TaggedLoader.add_multi_constructor(
    "!",
    lambda loader, _suffix, node: (
        loader.construct_mapping(node)
        if isinstance(node, yaml.MappingNode)
        else loader.construct_sequence(node)
        if isinstance(node, yaml.SequenceNode)
        else loader.construct_scalar(node)
    ),
)


def run_podman_compose(cases: list[Case], tool: PodmanCompose) -> dict[str, Said]:
    answers = run_batches(_SCRIPT, [case.guest_files() for case in cases], tool.guest)
    results: dict[str, Said] = {}
    for case, (code, lines) in zip(cases, answers, strict=True):
        said = results[case.name] = Said(code, [line[4:] for line in lines if line.startswith("@@E ")])
        if said.accepts:
            merged = "\n".join(line[4:] for line in lines if line.startswith("@@O "))
            said.view = their_view(yaml.load(merged, _TaggedLoader))
    return results


@dataclass
class Comparison:
    compared: int = 0
    agreed: int = 0
    accepted: int = 0
    disagreements: list[str] = field(default_factory=list)


def compare(cases: list[Case], tmp_path: Path, tool: PodmanCompose, save: bool = True) -> Comparison:
    unique = list({case.name: case for case in cases}.values())
    verdicts = run_podman_compose(unique, tool)
    result = Comparison()
    for number, case in enumerate(unique):
        said = verdicts[case.name]
        directory = tmp_path / f"{number:05d}"
        directory.mkdir()
        parsed = judge(case, directory, tool.version)
        result.compared += 1
        result.accepted += said.accepts
        wrong = differences(case, parsed, said)
        if not wrong:
            result.agreed += 1
            continue
        result.disagreements.append(
            f"{case.name} ({case.origin}): {'; '.join(wrong)}; podman-compose said {said.stderr[-2:]}"
        )
        if save:
            save_regression(case, said, tool)
    return result


def save_regression(case: Case, said: Said, tool: PodmanCompose) -> Path:
    """Keep a case with what this release said (added to what other releases said)."""
    REGRESSIONS.mkdir(exist_ok=True)
    path = REGRESSIONS / f"{case.name}.json"
    record = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {**case.record(), "verdicts": {}}
    record["verdicts"].setdefault(
        tool.release, {"accepts": said.accepts, "exit": said.exit_code, "stderr": said.stderr, "view": said.view}
    )
    record["verdicts"] = dict(sorted(record["verdicts"].items()))
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def regression_cases() -> list[tuple[Case, dict[str, Said]]]:
    found = []
    for path in sorted(REGRESSIONS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        case = Case(
            path.stem,
            record["files"],
            tuple(record["compose_files"]),
            record["environ"],
            record["env_file"],
            record["origin"],
        )
        said = {
            release: Said(verdict["exit"], verdict["stderr"], verdict["view"])
            for release, verdict in record["verdicts"].items()
        }
        found.append((case, said))
    return found


# --------------------------------------------------------------------------
# Cases: the features
# --------------------------------------------------------------------------


def _service(body: str, top: str = "") -> str:
    return "services:\n  app:\n    image: localhost/app:1\n" + body + top


FEATURES: list[tuple[str, dict[str, str], dict[str, Any]]] = [
    ("default when unset", {"compose.yml": _service('    ports: ["${X_PORT:-25}:25"]\n')}, {}),
    (
        "default when set",
        {"compose.yml": _service('    ports: ["${X_PORT:-25}:25"]\n')},
        {"environ": {"X_PORT": "2525"}},
    ),
    ("default when empty", {"compose.yml": _service('    ports: ["${X_PORT:-25}:25"]\n')}, {"environ": {"X_PORT": ""}}),
    (
        "dash default when empty",
        {"compose.yml": _service('    ports: ["1${X_PORT-25}:25"]\n')},
        {"environ": {"X_PORT": ""}},
    ),
    ("dash default when unset", {"compose.yml": _service('    ports: ["${X_PORT-25}:25"]\n')}, {}),
    ("required unset", {"compose.yml": _service("    environment:\n      A: ${NEED:?set NEED}\n")}, {}),
    (
        "required set",
        {"compose.yml": _service("    environment:\n      A: ${NEED:?set NEED}\n")},
        {"environ": {"NEED": "y"}},
    ),
    ("required empty", {"compose.yml": _service("    environment:\n      A: ${NEED:?}\n")}, {"environ": {"NEED": ""}}),
    ("question empty", {"compose.yml": _service("    environment:\n      A: x${NEED?}\n")}, {"environ": {"NEED": ""}}),
    ("question unset", {"compose.yml": _service("    environment:\n      A: x${NEED?no}\n")}, {}),
    ("plus set", {"compose.yml": _service("    environment:\n      A: x${V:+alt}\n")}, {"environ": {"V": "1"}}),
    ("plus unset", {"compose.yml": _service("    environment:\n      A: x${V:+alt}\n")}, {}),
    ("plain plus empty", {"compose.yml": _service("    environment:\n      A: x${V+alt}\n")}, {"environ": {"V": ""}}),
    ("nested default", {"compose.yml": _service("    environment:\n      A: ${V:-${W:-w}}\n")}, {}),
    ("dollar dollar", {"compose.yml": _service("    environment:\n      A: $$HOME and $${X}\n")}, {}),
    ("bare name", {"compose.yml": _service("    environment:\n      A: $V/x and $V\n")}, {"environ": {"V": "v"}}),
    ("bare unset", {"compose.yml": _service("    environment:\n      A: a$V-b\n")}, {}),
    ("lone dollar", {"compose.yml": _service("    environment:\n      A: price $5 and $\n")}, {}),
    ("empty braces", {"compose.yml": _service("    environment:\n      A: x${}\n")}, {}),
    ("digit name", {"compose.yml": _service("    environment:\n      A: x${1X}\n")}, {}),
    ("unclosed brace", {"compose.yml": _service("    environment:\n      A: x${V\n")}, {"environ": {"V": "v"}}),
    ("unknown operator", {"compose.yml": _service("    environment:\n      A: x${V:x}\n")}, {"environ": {"V": "v"}}),
    (
        "service env as variables",
        {"compose.yml": _service("    environment:\n      TAG: '7'\n      B: ${TAG}\n").replace("app:1", "app:${TAG}")},
        {},
    ),
    ("service env list form", {"compose.yml": _service("    environment:\n      - TAG=7\n      - B=${TAG}\n")}, {}),
    (
        "environment beats service env",
        {"compose.yml": _service("    environment:\n      TAG: '7'\n      B: ${TAG}\n")},
        {"environ": {"TAG": "9"}},
    ),
    ("volume default", {"compose.yml": _service("    volumes:\n      - ${DATA:-/mnt/data}:/data\n")}, {}),
    (
        "volume broken before substitution",
        {"compose.yml": _service("    volumes:\n      - ${DATA:-/mnt/x:y}:/data\n")},
        {},
    ),
    ("dotenv", {"compose.yml": _service('    ports: ["${P}:80"]\n'), ".env": "P=8080\n"}, {}),
    (
        "dotenv quotes and export",
        {
            "compose.yml": _service("    environment:\n      A: ${A}\n      B: ${B}\n      C: ${C}\n"),
            ".env": "export A='x y'\nB=\"q\\tz\" # c\nC=v #c\n",
        },
        {},
    ),
    (
        "dotenv interpolates",
        {"compose.yml": _service("    environment:\n      A: ${B}\n"), ".env": "A=1\nB=${A}-${Z:-z}\n"},
        {},
    ),
    (
        "environment beats dotenv",
        {"compose.yml": _service('    ports: ["${P}:80"]\n'), ".env": "P=8080\n"},
        {"environ": {"P": "9090"}},
    ),
    (
        "env file replaces dotenv",
        {
            "compose.yml": _service("    environment:\n      A: ${A}\n      B: ${B}\n"),
            ".env": "A=dot\n",
            "alt.env": "B=alt\n",
        },
        {"env_file": "alt.env"},
    ),
    (
        "dotenv key without value",
        {"compose.yml": _service("    environment:\n      A: ${A-unset}\n"), ".env": "A\n"},
        {},
    ),
    (
        "override file",
        {
            "compose.yml": _service(
                '    ports: ["8080:80"]\n    environment:\n      A: "1"\n    volumes:\n      - ./a:/a\n'
            ),
            "override.yml": (
                'services:\n  app:\n    image: localhost/app:2\n    ports: ["8443:443"]\n'
                "    environment:\n      B: '2'\n    volumes:\n      - ./b:/a\n      - ./c:/c\n"
            ),
        },
        {"compose_files": ("compose.yml", "override.yml")},
    ),
    (
        "override adds a service",
        {"compose.yml": _service(""), "o.yml": "services:\n  db:\n    image: localhost/db:1\n"},
        {"compose_files": ("compose.yml", "o.yml")},
    ),
    (
        "override type clash",
        {"compose.yml": _service('    ports: ["8080:80"]\n'), "o.yml": "services:\n  app:\n    ports: 8080\n"},
        {"compose_files": ("compose.yml", "o.yml")},
    ),
    (
        "override list environment over mapping",
        {
            "compose.yml": _service("    environment:\n      A: '1'\n"),
            "o.yml": "services:\n  app:\n    environment:\n      - A=2\n      - B=3\n",
        },
        {"compose_files": ("compose.yml", "o.yml")},
    ),
    (
        "override substitutes",
        {"compose.yml": _service(""), "o.yml": 'services:\n  app:\n    ports: ["${P:-25}:25"]\n'},
        {"compose_files": ("compose.yml", "o.yml")},
    ),
    (
        "include",
        {
            "compose.yml": _service("", "include:\n  - sub/other.yml\n"),
            "sub/other.yml": "services:\n  other:\n    image: localhost/o:1\n",
        },
        {},
    ),
    (
        "include from include",
        {
            "compose.yml": _service("", "include:\n  - sub/a.yml\n"),
            "sub/a.yml": "include:\n  - b.yml\nservices:\n  a:\n    image: localhost/a:1\n",
            "sub/b.yml": "services:\n  b:\n    image: localhost/b:1\n",
            "b.yml": "services:\n  b2:\n    image: localhost/b2:1\n",
        },
        {},
    ),
    (
        "include long form",
        {
            "compose.yml": _service("", "include:\n  - path: other.yml\n"),
            "other.yml": "services:\n  other:\n    image: localhost/o:1\n",
        },
        {},
    ),
    ("include missing", {"compose.yml": _service("", "include:\n  - missing.yml\n")}, {}),
    (
        "extends same file",
        {
            "compose.yml": (
                "services:\n  base:\n    image: localhost/b:1\n    environment:\n      A: '1'\n"
                "  app:\n    extends: base\n    environment:\n      B: '2'\n"
            )
        },
        {},
    ),
    (
        "extends missing service",
        {"compose.yml": "services:\n  app:\n    image: localhost/a:1\n    extends: nothere\n"},
        {},
    ),
    (
        "extends file",
        {
            "compose.yml": "services:\n  app:\n    extends:\n      file: common.yml\n      service: base\n",
            "common.yml": "services:\n  base:\n    image: localhost/b:${T:-1}\n",
        },
        {},
    ),
    (
        "extends missing file",
        {
            "compose.yml": (
                "services:\n  app:\n    image: localhost/a:1\n    extends:\n      file: gone.yml\n      service: base\n"
            )
        },
        {},
    ),
    (
        "extends file from an override in a folder",
        {
            "compose.yml": "services:\n  app:\n    image: localhost/a:1\n",
            "sub/o.yml": "services:\n  app:\n    extends:\n      file: common.yml\n      service: base\n",
            # Only beside the override: 1.6 finds it there, earlier releases look beside compose.yml.
            "sub/common.yml": "services:\n  base:\n    image: localhost/sub:1\n",
        },
        {"compose_files": ("compose.yml", "sub/o.yml")},
    ),
    ("network declared", {"compose.yml": _service("    networks: [front]\n", "networks:\n  front: {}\n")}, {}),
    ("network missing", {"compose.yml": _service("    networks: [front]\n")}, {}),
    (
        "network missing mapping form",
        {"compose.yml": _service("    networks:\n      front:\n        aliases: [a]\n", "networks:\n  back: {}\n")},
        {},
    ),
    ("two networks no default", {"compose.yml": _service("", "networks:\n  a: {}\n  b: {}\n")}, {}),
    (
        "network via variable",
        {"compose.yml": _service('    networks: ["${NET:-front}"]\n', "networks:\n  front: {}\n")},
        {},
    ),
    ("named volume undeclared", {"compose.yml": _service("    volumes:\n      - data:/data\n")}, {}),
    (
        "named volume declared",
        {"compose.yml": _service("    volumes:\n      - data:/data\n", "volumes:\n  data: {}\n")},
        {},
    ),
    ("bad mount option", {"compose.yml": _service("    volumes:\n      - ./a:/a:bogus\n")}, {}),
    ("services a list", {"compose.yml": "services:\n  - app\n"}, {}),
    ("no services", {"compose.yml": "volumes:\n  data: {}\n"}, {}),
    ("service null", {"compose.yml": "services:\n  app:\n"}, {}),
    ("top level list", {"compose.yml": "- a\n"}, {}),
    ("variable in key", {"compose.yml": _service("    environment:\n      ${K:-KEY}: v\n")}, {}),
    ("profiles", {"compose.yml": _service("  dbg:\n    image: localhost/d:1\n    profiles: [debug]\n")}, {}),
    # .env through python-dotenv (podman-compose's dotenv_values), where a hand-written reader drifted.
    (
        "dotenv CR line ends",
        {"compose.yml": _service("    environment:\n      A: ${X}\n      B: ${Y}\n"), ".env": "X=1\rY=2\r"},
        {},
    ),
    (
        "dotenv unclosed quote",
        {"compose.yml": _service("    environment:\n      A: ${X}\n      B: ${Y}\n"), ".env": 'X="open\nY=2\n'},
        {},
    ),
    # command: split by shlex before substitution; an unclosed quote stops podman-compose.
    ("command unclosed quote", {"compose.yml": _service('    command: "sh -c \'echo"\n')}, {}),
    (
        "command with a spaced variable",
        {"compose.yml": _service("    command: echo ${MSG}\n")},
        {"environ": {"MSG": "a b"}},
    ),
]


def feature_cases() -> list[Case]:
    return [make_case(files, f"feature: {what}", **options) for what, files, options in FEATURES]


def upstream_cases() -> list[Case]:
    """Each compose file of podman-compose's own tests, with the files of its test folder."""
    cases = []
    for folder in sorted(path for path in UPSTREAM.iterdir() if path.is_dir()):
        files = {
            str(path.relative_to(folder)): path.read_text(encoding="utf-8")
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
        composes = [name for name in files if name.endswith((".yml", ".yaml")) and "compose" in Path(name).name]
        for name in composes:
            cases.append(make_case(files, f"upstream: {folder.name}/{name}", compose_files=(name,)))
    multi = UPSTREAM / "multicompose"
    files = {str(p.relative_to(multi)): p.read_text(encoding="utf-8") for p in sorted(multi.rglob("*")) if p.is_file()}
    cases.append(
        make_case(files, "upstream: multicompose -f d1 -f d2", ("d1/docker-compose.yml", "d2/docker-compose.yml"))
    )
    return cases


# --------------------------------------------------------------------------
# Cases: drawn by hypothesis
# --------------------------------------------------------------------------

_NAMES = ["A", "PORT", "TAG", "DATA", "E"]
_VALUES = ["", "1", "8080", "x y", "/srv/d", "a:b", "$$v", "${A}"]
_name = st.sampled_from(_NAMES)


@st.composite
def _expression(draw: st.DrawFn) -> str:
    name, other = draw(_name), draw(_name)
    word = draw(st.sampled_from(["", "w", "80", "/p", "${" + other + "}", "$" + other, "x}"]))
    form = draw(
        st.sampled_from(
            [
                "${N}", "$N", "${N:-W}", "${N-W}", "${N:?W}", "${N?W}", "${N:+W}", "${N+W}",
                "$$N", "${N:-${M:-W}}", "${}", "${N", "$", "W", "${N:W}", "${N}W",
            ]
        )
    )  # fmt: skip
    return form.replace("N", name).replace("M", other).replace("W", word)


@st.composite
def drawn_case(draw: st.DrawFn) -> Case:
    lines = ["services:", "  app:", f"    image: localhost/app:{draw(_expression())}"]
    ports = draw(st.lists(_expression(), max_size=2))
    if ports:
        lines.append("    ports:")
        lines += [f"      - {json.dumps(f'{p}:80')}" for p in ports]
    volumes = draw(st.lists(_expression(), max_size=2))
    if volumes:
        lines.append("    volumes:")
        lines += [f"      - {json.dumps(f'{v}/x:/data')}" for v in volumes]
    environment = draw(st.dictionaries(st.sampled_from(["A", "B", "TAG", "K"]), _expression(), max_size=3))
    if environment:
        as_list = draw(st.booleans())
        lines.append("    environment:")
        lines += [
            f"      - {json.dumps(f'{k}={v}')}" if as_list else f"      {k}: {json.dumps(v)}"
            for k, v in environment.items()
        ]
    files = {"compose.yml": "\n".join(lines) + "\n"}
    dotenv = draw(st.dictionaries(_name, st.sampled_from(_VALUES), max_size=3))
    if dotenv:
        files[".env"] = "".join(f"{k}={v}\n" for k, v in dotenv.items())
    environ = draw(st.dictionaries(_name, st.sampled_from([v for v in _VALUES if "$" not in v]), max_size=3))
    return make_case(files, "hypothesis: drawn", environ=environ)


def drawn_cases(count: int = GENERATED_CASES) -> list[Case]:
    found: list[Case] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(drawn_case())
    def collect(case: Case) -> None:
        found.append(case)

    collect()
    return found


# --------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tool(refhost_guest_name: str) -> PodmanCompose:
    """podman-compose of a reference guest, at the version it reports."""
    from phoenix_compliance import refhost

    done = refhost.run_in_guest(["podman-compose", "version"], user="phoenix", timeout=60, name=refhost_guest_name)
    line = next(line for line in done.stdout.splitlines() if line.startswith("podman-compose version"))
    return PodmanCompose(refhost_guest_name, tuple(int(part) for part in line.split()[-1].split(".")))


@functools.cache
def all_cases() -> list[Case]:
    return feature_cases() + upstream_cases() + drawn_cases() + [case for case, _said in regression_cases()]


@pytest.mark.refhost
def test_the_parser_agrees_with_podman_compose(tool: PodmanCompose, tmp_path: Path) -> None:
    cases = all_cases()
    result = compare(cases, tmp_path, tool)
    print(
        f"podman-compose {tool.release}: {result.agreed}/{result.compared} cases agree"
        f" ({result.accepted} accepted by podman-compose)"
    )
    assert not result.disagreements, "\n".join(result.disagreements[:20])


def test_regressions_replay(tmp_path: Path) -> None:
    """Every kept case gets, at each release it was judged at, what that podman-compose said."""
    wrong = []
    for number, (case, verdicts) in enumerate(regression_cases()):
        for release, said in verdicts.items():
            directory = tmp_path / f"{number:05d}-{release}"
            directory.mkdir()
            parsed = judge(case, directory, tuple(int(part) for part in release.split(".")))
            wrong += [f"{case.name} at {release}: {what}" for what in differences(case, parsed, said)]
    assert not wrong, "\n".join(wrong)


def test_cases_are_many_and_distinct() -> None:
    cases = all_cases()
    assert len({case.name for case in cases}) > 300
    assert {case.origin.split(":")[0] for case in cases} >= {"feature", "upstream", "hypothesis"}
