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


def write_in_guest(path: str, text: str, user: str = "phoenix") -> None:
    """Write a file inside the reference host (no stdin needed: base64 on the command line)."""
    from phoenix_compliance import refhost

    encoded = base64.b64encode(text.encode()).decode()
    done = refhost.run_in_guest(["sh", "-c", f"printf %s {encoded} | base64 -d > {path}"], user=user)
    assert done.returncode == 0, done.stderr
