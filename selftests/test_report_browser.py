"""The readiness report in a real browser: headless Chromium renders it offline."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

pytest_plugins = ["pytester"]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # This machine reaches no outside network: a self-contained page needs none.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
]
CHECKS = """
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="critical", title="passes", remediation="none")
def test_one():
    pass

@check("T-2.01", phase="2", severity="high", title="fails", remediation="fix-it --now")
def test_two():
    assert False, "expected up, got down (probe on local)"
"""


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (quickstart.sh does)")
    with tempfile.TemporaryDirectory(prefix="phx-chromium-") as profile:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


class TestReportInChromium:
    def test_the_page_renders_with_its_verdicts(self, pytester: pytest.Pytester, tmp_path: Path) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", "--phase=1,2", "--signoff=Ada")
        page = next((pytester.path / "reports").glob("readiness-*.html"))
        shot = tmp_path / "report.png"
        rendered = chromium(f"--screenshot={shot}", page.as_uri())
        assert shot.exists(), rendered.stderr
        with Image.open(shot) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        # A blank page has one colour; text, the verdict cells and tables many.
        assert colours is not None and len(colours) > 50
        dom = chromium("--dump-dom", page.as_uri()).stdout
        assert "Migration readiness" in dom
        assert ">READY<" in dom and ">NOT READY<" in dom
        assert "expected up, got down (probe on local)" in dom
        assert "Signed off by" in dom
