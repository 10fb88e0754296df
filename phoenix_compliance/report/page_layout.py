"""pytest-html's page rearranged so the first screen is the answer: its environment table and
its results table move below the readiness section, each collapsed in a <details>.

pytest-html writes its environment table first; the readiness section (its summary's prefix)
comes after it. Both tables are filled by pytest-html's script by their ids, which it still
finds inside a <details>, so the page's scripts (allowed by hash, page_policy.py) are untouched.
A page not in the form expected (another pytest-html) is left as it is. Plain data, no pytest.
"""

from __future__ import annotations

import re

_ENVIRONMENT = re.compile(
    r'<div id="environment-header">\s*<h2>Environment</h2>\s*</div>\s*<table id="environment"></table>'
)
_RESULTS = re.compile(r'<table id="results-table">.*?</table>', re.DOTALL)


def _details(summary: str, body: str) -> str:
    return f'<details class="results-tables"><summary>{summary}</summary>{body}</details>'


def collapsed_tables(page: str) -> str:
    """The page with the environment and the results tables collapsed, below the readiness section."""
    environment = _ENVIRONMENT.search(page)
    results = _RESULTS.search(page)
    if environment is None or results is None or environment.end() > results.start():
        return page
    moved = (
        page[: environment.start()]
        + page[environment.end() : results.start()]
        + _details("Environment (Python, platform, packages, plugins)", environment.group(0))
        + "\n"
        + _details("Every check's result, one row per host and check (pytest-html)", results.group(0))
        + page[results.end() :]
    )
    return moved
