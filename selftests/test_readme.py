"""The README tells the truth: every check is listed with its phase, severity and title."""

from __future__ import annotations

import importlib.util
import re

from suite_runner import REPO

from phoenix_compliance.catalogue import CheckSpec
from phoenix_compliance.checks import CATALOGUE


def catalogue() -> dict[str, CheckSpec]:
    for index, path in enumerate(sorted((REPO / "tests").glob("*/test_*.py"))):
        spec = importlib.util.spec_from_file_location(f"_phx_checks_{index}", path)
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    return dict(CATALOGUE)


def readme_rows() -> dict[str, tuple[str, str, str]]:
    rows = {}
    for line in (REPO / "README.md").read_text().splitlines():
        match = re.match(r"\| (PHX-[\w.]+) \| (\w+) \| (\w+) \| (.+) \|$", line)
        if match:
            rows[match.group(1)] = (match.group(2), match.group(3), match.group(4))
    return rows


class TestReadme:
    def test_every_check_is_in_the_readme_as_declared(self) -> None:
        expected = {spec.id: (spec.phase, spec.severity, spec.title) for spec in catalogue().values()}
        assert readme_rows() == expected
