"""The report model and the catalogue vocabulary are plain data: importing them loads no pytest.

Checked in a fresh interpreter, since this one has pytest loaded already.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

PLAIN_MODULES = [
    "phoenix_compliance.report.model",
    "phoenix_compliance.report.outputs",
    "phoenix_compliance.report.signing",
    "phoenix_compliance.report.render",
    "phoenix_compliance.catalogue",
]


class TestPlainModules:
    @pytest.mark.parametrize("module", PLAIN_MODULES)
    def test_importing_it_loads_no_pytest(self, module: str) -> None:
        probe = (
            f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')))"
        )
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "[]", f"{module} loads pytest: {result.stdout.strip()}"
