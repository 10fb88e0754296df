"""pytest-html: the page's title, the readiness section on top, check and severity columns."""

from __future__ import annotations

from typing import Any

import pytest

from phoenix_compliance.redact import redact_table
from phoenix_compliance.report.model import PASSED
from phoenix_compliance.report.render import readiness_section
from phoenix_compliance.run.state import RunState

# Above this many hosts, pytest-html's table keeps only the checks that did not pass: its
# script builds every row when the page opens (about 1.3 ms a row here, 2 to 3 s for 32 hosts
# with every check), while each passed check, with its evidence, is in its host's section of
# the readiness section anyway.
FLEET_HOSTS = 8


class HtmlReportHooks:
    """pytest-html hooks, registered only when pytest-html is active."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.passed_rows = True

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Before pytest-html reads its environment table (its own sessionstart runs last):
        a CI variable or --metadata value carrying a secret is masked like any other output."""
        hosts = getattr(session.config.option, "hosts", None) or ""
        self.passed_rows = len([host for host in hosts.split(",") if host]) <= FLEET_HOSTS
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:  # pytest-html without pytest-metadata shows no such table
            return
        table = session.config.stash.get(metadata_key, None)
        if isinstance(table, dict):
            redact_table(table)

    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"{self.state.manifest.name} migration readiness"

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str]) -> None:
        prefix.append(readiness_section(self.state.report))

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, '<th class="sortable" data-column-type="check">Check</th>')
        cells.insert(2, '<th class="sortable" data-column-type="severity">Severity</th>')

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        record = getattr(report, "phoenix", None)
        if not self.passed_rows and isinstance(record, dict) and record.get("outcome") == PASSED:
            cells.clear()  # pytest-html leaves out a row without cells
            return
        # A collection error's row is a CollectReport, which has no user properties.
        properties = dict(getattr(report, "user_properties", []))
        cells.insert(1, f'<td class="col-check">{properties.get("check_id", "")}</td>')
        cells.insert(2, f'<td class="col-severity">{properties.get("severity", "")}</td>')
