"""Runs the compliance suite as a user would, and reads back what it wrote."""

from __future__ import annotations

import base64
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

REPO = Path(__file__).resolve().parent.parent
HOST = "ssh://refhost"
REFERENCE_STACK = REPO / "fixtures" / "stacks" / "reference.yaml"


@dataclass
class Run:
    returncode: int
    output: str
    failed: set[str]
    passed: set[str]
    html: BeautifulSoup


def run_suite(reports: Path, *args: str, paths: tuple[str, ...] = ("tests",)) -> Run:
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", *paths, f"--reports-dir={reports}", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    xml = ET.parse(next(reports.glob("readiness-*.xml")))
    failed: set[str] = set()
    passed: set[str] = set()
    for case in xml.iter("testcase"):
        if case.find("skipped") is not None:
            continue
        bad = case.find("failure") is not None or case.find("error") is not None
        (failed if bad else passed).add(case.get("name", ""))
    html = BeautifulSoup(next(reports.glob("readiness-*.html")).read_text(), "html.parser")
    return Run(completed.returncode, completed.stdout + completed.stderr, failed, passed, html)


def verdict(page: BeautifulSoup) -> list[str]:
    matrix = page.select_one("#readiness table.matrix")
    assert matrix is not None
    return [td.get_text(strip=True) for td in matrix.find_all("tr")[1].find_all("td")]


@dataclass(frozen=True)
class Guest:
    """A reference guest of one release. Its ssh config names it refhost whichever release
    it runs, so the suite's host id (and every check id) is the same on each."""

    name: str
    release: str
    ssh_config: Path

    def run(self, argv: list[str], user: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        from phoenix_compliance import refhost

        return refhost.run_in_guest(argv, user=user, timeout=timeout, name=self.name)

    def deploy(self, mode: str, with_groups: bool = False) -> None:
        from phoenix_compliance import refhost

        refhost.deploy(mode, self.name, with_groups=with_groups)

    def write(self, path: str, text: str, user: str = "phoenix") -> None:
        """Write a file inside the guest (no stdin needed: base64 on the command line)."""
        encoded = base64.b64encode(text.encode()).decode()
        done = self.run(["sh", "-c", f"printf %s {encoded} | base64 -d > {path}"], user=user)
        assert done.returncode == 0, done.stderr
