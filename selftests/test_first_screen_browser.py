"""The first screen in a real browser: headless Chromium at 1280 px wide shows the verdict
banner and the sign-off block without scrolling, for one host (a run with --signoff and a sign
key) and for a 32-host merged report; the screenshots stay under the test's basetemp. And the
page printed to PDF (the `pdf` subcommand) carries the digest of the page it was made from.

The page's own policy lets no script of ours run in it, so the geometry is read from outside:
a wrapper page (no policy of its own) loads the sealed page in a 1280 x 800 frame, the first
screen of a laptop, and reads the blocks' boxes from the frame's layout."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from test_report_browser import chromium, synthetic_result

from phoenix_compliance.cli import main
from phoenix_compliance.cli.pdf import EXIT_NO_BROWSER
from phoenix_compliance.report.pdf import pdf_digest
from phoenix_compliance.report.results import EXIT_INPUT_ALTERED
from phoenix_compliance.report.signing import verify_report
from phoenix_compliance.run.reporter import EXIT_NOT_READY

pytest_plugins = ["pytester"]

WIDTH, HEIGHT = 1280, 800
GEOMETRY_PAGE = """<!DOCTYPE html><html><body style="margin:0"><pre id="t">pending</pre>
<iframe id="f" style="width:WIDTHpx;height:HEIGHTpx;border:0"></iframe>
<script>
const frame = document.getElementById("f");
frame.onload = () => setTimeout(() => {
  const page = frame.contentDocument;
  const box = (id) => { const e = page.getElementById(id); if (!e) return null;
    const r = e.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right,
    text: e.innerText}; };
  document.getElementById("t").textContent = JSON.stringify({
    verdict: box("phx-verdict"), signoff: box("phx-signoff"),
    viewport: [frame.contentWindow.innerWidth, frame.contentWindow.innerHeight],
  });
}, 300);
frame.src = PAGE_URI;
</script></body></html>
"""
CHECKS = """
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="critical", title="passes", remediation="none")
def test_one():
    pass

@check("T-2.01", phase="2", severity="high", title="fails", remediation="fix-it --now")
def test_two():
    assert False, "expected up, got down (probe on local)"
"""


def first_screen(page: Path, folder: Path) -> dict[str, object]:
    """The boxes of the verdict banner and the sign-off block in a 1280 x 800 frame, and a screenshot."""
    wrapper = folder / "geometry.html"
    text = GEOMETRY_PAGE.replace("WIDTH", str(WIDTH)).replace("HEIGHT", str(HEIGHT))
    wrapper.write_text(text.replace("PAGE_URI", json.dumps(page.as_uri())))
    dom = chromium("--allow-file-access-from-files", "--virtual-time-budget=5000", "--dump-dom", wrapper.as_uri())
    match = re.search(r'<pre id="t">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert match and match.group(1) != "pending", dom.stdout[:2000] + dom.stderr[-2000:]
    found: dict[str, object] = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    shot = folder / f"{page.stem}-first-screen.png"
    chromium(f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}", page.as_uri())
    with Image.open(shot) as image:
        assert image.size[0] == WIDTH
    found["screenshot"] = str(shot)
    return found


def assert_on_first_screen(found: dict[str, object]) -> None:
    for block in ("verdict", "signoff"):
        box = found[block]
        assert isinstance(box, dict), found
        assert box["top"] >= 0 and box["bottom"] <= HEIGHT, f"{block} not on the first screen: {box}"
        assert box["right"] <= WIDTH, f"{block} wider than the screen: {box}"


def keypair(folder: Path) -> Path:
    key = folder / "signer"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
    return key


class TestFirstScreenInChromium:
    def test_one_host_signed_off_and_signed(self, pytester: pytest.Pytester, tmp_path: Path) -> None:
        key = keypair(tmp_path)
        pytester.makepyfile(test_checks=CHECKS)
        pytester.runpytest_subprocess(
            "-p", "phoenix_compliance.plugin", "--phase=1,2", "--signoff=Ada Lovelace", f"--sign-key={key}"
        )
        page = next((pytester.path / "reports").glob("readiness-*.html"))
        assert verify_report(page, key.with_suffix(".pub")).intact
        found = first_screen(page, tmp_path)
        assert_on_first_screen(found)
        verdict, signoff = found["verdict"], found["signoff"]
        assert isinstance(verdict, dict) and isinstance(signoff, dict)
        assert "NOT READY: 1 of 2 phases READY on 1 host" in verdict["text"]
        assert "Signed off by Ada Lovelace" in signoff["text"]
        assert "SHA256:" in signoff["text"] and "phoenix-compliance verify" in signoff["text"]
        assert re.search(r"SHA-256: [0-9a-f]{64}", signoff["text"]), signoff

    def test_a_32_host_merged_report(self, tmp_path: Path) -> None:
        hosts = [f"ssh://web{number}" for number in range(1, 33)]
        shard = synthetic_result(
            tmp_path / "shard.json",
            hosts,
            "2026-12-07T01:00:00+00:00",
            {"PHX-1.11": {"ssh://web3", "ssh://web9"}, "PHX-S.18": {"ssh://web5"}},
        )
        reports = tmp_path / "reports"
        key = keypair(tmp_path)
        assert main(["merge", f"--reports-dir={reports}", f"--sign-key={key}", str(shard)]) == EXIT_NOT_READY
        page = next(reports.glob("readiness-fleet-32-hosts-*.html"))
        found = first_screen(page, tmp_path)
        assert_on_first_screen(found)
        verdict = found["verdict"]
        assert isinstance(verdict, dict)
        assert "NOT READY: 2 of 32 hosts (30 READY)" in verdict["text"]


class TestPdf:
    @pytest.fixture
    def page(self, pytester: pytest.Pytester) -> Path:
        pytester.makepyfile(test_checks=CHECKS)
        pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", "--phase=1,2", "--signoff=Ada")
        return next((pytester.path / "reports").glob("readiness-*.html"))

    def test_the_pdf_carries_the_page_digest(self, page: Path, capsys: pytest.CaptureFixture[str]) -> None:
        digest = verify_report(page, None).lines[0].rsplit(" ", 1)[-1]
        assert main(["pdf", str(page)]) == 0
        pdf = page.with_suffix(".pdf")
        data = pdf.read_bytes()
        assert data.startswith(b"%PDF-") and pdf_digest(data) == digest
        # A4 (595 x 842 pt), however many pages.
        assert re.search(rb"/MediaBox \[0 0 59[45]\.\d+ 84[12]\.\d+\]", data)
        capsys.readouterr()
        assert main(["verify", str(pdf)]) == 0
        assert digest in capsys.readouterr().out
        # Never over an existing file.
        before = pdf.stat().st_mtime_ns
        assert main(["pdf", str(page)]) == 2
        assert pdf.stat().st_mtime_ns == before

    def test_no_pdf_of_an_altered_page(self, page: Path) -> None:
        page.write_text(page.read_text().replace("Ada", "Eve"))
        assert main(["pdf", str(page)]) == EXIT_INPUT_ALTERED
        assert not page.with_suffix(".pdf").exists()

    def test_without_a_browser_it_says_so(
        self, page: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("PATH", str(page.parent))
        assert main(["pdf", str(page)]) == EXIT_NO_BROWSER
        assert "no headless browser found" in capsys.readouterr().err
        assert not page.with_suffix(".pdf").exists() and page.exists()
