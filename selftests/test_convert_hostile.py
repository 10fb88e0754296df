"""`phoenix-compliance convert` on compose files someone else wrote (issues 23 and 24).

One gate: every key reaches a unit through the converter's one writer, which checks the release
and escapes the value as systemd and Quadlet read it back; names become file names through one
function; files are written only inside --out, never through a symbolic link, whole or not at
all. Each case here was reproduced on main before the change.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from phoenix_compliance import cli, convert
from phoenix_compliance.quadlet.readers import lookup_value, split_words
from phoenix_compliance.quadlet.unitfile import parse_text
from phoenix_compliance.quadlet_lint import StackRules, Version, lint_paths

PACKAGE = Path(convert.__file__).resolve().parent


def converted(tmp_path: Path, text: str, version: Version = (5, 4, 2)) -> convert.Conversion:
    path = tmp_path / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    return convert.convert(convert.read_compose([path]), convert.Options(version))


def lint(texts: dict[str, str], folder: Path, version: Version) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [str(f) for f in lint_paths([folder], version, StackRules(target="phoenix.target"))]


def undone(value: str) -> str:
    """What systemd makes of %% and $$ in ExecStart= (each pair one character)."""
    return re.sub(r"([%$])\1", r"\1", value)


def keys(text: str) -> list[str]:
    return [line.split("=", 1)[0] for line in text.splitlines() if "=" in line and not line.startswith("#")]


class TestOneGate:
    def test_keys_podman_4_4_lacks_are_gaps_and_the_lint_accepts_the_units(self, tmp_path: Path) -> None:
        conversion = converted(
            tmp_path,
            "services:\n  web:\n    image: docker.io/library/nginx:1\n    networks: [back]\n"
            "    tmpfs: [/run/x]\n    security_opt: [label=disable]\nnetworks:\n  back: {}\n",
            (4, 4),
        )
        written = [key for text in conversion.texts().values() for key in keys(text)]
        for key in ("NetworkName", "Tmpfs", "SecurityLabelDisable"):
            assert key not in written
            assert any(f"{key}= arrived in Podman" in str(gap) for gap in conversion.gaps), key
        findings = lint(conversion.texts(), tmp_path / "u", (4, 4))
        assert not [f for f in findings if "QL012" in f], findings

    @pytest.mark.parametrize(
        ("field", "value", "planted"),
        [
            ("working_dir", "/app\n[Service]\nExecStartPre=/bin/touch /tmp/pwned", "ExecStartPre"),
            ("user", "1000\nPodmanArgs=--privileged", "PodmanArgs"),
            ("container_name", "web\rExecStartPre=/bin/true", "ExecStartPre"),
            ("stop_signal", "SIGTERM\x00PodmanArgs=--privileged", "PodmanArgs"),
            ("image", "busybox\u2028PodmanArgs=--privileged", "PodmanArgs"),
        ],
    )
    def test_a_control_character_never_reaches_a_unit(
        self, tmp_path: Path, field: str, value: str, planted: str
    ) -> None:
        quoted = value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\x00", "\\0")
        quoted = quoted.replace("\u2028", "\\u2028")
        extra = "" if field == "image" else "    image: busybox:1\n"
        conversion = converted(tmp_path, f'services:\n  web:\n{extra}    {field}: "{quoted}"\n')
        for text in conversion.texts().values():
            assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029]", text.replace("\n", ""))
            assert planted not in keys(text)
        assert any(gap.key == field and "control character" in gap.why for gap in conversion.gaps)
        gap = next(gap for gap in conversion.gaps if gap.key == field)
        assert gap.path.endswith("compose.yaml") and gap.line == (4 if extra else 3)

    def test_cr_and_nul_through_systemd_s_own_keys(self, tmp_path: Path) -> None:
        conversion = converted(tmp_path, 'services:\n  web:\n    image: busybox:1\n    pids_limit: "5\\rTasksMax=9"\n')
        assert "TasksMax" not in keys(conversion.units["web.container"].text())
        assert any("pids_limit" in str(p) and ":4" in str(p) for p in conversion.problems)
        refused = converted(tmp_path, 'services:\n  "web\\rDescription=x":\n    image: busybox:1\n')
        assert refused.refused and not any("\r" in name for name in refused.units)

    def test_a_trailing_backslash_never_continues_a_line(self, tmp_path: Path) -> None:
        conversion = converted(
            tmp_path,
            "services:\n  web:\n    image: busybox:1\n    healthcheck:\n      test: 'true \\'\n    cap_drop: [ALL]\n",
        )
        unit = parse_text(conversion.units["web.container"].text(), kind="container")
        assert unit.last("Container", "HealthCmd") is None
        assert [e.value for e in unit.entries_for("Container", "DropCapability")] == ["ALL"]
        assert any(gap.key == "healthcheck" and "backslash" in gap.why for gap in conversion.gaps)

    def test_percent_and_dollar_reach_podman_as_written(self, tmp_path: Path) -> None:
        conversion = converted(
            tmp_path,
            "services:\n  web:\n    image: localhost/a%nb$$x:1\n    container_name: c%n\n"
            "    hostname: h%H\n    volumes: ['data:/srv/%i$$HOME']\n"
            "    logging:\n      driver: journald\n      options: {tag: 't%n'}\n"
            "    sysctls: ['kernel.msgmax=%n']\n    networks: {}\n"
            "volumes:\n  data:\n    name: v%%n\n",
            (5, 8, 6),
        )
        web = parse_text(conversion.units["web.container"].text(), kind="container")
        version = (5, 8, 6)
        assert undone(lookup_value(web, "Container", "Image", version)) == "localhost/a%nb$x:1"
        assert undone(lookup_value(web, "Container", "ContainerName", version)) == "c%n"
        assert undone(lookup_value(web, "Container", "Volume", version)).endswith(":/srv/%i$HOME")
        assert [undone(w) for w in split_words(web.last("Container", "LogOpt").value, 0) or []] == ["tag=t%n"]  # type: ignore[union-attr]
        assert undone(web.last("Container", "Sysctl").value) == "kernel.msgmax=%n"  # type: ignore[union-attr]
        pod = parse_text(next(t for n, t in conversion.texts().items() if n.endswith(".pod")), kind="pod")
        assert undone(lookup_value(pod, "Pod", "HostName", version)) == "h%H"
        volume = next(t for n, t in conversion.texts().items() if n.endswith(".volume"))
        assert undone(lookup_value(parse_text(volume, kind="volume"), "Volume", "VolumeName", version)) == "v%%n"

    def test_an_unresolved_required_variable_is_never_written(self, tmp_path: Path) -> None:
        conversion = converted(tmp_path, "services:\n  web:\n    image: ${IMAGE:?set IMAGE}\n    user: ${WHO:?}\n")
        web = conversion.units["web.container"].text()
        assert "${" not in web and "Image=" not in web and "User=" not in web
        assert {gap.key for gap in conversion.gaps} >= {"image", "user"}

    def test_every_key_goes_through_the_one_writer(self) -> None:
        """Only Base.write() adds to a unit, and nothing edits a unit's sections directly."""
        for path in PACKAGE.glob("*.py"):
            text = path.read_text()
            if path.name != "base.py":
                assert not re.search(r"\.add\((unit|\"[A-Z])|\bunit\.add\(", text), path.name
            if path.name != "units.py":
                assert ".sections" not in text, path.name


class TestPrintedCommands:
    def test_a_secret_s_variable_is_a_plain_name_in_the_printed_shell_command(self, tmp_path: Path) -> None:
        conversion = converted(
            tmp_path,
            "services:\n  web:\n    image: busybox:1\n    secrets: [s]\nsecrets:\n"
            "  s:\n    environment: 'X\"; touch /tmp/pwned; \"'\n",
        )
        assert all("pwned" not in secret.command for secret in conversion.secrets)
        assert any(gap.key == "secrets.s" for gap in conversion.gaps)


class TestImports:
    def test_convert_imports_no_pytest(self) -> None:
        """convert writes its files itself (output.py), not through run/writers, which loads pytest."""
        code = "import sys, phoenix_compliance.convert; print('pytest' in sys.modules)"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert done.stdout.strip() == "False"


class TestWrongTypes:
    @pytest.mark.parametrize(
        ("line", "expected"),
        [
            ("cpus: .inf", "cpus"),
            ("cpus: [1]", "cpus"),
            ('stop_grace_period: "²"', "stop_grace_period"),
            ("mem_limit: [1]", "mem_limit"),
            ("cpu_shares: nan", "cpu_shares"),
            ("user: [a, b]", "user"),
        ],
    )
    def test_a_problem_with_file_and_line_not_a_traceback(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, expected: str
    ) -> None:
        path = tmp_path / "compose.yaml"
        path.write_text(f"services:\n  web:\n    image: busybox:1\n    {line}\n")
        code = cli.main(["convert", "--podman-version", "5.4", str(path)])
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert f"{path}:4" in err and expected in err
        assert code in (0, 1)


class TestProjectName:
    def test_normalised_as_podman_compose_1_6_does(self, tmp_path: Path) -> None:
        conversion = converted(
            tmp_path,
            'name: "My App.v2"\nservices:\n  web:\n    image: busybox:1\n'
            "    volumes: [data:/d]\nvolumes:\n  data: {}\n",
        )
        assert "yppv2-data.volume" in conversion.units
        assert "VolumeName=yppv2_data" in conversion.units["yppv2-data.volume"].text()
        assert any("normalises" in note for note in conversion.notes)

    def test_compose_project_name_from_the_dotenv_wins(self, tmp_path: Path) -> None:
        (tmp_path / ".env").write_text("COMPOSE_PROJECT_NAME=prod-1\n")
        conversion = converted(
            tmp_path,
            "name: other\nservices:\n  web:\n    image: busybox:1\n    volumes: [data:/d]\nvolumes:\n  data: {}\n",
        )
        assert "VolumeName=prod-1_data" in conversion.units["prod-1-data.volume"].text()
        assert "prod-1.pod" in conversion.units


class TestNames:
    @pytest.mark.parametrize(
        "compose",
        [
            "services:\n  ../../escape:\n    image: busybox:1\n",
            "services:\n  /tmp/abs:\n    image: busybox:1\n",
            "services:\n  web:\n    image: busybox:1\n    volumes: [x:/d]\nvolumes:\n  ../../x: {}\n",
            "services:\n  web:\n    image: busybox:1\nnetworks:\n  a/b: {}\n",
            "services:\n  web:\n    image: busybox:1\nvolumes:\n  x:\n    external: true\n    name: ../x\n",
            'services:\n  "web\\nPodmanArgs=--privileged":\n    image: busybox:1\n',
        ],
        ids=["service-dotdot", "service-absolute", "volume", "network", "external-volume", "service-newline"],
    )
    def test_a_name_that_is_not_a_file_name_is_refused_and_nothing_is_written(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], compose: str
    ) -> None:
        path = tmp_path / "c" / "compose.yaml"
        path.parent.mkdir()
        path.write_text(compose)
        out = tmp_path / "c" / "out"
        assert cli.main(["convert", "--podman-version", "5.4", "--out", str(out), str(path)]) == 1
        err = capsys.readouterr().err
        assert "Refused as file names (nothing is written)" in err and "compose.yaml:" in err
        assert "\nPodmanArgs" not in err  # every entry of the report is one line
        assert not out.exists() and sorted(p.name for p in tmp_path.rglob("*")) == ["c", "compose.yaml"]

    def test_the_manifest_s_target_and_pod_unit_are_refused_too(self, tmp_path: Path) -> None:
        path = tmp_path / "compose.yaml"
        path.write_text("services:\n  web:\n    image: busybox:1\n")
        for target, pod_unit in (("../../x.target", None), ("phoenix.target", "/tmp/x.pod")):
            options = convert.Options((5, 4, 2), target, "p", pod_unit, origin="stack.yaml")
            conversion = convert.convert(convert.read_compose([path]), options)
            assert conversion.refused and all("/" not in name for name in conversion.units)
            assert "stack.yaml" in conversion.refused[0]


class TestWritingSafely:
    COMPOSE = "services:\n  web:\n    image: busybox:1\n  db:\n    image: busybox:1\n"

    def setup(self, tmp_path: Path) -> tuple[Path, Path]:
        path = tmp_path / "compose.yaml"
        path.write_text(self.COMPOSE)
        out = tmp_path / "out"
        out.mkdir()
        return path, out

    @pytest.mark.parametrize("dry_run", [False, True], ids=["write", "dry-run"])
    def test_a_planted_symlink_is_never_followed(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], dry_run: bool
    ) -> None:
        path, out = self.setup(tmp_path)
        secret = tmp_path / "id_rsa"
        secret.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nverysecretbytes\n")
        (out / "web.container").symlink_to(secret)
        argv = ["convert", "--podman-version", "5.4", "--out", str(out), "--force", str(path)]
        assert cli.main([*argv, "--dry-run"] if dry_run else argv) == 2
        captured = capsys.readouterr()
        assert "verysecretbytes" not in captured.out + captured.err
        assert "symbolic link" in captured.err
        assert secret.read_text().endswith("verysecretbytes\n")
        assert sorted(p.name for p in out.iterdir()) == ["web.container"]  # the set: whole or nothing

    def test_a_special_file_in_the_way_refuses_the_whole_set(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path, out = self.setup(tmp_path)
        (out / "web.container").mkdir()
        assert cli.main(["convert", "--podman-version", "5.4", "--out", str(out), str(path)]) == 2
        assert sorted(p.name for p in out.iterdir()) == ["web.container"]
        assert "not a regular file" in capsys.readouterr().err

    def test_a_symlinked_subfolder_is_never_a_way_out(self, tmp_path: Path) -> None:
        path, out = self.setup(tmp_path)
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        (out / "sub").symlink_to(elsewhere)
        path.write_text("services:\n  sub/web:\n    image: busybox:1\n")
        assert cli.main(["convert", "--podman-version", "5.4", "--out", str(out), str(path)]) == 1
        assert list(elsewhere.iterdir()) == []

    def test_the_diff_of_an_existing_file_is_redacted(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path, out = self.setup(tmp_path)
        (out / "web.container").write_text("[Container]\nEnvironment=PASSWORD=hunter2-on-disk\n")
        assert cli.main(["convert", "--podman-version", "5.4", "--out", str(out), "--dry-run", str(path)]) == 0
        captured = capsys.readouterr()
        assert "web.container (now)" in captured.out and "hunter2-on-disk" not in captured.out
