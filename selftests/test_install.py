"""The suite as a user gets it: the wheel built from this tree, installed into a fresh
virtualenv (dependencies from the package index or the local wheel cache), and run from a
folder outside the repository with `phoenix-compliance check` and with plain pytest.

Also `check`'s own command line (the ini file it chooses, the values it joins), in-process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from suite_runner import REFERENCE_STACK, REPO

from phoenix_compliance import bundled, cli
from phoenix_compliance.run.reporter import EXIT_NOT_READY, EXIT_PARTIAL

UNITS = REPO / "fixtures" / "infra" / "podman" / "systemd"
VERSION = bundled.package_version()
# A site's own check: a high one of Phase 3 that fails on the stand-in units, so it blocks the gate.
SITE_CHECK = """
from phoenix_compliance import HostFacts, Observed, check


@check(
    "SITE-3.01",
    phase="3",
    severity="high",
    title="A backup timer is installed beside the stack",
    remediation="cp infra/podman/systemd/backup.timer ~/.config/containers/systemd/",
    files=True,
)
def test_backup_timer(facts: HostFacts, observed: Observed) -> None:
    units = sorted(facts.files.quadlet.units)
    observed(f"units: {', '.join(units)}")
    assert "backup.timer" in units, f"expected backup.timer, got {', '.join(units)} ({facts.files.quadlet.where})"
"""


def _source_tree(target: Path) -> Path:
    """This tree's files as git knows them (committed or not), without what runs wrote."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in listed:
        if name.startswith("reports/") or not (REPO / name).is_file():
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
    return target


def without_this_tree() -> dict[str, str]:
    """The environment with nothing of this repository on the path: the installed package only."""
    return {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: the build writes build/ and *.egg-info beside the sources.
    source = _source_tree(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return next(out.glob("phoenix_compliance-*.whl"))


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with the wheel installed; its bin folder."""
    where = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=300)
    done = subprocess.run(
        [str(where / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        # With this tree on PYTHONPATH pip would take the package as installed already.
        env=without_this_tree(),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return where / "bin"


@pytest.fixture
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An application's folder outside the repository: its stack manifest and Quadlet folder."""
    folder = tmp_path_factory.mktemp("site")
    assert REPO not in folder.parents
    shutil.copy(REFERENCE_STACK, folder / "stack.yaml")
    shutil.copytree(UNITS, folder / "infra" / "systemd")
    return folder


def run_in(site: Path, argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=site,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**without_this_tree(), **(env or {})},
    )


def the_json(reports: Path) -> dict[str, Any]:
    found = sorted(reports.glob("readiness-*.json"))
    assert found, f"no JSON report in {reports}"
    document: dict[str, Any] = json.loads(found[-1].read_text())
    return document


def ids(document: dict[str, Any]) -> set[str]:
    return {str(record["id"]) for record in document["results"]}


class TestWheelContents:
    def test_it_holds_the_package_the_checks_the_stacks_and_every_resource(self, wheel: Path) -> None:
        names = set(zipfile.ZipFile(wheel).namelist())
        assert {name.split("/")[0] for name in names} == {
            "phoenix_compliance",
            f"phoenix_compliance-{VERSION}.dist-info",
        }
        tree = [Path(name) for name in _tracked() if name.split("/")[0] in ("phoenix_compliance", "tests", "fixtures")]
        placed = {"phoenix_compliance": "phoenix_compliance", "tests": "phoenix_compliance/suite"}
        placed["fixtures"] = "phoenix_compliance/fixtures"
        missing = [
            str(path)
            for path in tree
            if "__pycache__" not in path.parts
            and f"{placed[path.parts[0]]}/{Path(*path.parts[1:]).as_posix()}" not in names
        ]
        assert missing == []

    def test_it_registers_the_plugin_and_the_commands(self, wheel: Path) -> None:
        with zipfile.ZipFile(wheel) as archive:
            points = archive.read(f"phoenix_compliance-{VERSION}.dist-info/entry_points.txt").decode()
        assert "[pytest11]\nphoenix_compliance.plugin = phoenix_compliance.plugin" in points
        assert "phoenix-compliance = phoenix_compliance.cli:main" in points


def _tracked() -> list[str]:
    return subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()


class TestInstalledRun:
    def test_files_only_phase_3_with_options_written_after_a_space(self, venv: Path, site: Path) -> None:
        done = run_in(
            site,
            [
                str(venv / "phoenix-compliance"),
                "check",
                "--phase",
                "3",
                "--stack",
                str(site / "stack.yaml"),
                "--quadlet-dir",
                str(site / "infra" / "systemd"),
            ],
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "local: phase 3: READY" in done.stdout
        document = the_json(site / "reports")
        assert "PHX-3.02" in ids(document)
        assert document["run"]["suite_version"] == VERSION  # the package's: no checkout here

    def test_a_site_check_beside_the_bundled_ones_counts_in_the_gate(self, venv: Path, site: Path) -> None:
        (site / "site_checks").mkdir()
        (site / "site_checks" / "test_site.py").write_text(SITE_CHECK)
        done = run_in(
            site,
            [
                str(venv / "phoenix-compliance"),
                "check",
                "--phase=3",
                f"--stack={site / 'stack.yaml'}",
                f"--quadlet-dir={site / 'infra' / 'systemd'}",
                "site_checks/",
            ],
        )
        assert done.returncode == EXIT_NOT_READY, done.stdout + done.stderr
        assert "local: phase 3: NOT READY" in done.stdout
        assert "SITE-3.01" in done.stdout
        document = the_json(site / "reports")
        record = next(r for r in document["results"] if r["id"] == "SITE-3.01")
        check = document["checks"]["SITE-3.01"]  # what the check is, once (format 2)
        assert (check["phase"], check["severity"], record["outcome"]) == ("3", "high", "failed")
        assert "expected backup.timer, got" in record["evidence"]
        assert check["remediation"].startswith("cp infra/podman/systemd/backup.timer")
        assert "PHX-3.02" in ids(document)  # and the bundled checks ran beside it

    def test_plain_pytest_on_the_site_check_alone(self, venv: Path, site: Path) -> None:
        (site / "site_checks").mkdir()
        (site / "site_checks" / "test_site.py").write_text(SITE_CHECK)
        done = run_in(
            site,
            [str(venv / "pytest"), "site_checks", "--phase", "3", "--quadlet-dir", str(site / "infra" / "systemd")],
            env={"PYTEST_ADDOPTS": f"--stack={site / 'stack.yaml'}"},
        )
        assert done.returncode == EXIT_NOT_READY, done.stdout + done.stderr
        assert ids(the_json(site / "reports")) == {"SITE-3.01"}

    def test_an_ini_file_sets_the_stack_and_the_quadlet_folder(self, venv: Path, site: Path) -> None:
        (site / "pytest.ini").write_text("[pytest]\nphoenix_stack = stack.yaml\nphoenix_quadlet_dir = infra/systemd\n")
        done = run_in(site, [str(venv / "phoenix-compliance"), "check", "--phase=3"])
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"phoenix: stack {site / 'stack.yaml'}" in done.stdout
        assert the_json(site / "reports")["run"]["stack"] == str(site / "stack.yaml")

    def test_the_version_is_the_package_s(self, venv: Path, site: Path) -> None:
        done = run_in(site, [str(venv / "phoenix-compliance"), "--version"])
        assert done.stdout.strip() == f"phoenix-compliance {VERSION}"


# This test's own guests (wheel-1), never the shared reference hosts.
GUEST_PREFIX = "wheel"


@pytest.fixture(scope="module")
def guest_ssh_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A guest of this module's own, with the stand-in stack deployed by Quadlet."""
    from phoenix_compliance import refhost

    guests = refhost.up_fleet(1, prefix=GUEST_PREFIX)
    try:
        refhost.deploy("quadlet", name=guests[0].name)
        yield refhost.write_ssh_config(tmp_path_factory.mktemp("wheel-ssh") / "ssh_config", name=guests[0].name)
    finally:
        refhost.down_all(prefix=GUEST_PREFIX)


@pytest.mark.refhost
class TestInstalledAgainstAHost:
    def test_phase_1_reports_land_in_the_folder_it_runs_from(
        self, venv: Path, site: Path, guest_ssh_config: Path
    ) -> None:
        host = f"{GUEST_PREFIX}-1"
        done = run_in(
            site,
            [
                str(venv / "phoenix-compliance"),
                "check",
                "--phase",
                "1",
                "--hosts",
                f"ssh://{host}",
                "--ssh-config",
                str(guest_ssh_config),
                "--stack",
                str(site / "stack.yaml"),
            ],
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{host}: phase 1: READY" in done.stdout
        document = the_json(site / "reports")
        assert {r["outcome"] for r in document["results"]} <= {"passed", "not applicable"}
        assert len(list((site / "reports").glob("readiness-*.html"))) == 1


class TestCheckCommandLine:
    def test_the_bundled_checks_come_first_then_what_the_user_gave(self, tmp_path: Path) -> None:
        args = cli.check_arguments(["-k", "rootless", "site_checks/"], tmp_path)
        checks = str(bundled.checks_dir().resolve())
        assert args[args.index(checks) :] == [checks, "-k", "rootless", "site_checks/"]
        assert args[:4] == ["-p", "phoenix_compliance.plugin", "-p", "no:hypothesispytest"]
        assert "ignore:Module already imported so cannot be rewritten; phoenix_compliance" in args[5]

    def test_a_path_within_the_bundled_checks_is_not_collected_twice(self, tmp_path: Path) -> None:
        phase1 = str(bundled.checks_dir() / "phase1")
        args = cli.check_arguments([phase1], tmp_path)
        assert str(bundled.checks_dir().resolve()) not in args and phase1 in args

    def test_the_suite_s_values_after_a_space_are_joined(self, tmp_path: Path) -> None:
        args = cli.check_arguments(["--quadlet-dir", "/x/units", "--allow-restart", "site/", "-k", "y"], tmp_path)
        assert args[-5:] == ["--quadlet-dir=/x/units", "--allow-restart", "site/", "-k", "y"]

    def test_no_settings_file_means_none_rather_than_one_beside_the_checks(self, tmp_path: Path) -> None:
        args = cli.check_arguments([], tmp_path)
        assert f"--config-file={os.devnull}" in args and f"--rootdir={tmp_path}" in args

    @pytest.mark.parametrize(
        ("name", "text"),
        [
            ("pytest.ini", ""),
            ("pyproject.toml", "[tool.pytest.ini_options]\nphoenix_stack = 's.yaml'\n"),
            ("tox.ini", "[pytest]\nphoenix_stack = s.yaml\n"),
            ("setup.cfg", "[tool:pytest]\nphoenix_stack = s.yaml\n"),
        ],
    )
    def test_the_settings_file_is_found_from_the_current_folder_up(self, tmp_path: Path, name: str, text: str) -> None:
        (tmp_path / name).write_text(text)
        below = tmp_path / "deploy" / "ci"
        below.mkdir(parents=True)
        assert f"--config-file={tmp_path / name}" in cli.check_arguments([], below)

    def test_files_without_pytest_settings_are_passed_over(self, tmp_path: Path) -> None:
        (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
        (tmp_path / "setup.cfg").write_text("[flake8]\nmax-line-length = 100\n")
        assert cli.find_ini(tmp_path) is None

    def test_a_given_config_file_is_left_to_pytest(self, tmp_path: Path) -> None:
        args = cli.check_arguments(["-c", "mine.ini"], tmp_path)
        assert not any(word.startswith(("--config-file=", "--rootdir=")) for word in args)

    def test_every_pytest_option_passes_through(self, tmp_path: Path) -> None:
        """-k, -x, --junitxml, ... reach pytest unchanged; reports land in ./reports of the folder."""
        (tmp_path / "stack.yaml").write_text(REFERENCE_STACK.read_text())
        junit = tmp_path / "out" / "junit.xml"
        done = subprocess.run(
            [
                *(sys.executable, "-m", "phoenix_compliance.cli", "check", "--phase", "3", "--stack", "stack.yaml"),
                *("--quadlet-dir", str(UNITS), "-x", "-k", "unit_file_lint", f"--junitxml={junit}"),
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        # -k leaves checks of phase 3 out: PARTIAL, never READY (issue 12).
        assert done.returncode == EXIT_PARTIAL, done.stdout + done.stderr
        assert "phase 3: PARTIAL" in done.stdout
        assert "warning" not in done.stdout.lower()
        assert junit.is_file() and "PHX-3.02" in junit.read_text()
        assert ids(the_json(tmp_path / "reports")) == {"PHX-3.02"}


class TestCheckPassesPytestThrough:
    def run(self, site: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                *(sys.executable, "-m", "phoenix_compliance.cli", "check", "--phase=3", "--stack=stack.yaml"),
                *(f"--quadlet-dir={site / 'infra' / 'systemd'}", *args),
            ],
            cwd=site,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def test_xdist(self, site: Path) -> None:
        (site / "site_checks").mkdir()
        (site / "site_checks" / "test_site.py").write_text(SITE_CHECK)
        done = self.run(site, "-n", "2", "site_checks/")
        assert done.returncode == EXIT_NOT_READY, done.stdout + done.stderr
        assert "2 workers" in done.stdout
        assert {"PHX-3.02", "SITE-3.01"} <= ids(the_json(site / "reports"))

    def test_last_failed(self, site: Path) -> None:
        # Without -n: under xdist's loadgroup a node id carries its group (@host), so a
        # last-failed cache written with -n N is read back with -n N.
        (site / "site_checks").mkdir()
        (site / "site_checks" / "test_site.py").write_text(SITE_CHECK)
        first = self.run(site, "site_checks/")
        assert first.returncode == EXIT_NOT_READY, first.stdout + first.stderr
        shutil.rmtree(site / "reports")
        again = self.run(site, "--lf", "site_checks/")
        assert again.returncode == EXIT_NOT_READY, again.stdout + again.stderr
        assert ids(the_json(site / "reports")) == {"SITE-3.01"}


class TestSuiteVersion:
    def test_a_checkout_of_this_repository_adds_its_git_revision(self) -> None:
        bundled.suite_version.cache_clear()
        revision = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert bundled.is_checkout()
        assert bundled.suite_version().startswith(f"{VERSION} (git {revision}")

    def test_an_install_inside_an_application_s_repository_records_no_commit_of_it(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The package's parent is the application's checkout (a git repository of its own).
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
        (tmp_path / "tests" / "phase1").mkdir(parents=True)
        monkeypatch.setattr(bundled, "_CHECKOUT", tmp_path)
        bundled.suite_version.cache_clear()
        try:
            assert not bundled.is_checkout()
            assert bundled.suite_version() == VERSION
        finally:
            bundled.suite_version.cache_clear()
