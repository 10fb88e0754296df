# The suite is a plugin in an importable package; this file only loads it.
pytest_plugins = ["phoenix_compliance.plugin"]
