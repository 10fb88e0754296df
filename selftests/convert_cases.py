"""What the convert selftests share: the stand-in stack, the guide's stack and their options, converting and
linting helpers, the real-world compose stack and the compose feature cases, and running units through a
reference guest's generator.
"""

from __future__ import annotations

import json
from pathlib import Path

from quadlet_generator import Generator, _case, run_generator

from phoenix_compliance import cli, convert
from phoenix_compliance.parsers import compose, manifest
from phoenix_compliance.quadlet.unitfile import parse_text
from phoenix_compliance.quadlet_lint import Finding, StackRules, Version, lint_paths, parse_version

REPO = Path(__file__).resolve().parents[1]
STAND_IN = REPO / "fixtures" / "infra" / "podman" / "compose.yaml"
REFERENCE_STACK = REPO / "fixtures" / "stacks" / "reference.yaml"
REFERENCE_UNITS = REPO / "fixtures" / "infra" / "podman" / "systemd"
GUIDE = Path(__file__).resolve().parent / "convert" / "guide-compose.yaml"
RELEASES: tuple[Version, ...] = ((5, 4, 2), (5, 8, 6))
# Every literal secret written in the guide's compose file: none may reach a unit or any output.
GUIDE_SECRETS = ("hunter2-not-real", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "not-a-real-key")
DRAWN_CASES = 300
QUADLET_UNITS = "/home/phoenix/.config/containers/systemd"
USER_UNITS = "/home/phoenix/.config/systemd/user"


def stand_in_options(version: Version) -> convert.Options:
    stack = manifest.load(REFERENCE_STACK)
    return convert.Options(version, stack.target, stack.pod, stack.pod_unit, "%h/phoenix-hydra/infra/podman")


def convert_file(path: Path, version: Version, options: convert.Options | None = None) -> convert.Conversion:
    return convert.convert(convert.read_compose([path]), options or convert.Options(version))


def lint_errors(texts: dict[str, str], folder: Path, version: Version, target: str) -> list[Finding]:
    """Errors of the stack profile (system content the converter leaves unlabelled, the lint
    does not ask to relabel)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    findings = lint_paths([folder], version, StackRules(target=target))
    return [f for f in findings if f.severity == "error"]


def entries(text: str, kind: str = "container") -> list[tuple[str, str, str]]:
    unit = parse_text(text, kind=kind)
    return [(entry.section, entry.key, entry.value) for entry in unit.entries()]


# --------------------------------------------------------------------------
# The compose features of real-world files: substitution, .env, several files, include, extends
# --------------------------------------------------------------------------

# The podman-compose of each reference guest (its compose rules decide what the files mean).
COMPOSE_RELEASES: dict[Version, tuple[int, ...]] = {(5, 4, 2): (1, 3, 0), (5, 8, 6): (1, 6, 0)}

# One stack using every feature at once, as real-world files do; the override is given second.
REAL_WORLD: dict[str, str] = {
    "compose.yml": (
        "name: shop\n"
        "include:\n"
        "  - sub/cache.yml\n"
        "services:\n"
        "  web:\n"
        "    extends:\n"
        "      file: common.yml\n"
        "      service: base\n"
        "    image: ${REGISTRY:-localhost}/web:${WEB_TAG:-2}\n"
        '    ports: ["${WEB_PORT:-8080}:80"]\n'
        "    environment:\n"
        "      NEED: ${NEED:?set NEED in .env}\n"
        "      CACHE_URL: redis://cache:${CACHE_PORT:-6379}\n"
        "    depends_on: [cache]\n"
    ),
    "common.yml": (
        "services:\n"
        "  base:\n"
        "    environment:\n"
        "      MODE: ${MODE:-prod}\n"
        "    restart: unless-stopped\n"
        "    healthcheck:\n"
        '      test: ["CMD", "wget", "-q", "-O-", "http://localhost/"]\n'
        "      interval: 30s\n"
    ),
    "sub/cache.yml": "services:\n  cache:\n    image: docker.io/library/redis:${CACHE_TAG:-7}\n",
    ".env": "WEB_PORT=9090\nWEB_TAG=3\nNEED=yes\n",
    "override.yml": "services:\n  web:\n    ipc: host\n    environment:\n      EXTRA: '1'\n",
}


def write_files(files: dict[str, str], folder: Path) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def real_world_units(folder: Path, *args: str) -> tuple[int, dict[str, str]]:
    """`convert ARGS compose.yml override.yml` on the real-world stack: the exit code and the units."""
    write_files(REAL_WORLD, folder)
    out = folder / "units"
    files = [str(folder / "compose.yml"), str(folder / "override.yml")]
    code = cli.main(["convert", "--podman-version", "5.4.2", "--out", str(out), *args, *files])
    texts = {p.name: p.read_text() for p in out.iterdir()} if out.is_dir() else {}
    return code, texts


def feature_units(version: Version, folder: Path) -> list[dict[str, str]]:
    """The units of each compose feature case (test_compose_differential's) that the podman-compose
    of the release accepts, and of the real-world stack, for one Podman release."""
    from test_compose_differential import feature_cases, judge

    release = COMPOSE_RELEASES.get(version, max(COMPOSE_RELEASES.values()))
    cases = []
    for number, case in enumerate(feature_cases()):
        parsed = judge(case, write_files({}, folder / f"f{number}"), release)
        if not parsed.refused and parsed.services:
            cases.append(convert.convert(parsed, convert.Options(version)).texts())
    real = write_files(REAL_WORLD, folder / "real")
    parsed = compose.load([real / "compose.yml", real / "override.yml"], release=release)
    cases.append(convert.convert(parsed, convert.Options(version)).texts())
    return cases


# --------------------------------------------------------------------------
# The real generators
# --------------------------------------------------------------------------


def guest_generator(guest_name: str) -> Generator:
    from phoenix_compliance import refhost

    done = refhost.run_in_guest(["podman", "--version"], user="phoenix", timeout=60, name=guest_name)
    assert done.returncode == 0, done.stderr
    return Generator(guest_name, parse_version(done.stdout.split()[-1]))


def assert_generator_accepts(generator: Generator, units: list[dict[str, str]], what: str) -> None:
    """Every set of units through the guest's generator (one batch): accepted, each .container's
    service generated, nothing said but the files it loads."""
    cases = list({case.name: case for case in (_case(files, "convert") for files in units)}.values())
    results = run_generator(cases, generator)
    refused = {case.name: results[case.name].stderr for case in cases if not results[case.name].accepts}
    # The generator names each file it loads on stderr; anything else it says is a warning.
    said = {
        case.name: [line for line in results[case.name].stderr if not line.startswith("Loading source unit")]
        for case in cases
    }
    warned = {name: lines for name, lines in said.items() if lines}
    expected = {
        case.name: {n.removesuffix(".container") + ".service" for n in case.files if n.endswith(".container")}
        for case in cases
    }
    missing = {name: expected[name] - set(results[name].services) for name in expected}
    print(
        f"convert {what} at {generator.release} ({generator.guest}): {len(cases) - len(refused)}/{len(cases)} "
        f"cases accepted, {sum(len([n for n in c.files if not n.endswith('.target')]) for c in cases)} Quadlet "
        f"files, {len(warned)} with warnings"
    )
    assert not refused, json.dumps(dict(list(refused.items())[:5]), indent=1)
    assert not any(missing.values()), {k: v for k, v in missing.items() if v}
    assert not warned, json.dumps(dict(list(warned.items())[:5]), indent=1)
