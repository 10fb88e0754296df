"""The report model, the catalogue vocabulary, the parsers, convert, the lint and the publishing of
files are plain modules: importing them loads no pytest.

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
    "phoenix_compliance.publish",
    "phoenix_compliance.report.files",
    "phoenix_compliance.report.trend",
    "phoenix_compliance.report.results",
    "phoenix_compliance.plan",
    "phoenix_compliance.convert",
    # The command and every subcommand's module: lint, verify, merge and trend start without pytest.
    "phoenix_compliance.cli",
]

# Packages whose every module is plain (walked, so a module split out of one is held too); a
# package not there yet (the Quadlet layer, the security rules' package) is skipped.
PLAIN_PACKAGES = [
    "phoenix_compliance.grammar",
    "phoenix_compliance.parsers",
    "phoenix_compliance.quadlet",
    "phoenix_compliance.quadlet_lint",
    "phoenix_compliance.security",
    "phoenix_compliance.convert",
    "phoenix_compliance.report",
    "phoenix_compliance.cli",
]

_WALK = """
import importlib, importlib.util, pkgutil, sys
for name in sys.argv[1:]:
    if importlib.util.find_spec(name) is None:
        continue
    package = importlib.import_module(name)
    for module in pkgutil.walk_packages(package.__path__, name + "."):
        if not module.name.endswith(".__main__"):  # running the command is not importing it
            importlib.import_module(module.name)
print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest'))[:5])
"""


class TestPlainModules:
    @pytest.mark.parametrize("module", PLAIN_MODULES)
    def test_importing_it_loads_no_pytest(self, module: str) -> None:
        probe = (
            f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pytest', '_pytest')))"
        )
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "[]", f"{module} loads pytest: {result.stdout.strip()}"

    def test_no_module_of_the_plain_packages_loads_pytest(self) -> None:
        # convert loaded pytest through the run's report writers (run/writers.py) for its atomic
        # file writing; publish.py is that writing without the pytest glue.
        result = subprocess.run(
            [sys.executable, "-c", _WALK, *PLAIN_PACKAGES], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "[]", f"a plain module loads pytest: {result.stdout.strip()}"
