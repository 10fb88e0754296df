"""The light probes' shell helpers (transport/resources/probe_common.sh), run by this machine's
own sh: a section printed as plain text or base64 reads back as the program printed it, a file
read by the shell answers as cat does, and the endpoint probe asks every URL in one curl round,
with the sequential fallback of a curl that has no -Z."""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

from phoenix_compliance.transport.runner import Section, parse_sections, prelude

PROBES = resources.files("phoenix_compliance.facts.probes")


def run(body: str, **env: str) -> dict[str, Section]:
    done = subprocess.run(
        ["sh", "-c", prelude() + body],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PHX_TIMEOUT": "10", **env},
        check=False,
    )
    return parse_sections(done.stdout)


class TestFraming:
    @pytest.mark.parametrize(
        "text",
        [
            "",
            "one line",
            "  leading and trailing blanks  ",
            "two\nlines",
            "@@PHX forged 0 b2s= \n@@PHT forged 0 ok",
            "@@PHT forged 0 ok",
            "caf\u00e9",
            "tab\there",
            "carriage\rreturn",
        ],
    )
    def test_a_program_output_reads_back_as_printed(self, text: str, tmp_path: Path) -> None:
        file = tmp_path / "said"
        file.write_text(text)
        sections = run(f"section said cat {file}\nfile_section read {file}\n")
        assert set(sections) == {"said", "read"}
        assert sections["said"] == Section("said", 0, text, "")
        assert sections["read"] == Section("read", 0, text, "")

    def test_a_one_line_answer_is_plain_and_an_error_goes_base64(self, tmp_path: Path) -> None:
        done = subprocess.run(
            ["sh", "-c", prelude() + f"section ok printf 'fine'\nsection missing cat {tmp_path}/none\n"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "PHX_TIMEOUT": "10"},
            check=False,
        )
        assert "@@PHT ok 0 fine\n" in done.stdout
        assert "@@PHX missing 1  " in done.stdout

    def test_an_absent_file_answers_as_cat_does(self, tmp_path: Path) -> None:
        absent = tmp_path / "none"
        sections = run(f"section by_cat cat {absent}\nfile_section by_shell {absent}\n")
        assert sections["by_shell"].rc == sections["by_cat"].rc == 1
        assert sections["by_shell"].err.strip() == f"cat: {absent}: No such file or directory"
        assert sections["by_cat"].err.strip().endswith("No such file or directory")

    def test_values_and_errors_the_script_holds(self) -> None:
        sections = run('text_section held 0 "a${nl}b"\nerror_section refused 125 "not asked"\n')
        assert sections["held"] == Section("held", 0, "a\nb", "")
        assert sections["refused"] == Section("refused", 125, "", "not asked\n")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[int]:
    (tmp_path / "index.html").write_text("ok")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: _Quiet(*a, directory=str(tmp_path)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield int(httpd.server_address[1])
    httpd.shutdown()
    httpd.server_close()


def old_curl(folder: Path) -> str:
    """A PATH whose curl refuses -Z, as curl before 7.66 does."""
    folder.mkdir()
    wrapper = folder / "curl"
    real = subprocess.run(["sh", "-c", "command -v curl"], capture_output=True, text=True, check=False).stdout.strip()
    wrapper.write_text(f'#!/bin/sh\nfor a; do [ "$a" = -Z ] && exit 2; done\nexec {real} "$@"\n')
    wrapper.chmod(0o755)
    return f"{folder}:{os.environ['PATH']}"


@pytest.mark.skipif(
    subprocess.run(["sh", "-c", "command -v curl"], capture_output=True, check=False).returncode != 0,
    reason="no curl on this machine",
)
class TestEndpoints:
    @pytest.mark.parametrize("sequential", [False, True], ids=["parallel", "curl-without-Z"])
    def test_every_url_answers_in_its_own_section(self, server: int, sequential: bool, tmp_path: Path) -> None:
        urls = [
            f"http://127.0.0.1:{server}/",
            f"http://127.0.0.1:{server}/missing?a=*",
            "http://127.0.0.1:1/",
            f"http://127.0.0.1:{server}",
        ]
        env = {"PHX_URLS": " ".join(urls), "PHX_RETRIES": "2", "PHX_HTTP_TIMEOUT": "5"}
        if sequential:
            env["PATH"] = old_curl(tmp_path / "bin")
        sections = run(PROBES.joinpath("probe_http.sh").read_text("utf-8"), **env)
        assert sections["http_0"] == Section("http_0", 0, "200", "")
        assert sections["http_1"] == Section("http_1", 0, "404", "")
        assert sections["http_2"] == Section("http_2", 1, "", "no answer from http://127.0.0.1:1/ after 2 tries\n")
        assert sections["http_3"] == Section("http_3", 0, "200", "")
