"""Selftests for `phoenix-compliance lint` (phoenix_compliance.cli and lint_output)."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import textwrap
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
import yaml

from phoenix_compliance import cli
from phoenix_compliance.cli import podman_version
from phoenix_compliance.quadlet_lint import NEWEST_KNOWN_VERSION, RULES, STACK_RULE_IDS

REPO = Path(__file__).resolve().parents[1]
REFERENCE_DIR = REPO / "fixtures" / "infra" / "podman" / "systemd"

CLEAN = """\
[Unit]
Description=web
PartOf=phoenix.target

[Container]
Image=localhost/web:1

[Install]
WantedBy=phoenix.target
"""
# Valid for Quadlet, but not a member of the stack (no PartOf=, no WantedBy=).
LONER = "[Container]\nImage=localhost/web:1\n"
# Quadlet rejects it (unknown key, line 3) and warns (short image name, line 2).
BROKEN = "[Container]\nImage=busybox\nImagee=x\n"

TEXT_LINE = re.compile(
    r"^(?P<path>.+):(?P<line>\d+): (?P<severity>error|warning|info)\[(?P<id>QL\d{3})\]: .+ \(fix: .+\)$"
)


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def lint(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """Run the command in-process; exit code, stdout, stderr."""
    code = cli.main(["lint", *(str(arg) for arg in args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def no_local_podman(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests do not depend on the machine's podman unless they say so."""
    monkeypatch.setattr(podman_version, "installed_podman_version", lambda timeout=0.0: None)


class TestTextFormat:
    def test_every_finding_is_a_compiler_style_line(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path, "web.container", BROKEN)
        code, out, _err = lint(capsys, "--profile", "validity", "--podman-version", "5.4.2", path)
        assert code == 1
        *lines, summary = out.splitlines()
        parsed = [TEXT_LINE.match(line) for line in lines]
        assert all(parsed), lines
        assert {(m["path"], m["line"], m["severity"], m["id"]) for m in parsed if m} == {
            (str(path), "2", "warning", "QL025"),
            (str(path), "3", "error", "QL013"),
        }
        assert summary == "1 error, 1 warning, 0 info in 1 file (Podman 5.4.2 from --podman-version, profile validity)"

    def test_the_summary_names_version_source_and_profile(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write(tmp_path, "web.container", CLEAN)
        code, out, _err = lint(capsys, "--podman-version", "5.4.2", tmp_path)
        assert code == 0
        assert out == "0 errors, 0 warnings, 0 info in 1 file (Podman 5.4.2 from --podman-version, profile stack)\n"


class TestJsonFormat:
    def test_parses_back_with_every_field(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path, "web.container", BROKEN)
        code, out, _err = lint(capsys, "--format", "json", "--profile", "validity", "--podman-version", "5.4.2", path)
        document = json.loads(out)
        assert code == 1
        assert document["podman_version"] == "5.4.2"
        assert document["podman_version_source"] == "--podman-version"
        assert document["profile"] == "validity"
        assert document["files"] == [str(path)]
        assert document["summary"] == {"error": 1, "warning": 1, "info": 0}
        first = document["findings"][0]
        assert set(first) == {"rule_id", "severity", "path", "line", "key", "message", "fix"}
        assert [(f["rule_id"], f["line"], f["key"]) for f in document["findings"]] == [
            ("QL025", 2, "Image"),
            ("QL013", 3, "Imagee"),
        ]

    def test_no_findings_is_an_empty_list(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path, "web.container", CLEAN)
        _code, out, _err = lint(capsys, "--format", "json", tmp_path)
        assert json.loads(out)["findings"] == []


class TestSarifFormat:
    def sarif(self, capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, dict[str, Any]]:
        code, out, _err = lint(capsys, "--format", "sarif", *args)
        return code, json.loads(out)

    def test_required_structure(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write(tmp_path, "units/web.container", BROKEN)
        code, document = self.sarif(capsys, "--profile", "validity", "--podman-version", "5.4.2", path)
        assert code == 1
        assert document["version"] == "2.1.0"
        assert document["$schema"].endswith("sarif-2.1.0.json")
        (run,) = document["runs"]
        driver = run["tool"]["driver"]
        assert driver["name"] == "phoenix-compliance lint"
        rules = driver["rules"]
        assert all(rule["id"] and rule["shortDescription"]["text"] for rule in rules)
        assert {rule["defaultConfiguration"]["level"] for rule in rules} <= {"error", "warning", "note"}
        ids = [rule["id"] for rule in rules]
        for result in run["results"]:
            assert result["level"] in ("error", "warning", "note")
            assert result["message"]["text"]
            assert ids[result["ruleIndex"]] == result["ruleId"]
            (location,) = result["locations"]
            physical = location["physicalLocation"]
            assert physical["artifactLocation"]["uri"] == path.as_uri()
            assert physical["region"]["startLine"] >= 1
        found = [
            (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in run["results"]
        ]
        assert found == [("QL025", "warning", 2), ("QL013", "error", 3)]

    def test_relative_paths_stay_relative_uris(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        write(tmp_path, "my units/web.container", BROKEN)
        monkeypatch.chdir(tmp_path)
        _code, document = self.sarif(capsys, "--profile", "validity", "--podman-version", "5.4.2", "my units")
        uris = {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in document["runs"][0]["results"]
        }
        assert uris == {"my%20units/web.container"}

    def test_info_findings_are_notes(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path, "db.container", "[Container]\nImage=localhost/db:1\n")
        write(tmp_path, "web.container", "[Unit]\nAfter=db.service\n[Container]\nImage=localhost/web:1\n")
        code, document = self.sarif(capsys, "--profile", "validity", "--podman-version", "5.5", tmp_path)
        assert code == 0
        assert [(r["ruleId"], r["level"]) for r in document["runs"][0]["results"]] == [("QL037", "note")]

    def test_the_profile_decides_which_rules_are_listed(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write(tmp_path, "web.container", CLEAN)
        _code, validity = self.sarif(capsys, "--profile", "validity", tmp_path)
        _code, stack = self.sarif(capsys, "--profile", "stack", tmp_path)
        listed = {rule["id"] for rule in validity["runs"][0]["tool"]["driver"]["rules"]}
        assert listed == set(RULES) - STACK_RULE_IDS
        assert {rule["id"] for rule in stack["runs"][0]["tool"]["driver"]["rules"]} == set(RULES)


class TestExitCodes:
    def test_zero_without_errors_even_with_warnings(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path, "web.container", CLEAN.replace("localhost/web:1", "busybox"))
        code, out, _err = lint(capsys, "--podman-version", "5.4.2", tmp_path)
        assert code == 0
        assert "warning[QL025]" in out

    def test_zero_for_the_reference_units(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert lint(capsys, "--podman-version", "5.4.2", REFERENCE_DIR)[0] == 0

    def test_one_with_errors(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert lint(capsys, write(tmp_path, "web.container", BROKEN))[0] == 1

    @pytest.mark.parametrize(
        ("args", "said"),
        [
            ([], "the following arguments are required: PATH"),
            (["--profile", "strict", "x"], "invalid choice: 'strict'"),
            (["--format", "xml", "x"], "invalid choice: 'xml'"),
            (["--podman-version", "five", "x"], "expected X.Y or X.Y.Z"),
            (["--podman-version", "5", "x"], "expected X.Y or X.Y.Z"),
            (["--bogus", "x"], "unrecognized arguments: --bogus"),
        ],
    )
    def test_two_for_usage_errors(self, capsys: pytest.CaptureFixture[str], args: list[str], said: str) -> None:
        code, out, err = lint(capsys, *args)
        assert code == 2
        assert out == ""
        assert said in err

    def test_two_for_a_missing_path(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        code, _out, err = lint(capsys, tmp_path / "nowhere")
        assert code == 2
        assert "no such file or directory" in err

    def test_two_for_a_file_that_is_not_a_unit(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        code, _out, err = lint(capsys, write(tmp_path, "notes.txt", "hello\n"))
        assert code == 2
        assert "not a Quadlet file" in err

    def test_two_for_unreadable_input_with_the_finding_shown(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "web.container"
        path.write_bytes(b"[Container]\nImage=\xff\n")
        code, out, _err = lint(capsys, path)
        assert code == 2
        assert "error[QL000]" in out

    def test_two_for_a_target_without_the_stack_profile(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write(tmp_path, "web.container", CLEAN)
        code, _out, err = lint(capsys, "--profile", "validity", "--target", "x", tmp_path)
        assert code == 2
        assert "--target applies to --profile stack only" in err

    def test_help_is_not_an_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert cli.main(["lint", "--help"]) == 0
        assert "--podman-version" in capsys.readouterr().out


class TestProfiles:
    def test_stack_rules_only_in_the_stack_profile(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path, "web.container", LONER)
        code, out, _err = lint(capsys, "--profile", "stack", tmp_path)
        assert code == 1
        assert {"QL050", "QL051"} <= set(re.findall(r"\[(QL\d+)\]", out))
        code, out, _err = lint(capsys, "--profile", "validity", tmp_path)
        assert code == 0
        assert not set(re.findall(r"\[(QL\d+)\]", out)) & STACK_RULE_IDS

    def test_stack_is_the_default_profile(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path, "web.container", LONER)
        code, out, _err = lint(capsys, tmp_path)
        assert code == 1
        assert "profile stack" in out

    def test_target_names_the_stack(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path, "web.container", CLEAN.replace("phoenix.target", "shop.target"))
        assert lint(capsys, tmp_path)[0] == 1
        assert lint(capsys, "--target", "shop.target", tmp_path)[0] == 0
        assert lint(capsys, "--target", "shop", tmp_path)[0] == 0


class TestPodmanVersion:
    def test_the_version_changes_the_verdict(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path, "web.container", CLEAN + "\n[Container]\nMemory=512m\n")
        code, out, _err = lint(capsys, "--podman-version", "5.4.2", tmp_path)
        assert (code, "error[QL012]" in out) == (1, True)
        assert lint(capsys, "--podman-version", "5.5.0", tmp_path)[0] == 0

    def test_a_release_newer_than_the_tables_is_said_once(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write(tmp_path, "a.container", CLEAN)
        write(tmp_path, "b.container", CLEAN.replace("web", "api"))
        code, out, _err = lint(capsys, "--podman-version", "6.2", tmp_path)
        notes = [line for line in out.splitlines() if "[QL009]" in line]
        assert code == 0
        assert len(notes) == 1 and notes[0].split(": ", 1)[1].startswith("warning[QL009]: Podman 6.2 is newer than")
        assert f"judged with what {'.'.join(map(str, NEWEST_KNOWN_VERSION))} accepts" in notes[0]
        assert "(Podman 6.2 from --podman-version" in out.splitlines()[-1]

    @pytest.mark.parametrize("profile", ["stack", "validity"])
    def test_a_relaxed_rule_beyond_the_tables_does_not_fail_the_run(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], profile: str
    ) -> None:
        """[Volume] Type= without Device=: refused up to 6.1.1 (exit 1); at 7.0 a warning (exit 0), as
        6.0 relaxed the rule for Options=."""
        write(tmp_path, "data.volume", "[Volume]\nType=tmpfs\n")
        code, out, _err = lint(capsys, "--profile", profile, "--podman-version", "6.1.1", tmp_path)
        assert (code, "error[QL022]" in out) == (1, True)
        code, out, _err = lint(capsys, "--profile", profile, "--podman-version", "7.0", tmp_path)
        assert (code, "warning[QL022]" in out, "error[" in out) == (0, True, False), out
        assert "6.0 accepts [Volume] Options= without Device=" in out

    @pytest.mark.parametrize(
        ("installed", "expected", "source"),
        [
            ((5, 4, 2), (5, 4, 2), "the installed podman"),
            ((4, 4, 0), (4, 4, 0), "the installed podman"),
            ((4, 3, 1), NEWEST_KNOWN_VERSION, "has no Quadlet"),
            (None, NEWEST_KNOWN_VERSION, "no usable podman"),
        ],
    )
    def test_default_is_the_installed_podman_if_it_has_quadlet(
        self,
        monkeypatch: pytest.MonkeyPatch,
        installed: tuple[int, ...] | None,
        expected: tuple[int, ...],
        source: str,
    ) -> None:
        monkeypatch.setattr(podman_version, "installed_podman_version", lambda timeout=0.0: installed)
        version, said = podman_version.default_podman_version()
        assert version == expected
        assert source in said

    def test_the_default_reaches_the_output(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(podman_version, "installed_podman_version", lambda timeout=0.0: (5, 4, 2))
        write(tmp_path, "web.container", CLEAN)
        _code, out, _err = lint(capsys, "--format", "json", tmp_path)
        assert json.loads(out)["podman_version"] == "5.4.2"

    def test_asking_podman_is_bounded_and_survives_its_absence(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.undo()  # the real function, with subprocess.run replaced
        seen: list[dict[str, Any]] = []

        def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
            seen.append({"argv": argv, **kwargs})
            return subprocess.CompletedProcess(argv, 0, "5.4.2\n", "")

        monkeypatch.setattr(subprocess, "run", fake_run)
        assert podman_version.installed_podman_version() == (5, 4, 2)
        assert seen[0]["argv"] == ["podman", "version", "--format", "{{.Client.Version}}"]
        assert 0 < seen[0]["timeout"] <= 60

        def hanging(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
            raise subprocess.TimeoutExpired(argv, kwargs["timeout"])

        def missing(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
            raise FileNotFoundError("podman")

        for broken in (hanging, missing):
            monkeypatch.setattr(subprocess, "run", broken)
            assert podman_version.installed_podman_version() is None


class TestWiring:
    def test_the_console_script_points_at_main(self) -> None:
        scripts = {entry.name: entry.value for entry in metadata.entry_points(group="console_scripts")}
        assert scripts["phoenix-compliance"] == "phoenix_compliance.cli:main"

    def test_the_installed_command_runs(self) -> None:
        done = subprocess.run(
            [str(Path(__import__("sys").executable).parent / "phoenix-compliance"), "lint", "--podman-version",
             "5.4.2", str(REFERENCE_DIR)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

    def test_a_subcommand_is_one_table_entry(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        def add_arguments(parser: argparse.ArgumentParser) -> None:
            parser.add_argument("--strict", action="store_true")

        def run(args: argparse.Namespace) -> int:
            print(f"verify strict={args.strict}")
            return 1

        verify = cli.Subcommand("verify", "verify a host", add_arguments, run)
        monkeypatch.setitem(cli.SUBCOMMANDS, "verify", verify)
        assert cli.main(["verify", "--strict"]) == 1
        assert capsys.readouterr().out == "verify strict=True\n"

    def test_the_pre_commit_hook(self) -> None:
        (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
        assert hook["id"] == "phoenix-quadlet-lint"
        assert hook["entry"] == "phoenix-compliance lint"
        assert hook["language"] == "python"
        files = re.compile(hook["files"])
        for name in ("a.container", "b/c.pod", "d.volume", "e.network", "f.kube", "g.image", "h.build"):
            assert files.search(name), name
        for name in ("a.service", "README.md", "a.container.bak", "phoenix.target"):
            assert not files.search(name), name


class TestSystemdVersion:
    """--systemd-version N: the systemd sections judged as release N reads them (issue 26)."""

    # CPUPressureWatch= is a [Service] key of systemd 262 only; Restart= is one of every release.
    NEWER_KEY = CLEAN + "\n[Service]\nCPUPressureWatch=yes\nRestart=always\n"

    def test_the_release_changes_the_verdict(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        write(tmp_path, "web.container", self.NEWER_KEY)
        code, out, _err = lint(capsys, "--systemd-version", "257", tmp_path)
        assert (code, "warning[QL071]: CPUPressureWatch= is read by systemd 262" in out) == (0, True), out
        assert "systemd 257 ignores it" in out
        # 262 reads it, and so does some tabled release when none is given.
        assert "QL071" not in lint(capsys, "--systemd-version", "262", tmp_path)[1]
        assert "QL071" not in lint(capsys, tmp_path)[1]

    def test_a_release_between_the_tables_is_judged_by_the_one_before(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        write(tmp_path, "web.container", self.NEWER_KEY)
        assert "systemd 260 ignores it" in lint(capsys, "--systemd-version", "260", tmp_path)[1]

    @pytest.mark.parametrize("given", ["257.9", "v257", "0", "latest", ""])
    def test_anything_but_a_release_number_is_a_usage_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], given: str
    ) -> None:
        write(tmp_path, "web.container", CLEAN)
        code, out, err = lint(capsys, "--systemd-version", given, tmp_path)
        assert (code, out) == (2, "")
        assert "expected a systemd release number such as 257" in err
