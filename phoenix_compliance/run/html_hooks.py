"""pytest-html: the page's title, the readiness section on top, check and severity columns.

pytest-html puts two things on its page as markup that come from outside: the environment
table (pytest-metadata's, from CI variables such as a branch name and from --metadata; its
script writes each value with innerHTML) and the test ids (a parameter's id is any string).
Both are handed to it escaped here, so they reach the page as text; the page's policy
(report/page_policy.py, written when it is sealed) stops any script that still got in.
"""

from __future__ import annotations

import html
from typing import Any

import pytest

from phoenix_compliance.redact import redact_table
from phoenix_compliance.report.model import PASSED
from phoenix_compliance.report.render import readiness_section
from phoenix_compliance.run.hosts import item_host
from phoenix_compliance.run.state import RunState

# Above this many hosts, pytest-html's table keeps only the checks that did not pass: its
# script builds every row when the page opens (about 1.3 ms a row here, 2 to 3 s for 32 hosts
# with every check), while each passed check, with its evidence, is in its host's section of
# the readiness section anyway.
FLEET_HOSTS = 8
# The cell pytest-html opens the test id with.
TEST_ID_CELL = '<td class="col-testId">'


class HtmlReportHooks:
    """pytest-html hooks, registered only when pytest-html is active."""

    def __init__(self, state: RunState) -> None:
        self.state = state
        self.passed_rows = True
        # pytest-html's report data, whose environment table is replaced by an escaped copy.
        self.html_report: Any = None
        self.metadata: dict[str, Any] | None = None
        # The check whose passed row was just left out (pytest-html hands over its setup, call
        # and teardown reports in turn, once the teardown is in).
        self.left_out: str | None = None

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
            self.metadata = table
            redact_table(table)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """The hosts as collected: one --hosts entry may stand for many (an Ansible group, the
        benchmark's sim://fleet), so the count of --hosts entries alone may say one for a thousand."""
        if session.items:
            self.passed_rows = len({item_host(item) for item in session.items}) <= FLEET_HOSTS

    def _escape_environment(self) -> None:
        # A copy: the table itself also feeds JUnit's properties and the terminal header, as text.
        if self.html_report is not None and self.metadata is not None:
            redact_table(self.metadata)  # again: a check may have added a row during the run
            self.html_report.set_data("environment", escaped_environment(self.metadata))

    def pytest_html_report_title(self, report: Any) -> None:
        # Called by pytest-html's sessionstart right after it took the environment table.
        report.title = f"{self.state.manifest.name} migration readiness"
        self.html_report = report
        self._escape_environment()

    def pytest_html_results_summary(self, prefix: list[str], summary: list[str], postfix: list[str]) -> None:
        # Called right before pytest-html renders the page.
        self._escape_environment()
        prefix.append(readiness_section(self.state.report))

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(1, '<th class="sortable" data-column-type="check">Check</th>')
        cells.insert(2, '<th class="sortable" data-column-type="severity">Severity</th>')

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        record = getattr(report, "phoenix", None)
        if report.when == "setup" and report.passed:
            # pytest-html never shows a passed setup: cleared, it is not built for nothing (a
            # fleet has 100,000 of them).
            cells.clear()
            return
        if not self.passed_rows and isinstance(record, dict) and record.get("outcome") == PASSED:
            cells.clear()  # pytest-html leaves out a row without cells
            self.left_out = report.nodeid
            return
        if report.when == "teardown" and report.passed and self.left_out == report.nodeid:
            cells.clear()  # the passed teardown of a row left out: no row to add its log to
            return
        # A collection error's row is a CollectReport, which has no user properties.
        properties = dict(getattr(report, "user_properties", []))
        for index, cell in enumerate(cells):
            if cell.startswith(TEST_ID_CELL):
                # pytest-html writes the id as markup; the same id, as text.
                test_id = report.nodeid if report.when == "call" else f"{report.nodeid}::{report.when}"
                cells[index] = f"{TEST_ID_CELL}{html.escape(test_id)}</td>"
        cells.insert(1, f'<td class="col-check">{html.escape(str(properties.get("check_id", "")))}</td>')
        cells.insert(2, f'<td class="col-severity">{html.escape(str(properties.get("severity", "")))}</td>')


def escaped_environment(table: dict[str, Any]) -> dict[str, Any]:
    """pytest-metadata's table as pytest-html's script shows it as text: its script sets each
    name as text but writes each value (and a nested table's names and values) as markup."""
    return {str(name): _escaped(value) for name, value in table.items()}


def _escaped(value: Any) -> Any:
    if isinstance(value, dict):
        return {html.escape(str(name)): _escaped(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(item) for item in value]
    if isinstance(value, bool | int | float) or value is None:
        return value  # JSON numbers and literals carry no markup
    return html.escape(str(value))
