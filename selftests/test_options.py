"""The plugin as installed: registered through its pytest11 entry point, every option in both
forms (`--opt VALUE`, `--opt=VALUE`) with paths outside the rootdir, the ini settings.

These runs give no `-p phoenix_compliance.plugin`: the plugin comes from the entry point,
as in any folder where the package is installed (reinstall it, `pip install -e .`, after
pyproject.toml changes)."""

from __future__ import annotations

import json
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest

from conftest import REPO
from phoenix_compliance.run.options import OPTIONS

pytest_plugins = ["pytester"]

# Writes the suite's options, as the plugin resolved them, where PHX_DUMP says; one check, so
# that the run has results to write.
DUMP = """
import json, os

from phoenix_compliance import check

@check("T-1.01", phase="1", severity="low", title="a check", remediation="none")
def test_a_check():
    pass

def test_dump(pytestconfig):
    dests = {dests!r}
    values = {{dest: getattr(pytestconfig.option, dest) for dest in dests}}
    values["rootdir"] = str(pytestconfig.rootpath)
    with open(os.environ["PHX_DUMP"], "w") as out:
        json.dump(values, out)
"""


def dump_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_dump=DUMP.format(dests=[option.dest for option in OPTIONS]))


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that is not the pytester run's rootdir nor below it, with a file for every option."""
    folder = tmp_path_factory.mktemp("outside")
    shutil.copy(REPO / "fixtures" / "stacks" / "reference.yaml", folder / "stack.yaml")
    shutil.copy(REPO / "fixtures" / "infra" / "podman" / "compose.yaml", folder / "compose.yaml")
    shutil.copytree(REPO / "fixtures" / "infra" / "podman" / "systemd", folder / "systemd")
    shutil.copytree(REPO / "fixtures" / "infra" / "podman", folder / "infra")
    (folder / "waivers.yaml").write_text("waivers: []\n")
    (folder / "app.env").write_text("TZ=UTC\n")
    (folder / "previous.json").write_text(json.dumps({"format": "phoenix-compliance/1", "results": []}))
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(folder / "id_ed25519")],
        check=True,
        timeout=30,
    )
    (folder / "reports").mkdir()
    return folder


def values_for(folder: Path) -> dict[str, str]:
    """A value for every option that takes one, paths all in the outside folder."""
    return {
        "--phase": "1",
        "--stack": str(folder / "stack.yaml"),
        "--podman-user": "phoenix",
        "--compose-file": str(folder / "compose.yaml"),
        "--env-file": str(folder / "app.env"),
        "--quadlet-dir": str(folder / "systemd"),
        "--source-dir": str(folder / "infra"),
        "--health-wait": "5",
        "--waivers": str(folder / "waivers.yaml"),
        "--signoff": "Ada Lovelace",
        "--sign-key": str(folder / "id_ed25519"),
        "--compare": str(folder / "previous.json"),
        "--json": str(folder / "run.json"),
        "--prometheus": str(folder / "run.prom"),
        "--reports-dir": str(folder / "reports"),
        "--probe-timeout": "7",
        "--shard": "1/1",
        "--probe-concurrency": "3",
    }


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    points = {point.name: point.value for point in metadata.entry_points(group="pytest11")}
    assert points.get("phoenix_compliance.plugin") == "phoenix_compliance.plugin", (
        "the installed package has no pytest11 entry point for the plugin: reinstall it (pip install -e .)"
    )


class TestBothForms:
    def test_every_option_that_takes_a_value_is_listed_here(self) -> None:
        taking = {option.flag for option in OPTIONS if option.kind != "flag"}
        assert taking == set(values_for(Path("/x")))

    @pytest.mark.parametrize("form", ["space", "equals"])
    def test_every_option_arrives_with_its_value(
        self, pytester: pytest.Pytester, outside: Path, form: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dump_file(pytester)
        monkeypatch.setenv("PHX_DUMP", str(outside / "dump.json"))
        args: list[str] = ["--allow-restart"]
        for flag, value in values_for(outside).items():
            args += [flag, value] if form == "space" else [f"{flag}={value}"]
        result = pytester.runpytest_subprocess(*args)
        assert result.ret == 0, result.stdout.str() + result.stderr.str()
        seen = json.loads((outside / "dump.json").read_text())
        by_flag = {option.flag: option for option in OPTIONS}
        for flag, value in values_for(outside).items():
            expected: object = {"seconds": float, "count": int}.get(by_flag[flag].kind, str)(value)
            assert seen[by_flag[flag].dest] == ([expected] if by_flag[flag].repeat else expected), flag
        assert seen["phx_allow_restart"] is True
        assert (outside / "run.json").is_file() and (outside / "run.prom").is_file()
        assert list((outside / "reports").glob("readiness-*.html"))
        assert not (pytester.path / "reports").exists()

    def test_a_tilde_written_after_the_equals_sign_is_the_home_folder(
        self, pytester: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dump_file(pytester)
        monkeypatch.setenv("PHX_DUMP", str(outside / "dump.json"))
        monkeypatch.setenv("HOME", str(outside))
        result = pytester.runpytest_subprocess("--sign-key=~/id_ed25519", f"--reports-dir={outside / 'reports'}")
        assert result.ret == 0, result.stdout.str() + result.stderr.str()
        assert json.loads((outside / "dump.json").read_text())["phx_sign_key"] == str(outside / "id_ed25519")


class TestIniSettings:
    def test_every_setting_applies_with_paths_relative_to_the_ini_file(
        self, pytester: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dump_file(pytester)
        monkeypatch.setenv("PHX_DUMP", str(outside / "dump.json"))
        # The ini file lives in the outside folder: relative paths are read from there.
        relative = {flag: Path(value).name for flag, value in values_for(outside).items()}
        ini = {option.ini_name: relative[option.flag] for option in OPTIONS if option.ini and option.kind != "flag"}
        ini["phoenix_allow_restart"] = "true"
        lines = "\n".join(f"{name} = {value}" for name, value in ini.items())
        (outside / "pytest.ini").write_text(f"[pytest]\n{lines}\n")
        result = pytester.runpytest_subprocess("-c", str(outside / "pytest.ini"), f"--rootdir={pytester.path}")
        assert result.ret == 0, result.stdout.str() + result.stderr.str()
        seen = json.loads((outside / "dump.json").read_text())
        for option in OPTIONS:
            if option.ini and option.kind in ("path", "text"):
                value = values_for(outside)[option.flag]
                assert seen[option.dest] == ([value] if option.repeat else value), option.ini_name
            elif option.kind == "seconds":
                assert seen[option.dest] == float(values_for(outside)[option.flag]), option.ini_name
            elif option.kind == "count":
                assert seen[option.dest] == int(values_for(outside)[option.flag]), option.ini_name
        assert seen["phx_allow_restart"] is True
        assert seen["phx_signoff"] is None and seen["phx_compare"] is None  # per run: no setting

    def test_the_command_line_overrides_a_setting(
        self, pytester: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dump_file(pytester)
        monkeypatch.setenv("PHX_DUMP", str(outside / "dump.json"))
        pytester.makeini(f"[pytest]\nphoenix_stack = {outside / 'stack.yaml'}\nphoenix_probe_timeout = 9\n")
        other = outside / "other.yaml"
        shutil.copy(outside / "stack.yaml", other)
        result = pytester.runpytest_subprocess(f"--stack={other}")
        assert result.ret == 0, result.stdout.str() + result.stderr.str()
        seen = json.loads((outside / "dump.json").read_text())
        assert seen["phx_stack"] == str(other)
        assert seen["phx_probe_timeout"] == 9.0

    def test_a_pyproject_table_works_as_pytest_html_settings_do(
        self, pytester: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dump_file(pytester)
        monkeypatch.setenv("PHX_DUMP", str(outside / "dump.json"))
        pytester.makepyprojecttoml(f'[tool.pytest.ini_options]\nphoenix_stack = "{outside / "stack.yaml"}"\n')
        result = pytester.runpytest_subprocess()
        assert result.ret == 0, result.stdout.str() + result.stderr.str()
        result.stdout.fnmatch_lines([f"phoenix: stack {outside / 'stack.yaml'}*"])

    def test_a_bad_number_is_a_usage_error_naming_the_setting(self, pytester: pytest.Pytester) -> None:
        dump_file(pytester)
        pytester.makeini("[pytest]\nphoenix_probe_timeout = soon\n")
        result = pytester.runpytest_subprocess()
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*phoenix_probe_timeout in *: expected a number of seconds, got 'soon'*"])


class TestRegistration:
    def test_the_explicit_plugin_and_the_entry_point_are_one_plugin(
        self, pytester: pytest.Pytester, outside: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        dump_file(pytester)
        monkeypatch.setenv("PHX_DUMP", str(outside / "dump.json"))
        pytester.makeconftest('pytest_plugins = ["phoenix_compliance.plugin"]\n')
        result = pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", "--phase", "1")
        assert result.ret == 0, result.stdout.str() + result.stderr.str()
        assert json.loads((outside / "dump.json").read_text())["phx_phase"] == "1"

    def test_it_can_be_kept_out(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
        result = pytester.runpytest_subprocess("-p", "no:phoenix_compliance.plugin")
        result.assert_outcomes(passed=1)
        assert "migration readiness" not in result.stdout.str()
        assert not (pytester.path / "reports").exists()
