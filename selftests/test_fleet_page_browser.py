"""The fleet page's filter in a real browser: headless Chromium types into the page's own filter
box (the page's script, allowed by its hash, does the work) and the rows left are the host or
the failing check asked for. Large fleets are measured by bench/run.py --simulated."""

from __future__ import annotations

import json
import re
from pathlib import Path

from test_report_browser import chromium, synthetic_result

from phoenix_compliance.cli import main
from phoenix_compliance.report.page_policy import declared
from phoenix_compliance.run.reporter import EXIT_NOT_READY

# Loads the page in a frame, types QUERY into its filter box as a reader would (an input event),
# waits for the page's own script, then lists what is left to see.
TYPING_PAGE = """<!DOCTYPE html><html><body><pre id="t">pending</pre>
<iframe id="f" style="width:1280px;height:1600px"></iframe>
<script>
const frame = document.getElementById("f");
frame.onload = () => {
  const page = frame.contentDocument;
  const box = page.getElementById("phx-filter");
  box.value = QUERY;
  box.dispatchEvent(new Event("input"));
  setTimeout(() => {
    const seen = (selector) => Array.from(page.querySelectorAll(selector))
      .filter((e) => !e.hidden && e.getClientRects().length > 0);
    document.getElementById("t").textContent = JSON.stringify({
      hosts: seen("table.matrix tr.host-row").map((r) => r.cells[0].textContent),
      checks: seen("table.spread tr.spread-row").map((r) => r.getAttribute("data-check")),
      sections: seen("section.host").map((s) => s.querySelector("h2").textContent),
      said: page.getElementById("phx-filter-count").textContent,
    });
  }, 600);
};
frame.src = PAGE_URI;
</script></body></html>
"""


def typed(page: Path, folder: Path, query: str) -> dict[str, list[str] | str]:
    wrapper = folder / "typing.html"
    wrapper.write_text(TYPING_PAGE.replace("PAGE_URI", json.dumps(page.as_uri())).replace("QUERY", json.dumps(query)))
    dom = chromium("--allow-file-access-from-files", "--virtual-time-budget=5000", "--dump-dom", wrapper.as_uri())
    match = re.search(r'<pre id="t">(.*?)</pre>', dom.stdout, re.DOTALL)
    assert match and match.group(1) != "pending", dom.stdout[:2000] + dom.stderr[-2000:]
    found: dict[str, list[str] | str] = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    return found


class TestFleetPageFilter:
    def test_a_reader_finds_one_host_and_one_failing_check(self, tmp_path: Path) -> None:
        hosts = [f"ssh://web{number}" for number in range(1, 13)]
        shard = synthetic_result(
            tmp_path / "shard.json",
            hosts,
            "2026-12-02T01:00:00+00:00",
            {"PHX-1.11": {"ssh://web3", "ssh://web9"}, "PHX-S.18": {"ssh://web5"}},
        )
        reports = tmp_path / "reports"
        assert main(["merge", f"--reports-dir={reports}", str(shard)]) == EXIT_NOT_READY
        page = next(reports.glob("readiness-fleet-12-hosts-*.html"))
        # The filter runs under the page's own policy: its script is allowed by its hash alone.
        policy = declared(page.read_text())
        assert policy is not None and "script-src 'sha256-" in policy

        one_host = typed(page, tmp_path, "web5")
        assert one_host["hosts"] == ["ssh://web5"], one_host
        assert one_host["sections"] == ["ssh://web5"], one_host
        assert one_host["checks"] == ["PHX-S.18"], one_host

        one_check = typed(page, tmp_path, "phx-1.11")
        assert sorted(one_check["hosts"]) == ["ssh://web3", "ssh://web9"], one_check
        assert one_check["checks"] == ["PHX-1.11"], one_check
        assert one_check["said"] == "2 host(s) and 1 check(s) match", one_check

        everyone = typed(page, tmp_path, "")
        assert len(everyone["hosts"]) == 12 and len(everyone["sections"]) == 12, everyone


class TestLargeFleetPage:
    def test_above_32_hosts_a_section_lists_what_did_not_pass(self, tmp_path: Path) -> None:
        hosts = [f"ssh://web{number}" for number in range(1, 41)]
        shard = synthetic_result(
            tmp_path / "shard.json", hosts, "2026-12-02T01:00:00+00:00", {"PHX-1.11": {"ssh://web7"}}
        )
        reports = tmp_path / "reports"
        assert main(["merge", f"--reports-dir={reports}", str(shard)]) == EXIT_NOT_READY
        text = next(reports.glob("readiness-fleet-40-hosts-*.html")).read_text()
        # One failed row in all the sections; every other check counted, not listed.
        assert text.count('<tr class="row-failed">') == 1
        assert '<tr class="row-passed">' not in text
        assert text.count("checks passed or do not apply here (each with its evidence in the JSON result)") >= 40
        assert 'id="phx-filter"' in text
