"""The report files: never overwritten, written whole or not at all, a folder that takes none
named with its own exit code, and tamper-evident byte for byte (issue 13)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from phoenix_compliance.report.signing import verify_report
from phoenix_compliance.run.writers import EXIT_REPORTS_UNWRITTEN

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent

CHECKS = """
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="critical", title="one passes", remediation="nothing to do")
def test_one(observed):
    observed("all good")

@check("T-2.01", phase="2", severity="high", title="two fails", remediation="fix-two --now")
def test_two():
    assert False, "expected running, got exited"
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", *args)


def report_lines(result: pytest.RunResult) -> list[Path]:
    return [Path(line.removeprefix("report: ")) for line in result.stdout.lines if line.startswith("report: ")]


class TestNeverOverwritten:
    def test_a_run_whose_names_are_taken_writes_under_the_next_suffix_and_says_so(
        self, pytester: pytest.Pytester
    ) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        reports = pytester.path / "reports"
        reports.mkdir()
        # Another run's files for every second this run may start in.
        now = dt.datetime.now()
        taken = []
        for offset in range(-2, 60):
            stamp = f"{now + dt.timedelta(seconds=offset):%Y%m%dT%H%M%S}"
            path = reports / f"readiness-local-{stamp}.html"
            path.write_text("another run's page")
            taken.append(path)
        result = run(pytester)
        written = report_lines(result)
        assert [p.suffix for p in written] == [".html", ".xml", ".json", ".prom"]
        assert all(p.stem.endswith("-2") and p.exists() and p.stat().st_size > 0 for p in written), written
        assert all(p.read_text() == "another run's page" for p in taken)
        assert f"Generated html report: {written[0].as_uri()}" in result.stdout.str()
        assert f"generated xml file: {written[1]}" in result.stdout.str()

    def test_two_runs_at_once_keep_their_own_files_and_print_their_own_paths(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        reports = pytester.path / "reports"
        command = [sys.executable, "-m", "pytest", "-p", "phoenix_compliance.plugin", f"--reports-dir={reports}"]
        runs = [
            subprocess.Popen(command, cwd=pytester.path, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=120)[0] for process in runs]
        printed = [
            [line[len("report: ") :] for line in out.splitlines() if line.startswith("report: ")] for out in outputs
        ]
        assert len(printed[0]) == len(printed[1]) == 4, outputs
        assert not set(printed[0]) & set(printed[1])
        assert sorted(str(p) for p in reports.iterdir()) == sorted(printed[0] + printed[1])
        for paths in printed:
            documents = [p for p in paths if p.endswith(".json")]
            assert verify_report(Path(documents[0]), None).intact


# A child that publishes a large file slowly: killed half way, it must leave nothing.
_SLOW_WRITER = """
import sys, time
from pathlib import Path
from phoenix_compliance.publish import write_file

def chunks():
    yield b"x" * 65536
    print("started", flush=True)
    while True:
        time.sleep(0.05)
        yield b"y" * 65536

write_file(Path(sys.argv[1]), chunks(), exclusive=sys.argv[2] == "exclusive")
"""


class TestAtomic:
    @pytest.mark.parametrize("mode", ["exclusive", "replace"])
    def test_a_run_killed_mid_write_leaves_no_file(self, tmp_path: Path, mode: str) -> None:
        folder = tmp_path / "reports"
        folder.mkdir()
        target = folder / "readiness-local-20270101T000000.json"
        if mode == "replace":
            target.write_text("the previous report\n")
        child = subprocess.Popen(
            [sys.executable, "-c", _SLOW_WRITER, str(target), mode],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "started"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        expected = [] if mode == "exclusive" else [target.name]
        assert sorted(os.listdir(folder)) == expected
        if mode == "replace":
            assert target.read_text() == "the previous report\n"


@pytest.fixture
def tiny_tmpfs(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], check=False)
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs needs root (mount -t tmpfs -o size=64k)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "ro"
    folder.mkdir()
    # A read-only mount: root ignores file modes, not a read-only filesystem.
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], check=False)
    if mounted.returncode != 0:
        pytest.skip("mounting a read-only tmpfs needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


class TestAFolderThatTakesNoFile:
    def expect_one_clear_error(self, result: pytest.RunResult, folder: Path, reason: str) -> None:
        output = result.stdout.str() + result.stderr.str()
        assert result.ret == EXIT_REPORTS_UNWRITTEN, output
        assert f"phoenix: cannot write the reports to {folder}: {reason}; no report file was kept" in output
        assert output.count("cannot write the reports") == 1
        assert "Traceback" not in output and "INTERNALERROR" not in output
        # The verdicts still reach the terminal, and no path is announced that was not written.
        result.stdout.fnmatch_lines(["local: phase 1: READY, phase 2: NOT READY"])
        assert report_lines(result) == []
        assert "Generated html report" not in output and "generated xml file" not in output

    def test_a_full_folder(self, pytester: pytest.Pytester, tiny_tmpfs: Path) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        (tiny_tmpfs / "filler").write_bytes(b"f" * 40 * 1024)
        result = run(pytester, f"--reports-dir={tiny_tmpfs}")
        self.expect_one_clear_error(result, tiny_tmpfs, "the folder is full (no space left on device)")
        assert sorted(os.listdir(tiny_tmpfs)) == ["filler"]

    def test_a_read_only_folder(self, pytester: pytest.Pytester, read_only_folder: Path) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, f"--reports-dir={read_only_folder}")
        self.expect_one_clear_error(result, read_only_folder, "the folder is not writable (Read-only file system)")

    def test_a_file_in_the_way(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        (pytester.path / "reports").write_text("not a folder")
        result = run(pytester)
        self.expect_one_clear_error(result, pytester.path / "reports", "it is a file, not a folder")

    def test_a_folder_that_cannot_be_created(self, pytester: pytest.Pytester, read_only_folder: Path) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, f"--reports-dir={read_only_folder / 'sub'}")
        self.expect_one_clear_error(
            result, read_only_folder / "sub", "the folder is not writable (Read-only file system)"
        )


def _forge_html(page: str, how: str) -> str:
    block_start = '<div id="phx-signature">'
    if how == "style":
        return page.replace("</head>", "<style>.phx .not-ready { display: none }</style></head>", 1)
    if how == "script":
        return page.replace("</body>", "<script>document.title = 'READY'</script></body>", 1)
    if how == "duplicated id":
        start = page.index(block_start)
        end = page.index("<!--/phx-signature-->") + len("<!--/phx-signature-->")
        return (
            page.replace("<body>", f"<body>{page[start:end]}", 1)
            if "<body>" in page
            else page[:10] + page[start:end] + page[10:]
        )
    if how == "moved block":
        start = page.index(block_start)
        end = page.index("<!--/phx-signature-->") + len("<!--/phx-signature-->")
        block = page[start:end]
        rest = page[:start] + page[end:]
        return rest.replace("</body>", f"{block}</body>", 1)
    if how == "one character":
        assert "NOT READY" in page
        return page.replace("NOT READY", "NOT READy", 1)
    if how == "digest of the forgery":
        import hashlib
        import re

        forged = page.replace("NOT READY", "READY", 1)
        unsealed = re.sub(r'(<div id="phx-signature">).*?(</div><!--/phx-signature-->)', r"\1@@PHX-SEAL@@\2", forged)
        digest = hashlib.sha256(unsealed.encode()).hexdigest()
        return re.sub(r"<code>[0-9a-f]{64}</code>", f"<code>{digest}</code>", forged, count=1)
    raise AssertionError(how)


FORGERIES = ["style", "script", "duplicated id", "moved block", "one character", "digest of the forgery"]


class TestTamperEvidence:
    @pytest.fixture
    def signed(self, pytester: pytest.Pytester, tmp_path: Path) -> tuple[Path, Path, Path]:
        key = tmp_path / "signer"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "--signoff=Ada", f"--sign-key={key}")
        paths = report_lines(result)
        page = next(p for p in paths if p.suffix == ".html")
        document = next(p for p in paths if p.suffix == ".json")
        assert verify_report(page, Path(f"{key}.pub")).intact
        assert verify_report(document, Path(f"{key}.pub")).intact
        return page, document, Path(f"{key}.pub")

    def test_every_forged_page_is_altered(self, signed: tuple[Path, Path, Path]) -> None:
        page, _, public = signed
        original = page.read_text(encoding="utf-8")
        for how in FORGERIES:
            forged = _forge_html(original, how)
            assert forged != original, how
            page.write_text(forged, encoding="utf-8")
            for signer in (None, public):
                verdict = verify_report(page, signer)
                assert not verdict.intact, (how, signer, verdict.lines)
                assert "ALTERED" in " ".join(verdict.lines) or "BAD" in " ".join(verdict.lines), (how, verdict.lines)
        page.write_text(original, encoding="utf-8")
        assert verify_report(page, public).intact

    @pytest.mark.parametrize("how", ["changed field", "duplicated key", "an added blank", "a new field"])
    def test_every_forged_json_is_altered(self, signed: tuple[Path, Path, Path], how: str) -> None:
        _, document, public = signed
        text = document.read_text(encoding="utf-8")
        data = json.loads(text)
        if how == "changed field":
            data["results"][0]["outcome"] = "passed" if data["results"][0]["outcome"] != "passed" else "failed"
            forged = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        elif how == "duplicated key":
            forged = text.replace('"outcome":"failed"', '"outcome":"failed","outcome":"passed"', 1)
            assert forged != text
        elif how == "an added blank":
            forged = text.replace('":', '": ', 1)
        else:
            data["run"]["note"] = "all READY"
            forged = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        document.write_text(forged, encoding="utf-8")
        for signer in (None, public):
            verdict = verify_report(document, signer)
            assert not verdict.intact, (how, verdict.lines)
            assert "ALTERED" in " ".join(verdict.lines)

    @pytest.mark.parametrize(("text", "holds"), [("[1, 2]", "a list"), ('"READY"', "a string"), ("{", "")])
    def test_verify_on_json_that_is_no_report_is_a_clean_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, holds: str
    ) -> None:
        from phoenix_compliance.cli import main

        path = tmp_path / "report.json"
        path.write_text(text)
        assert main(["verify", str(path)]) == 2
        out = capsys.readouterr()
        assert f"{path}: not a JSON report of this suite" in out.out
        assert holds in out.out and "Traceback" not in out.out + out.err


class TestUnderXdist:
    def test_the_controller_publishes_every_file(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, "-n", "2")
        written = report_lines(result)
        assert [p.suffix for p in written] == [".html", ".xml", ".json", ".prom"]
        assert all(p.exists() for p in written)
        assert verify_report(written[0], None).intact and verify_report(written[2], None).intact
