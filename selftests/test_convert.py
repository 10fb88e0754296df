"""`phoenix-compliance convert`: compose files to Quadlet units (phoenix_compliance.convert).

Offline: the stand-in stack's compose file gives the reference units' keys and passes PHX-3.07's
comparison; the guide's stack (selftests/convert/guide-compose.yaml, with literal secrets) gives
no literal value anywhere; each release gets only keys it has; what cannot be converted is
listed with its line; hypothesis-drawn compose files convert to units the lint (stack profile)
finds no error in, whose Exec= reads back as the compose command.

Against the reference guests (marked refhost): the same units go through the real generator of
each release (5.4.2 on trixie, 5.8.6 on forky), every case in one guest command per batch
(test_quadlet_differential's run_generator).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from quadlet_generator import Generator, _case, run_generator
from suite_runner import HOST, Guest, run_suite, verdict

from phoenix_compliance import cli, convert
from phoenix_compliance.facts.files import compose_declarations, quadlet_declarations
from phoenix_compliance.parsers import compose, manifest
from phoenix_compliance.quadlet.readers import SPLIT_ARGS, split_words
from phoenix_compliance.quadlet.unitfile import parse_text
from phoenix_compliance.quadlet.versions import QUADLET_KEYS, keys_for
from phoenix_compliance.quadlet_lint import Finding, StackRules, Version, format_version, lint_paths, parse_version

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


class TestStandInStack:
    def test_gives_the_reference_units_keys(self) -> None:
        conversion = convert_file(STAND_IN, (5, 4, 2), stand_in_options((5, 4, 2)))
        # The optional observability group has a compose file of its own (observability.compose.yaml).
        reference = sorted(p.name for p in REFERENCE_UNITS.iterdir() if p.name != "grafana-loki.container")
        assert sorted(conversion.units) == reference
        assert conversion.gaps == [] and conversion.secrets == [] and conversion.problems == []
        for name in reference:
            if not name.endswith(".container"):
                continue
            ours = entries(conversion.units[name].text())
            theirs = entries((REFERENCE_UNITS / name).read_text())
            # What runs is the same; our healthcheck keeps compose's exec form and timings.
            wanted = {("Container", k) for k in ("ContainerName", "Image", "Pod", "Exec", "Volume")}
            wanted |= {("Unit", "PartOf"), ("Service", "Restart"), ("Install", "WantedBy")}
            assert {e for e in ours if e[:2] in wanted} == {e for e in theirs if e[:2] in wanted}, name
            assert ("Container", "HealthInterval", "5s") in ours
        pod = entries(conversion.units["phoenix-hydra.pod"].text(), "pod")
        reference_pod = entries((REFERENCE_UNITS / "phoenix-hydra.pod").read_text(), "pod")
        assert sorted(e for e in pod if e[0] == "Pod") == sorted(e for e in reference_pod if e[0] == "Pod")

    @pytest.mark.parametrize("version", RELEASES, ids=format_version)
    def test_passes_the_lint(self, version: Version, tmp_path: Path) -> None:
        conversion = convert_file(STAND_IN, version, stand_in_options(version))
        assert lint_errors(conversion.texts(), tmp_path, version, conversion.target) == []

    def test_agrees_with_compose_as_phx_3_07_compares(self) -> None:
        source = compose.load(STAND_IN)
        conversion = convert_file(STAND_IN, (5, 4, 2), stand_in_options((5, 4, 2)))
        pod = parse_text(conversion.units["phoenix-hydra.pod"].text(), "phoenix-hydra.pod")
        for name, service in source.services.items():
            unit = parse_text(conversion.units[f"{name}.container"].text(), f"{name}.container")
            ours = quadlet_declarations(unit, pod)
            ours["ports"] &= compose_declarations(service)["ports"]
            assert ours == compose_declarations(service)


class TestGuideStack:
    def test_no_literal_secret_anywhere(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        for version in RELEASES:
            code = cli.main(
                [
                    "convert",
                    "--podman-version",
                    format_version(version),
                    "--out",
                    str(tmp_path / "u"),
                    "--force",
                    str(GUIDE),
                ]
            )
            assert code == 0
        printed = capsys.readouterr()
        written = "".join(p.read_text() for p in (tmp_path / "u").iterdir())
        for value in GUIDE_SECRETS:
            assert value not in printed.out + printed.err + written
        assert "podman secret create phoenix-hydra-revenue-db-postgres_password -" in printed.err
        assert "printf '%s' \"$POSTGRES_PASSWORD\"" in printed.err

    def test_a_secret_on_a_command_line_or_in_a_label_is_not_written(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "compose.yaml"
        path.write_text(
            "services:\n  app:\n    image: localhost/app:1\n"
            '    command: ["app", "--db-password", "hunter3-lit"]\n'
            '    labels: {"app.token": "glpat-abcdefghijklmnopqrstuv"}\n'
            "    healthcheck:\n      test: [CMD-SHELL, 'check --api-key=k3y-lit']\n"
        )
        assert cli.main(["convert", "--podman-version", "5.8.6", "--out", str(tmp_path / "u"), str(path)]) == 0
        printed = capsys.readouterr()
        written = "".join(p.read_text() for p in (tmp_path / "u").iterdir())
        for value in ("hunter3-lit", "glpat-abcdefghijklmnopqrstuv", "k3y-lit"):
            assert value not in printed.out + printed.err + written
        assert "passes a literal secret (option --db-password) on the command line" in printed.err

    def test_secrets_become_podman_secrets(self) -> None:
        conversion = convert_file(GUIDE, (5, 4, 2))
        db = entries(conversion.units["revenue-db.container"].text())
        assert (
            "Container",
            "Secret",
            "phoenix-hydra-revenue-db-postgres_password,type=env,target=POSTGRES_PASSWORD",
        ) in db
        assert ("Container", "Secret", "phoenix-hydra-db_admin,target=db_admin") in db
        assert ("Container", "Environment", "POSTGRES_USER=phoenix") in db
        names = {secret.name for secret in conversion.secrets}
        assert "phoenix-hydra-phoenix-core-database_url" in names  # a URL with a password in it
        assert "phoenix-hydra-phoenix-core-core_api_token" in names

    @pytest.mark.parametrize(
        ("version", "dependency"), [((5, 4, 2), "revenue-db.service"), ((5, 5, 0), "revenue-db.container")]
    )
    def test_depends_on_in_the_form_the_release_reads(self, version: Version, dependency: str) -> None:
        conversion = convert_file(GUIDE, version)
        core = entries(conversion.units["phoenix-core.container"].text())
        assert ("Unit", "Requires", dependency) in core and ("Unit", "After", dependency) in core
        # service_healthy: the database counts as started once healthy.
        assert ("Container", "Notify", "healthy") in entries(conversion.units["revenue-db.container"].text())

    def test_volumes_labels_and_limits(self) -> None:
        conversion = convert_file(GUIDE, (5, 4, 2))
        core = entries(conversion.units["phoenix-core.container"].text())
        volumes = [value for section, key, value in core if key == "Volume"]
        assert "/etc/localtime:/etc/localtime:ro" in volumes  # system content: never relabelled
        assert any(v.endswith("/selftests/convert/config/core.yaml:/etc/phoenix/core.yaml:ro,Z") for v in volumes)
        assert ("Service", "MemoryMax", str(512 * 1024**2)) in core and ("Service", "CPUQuota", "150%") in core
        assert ("Container", "Image", "ghcr.io/phoenix-hydra/core:2.4.1") in core
        db = entries(conversion.units["revenue-db.container"].text())
        assert ("Container", "Image", "docker.io/library/postgres:16.4") in db
        assert ("Container", "Volume", "phoenix-hydra-db-data.volume:/var/lib/postgresql/data") in db
        volume = entries(conversion.units["phoenix-hydra-db-data.volume"].text(), "volume")
        assert volume == [("Volume", "VolumeName", "phoenix-hydra_db-data")]  # podman-compose's name: data kept
        pod = entries(conversion.units["phoenix-hydra.pod"].text(), "pod")
        assert ("Pod", "ShmSize", str(256 * 1024**2)) in pod

    @pytest.mark.parametrize("version", RELEASES, ids=format_version)
    def test_passes_the_lint(self, version: Version, tmp_path: Path) -> None:
        conversion = convert_file(GUIDE, version)
        assert lint_errors(conversion.texts(), tmp_path, version, conversion.target) == []


class TestReleases:
    @pytest.mark.parametrize("version", [(4, 4), (4, 9), (5, 0), (5, 4, 2), (5, 5), (5, 8, 6)], ids=format_version)
    def test_only_keys_the_release_has(self, version: Version) -> None:
        conversion = convert_file(GUIDE, version)
        for name, unit in conversion.units.items():
            for section, pairs in unit.sections.items():
                if section in QUADLET_KEYS:
                    assert {key for key, _v, _c in pairs} <= keys_for(section, version), (name, section)
        assert any(name.endswith(".pod") for name in conversion.units) == (version >= (5, 0))

    def test_before_pods_each_container_publishes_its_own_ports(self) -> None:
        conversion = convert_file(STAND_IN, (4, 9))
        core = entries(conversion.units["phoenix-core.container"].text())
        assert ("Container", "PublishPort", "8080:8080") in core
        assert not any(key == "Pod" for _s, key, _v in core)

    def test_a_missing_key_is_a_gap_naming_the_release(self) -> None:
        conversion = convert_file(GUIDE, (4, 4))
        gaps = [str(gap) for gap in conversion.gaps]
        assert any("revenue-db: healthcheck: HealthCmd= arrived in Podman 4.5" in gap for gap in gaps)
        # The secret is not written at all rather than written as a literal.
        text = conversion.units["revenue-db.container"].text()
        assert "POSTGRES_PASSWORD" not in text


UNSUPPORTED = """\
name: shop
services:
  web:
    build: .
    ipc: host
    stdin_open: true
    environment:
      - FROM_THE_SHELL
    healthcheck:
      test: ["CMD", "true"]
      start_interval: 2s
    restart: on-failure:3
    volumes:
      - /etc/ssl/certs:/etc/ssl/certs:Z
      - cache:/cache
"""


class TestGaps:
    def test_every_field_not_converted_is_listed_with_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "compose.yaml"
        path.write_text(UNSUPPORTED)
        conversion = convert_file(path, (5, 4, 2))
        gaps = {(gap.line, gap.key) for gap in conversion.gaps}
        assert gaps == {
            (4, "build"),
            (5, "ipc"),
            (6, "stdin_open"),
            (8, "environment.FROM_THE_SHELL"),
            (11, "healthcheck.start_interval"),
            (12, "restart"),
            (14, "volumes"),  # :Z dropped on system content
            (15, "volumes"),  # a named volume not declared at the top level
        }
        web = entries(conversion.units["web.container"].text())
        assert ("Container", "Volume", "/etc/ssl/certs:/etc/ssl/certs") in web
        assert ("Container", "Image", "localhost/shop-web:latest") in web
        assert ("Service", "Restart", "on-failure") in web

    def test_docker_s_socket_becomes_podman_s_and_low_ports_are_named(self, tmp_path: Path) -> None:
        path = tmp_path / "compose.yaml"
        path.write_text(
            "services:\n  ci:\n    image: localhost/ci:1\n    ports: ['53:53/udp']\n"
            "    volumes: [/var/run/docker.sock:/var/run/docker.sock]\n"
        )
        conversion = convert_file(path, (5, 4, 2))
        ci = entries(conversion.units["ci.container"].text())
        assert ("Container", "Volume", "%t/podman/podman.sock:/var/run/docker.sock") in ci
        assert any("below 1024" in note for note in conversion.notes)

    def test_strict_makes_them_an_error_and_the_units_are_still_written(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "compose.yaml"
        path.write_text(UNSUPPORTED)
        out = tmp_path / "units"
        assert cli.main(["convert", "--podman-version", "5.4", "--out", str(out), str(path)]) == 0
        assert cli.main(["convert", "--podman-version", "5.4", "--out", str(out), "--strict", str(path)]) == 1
        assert sorted(p.name for p in out.iterdir()) == ["phoenix.target", "shop.pod", "web.container"]
        err = capsys.readouterr().err
        assert f"{path}:5: service web: ipc: a pod's members share its namespaces; not converted" in err
        assert "Not converted (8)" in err

    def test_an_unreadable_compose_file_is_a_usage_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "compose.yaml"
        path.write_text("a: &a [*a, *a]\n" + "x: [\n")
        assert cli.main(["convert", "--podman-version", "5.4", str(path)]) == 2
        err = capsys.readouterr().err
        assert f"{path}:" in err and "Traceback" not in err


class TestWriting:
    def test_dry_run_prints_units_and_diff_and_writes_nothing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        out = tmp_path / "units"
        out.mkdir()
        (out / "phoenix-core.container").write_text("[Container]\nImage=localhost/old:1\n")
        code = cli.main(
            [
                "convert",
                "--podman-version",
                "5.4.2",
                "--stack",
                str(REFERENCE_STACK),
                "--out",
                str(out),
                "--dry-run",
                str(STAND_IN),
            ]
        )
        assert code == 0
        printed = capsys.readouterr()
        assert "---phoenix-hydra.pod---" in printed.out
        assert "-Image=localhost/old:1" in printed.out and "+Image=localhost/phoenix-standin:1.0" in printed.out
        assert "6 new, 0 unchanged, 1 differing" in printed.err
        assert [p.name for p in out.iterdir()] == ["phoenix-core.container"]

    def test_a_differing_file_is_kept_unless_forced(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out = tmp_path / "units"
        args = ["convert", "--podman-version", "5.4.2", "--stack", str(REFERENCE_STACK), "--out", str(out)]
        assert cli.main([*args, str(STAND_IN)]) == 0
        assert cli.main([*args, str(STAND_IN)]) == 0  # unchanged: nothing to say
        (out / "phoenix.target").write_text("[Unit]\nDescription=mine\n")
        assert cli.main([*args, str(STAND_IN)]) == 1
        assert (out / "phoenix.target").read_text() == "[Unit]\nDescription=mine\n"
        assert "--force replaces it" in capsys.readouterr().err
        assert cli.main([*args, "--force", str(STAND_IN)]) == 0
        assert "replaced" in capsys.readouterr().err
        assert "default.target" in (out / "phoenix.target").read_text()

    def test_several_files_are_merged_in_order(self, tmp_path: Path) -> None:
        override = tmp_path / "override.yaml"
        override.write_text(
            "services:\n  phoenix-core:\n    image: localhost/phoenix-standin:2.0\n"
            "    environment: {LOG_LEVEL: debug}\n"
        )
        source = convert.read_compose([STAND_IN, override])
        conversion = convert.convert(source, stand_in_options((5, 4, 2)))
        core = entries(conversion.units["phoenix-core.container"].text())
        assert ("Container", "Image", "localhost/phoenix-standin:2.0") in core
        assert ("Container", "Environment", "LOG_LEVEL=debug") in core
        assert ("Container", "Exec", "httpd -f -p 8080 -h /www") in core


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


class TestComposeFeatures:
    def test_units_hold_the_resolved_values(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        code, texts = real_world_units(tmp_path)
        assert code == 0, capsys.readouterr().err
        pod = entries(texts["shop.pod"], "pod")
        assert ("Pod", "PublishPort", "9090:80") in pod  # .env beside the first file
        web = entries(texts["web.container"])
        assert ("Container", "Image", "localhost/web:3") in web
        assert ("Container", "Environment", "NEED=yes") in web
        assert ("Container", "Environment", "CACHE_URL=redis://cache:6379") in web  # the default
        assert ("Container", "Environment", "EXTRA=1") in web  # the override's
        # What web extends from common.yml: its environment, restart and healthcheck.
        assert ("Container", "Environment", "MODE=prod") in web
        assert ("Service", "Restart", "always") in web
        assert ("Container", "HealthInterval", "30s") in web
        # The included file's service, its tag substituted.
        assert ("Container", "Image", "docker.io/library/redis:7") in entries(texts["cache.container"])
        assert not any("${" in text for text in texts.values())

    def test_extends_is_resolved_not_a_gap(self, tmp_path: Path) -> None:
        folder = write_files(REAL_WORLD, tmp_path)
        conversion = convert.convert(
            convert.read_compose([folder / "compose.yml", folder / "override.yml"]), convert.Options((5, 4, 2))
        )
        assert [gap.key for gap in conversion.gaps] == ["ipc"]
        assert conversion.problems == []

    def test_env_file_replaces_the_dotenv(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        (tmp_path / "a.env").write_text("WEB_PORT=7070\nNEED=1\n")
        (tmp_path / "b.env").write_text("WEB_TAG=4\n")
        code, texts = real_world_units(
            tmp_path, "--env-file", str(tmp_path / "a.env"), "--env-file", str(tmp_path / "b.env")
        )
        assert code == 0, capsys.readouterr().err
        assert ("Pod", "PublishPort", "7070:80") in entries(texts["shop.pod"], "pod")
        assert ("Container", "Image", "localhost/web:4") in entries(texts["web.container"])
        assert cli.main(["convert", "--env-file", str(tmp_path / "none.env"), str(tmp_path / "compose.yml")]) == 2
        assert "--env-file: " in capsys.readouterr().err

    def test_a_required_variable_unset_is_a_problem_and_not_written(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "empty.env").write_text("")
        code, texts = real_world_units(tmp_path, "--env-file", str(tmp_path / "empty.env"))
        assert code == 0  # the units are written without it, as for every field not converted
        err = capsys.readouterr().err
        compose_file = tmp_path / "compose.yml"
        assert f"{compose_file}:12: required variable NEED is unset: set NEED in .env" in err
        assert f"{compose_file}:12: service web: environment.NEED: podman-compose cannot substitute" in err
        assert not any("NEED" in text for text in texts.values())
        args = ["convert", "--podman-version", "5.4.2", "--strict", "--env-file", str(tmp_path / "empty.env")]
        assert cli.main([*args, str(compose_file)]) == 1

    def test_a_gap_in_the_override_names_its_file_and_line(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        real_world_units(tmp_path)
        assert f"{tmp_path / 'override.yml'}:3: service web: ipc: a pod's members share" in capsys.readouterr().err

    def test_a_dollar_left_after_substitution_reaches_podman_as_it_is(self, tmp_path: Path) -> None:
        path = tmp_path / "compose.yml"
        path.write_text(
            "services:\n  app:\n    image: localhost/app:1\n    environment:\n      A: $$HOME and $${X}\n"
            '    command: ["echo", "$$HOME", "5$$", "${UNSET:-x}"]\n'
        )
        app = parse_text(convert_file(path, (5, 4, 2)).units["app.container"].text(), kind="container")
        # Doubled in the unit, so that systemd, which expands $HOME and ${X} in ExecStart=, does not.
        environment, exec_entry = app.last("Container", "Environment"), app.last("Container", "Exec")
        assert environment is not None and environment.value == '"A=$$HOME and $${X}"'
        assert exec_entry is not None
        assert _literal_exec(split_words(exec_entry.value, SPLIT_ARGS) or []) == ["echo", "$HOME", "5$", "x"]

    @pytest.mark.parametrize("version", RELEASES, ids=format_version)
    def test_every_feature_case_passes_the_lint(self, version: Version, tmp_path: Path) -> None:
        cases = feature_units(version, tmp_path / "cases")
        assert len(cases) >= 30
        for number, texts in enumerate(cases):
            errors = lint_errors(texts, tmp_path / f"u{number}", version, "phoenix.target")
            assert errors == [], (texts, [str(e) for e in errors])


# --------------------------------------------------------------------------
# Drawn compose files
# --------------------------------------------------------------------------

_WORD = st.text(alphabet="ab %$'\"\\:/=-_.1", min_size=1, max_size=8)
_SAFE = st.text(alphabet="abc-_./:=1", min_size=1, max_size=10)
_NAMES = ["web", "db", "cache", "worker"]
_ENV_NAMES = ["LOG_LEVEL", "DB_PASSWORD", "API_TOKEN", "TZ", "MODE"]
_IMAGES = ["busybox", "busybox:1.36", "library/redis:7", "quay.io/org/app:1.2", "localhost/app@sha256:" + "a" * 64]
_BINDS = ["./data", "../shared", "/srv/app", "/etc/localtime", "/run/podman/podman.sock", "~/files"]


@st.composite
def compose_document(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4, unique=True))
    volumes = {"data": None} if draw(st.booleans()) else {}
    network_choices: list[dict[str, Any]] = [
        {},
        {"backend": None},
        {"backend": {"internal": True}, "front": {"driver": "bridge"}},
    ]
    networks = draw(st.sampled_from(network_choices))
    port = iter(range(8000, 8100))
    services: dict[str, Any] = {}
    for index, name in enumerate(names):
        service: dict[str, Any] = {"image": draw(st.sampled_from(_IMAGES))}
        if draw(st.booleans()):
            service["command"] = draw(st.lists(_WORD, min_size=1, max_size=4))
        if draw(st.integers(0, 4)) == 0:
            service["entrypoint"] = draw(st.lists(_SAFE, min_size=1, max_size=2))
        if draw(st.booleans()):
            service["environment"] = {n: draw(_WORD) for n in draw(st.lists(st.sampled_from(_ENV_NAMES), max_size=3))}
        if draw(st.booleans()):
            service["ports"] = [f"{next(port)}:{draw(st.integers(1, 65535))}" for _ in range(draw(st.integers(1, 2)))]
        mounts: list[str] = []
        for _ in range(draw(st.integers(0, 3))):
            source = draw(st.sampled_from([*_BINDS, *volumes]))
            option = draw(st.sampled_from(["", ":ro", ":Z", ":z", ":ro,Z"]))
            mounts.append(f"{source}:/mnt/{len(mounts)}{option}")
        if mounts:
            service["volumes"] = mounts
        if draw(st.booleans()):
            test = draw(
                st.sampled_from(
                    [["CMD", "true"], ["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"], "true", ["NONE"]]
                )
            )
            service["healthcheck"] = {"test": test, "interval": draw(st.sampled_from(["5s", "1m30s"])), "retries": 3}
        if draw(st.booleans()):
            service["restart"] = draw(st.sampled_from(["no", "always", "on-failure", "unless-stopped"]))
        if index and draw(st.booleans()):
            condition = draw(st.sampled_from(["service_started", "service_healthy"]))
            service["depends_on"] = {names[0]: {"condition": condition}}
        extras = draw(
            st.lists(
                st.sampled_from(
                    [
                        "labels",
                        "cap_add",
                        "mem_limit",
                        "cpus",
                        "user",
                        "working_dir",
                        "read_only",
                        "init",
                        "stop_grace_period",
                        "shm_size",
                        "tmpfs",
                        "ipc",
                        "stdin_open",
                        "pids_limit",
                        "stop_signal",
                        "hostname",
                        "dns",
                        "extra_hosts",
                        "network_mode",
                    ]
                ),
                max_size=4,
                unique=True,
            )
        )
        values = {
            "labels": {"tier": draw(_WORD)},
            "cap_add": ["NET_ADMIN"],
            "mem_limit": "256m",
            "cpus": 0.5,
            "user": "1000:1000",
            "working_dir": "/app",
            "read_only": True,
            "init": True,
            "stop_grace_period": "1m30s",
            "shm_size": "64m",
            "tmpfs": ["/run/x"],
            "ipc": "host",
            "stdin_open": True,
            "pids_limit": 100,
            "stop_signal": "SIGINT",
            "hostname": "app",
            "dns": ["192.0.2.53"],
            "extra_hosts": ["db.local:192.0.2.7"],
            "network_mode": "host",
        }
        service.update({key: values[key] for key in extras})
        services[name] = service
    for service in services.values():
        if networks and draw(st.booleans()):
            service["networks"] = sorted(networks)[: draw(st.integers(1, len(networks)))]
    document: dict[str, Any] = {"name": "drawn", "services": services}
    if volumes:
        document["volumes"] = volumes
    if networks:
        document["networks"] = networks
    return document


def drawn_documents() -> list[dict[str, Any]]:
    drawn: list[dict[str, Any]] = []

    # Fixed seed, no shrinking: the same files on every run, judged in one batch.
    @settings(
        max_examples=DRAWN_CASES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(compose_document())
    def collect(document: dict[str, Any]) -> None:
        drawn.append(document)

    collect()
    return drawn


def _literal_exec(words: list[str]) -> list[str]:
    """The words podman receives once systemd has undone the converter's %% and $$."""
    return [word.replace("%%", "%").replace("$$", "$") for word in words]


def _plain(value: str) -> bool:
    # A compose reference ($X, ${X}) is the parser's to substitute (test_compose.py); not compared here.
    return re.search(r"\$(?!\$)[{A-Za-z_]", value.replace("$$", "")) is None


class TestDrawnComposeFiles:
    def test_convert_to_units_the_lint_accepts(self, tmp_path: Path) -> None:
        documents = drawn_documents()
        assert len(documents) >= DRAWN_CASES // 2
        for number, document in enumerate(documents):
            path = tmp_path / f"c{number}" / "compose.yaml"
            path.parent.mkdir()
            path.write_text(yaml.safe_dump(document))
            for version in RELEASES:
                conversion = convert_file(path, version)
                texts = conversion.texts()
                errors = lint_errors(
                    texts, tmp_path / f"c{number}" / format_version(version), version, "phoenix.target"
                )
                assert errors == [], (yaml.safe_dump(document), [str(e) for e in errors])
                for name, service in document["services"].items():
                    unit = parse_text(texts[f"{name}.container"], kind="container")
                    exec_entry = unit.last("Container", "Exec")
                    if "command" in service and all(_plain(w) for w in service["command"]):
                        assert exec_entry is not None
                        meant = [word.replace("$$", "$") for word in service["command"]]  # compose's own escape
                        assert _literal_exec(split_words(exec_entry.value, SPLIT_ARGS) or []) == meant
                    # Environment= reads back (Quadlet splits it as systemd does) as the compose value.
                    read_back = [
                        word
                        for entry in unit.entries_for("Container", "Environment")
                        for word in _literal_exec(split_words(entry.value, SPLIT_ARGS) or [])
                    ]
                    for env_name, value in (service.get("environment") or {}).items():
                        if env_name not in ("DB_PASSWORD", "API_TOKEN") and _plain(value):
                            assert f"{env_name}={value.replace('$$', '$')}" in read_back, (value, read_back)
                        if env_name in ("DB_PASSWORD", "API_TOKEN"):
                            assert f"target={env_name}" in texts[f"{name}.container"]
                            assert all(
                                value not in line
                                for line in texts[f"{name}.container"].splitlines()
                                if env_name in line and "Secret=" not in line
                            )


def drawn_units(version: Version) -> list[dict[str, str]]:
    """The units of every drawn compose file, the stand-in's and the guide's, for one release."""
    import tempfile

    cases = [convert_file(STAND_IN, version, stand_in_options(version)).texts(), convert_file(GUIDE, version).texts()]
    with tempfile.TemporaryDirectory() as folder:
        for number, document in enumerate(drawn_documents()):
            path = Path(folder) / f"c{number}" / "compose.yaml"
            path.parent.mkdir()
            path.write_text(yaml.safe_dump(document))
            cases.append(convert_file(path, version).texts())
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


@pytest.mark.refhost
class TestRealGenerators:
    def test_every_unit_is_accepted(self, refhost_guest_name: str) -> None:
        generator = guest_generator(refhost_guest_name)
        assert_generator_accepts(generator, drawn_units(generator.version), "(drawn, stand-in, guide)")

    def test_the_compose_features_are_accepted(self, refhost_guest_name: str, tmp_path: Path) -> None:
        """The feature cases the guest's podman-compose accepts, and the real-world stack: linted
        (stack profile) and run through the guest's generator."""
        generator = guest_generator(refhost_guest_name)
        units = feature_units(generator.version, tmp_path / "cases")
        errors = [
            str(error)
            for number, texts in enumerate(units)
            for error in lint_errors(texts, tmp_path / f"u{number}", generator.version, "phoenix.target")
        ]
        print(f"compose features at {generator.release}: {len(units)} cases, {len(errors)} lint errors")
        assert errors == []
        assert_generator_accepts(generator, units, "(compose features)")


@pytest.mark.refhost
class TestEndToEnd:
    def test_the_converted_stand_in_stack_is_ready(self, refhost_guest: Guest, tmp_path: Path) -> None:
        """The stand-in compose file converted, installed in place of the reference units and the
        target enabled: every phase READY and PHX-3.07 passing on the converted units."""
        refhost_guest.deploy("quadlet")  # the project folder synced, the reference units running
        done = refhost_guest.run(["podman", "--version"], user="phoenix")
        version = parse_version(done.stdout.split()[-1])
        conversion = convert_file(STAND_IN, version, stand_in_options(version))
        assert conversion.gaps == []
        user = ["systemctl", "--user"]
        try:
            for argv in ([*user, "disable", "--now", "phoenix.target"], [*user, "stop", "phoenix-hydra-pod.service"]):
                refhost_guest.run(argv, user="phoenix", timeout=120)
            for name, text in conversion.texts().items():
                folder = USER_UNITS if name.endswith(".target") else QUADLET_UNITS
                refhost_guest.write(f"{folder}/{name}", text)
            for argv in ([*user, "daemon-reload"], [*user, "enable", "--now", "phoenix.target"]):
                started = refhost_guest.run(argv, user="phoenix", timeout=120)
                assert started.returncode == 0, started.stderr
            result = run_suite(
                tmp_path,
                f"--hosts={HOST}",
                f"--ssh-config={refhost_guest.ssh_config}",
                f"--stack={REFERENCE_STACK}",
                "--health-wait=60",
            )
            parity = {f"test_compose_quadlet_parity[{name}-{HOST}]" for name in compose.load(STAND_IN).services}
            print(
                f"end to end on {refhost_guest.release}: {verdict(result.html)}, PHX-3.07 passed: "
                f"{len(parity & result.passed)}/{len(parity)}"
            )
            assert verdict(result.html) == [HOST, "READY", "READY", "READY", "READY"], result.output[-3000:]
            assert parity <= result.passed, result.output[-3000:]
            assert result.returncode == 0 and not result.failed, result.output[-3000:]
        finally:
            refhost_guest.deploy("quadlet")  # the reference units back (it replaces what differs, restarts)
