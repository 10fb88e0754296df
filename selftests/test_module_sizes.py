"""No Python module of the repository is over 800 lines (issue 23, "split by role").

A module that long holds more than one role: it is split the way its classes already group it
(a plain support module for what they share, one test_*.py per feature), as the package, the
checks and the suite's own tests were. Every folder of Python the project keeps is walked, so a
module grown past the limit on any branch fails here, named with its size.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDERS = ("phoenix_compliance", "tests", "selftests", "bench", "tools")
MOST_LINES = 800


def module_sizes() -> dict[str, int]:
    """Each Python module of the folders, by its path from the repository's root: its line count."""
    return {
        str(path.relative_to(REPO)): len(path.read_text(encoding="utf-8").splitlines())
        for folder in FOLDERS
        for path in sorted((REPO / folder).rglob("*.py"))
    }


def test_no_module_is_over_800_lines() -> None:
    sizes = module_sizes()
    # The walk finds the package, the checks and this very module: the limit is not held vacuously.
    assert {"phoenix_compliance/__init__.py", "selftests/test_module_sizes.py"} <= sizes.keys()
    assert any(name.startswith("tests/") for name in sizes)
    over = {name: lines for name, lines in sorted(sizes.items()) if lines > MOST_LINES}
    assert over == {}, "over 800 lines, split by role: " + ", ".join(
        f"{name} ({lines} lines)" for name, lines in over.items()
    )
