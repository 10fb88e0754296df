"""Drawn compose files (convert_drawn.py) convert to units the lint (stack profile) finds no error in, whose
Exec= and Environment= read back as the compose values.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from convert_cases import (
    DRAWN_CASES,
    RELEASES,
    convert_file,
    lint_errors,
)
from convert_drawn import (
    _literal_exec,
    _plain,
    drawn_documents,
)

from phoenix_compliance.quadlet.readers import SPLIT_ARGS, split_words
from phoenix_compliance.quadlet.unitfile import parse_text
from phoenix_compliance.quadlet_lint import format_version


class TestDrawnComposeFiles:
    def test_convert_to_units_the_lint_accepts(self, tmp_path: Path) -> None:
        documents = drawn_documents()
        assert len(documents) >= DRAWN_CASES // 2
        for number, document in enumerate(documents):
            path = tmp_path / f"c{number}" / "compose.yaml"
            path.parent.mkdir()
            path.write_text(yaml.safe_dump(document))
            for version in RELEASES:
                conversion = convert_file(path, version)
                texts = conversion.texts()
                errors = lint_errors(
                    texts, tmp_path / f"c{number}" / format_version(version), version, "phoenix.target"
                )
                assert errors == [], (yaml.safe_dump(document), [str(e) for e in errors])
                for name, service in document["services"].items():
                    unit = parse_text(texts[f"{name}.container"], kind="container")
                    exec_entry = unit.last("Container", "Exec")
                    if "command" in service and all(_plain(w) for w in service["command"]):
                        assert exec_entry is not None
                        meant = [word.replace("$$", "$") for word in service["command"]]  # compose's own escape
                        assert _literal_exec(split_words(exec_entry.value, SPLIT_ARGS) or []) == meant
                    # Environment= reads back (Quadlet splits it as systemd does) as the compose value.
                    read_back = [
                        word
                        for entry in unit.entries_for("Container", "Environment")
                        for word in _literal_exec(split_words(entry.value, SPLIT_ARGS) or [])
                    ]
                    for env_name, value in (service.get("environment") or {}).items():
                        if env_name not in ("DB_PASSWORD", "API_TOKEN") and _plain(value):
                            assert f"{env_name}={value.replace('$$', '$')}" in read_back, (value, read_back)
                        if env_name in ("DB_PASSWORD", "API_TOKEN"):
                            assert f"target={env_name}" in texts[f"{name}.container"]
                            assert all(
                                value not in line
                                for line in texts[f"{name}.container"].splitlines()
                                if env_name in line and "Secret=" not in line
                            )
