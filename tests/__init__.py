"""The bundled checks, one folder per phase; installed as ``phoenix_compliance.suite`` (see pyproject.toml)."""
