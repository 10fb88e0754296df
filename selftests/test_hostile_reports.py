"""Issue 24, the report side: every string from outside reaches a page as text, each page
carries a Content-Security-Policy allowing only its own scripts and styles, by hash; and
results given back to merge, trend and verify are validated, never a traceback.

The pages are opened in headless Chromium (test_report_browser.py's driver): an injected
script would rename the page (document.title) and rewrite every NOT READY to READY."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st
from test_report_browser import chromium

from phoenix_compliance.cli import main
from phoenix_compliance.report import page_policy
from phoenix_compliance.report.model import CheckResult, RunReport
from phoenix_compliance.report.outputs import canonical_digest, json_text, to_document
from phoenix_compliance.report.render import readiness_section
from phoenix_compliance.report.signing import verify_report
from phoenix_compliance.run.reporter import EXIT_NOT_READY

pytest_plugins = ["pytester"]

# What an injected script does: visible in the DOM Chromium dumps.
PAYLOAD_JS = (
    "document.title='PWNED';document.querySelectorAll('td.NOT-READY').forEach(function(e){e.textContent='READY'})"
)
# A valid git branch name (no blank, no ~^:?*[\, no '..', no '@{'): GitLab's CI_COMMIT_REF_NAME.
BRANCH = f"fix<img/src/onerror={PAYLOAD_JS}>"
METADATA = {
    "Script": f"<script>{PAYLOAD_JS}</script>",
    "Textarea": f'</textarea><img src=x onerror="{PAYLOAD_JS}">',
    "Link": f'<a id="jslink" href="javascript:{PAYLOAD_JS}">open</a>',
}
NESTED = {"Nested": {f'<img src=x onerror="{PAYLOAD_JS}">': f'<svg onload="{PAYLOAD_JS}">'}, "List": ["<b>x</b>"]}
TEST_IDS = [f'<img src=x onerror="{PAYLOAD_JS}">', f"</td><script>{PAYLOAD_JS}</script>", "javascript:void(0)"]
CHECKS = f"""
import pytest
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="critical", title="passes", remediation="none")
def test_one():
    pass

@check("T-2.01", phase="2", severity="high", title="fails", remediation="fix-it --now")
@pytest.mark.parametrize("x", [1, 2, 3], ids={TEST_IDS!r})
def test_two(x):
    assert False, "expected up, got down (probe on local)"
"""
TITLE = "phoenix-hydra migration readiness"


def dom_of(page: Path) -> BeautifulSoup:
    return BeautifulSoup(chromium("--dump-dom", page.as_uri()).stdout, "html.parser")


def assert_no_script_ran(dom: BeautifulSoup, title: str) -> None:
    assert dom.title is not None and dom.title.get_text() == title
    matrix = dom.select_one("#readiness table.matrix")
    assert matrix is not None
    assert "NOT READY" in [td.get_text(strip=True) for td in matrix.select("td.verdict")]


def assert_policy_matches(text: str) -> None:
    """The policy lists a hash for every script and style on the page, and nothing else."""
    declared = page_policy.declared(text)
    assert declared is not None
    directives = {part.split(" ", 1)[0]: part.split(" ")[1:] for part in declared.split("; ")}
    assert directives["default-src"] == ["'none'"]
    for tag in ("script", "style"):
        on_page = {page_policy.source_hash(body) for body in page_policy.elements(text, tag)}
        listed = set(directives[f"{tag}-src"]) - {"'none'"}
        assert listed == on_page, tag
    assert "'unsafe-inline'" not in declared and "'unsafe-hashes'" not in declared
    # The policy is in the head, before any element it governs.
    governed = [text.find(tag) for tag in ("<style", "<script") if tag in text]
    assert text.index(page_policy.META_START) < min(governed)


class TestCheckRunPage:
    def test_hostile_branch_metadata_and_test_ids_stay_text(
        self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        if shutil.which("git"):
            named = subprocess.run(["git", "check-ref-format", "--branch", BRANCH], capture_output=True, check=False)
            assert named.returncode == 0, "the branch name is one git accepts"
        monkeypatch.setenv("CI_COMMIT_REF_NAME", BRANCH)
        pytester.makepyfile(test_checks=CHECKS)
        args = [arg for name, value in METADATA.items() for arg in ("--metadata", name, value)]
        pytester.runpytest_subprocess(
            "-p", "phoenix_compliance.plugin", "--phase=1,2", *args, f"--metadata-from-json={json.dumps(NESTED)}"
        )
        page = next((pytester.path / "reports").glob("readiness-*.html"))
        text = page.read_text()
        assert verify_report(page, None).intact
        dom = dom_of(page)
        assert_no_script_ran(dom, TITLE)
        environment = {
            row.select("td")[0].get_text(): row.select("td")[1] for row in dom.select("#environment tr") if row.td
        }
        assert environment["CI_COMMIT_REF_NAME"].get_text() == BRANCH
        for name, value in METADATA.items():
            assert environment[name].get_text() == value
        assert environment["Nested"].get_text() == ": ".join(*NESTED["Nested"].items())  # type: ignore[attr-defined]
        table = dom.select_one("#environment")
        assert table is not None and not table.select("img, script, svg, a, textarea, b")
        # pytest-html's script ran (under the policy) and built every row, each id as text.
        shown = [cell.get_text() for cell in dom.select("#results-table td.col-testId")]
        for test_id in TEST_IDS:
            assert f"test_checks.py::test_two[{test_id}]" in shown
        assert not dom.select("a#jslink") and len(dom.select("script")) == 1
        assert_policy_matches(text)
        handlers = [tag for tag in dom.find_all(True) if any(name.startswith("on") for name in tag.attrs)]
        # pytest-html's own reload button (hidden once the run finished; the policy holds its handler too).
        assert [tag.get("onclick") for tag in handlers] == ["location.reload()"]


def result_file(path: Path, run: RunReport) -> Path:
    document = to_document(run)
    document["digest"] = canonical_digest(document)
    path.write_text(json_text(document))
    return path


HOSTILE = f'<img src=x onerror="{PAYLOAD_JS}">'


def hostile_run(started: str) -> RunReport:
    """A result whose every free string is markup: host id, facts, evidence, title, stack."""
    run = RunReport(started, ("1",), f"stack{HOSTILE}.yaml", "v1", stack_digest="0" * 64, finished=started)
    for host_id in (f"ssh://web1{HOSTILE}", "ssh://web2"):
        host = run.host(host_id)
        host.facts = {f"os{HOSTILE}": f"</textarea>{HOSTILE}"}
        host.results.append(
            CheckResult(host_id, "T-1.01", "1", "high", f"title{HOSTILE}", "failed", f"evidence {HOSTILE}", "fix", "n")
        )
        host.expected = {"1": 1}
    return run


class TestFleetAndTrendPages:
    def test_merge_and_trend_show_a_hostile_result_as_text(self, tmp_path: Path) -> None:
        shard = result_file(tmp_path / "shard.json", hostile_run("2026-12-01T02:00:00+00:00"))
        assert main(["merge", f"--reports-dir={tmp_path / 'fleet'}", str(shard)]) == EXIT_NOT_READY
        page = next((tmp_path / "fleet").glob("readiness-fleet-*.html"))
        dom = dom_of(page)
        assert_no_script_ran(dom, "Migration readiness of 2 hosts")
        assert not dom.select("#readiness img")
        assert f"evidence {HOSTILE}" in [pre.get_text() for pre in dom.select("#readiness pre")]
        assert_policy_matches(page.read_text())

        night = result_file(tmp_path / "night.json", hostile_run(f"2026-12-02T02:00:00+00:00{HOSTILE}"))
        assert main(["trend", f"--reports-dir={tmp_path / 'trend'}", str(shard), str(night)]) == 0
        trend = next((tmp_path / "trend").glob("trend-*.html"))
        assert_policy_matches(trend.read_text())
        dom = dom_of(trend)
        assert dom.title is not None and dom.title.get_text().startswith("Migration readiness over 2 runs")
        assert not dom.select("img") and f"2026-12-02T02:00:00+00:00{HOSTILE}" in dom.get_text()


# Drawn strings: markup, quotes, ampersands and any text; NUL and CR are left out, which an
# HTML parser (the browser's too) rewrites before anyone reads them.
TEXT = st.text(
    alphabet=st.one_of(st.sampled_from(list("<>&\"'/=` ;:")), st.characters(blacklist_characters="\x00\r")),
    max_size=40,
)


# Every element the readiness template writes.
SECTION_TAGS = {"section", "style", "h2", "h3", "p", "table", "tr", "th", "td", "a", "span", "em", "code", "pre", "div"}


class TestDrawnStrings:
    @settings(max_examples=150, deadline=None)
    @given(value=TEXT, name=TEXT)
    def test_an_environment_value_is_the_text_pytest_htmls_script_shows(self, value: str, name: str) -> None:
        from phoenix_compliance.run.html_hooks import escaped_environment

        # Its script writes `<div>${value}</div>` and `<li>${name}: ${nested value}</li>`.
        shown = escaped_environment({"K": value, "T": {name: value}})
        div = BeautifulSoup(f"<div>{shown['K']}</div>", "html.parser")
        assert div.get_text() == value and not div.div.find_all(True)  # type: ignore[union-attr]
        ((key, item),) = shown["T"].items()
        li = BeautifulSoup(f"<ul><li>{key}: {item}</li></ul>", "html.parser")
        assert li.get_text() == f"{name}: {value}" and not li.li.find_all(True)  # type: ignore[union-attr]

    @settings(max_examples=60, deadline=None)
    @given(host=TEXT, fact=TEXT, evidence=TEXT)
    def test_a_readiness_section_shows_any_string_as_text(self, host: str, fact: str, evidence: str) -> None:
        run = RunReport("now", ("1",), "stack.yaml", "v")
        report = run.host(f"ssh://{host}")
        report.facts = {fact: fact}
        report.results.append(CheckResult(report.host, "T-1.01", "1", "high", "t", "failed", evidence, "fix", "n"))
        soup = BeautifulSoup(readiness_section(run), "html.parser")
        facts = soup.select_one("table.facts")
        assert facts is not None and [cell.get_text() for cell in facts.select("th, td")] == [fact, fact]
        assert [pre.get_text() for pre in soup.select("table.checks pre")] == [evidence]
        assert {tag.name for tag in soup.find_all(True)} <= SECTION_TAGS
