"""The table regenerator (tools/quadlet_tables.py) reads both shapes quadlet.go's key tables have had."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TOOL = Path(__file__).resolve().parents[1] / "tools" / "quadlet_tables.py"

# Written for this test in the two shapes (a map per section up to 5.x, a block per group later).
OLD_SHAPE = """
const (
\tKeyImage = "Image"
\tKeyUser  = "User"
\tKeyDevice = "Device"
)
var (
\tsupportedContainerKeys = map[string]bool{
\t\tKeyImage: true,
\t\tKeyUser:  true,
\t}
\tsupportedVolumeKeys = map[string]bool{
\t\tKeyDevice: true,
\t}
)
"""
NEW_SHAPE = """
const (
\tVolumeGroup = "Volume"
\tKeyDevice = "Device"
\tKeyUID    = "UID"
)
var (
\tsupportedGroups = map[string]Group{
\t\tVolumeGroup: {
\t\t\tGroupName: VolumeGroup,
\t\t\tSupportedKeys: map[string]bool{
\t\t\t\tKeyDevice: true,
\t\t\t\tKeyUID:    true,
\t\t\t},
\t\t},
\t}
)
"""
EXTENSIONS = """
var SupportedExtensions = map[string]int{
\t".container": 4,
\t".volume":    2,
}
"""


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quadlet_tables", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["quadlet_tables"] = module
    spec.loader.exec_module(module)
    return module


class TestQuadletTables:
    def test_the_old_shape_a_map_per_section(self) -> None:
        keys = _tool().section_keys(OLD_SHAPE)
        assert keys == {"Container": frozenset({"Image", "User"}), "Volume": frozenset({"Device"})}

    def test_the_new_shape_a_block_per_group(self) -> None:
        assert _tool().section_keys(NEW_SHAPE) == {"Volume": frozenset({"Device", "UID"})}

    def test_file_types(self) -> None:
        assert _tool().file_types(EXTENSIONS, "") == frozenset({"container", "volume"})

    def test_rendered_as_versions_py_writes_it(self) -> None:
        text = _tool().render({"Volume": {"Device": (4, 4), "UID": (6, 0), "GID": (6, 0)}})
        assert '            (6, 0): "GID UID",' in text.splitlines()
