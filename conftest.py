"""The checkout's root conftest: it only loads the suite's plugin.

Installed, the plugin registers itself through its pytest11 entry point; with
PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 (or a pytest run that does not see the installed package's entry
points) it is this line that loads it, so `pytest --phase=1` works in a checkout either way. It is
named as the entry point is, so pytest registers it once; `-p no:phoenix_compliance.plugin` (as
selftests/pytest.ini gives, its own rootdir besides) keeps it out.
"""

pytest_plugins = ["phoenix_compliance.plugin"]
