"""Issue 24, the report side: every string from outside reaches a page as text, each page
carries a Content-Security-Policy allowing only its own scripts and styles, by hash; and
results given back to merge, trend and verify are validated, never a traceback.

The pages are opened in headless Chromium (test_report_browser.py's driver): an injected
script would rename the page (document.title) and rewrite every NOT READY to READY."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st
from test_report_browser import chromium

from phoenix_compliance.catalogue import SEVERITIES
from phoenix_compliance.cli import main
from phoenix_compliance.report import page_policy
from phoenix_compliance.report.bounded import MAX_REPORT_BYTES
from phoenix_compliance.report.model import OUTCOMES, CheckResult, RunReport
from phoenix_compliance.report.outputs import CompareError, canonical_digest, json_text, load_previous, to_document
from phoenix_compliance.report.render import readiness_section
from phoenix_compliance.report.results import EXIT_INPUT_ALTERED
from phoenix_compliance.report.signing import verify_report
from phoenix_compliance.run.reporter import EXIT_NOT_READY

pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parent.parent

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
# BeautifulSoup's own rule, outside a <pre>: a text made only of ASCII spaces is read back as one
# newline when it holds one, else as one space (a parser artefact: the page holds the text as written).
_ASCII_SPACES = " \n\t\x0c\r"


def as_parsed(text: str) -> str:
    if text and not text.strip(_ASCII_SPACES):
        return "\n" if "\n" in text else " "
    return text


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
        assert div.get_text() == as_parsed(value) and not div.div.find_all(True)  # type: ignore[union-attr]
        ((key, item),) = shown["T"].items()
        li = BeautifulSoup(f"<ul><li>{key}: {item}</li></ul>", "html.parser")
        assert li.get_text() == as_parsed(f"{name}: {value}") and not li.li.find_all(True)  # type: ignore[union-attr]

    @settings(max_examples=60, deadline=None)
    @given(host=TEXT, fact=TEXT, evidence=TEXT)
    def test_a_readiness_section_shows_any_string_as_text(self, host: str, fact: str, evidence: str) -> None:
        run = RunReport("now", ("1",), "stack.yaml", "v")
        report = run.host(f"ssh://{host}")
        report.facts = {fact: fact}
        report.results.append(CheckResult(report.host, "T-1.01", "1", "high", "t", "failed", evidence, "fix", "n"))
        soup = BeautifulSoup(readiness_section(run), "html.parser")
        facts = soup.select_one("table.facts")
        assert facts is not None and [cell.get_text() for cell in facts.select("th, td")] == [as_parsed(fact)] * 2
        assert [pre.get_text() for pre in soup.select("table.checks pre")] == [evidence]
        assert {tag.name for tag in soup.find_all(True)} <= SECTION_TAGS


def one_host_run() -> RunReport:
    run = RunReport("2026-12-01T02:00:00+00:00", ("1",), "stack.yaml", "v1", stack_digest="0" * 64, finished="x")
    host = run.host("ssh://web1")
    host.results.append(CheckResult("ssh://web1", "T-1.01", "1", "high", "t", "failed", "e", "fix", "n"))
    host.expected = {"1": 1}
    return run


def forged(path: Path, change: Callable[[dict[str, Any]], None], *, ready: bool = False) -> Path:
    """A result changed, given a fresh digest (so its bytes are intact); `ready`: its recorded
    verdicts say READY, as a writer counting the odd value as not blocking would record them."""
    document = to_document(one_host_run())
    change(document)
    if ready:
        document["run"]["verdict"] = "READY"
        document["hosts"]["ssh://web1"]["verdicts"] = {"1": "READY"}
    try:
        document["digest"] = canonical_digest(document)
        text = json_text(document)
    except ValueError:  # NaN, which the suite cannot spell: as another writer spells it
        document["digest"] = "0" * 64
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    path.write_text(text)
    return path


def _set(where: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        targets = {
            "result": lambda: document["results"][0],
            # What the first result's check is (format 2 names it once, under "checks").
            "check": lambda: document["checks"][document["results"][0]["id"]],
            "host": lambda: document["hosts"]["ssh://web1"],
        }
        target = targets[where]()
        if value is _MISSING:
            del target[key]
        else:
            target[key] = value

    return change


_MISSING = object()
MALFORMED = [
    ("an unknown outcome", _set("result", "outcome", "FAILED"), True, "results[0].outcome: 'FAILED' is not an outcome"),
    (
        "an unknown severity",
        _set("check", "severity", "CRITICAL"),
        True,
        "checks['T-1.01'].severity: 'CRITICAL' is not a",
    ),
    ("NaN", _set("result", "duration", float("nan")), False, "NaN or Infinity at results[0].duration"),
    ("a missing field", _set("result", "evidence", _MISSING), False, "results[0].evidence: missing"),
    (
        "a number as text",
        _set("host", "commands_run", "5"),
        False,
        "hosts['ssh://web1'].commands_run: expected a count",
    ),
    (
        "a list for text",
        _set("check", "title", ["t"]),
        False,
        "checks['T-1.01'].title: expected a string, found a list",
    ),
]


class TestResultsGivenBack:
    @pytest.mark.parametrize(("case", "change", "ready", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
    @pytest.mark.parametrize("command", ["verify", "merge", "trend", "plan"])
    def test_a_malformed_result_is_refused_naming_file_and_field(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        command: str,
        case: str,
        change: Callable[[dict[str, Any]], None],
        ready: bool,
        message: str,
    ) -> None:
        path = forged(tmp_path / "result.json", change, ready=ready)
        if command in ("verify", "plan"):
            args = [str(path)] if command == "verify" else [f"--out={tmp_path / 'out'}", str(path)]
        else:
            args = [f"--reports-dir={tmp_path / 'out'}", str(path)]
        code = main([command, *args])
        out = capsys.readouterr()
        assert code == (2 if command == "verify" else EXIT_INPUT_ALTERED), out
        assert f"{path}: " in out.out + out.err and message in out.out + out.err
        assert "Traceback" not in out.out + out.err and not (tmp_path / "out").exists()

    def test_a_previous_run_with_an_unknown_outcome_is_a_usage_error(self, tmp_path: Path) -> None:
        path = forged(tmp_path / "old.json", _set("result", "outcome", "FAILED"))
        with pytest.raises(CompareError, match=r"results\[0\]\.outcome 'FAILED' is not an outcome of this suite"):
            load_previous(path)

    @settings(max_examples=80, deadline=None)
    @given(value=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT, st.lists(st.integers())))
    def test_a_drawn_value_in_any_result_field_is_refused_or_read(self, value: object) -> None:
        from phoenix_compliance.report.result_format import MalformedResult, check_document
        from phoenix_compliance.report.results import from_document

        for key in ("outcome", "severity", "phase", "duration", "waiver", "evidence", "host"):
            document = to_document(one_host_run())
            document["results"][0][key] = value
            document["digest"] = "0" * 64
            try:
                check_document(document)
            except MalformedResult as exc:
                assert exc.where.startswith("results[0].")
                continue
            run = from_document(document)  # what passed is read without a traceback
            (result,) = run.hosts["ssh://web1"].results
            assert result.outcome in OUTCOMES and result.severity in SEVERITIES


def _in_subprocess(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)


class TestBoundedReads:
    @pytest.mark.parametrize("kind", ["fifo", "device"])
    def test_a_special_file_is_refused_by_type_never_opened(self, tmp_path: Path, kind: str) -> None:
        if kind == "fifo":
            path = tmp_path / "result.json"
            os.mkfifo(path)
        else:
            path = Path("/dev/zero")
        # In a child: were the file opened, a FIFO without a writer would hang it, /dev/zero never end.
        try:
            done = _in_subprocess(
                "import sys; from pathlib import Path\n"
                "from phoenix_compliance.report.signing import verify_report\n"
                "from phoenix_compliance.report.results import load_result, ResultRefused\n"
                "from phoenix_compliance.report.outputs import load_previous, CompareError\n"
                f"path = Path({str(path)!r})\n"
                "print(verify_report(path, None).lines)\n"
                "try: load_result(path.with_suffix('.json') if path.suffix else path, None)\n"
                "except ResultRefused as exc: print('refused', exc.code, exc)\n"
                "try: load_previous(path)\n"
                "except CompareError as exc: print('compare', exc)\n"
                "from phoenix_compliance.report.signing import verify_signature\n"
                "print('signer', verify_signature('0' * 64, 'x', path))\n"
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"reading {path} did not return: it was opened")
        what = "a FIFO" if kind == "fifo" else "a character device"
        assert done.returncode == 0, done.stderr
        assert f"{path}: {what}, not a report of this suite; not opened" in done.stdout
        assert f"compare {path}: {what}" in done.stdout
        assert f"signer (False, '{path}: {what}, not an SSH public key; not opened')" in done.stdout

    def test_a_report_over_the_limit_is_refused_before_it_is_read(self, tmp_path: Path) -> None:
        path = tmp_path / "huge.json"
        with path.open("wb") as handle:
            handle.truncate(MAX_REPORT_BYTES + 1)  # sparse: no disk, but 64 MB of zeros to read
        verdict = verify_report(path, None)
        assert verdict.unreadable and verdict.lines == [f"{path}: larger than 64 MB; not a report of this suite"]
        with pytest.raises(CompareError, match="larger than 64 MB"):
            load_previous(path)


WAIVERS = """waivers:
  - check: T-1.01
    justification: "fuse-overlayfs comes with the Q3 image"
    expires: 2027-01-31
"""
STACK = REPO / "fixtures" / "stacks" / "reference.yaml"
CONTROL = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x1F, blacklist_characters="\t\n\r"),
    st.characters(min_codepoint=0x7F, max_codepoint=0x84),
    st.characters(min_codepoint=0x86, max_codepoint=0x9F),
    st.sampled_from(["\ufffe", "\uffff"]),
)


def _parse(kind: str, text: str) -> object:
    from phoenix_compliance.parsers import manifest, waivers

    return waivers.parse(text, "w.yaml") if kind == "waivers" else manifest.parse(text, "m.yaml")


class TestControlBytesInTheUsersFiles:
    @settings(max_examples=120, deadline=None)
    @given(kind=st.sampled_from(["waivers", "manifest"]), char=CONTROL, where=st.floats(0, 1))
    def test_a_raw_control_character_anywhere_is_an_error_at_its_line(self, kind: str, char: str, where: float) -> None:
        from phoenix_compliance.parsers.yamlmarks import SourceError

        text = WAIVERS if kind == "waivers" else STACK.read_text()
        offset = int(where * len(text))
        with pytest.raises(SourceError) as raised:
            _parse(kind, text[:offset] + char + text[offset:])
        assert raised.value.line == text.count("\n", 0, offset) + 1
        assert f"U+{ord(char):04X}" in raised.value.message

    @pytest.mark.parametrize("kind", ["waivers", "stack"])
    def test_the_plugin_names_file_and_line_never_a_traceback(self, pytester: pytest.Pytester, kind: str) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        if kind == "waivers":
            (pytester.path / "waivers.yaml").write_text(WAIVERS.replace("Q3 image", "Q3\x1b[8m image"))
            where, line = "waivers.yaml", 3
        else:
            (pytester.path / "stack.yaml").write_text(STACK.read_text().replace("name: phoenix-hydra", "name: x\x00"))
            where, line = "stack.yaml", STACK.read_text().split("\n").index("name: phoenix-hydra") + 1
        result = pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", f"--{kind}={where}")
        output = result.stdout.str() + result.stderr.str()
        assert result.ret == pytest.ExitCode.USAGE_ERROR, output
        assert f"{where}:{line}: column" in output and "is not allowed in YAML" in output
        assert "Traceback" not in output and "INTERNALERROR" not in output
