"""YAML loading that remembers where every value came from.

Parsers of user files (stack manifests, compose files, waivers) must name the
file and line of a problem; plain ``yaml.safe_load`` forgets positions, so this
loader returns mappings and sequences that carry the line of each entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


class MarkedDict(dict[str, Any]):
    """A mapping that knows the 1-based line of itself and of each key."""

    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class MarkedList(list[Any]):
    """A sequence that knows the 1-based line of itself and of each item."""

    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class SourceError(ValueError):
    """A problem in a user's file, at a line: `path:line: message`."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


class YamlError(SourceError):
    """A file that is not valid YAML, with the position of the problem."""


class _MarkedLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _MarkedLoader, node: yaml.MappingNode) -> MarkedDict:
    loader.flatten_mapping(node)
    result = MarkedDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        # Keys are kept as text so that `8080: x` and `"8080": x` mean the same.
        text_key = str(key)
        result[text_key] = loader.construct_object(value_node, deep=True)
        result.key_lines[text_key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _MarkedLoader, node: yaml.SequenceNode) -> MarkedList:
    result = MarkedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def loads(text: str, path: str = "<string>") -> Any:
    """Parse YAML text; raise YamlError naming path and line on bad syntax."""
    try:
        return yaml.load(text, Loader=_MarkedLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(path, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(path, 1, f"invalid YAML: {exc}") from None


def read_source(path: Path, what: str = "the file") -> str:
    """A user's file as text; one that cannot be read is a SourceError at line 1."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(str(path), 1, f"cannot read {what}: {exc}") from None


def load(path: Path) -> Any:
    """Read and parse a YAML file; unreadable files raise SourceError too."""
    return loads(read_source(path), str(path))
