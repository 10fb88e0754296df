"""Hostile compose files and `.env` files through the command line (issue 24): raw control
bytes, bytes that are not UTF-8, a huge file and a YAML bomb give a file:line problem, never a
traceback, through `convert` and through the checks (`--compose-file`)."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest

from phoenix_compliance.cli import main
from phoenix_compliance.parsers import compose

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
CRASHES = ("Traceback", "INTERNALERROR", "ReaderError", "UnicodeDecodeError")


def bomb(levels: int = 9, width: int = 9) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * width)}]" for n in range(1, levels)]
    return "\n".join(lines) + "\nservices:\n  web:\n    image: nginx\n"


# name -> (compose bytes, .env bytes or None, the problem expected, at file:line)
CASES = {
    "SOH in a value": (
        b'services:\n  web:\n    image: "nginx\x01:1"\n',
        None,
        "compose.yaml:3: control character U+0001 at column 18",
    ),
    "ESC in a list": (
        b'services:\n  web:\n    image: nginx\n    command: [a, "\x1b[31m"]\n',
        None,
        "compose.yaml:4: control character U+001B",
    ),
    "NUL in a key": (
        b"services:\n  web:\n    ima\x00ge: nginx\n",
        None,
        "compose.yaml:3: control character U+0000 at column 8",
    ),
    "DEL": (b"services:\n  web:\n    image: nginx\x7f\n", None, "compose.yaml:3: control character U+007F"),
    "not UTF-8": (
        b"services:\n  web:\n    image: nginx\xff\n",
        None,
        "compose.yaml:3: cannot read the file: byte 0xff is not UTF-8",
    ),
    "a YAML bomb": (bomb().encode(), None, "through its aliases (a YAML bomb?); refused"),
    "huge": (
        b"services:\n  web:\n    image: nginx\n# " + b"x" * 2_000_000 + b"\n",
        None,
        "compose.yaml:1: the file is larger than 1024 KB; refused",
    ),
    ".env not UTF-8": (
        b"services:\n  web:\n    image: nginx:${TAG}\n",
        b"TAG=1\nB=\xff\n",
        ".env:2: cannot read the env file: byte 0xff is not UTF-8",
    ),
}
# A control byte in a `.env` value reaches the compose value, not YAML: convert names the field.
ENV_CONTROL = (b"services:\n  web:\n    image: nginx:${TAG}\n", b"TAG=1\x00x\n\x01C=2\n")


def write(folder: Path, text: bytes, env: bytes | None) -> Path:
    path = folder / "compose.yaml"
    path.write_bytes(text)
    if env is not None:
        (folder / ".env").write_bytes(env)
    return path


def convert(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["convert", "--podman-version", "5.4", *args])
    return code, out.getvalue() + err.getvalue()


class TestConvert:
    @pytest.mark.parametrize("case", list(CASES))
    def test_a_problem_at_its_line_never_a_traceback(self, tmp_path: Path, case: str) -> None:
        text, env, expected = CASES[case]
        path = write(tmp_path, text, env)
        code, output = convert("--out", str(tmp_path / "out"), str(path))
        assert not any(crash in output for crash in CRASHES), output
        assert expected in output
        assert code == 2 and not (tmp_path / "out").exists()

    def test_a_control_byte_from_the_env_file_is_a_gap_of_its_field(self, tmp_path: Path) -> None:
        path = write(tmp_path, *ENV_CONTROL)
        code, output = convert(str(path))
        assert code == 0 and "Traceback" not in output
        assert "compose.yaml:3: service web: image: the value holds the control character U+0000" in output

    def test_the_parser_records_it_and_goes_on(self) -> None:
        loaded = compose.parse("services:\n  web:\n    image: nginx\x01\n", "c.yaml")
        assert [(p.path, p.line) for p in loaded.problems] == [("c.yaml", 3)]


class TestTheChecks:
    @pytest.mark.parametrize("case", ["SOH in a value", "NUL in a key", "a YAML bomb", ".env not UTF-8"])
    def test_phx_2_01_fails_naming_it(self, pytester: pytest.Pytester, case: str) -> None:
        text, env, expected = CASES[case]
        path = write(pytester.path, text, env)
        result = pytester.runpytest_subprocess(
            str(REPO / "tests"),
            f"--stack={REPO / 'fixtures/stacks/reference.yaml'}",
            f"--reports-dir={pytester.path / 'reports'}",
            "--phase=2",
            f"--compose-file={path}",
        )
        output = result.stdout.str() + result.stderr.str()
        assert not any(crash in output for crash in CRASHES), output
        assert expected in output
        assert "FAILED" in output and "test_compose_file_valid" in output
        assert result.ret == 10


@pytest.mark.parametrize("escape", ["10001000", "A0001000"])
def test_an_escape_past_the_last_unicode_character_is_a_problem_at_its_line(escape: str) -> None:
    """Found by test_hostile_cli: PyYAML raised a bare ValueError (chr() arg not in range), and
    past 0x7FFFFFFF an OverflowError (Python int too large to convert to C int)."""
    loaded = compose.parse(f'services:\n  web:\n    image: "\\U{escape}"\n', "c.yaml")
    assert [(p.line, p.message) for p in loaded.problems] == [(3, "invalid YAML: an escape names no Unicode character")]
