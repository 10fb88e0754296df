"""`phoenix-compliance convert`: compose files to Quadlet units (phoenix_compliance.convert).

Offline: the stand-in stack's compose file gives the reference units' keys and passes PHX-3.07's
comparison; the guide's stack (selftests/convert/guide-compose.yaml, with literal secrets) gives
no literal value anywhere; each release gets only keys it has; what cannot be converted is
listed with its line; the compose features of real-world files hold their resolved values.

The drawn compose files are test_convert_drawn.py's; against the reference guests (marked
refhost), test_convert_generators.py. Shared helpers: convert_cases.py, convert_drawn.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from convert_cases import (
    GUIDE,
    GUIDE_SECRETS,
    REAL_WORLD,
    REFERENCE_STACK,
    REFERENCE_UNITS,
    RELEASES,
    STAND_IN,
    convert_file,
    entries,
    feature_units,
    lint_errors,
    real_world_units,
    stand_in_options,
    write_files,
)
from convert_drawn import (
    _literal_exec,
)

from phoenix_compliance import cli, convert
from phoenix_compliance.facts.files import compose_declarations, quadlet_declarations
from phoenix_compliance.parsers import compose
from phoenix_compliance.quadlet.readers import SPLIT_ARGS, split_words
from phoenix_compliance.quadlet.unitfile import parse_text
from phoenix_compliance.quadlet.versions import QUADLET_KEYS, keys_for
from phoenix_compliance.quadlet_lint import Version, format_version


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
