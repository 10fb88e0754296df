"""The checkout's root conftest.py loads the plugin, and only once.

With PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 no entry point is loaded: the root conftest's pytest_plugins
is what makes `pytest --phase=1` a compliance run in a checkout. With autoloading on, the entry
point (named as the module) and the conftest are one plugin; `-p no:phoenix_compliance.plugin`
keeps it out either way, as selftests/pytest.ini does for this run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PLUGIN = "phoenix_compliance.plugin"

# Loaded with -p before the conftest: says under which names the plugin's module is registered.
PROBE = """
def pytest_configure(config):
    import phoenix_compliance.plugin as plugin
    names = [name for name, registered in config.pluginmanager.list_name_plugin() if registered is plugin]
    print(f"plugin registered as {names}")
"""


@pytest.fixture
def checkout(pytester: pytest.Pytester) -> pytest.Pytester:
    """A folder holding the repository's root conftest.py as its own, and the probe."""
    pytester.makeconftest((REPO / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile(probe=PROBE)
    return pytester


class TestRootConftest:
    def test_it_only_loads_the_plugin(self) -> None:
        namespace: dict[str, object] = {}
        exec(compile((REPO / "conftest.py").read_text(encoding="utf-8"), "conftest.py", "exec"), namespace)
        assert {name for name in namespace if not name.startswith("__")} == {"pytest_plugins"}
        assert namespace["pytest_plugins"] == [PLUGIN]

    def test_without_autoloading_phase_1_is_a_compliance_run(
        self, checkout: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        result = checkout.runpytest_subprocess("-p", "probe", "--phase=1", "--collect-only")
        assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED, result.stderr.str()
        result.stdout.fnmatch_lines([f"plugin registered as ['{PLUGIN}']", "phoenix: stack *, phases 1, hosts local"])

    def test_with_autoloading_the_plugin_is_registered_once(self, checkout: pytest.Pytester) -> None:
        result = checkout.runpytest_subprocess("-p", "probe", "--phase=1", "--collect-only")
        assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED, result.stderr.str()
        result.stdout.fnmatch_lines([f"plugin registered as ['{PLUGIN}']"])

    @pytest.mark.parametrize("autoload", ["", "1"], ids=["autoload", "no-autoload"])
    def test_no_plugin_keeps_it_out(
        self, checkout: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, autoload: str
    ) -> None:
        monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", autoload)
        result = checkout.runpytest_subprocess("-p", "probe", "-p", f"no:{PLUGIN}", "--collect-only")
        assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED, result.stderr.str()
        result.stdout.fnmatch_lines(["plugin registered as []"])

    def test_the_selftests_run_without_it(self, pytestconfig: pytest.Config) -> None:
        # selftests/pytest.ini makes selftests/ its own rootdir (the root conftest is not read) and
        # blocks the plugin by its entry point's name.
        assert pytestconfig.rootpath == REPO / "selftests"
        assert pytestconfig.pluginmanager.is_blocked(PLUGIN)
        assert pytestconfig.pluginmanager.get_plugin(PLUGIN) is None
