"""The readiness report in a real browser: headless Chromium renders it offline."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from PIL import Image
from test_readme import catalogue

from phoenix_compliance.catalogue import PHASES
from phoenix_compliance.cli import main
from phoenix_compliance.report.model import CheckResult, RunReport
from phoenix_compliance.report.outputs import canonical_digest, json_text, to_document
from phoenix_compliance.report.signing import verify_report
from phoenix_compliance.run.reporter import EXIT_NOT_READY

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


def synthetic_result(path: Path, hosts: list[str], started: str, failing: dict[str, set[str]]) -> Path:
    """A run's JSON result over every check of the catalogue, without hosts: each check passes,
    but on the hosts `failing` names for its id; services multiply the per-service checks."""
    specs = catalogue()
    run = RunReport(started, PHASES, "stack.yaml", "synthetic", stack_digest="0" * 64, finished=started)
    for host_id in hosts:
        host = run.host(host_id)
        host.facts = {"os": "Debian GNU/Linux 13 (trixie)", "podman": "5.4.2", "user": "phoenix"}
        host.commands_run = 5
        for spec in specs.values():
            subjects = SERVICES if spec.phase in ("2", "3") else ("",)
            for subject in subjects:
                bad = host_id in failing.get(spec.id, set())
                name = f"test_{spec.id.replace('-', '_').replace('.', '_')}[{subject or 'host'}-{host_id}]"
                host.results.append(
                    CheckResult(
                        host_id,
                        spec.id,
                        spec.phase,
                        spec.severity,
                        spec.title,
                        "failed" if bad else "passed",
                        f"expected {spec.title.lower()}, got otherwise ({subject or 'host'} on {host_id})"
                        if bad
                        else f"seen on {host_id}",
                        spec.remediation,
                        name,
                        subject=subject,
                    )
                )
        host.expected = {phase: host.coverage(phase)[0] for phase in PHASES}
    document = to_document(run)
    document["digest"] = canonical_digest(document)
    path.write_text(json_text(document))
    return path


def open_time(page: Path, folder: Path) -> tuple[float, int, float]:
    """How long headless Chromium takes to load and lay out the page: (ms from navigation to
    the page loaded and laid out, measured in the browser; the page's height in px; the whole
    browser process's wall seconds, start-up included)."""
    wrapper = folder / "timing.html"
    wrapper.write_text(TIMING_PAGE.replace("PAGE_URI", json.dumps(page.as_uri())))
    started = time.monotonic()
    dom = chromium("--allow-file-access-from-files", "--dump-dom", wrapper.as_uri()).stdout
    wall = time.monotonic() - started
    match = re.search(r"loaded ([\d.]+) (-?\d+)", dom)
    assert match, dom[:2000]
    return float(match.group(1)), int(match.group(2)), wall


# Loads the page in a frame and notes when it is loaded and laid out (reading the height forces
# the layout); Chromium's --dump-dom waits for the frame, which delays the wrapper's load event.
TIMING_PAGE = """<!DOCTYPE html><html><body><pre id="t">pending</pre>
<iframe id="f" style="width:1280px;height:1600px"></iframe>
<script>
const start = performance.now();
const frame = document.getElementById("f");
frame.onload = () => {
  const height = frame.contentDocument ? frame.contentDocument.body.scrollHeight : -1;
  document.getElementById("t").textContent = "loaded " + (performance.now() - start).toFixed(1) + " " + height;
};
frame.src = PAGE_URI;
</script></body></html>
"""
SERVICES = ("web", "api", "db", "cache")


class TestFleetReportInChromium:
    def test_a_32_host_report_opens_and_is_measured(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        hosts = [f"ssh://web{number}" for number in range(1, 33)]
        linger = {f"ssh://web{number}" for number in (3, 9, 14, 17, 21, 26, 30)}
        shards = [
            synthetic_result(
                tmp_path / f"shard{k}.json",
                hosts[k - 1 :: 4],
                f"2026-12-02T0{k}:00:00+00:00",
                {
                    "PHX-1.11": linger,
                    "PHX-S.18": {"ssh://web5"},
                },
            )
            for k in (1, 2, 3, 4)
        ]
        reports = tmp_path / "reports"
        assert main(["merge", f"--reports-dir={reports}", *map(str, shards)]) == EXIT_NOT_READY
        page = next(reports.glob("readiness-fleet-32-hosts-*.html"))
        rows = page.read_text().count('<tr class="row-')
        chromium("--dump-dom", "about:blank")  # the browser's caches warm, as a reader's would be
        loaded_ms, height, wall = open_time(page, tmp_path)
        with capsys.disabled():
            print(
                f"\n32-host report ({rows} check rows, {page.stat().st_size // 1024} KiB): loaded and laid out"
                f" in {loaded_ms:.0f} ms in headless Chromium ({wall:.2f} s for the whole browser run)"
            )
        assert height > 1600
        dom = chromium("--dump-dom", page.as_uri()).stdout
        assert "PHX-1.11 fails on 7 of 32 hosts: ssh://web3, ssh://web9, ssh://web14, ssh://web17" in dom
        assert (
            dom.index(">ssh://web30<")
            < dom.index(">ssh://web1<")
            < dom.index(">ssh://web2<")
            < dom.index(">ssh://web10<")
        )


def fleet_checks(count: int) -> str:
    """A checks module of `count` checks over the four phases that judge only the host's name:
    PHX-1.11's stand-in fails on every host whose name ends in 3."""
    lines = ["from phoenix_compliance.checks import check", ""]
    for number in range(count):
        phase = PHASES[number % len(PHASES)]
        lines += [
            f'@check("T-{number:02d}", phase="{phase}", severity="high", title="c{number}", remediation="fix")',
            f"def test_check_{number}(host, observed):",
            '    observed("seen")',
            f'    assert {number} != 11 or not host.backend.get_pytest_id().endswith("3"), "expected linger, got none"',
            "",
        ]
    return "\n".join(lines)


class TestCheckRunPageInChromium:
    def test_a_32_host_check_run_page_is_measured(
        self, pytester: pytest.Pytester, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The page a check run writes: pytest-html's results table (built by its script at load)
        under the readiness section; printed beside the readiness section's share."""
        pytester.makepyfile(test_fleet=fleet_checks(len(catalogue())))
        hosts = ",".join(f"ssh://web{number}" for number in range(1, 33))
        pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", f"--hosts={hosts}", "-q")
        page = next((pytester.path / "reports").glob("readiness-*.html"))
        text = page.read_text()
        start = text.index('<section class="phx"')
        end = text.index("</section>", text.index("phx-signature")) + len("</section>")
        section = tmp_path / "section.html"
        section.write_text(f"<!DOCTYPE html><html><body>{text[start:end]}</body></html>")
        chromium("--dump-dom", "about:blank")
        whole_ms, height, wall = open_time(page, tmp_path)
        section_ms, _, _ = open_time(section, tmp_path)
        with capsys.disabled():
            print(
                f"\n32-host check-run page ({page.stat().st_size // 1024} KiB, pytest-html with"
                f" {32 * len(catalogue())} checks): loaded, scripted and laid out in {whole_ms:.0f} ms"
                f" ({wall:.2f} s for the whole browser run); its readiness section alone {section_ms:.0f} ms"
            )
        assert height > 1600
        # Above eight hosts pytest-html's table keeps the checks that did not pass: a passed
        # check is in no row of its data at all (its setup and teardown are not built either).
        assert "test_fleet.py::test_check_11[ssh://web3]&#34;: [{" in text
        assert "test_fleet.py::test_check_0[ssh://web1]&#34;" not in text


class TestTrendInChromium:
    def test_the_chart_renders_and_its_points_are_the_inputs(self, tmp_path: Path) -> None:
        hosts = [f"ssh://web{number}" for number in range(1, 7)]
        # Night by night, fewer hosts without linger (PHX-1.11 blocks phase 1 and so 2 and 3).
        failing_by_night = [hosts[:4], hosts[:3], hosts[:3], hosts[:1], []]
        results = [
            synthetic_result(
                tmp_path / f"night{night}.json", hosts, f"2026-11-2{night}T02:00:00+00:00", {"PHX-1.11": set(failing)}
            )
            for night, failing in enumerate(failing_by_night)
        ]
        reports = tmp_path / "reports"
        assert main(["trend", f"--reports-dir={reports}", *map(str, reversed(results))]) == 0
        page = next(reports.glob("trend-*.html"))
        assert verify_report(page, None).intact
        prom = next(reports.glob("trend-*.prom")).read_text()
        assert 'phoenix_trend_hosts_ready{run="2026-11-23T02:00:00+00:00",phase="1"} 5' in prom
        assert 'phoenix_trend_fixed{run="2026-11-23T02:00:00+00:00"} 2' in prom
        shot = tmp_path / "trend.png"
        rendered = chromium(f"--screenshot={shot}", page.as_uri())
        assert shot.exists(), rendered.stderr
        with Image.open(shot) as image:
            colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) > 50
        soup = BeautifulSoup(chromium("--dump-dom", page.as_uri()).stdout, "html.parser")
        points = {
            (str(circle["data-phase"]), int(str(circle["data-night"]))): (
                int(str(circle["data-ready"])),
                float(str(circle["cy"])),
            )
            for circle in soup.select("svg#trend-chart circle.point")
        }
        assert {phase for phase, _ in points} == set(PHASES)
        for night, failing in enumerate(failing_by_night):
            ready = len(hosts) - len(failing)
            for phase in ("1", "2", "3"):
                assert points[(phase, night)][0] == ready
            assert points[("security", night)][0] == len(hosts)
        # The higher the count, the higher the point (SVG's y grows downwards).
        heights = [points[("1", night)][1] for night in range(len(failing_by_night))]
        assert heights == sorted(heights, reverse=True) and heights[0] > heights[-1]
