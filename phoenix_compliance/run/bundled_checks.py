"""The catalogue of the bundled checks without a run: their modules imported by path, so each
@check declares its CheckSpec (the plan reads the checks' fix steps from there)."""

from __future__ import annotations

import importlib.util
import sys

from phoenix_compliance import bundled
from phoenix_compliance.catalogue import CheckSpec

# Where the modules go in sys.modules: apart from any name a pytest run gives them.
_PREFIX = "phoenix_compliance_plan_checks"


def load_catalogue() -> dict[str, CheckSpec]:
    """Every bundled check's metadata by id."""
    from phoenix_compliance.checks import CATALOGUE

    for folder in bundled.CHECK_FOLDERS:
        for path in sorted((bundled.checks_dir() / folder).glob("test_*.py")):
            name = f"{_PREFIX}.{folder}.{path.stem}"
            if name in sys.modules:
                continue
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
    return dict(CATALOGUE)
