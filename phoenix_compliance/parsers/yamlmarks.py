"""YAML loading that remembers where every value came from, within bounds.

Parsers of user files (stack manifests, compose files, waivers) must name the
file and line of a problem; plain ``yaml.safe_load`` forgets positions, so this
loader returns mappings and sequences that carry the line of each entry.

Every file is hostile until read: a file larger than MAX_BYTES is refused before
it is parsed, and a document whose aliases expand to more than MAX_NODES nodes
(a YAML bomb: a kilobyte of nested anchors stands for billions of values) is
refused after composing, before anything walks the expanded tree. A byte that
is not UTF-8 and a timestamp that is not a date (``2027-13-45``) are errors at
their own line, like any other.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import yaml

# A stack manifest or waivers file is a few KB and a compose file rarely 100 KB; a
# megabyte is far more than any real one and still parsed in a fraction of a second.
MAX_BYTES = 1024 * 1024
# Nodes of the document with every alias expanded; a real compose file has a few thousand.
MAX_NODES = 200_000
# Nesting deeper than this is no configuration file, and Python's recursion would give out.
MAX_DEPTH = 200


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


class MarkedLoader(_MarkedLoader):
    """A loader a parser may extend with tags of its own (compose's !reset and !override)."""


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


def _construct_timestamp(loader: _MarkedLoader, node: yaml.ScalarNode) -> Any:
    # PyYAML resolves `2027-13-45` as a timestamp, then raises a bare ValueError building it.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as exc:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
        ) from None


_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_MarkedLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)


def _check_expansion(root: yaml.Node, path: str) -> None:
    """Count the nodes the document stands for with its aliases expanded, without expanding them."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    # An explicit stack: (node, depth, children done); recursion would fail on deep nesting.
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        if done:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[key] > MAX_NODES:
                raise YamlError(
                    path,
                    node.start_mark.line + 1,
                    f"the document expands to more than {MAX_NODES} values through its aliases (a YAML bomb?); refused",
                )
            continue
        if key in sizes:
            continue
        if depth > MAX_DEPTH:
            raise YamlError(path, node.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep; refused")
        on_path.add(key)
        stack.append((node, depth, True))
        for child in children:
            if id(child) in on_path:
                raise YamlError(path, child.start_mark.line + 1, "an alias refers to a node that contains it; refused")
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))


def loads(text: str, path: str = "<string>", loader_class: type[MarkedLoader] | None = None) -> Any:
    """Parse YAML text; raise YamlError naming path and line on bad syntax or a document out of bounds."""
    if len(text) > MAX_BYTES:
        raise YamlError(path, 1, f"larger than {MAX_BYTES // 1024} KB ({len(text)} characters); refused")
    loader = (loader_class or _MarkedLoader)(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node, path)
        return loader.construct_document(node)
    except RecursionError:
        raise YamlError(path, 1, "nested too deep to read; refused") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlError(path, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise YamlError(path, 1, f"invalid YAML: {exc}") from None
    except YamlError:
        raise
    except (ValueError, OverflowError):
        # PyYAML's scanner turns a "\U" escape into chr() unchecked: past U+10FFFF it raises
        # ValueError, past 0x7FFFFFFF OverflowError (a C int).
        raise YamlError(path, loader.line + 1, "invalid YAML: an escape names no Unicode character") from None
    finally:
        loader.dispose()


def decode(data: bytes, path: str, what: str = "the file") -> str:
    """UTF-8 text of a file's bytes; a byte that is not UTF-8 is a SourceError at its own line."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise SourceError(path, line, f"cannot read {what}: byte 0x{byte} is not UTF-8") from None


def read_bytes(path: Path, what: str = "the file", limit: int = MAX_BYTES) -> bytes:
    """A user's file, at most `limit` bytes; a larger or unreadable one is a SourceError at line 1.

    Only regular files are read: a FIFO would block the run, a device never end."""
    try:
        # Asked before opening: opening a FIFO blocks until someone writes to it.
        if not stat.S_ISREG(path.stat().st_mode):
            raise SourceError(str(path), 1, f"cannot read {what}: not a regular file")
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise SourceError(str(path), 1, f"cannot read {what}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise SourceError(str(path), 1, f"{what} is larger than {limit // 1024} KB; refused")
    return data


def read_source(path: Path, what: str = "the file") -> str:
    """A user's file as text; one that cannot be read is a SourceError (at the line of a bad byte)."""
    return decode(read_bytes(path, what), str(path), what)


def load(path: Path) -> Any:
    """Read and parse a YAML file; unreadable files raise SourceError too."""
    return loads(read_source(path), str(path))
