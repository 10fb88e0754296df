"""One compose file read, its tags, services normalised and strings substituted, as podman-compose does."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from phoenix_compliance.parsers import yamlmarks
from phoenix_compliance.parsers.compose.model import (
    LINE_STRIDE,
    ComposeFile,
    ComposeProblem,
    Override,
    Reset,
    Substitution,
)
from phoenix_compliance.parsers.interpolation import (
    TOKENIZER_SINCE,
    Budget,
    ExpansionError,
    InterpolationError,
    Release,
    interpolate,
)
from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList, SourceError, YamlError

# The characters PyYAML's reader refuses before it parses anything (podman-compose stops there).
_NOT_YAML = yaml.reader.Reader.NON_PRINTABLE

# Reads a further file (an -f file, `include:`, `extends: file:`) by path: its text, or SourceError.
Reader = Callable[[str], str]


def read_local(path: str) -> str:
    return yamlmarks.read_source(Path(path))


def _override(loader: yamlmarks.MarkedLoader, node: yaml.Node) -> Override:
    def raw(child: yaml.Node) -> Any:
        if isinstance(child, yaml.SequenceNode):
            items = MarkedList(item.value for item in child.value)
            items.line, items.item_lines = child.start_mark.line + 1, [i.start_mark.line + 1 for i in child.value]
            return items
        return child.value

    if isinstance(node, yaml.MappingNode):
        mapping = MarkedDict()
        mapping.line, mapping.key_lines = node.start_mark.line + 1, {}
        for key, value in node.value:
            mapping[str(key.value)] = raw(value)
            mapping.key_lines[str(key.value)] = key.start_mark.line + 1
        return Override(mapping)
    return Override(raw(node))


class TagLoader(yamlmarks.MarkedLoader):
    """podman-compose 1.6 reads the !reset and !override tags; earlier releases refuse them."""


TagLoader.add_constructor("!reset", lambda loader, node: Reset(node.start_mark.line + 1))
TagLoader.add_constructor("!override", _override)


class Loader:
    """Reads and substitutes the files of one project, as podman-compose does before it merges them (merge.py)."""

    def __init__(
        self,
        result: ComposeFile,
        environ: Mapping[str, str] | None,
        dotenv: Mapping[str, str | None],
        read: Reader | None,
        release: Release | None,
        extra_files: list[str],
    ) -> None:
        self.result = result
        self.read = read
        self.release = release
        # One budget for every string of the project (issue 24: a value named thousands of times).
        self.budget = Budget()
        self.texts: list[list[str]] = []
        self.env: dict[str, str | None] = dict(dotenv)
        # The invoking environment wins over every env file (podman-compose updates it last).
        self.env.update(environ or {})
        self.first_dir = posixpath.dirname(result.path)
        # Set by podman-compose over any environment, before it substitutes.
        self.env["COMPOSE_PROJECT_DIR"] = self.first_dir
        self.env["COMPOSE_FILE"] = ":".join([result.path, *extra_files])
        self.env["COMPOSE_PATH_SEPARATOR"] = ":"

    @property
    def newest(self) -> bool:
        return self.release is None or self.release >= TOKENIZER_SINCE

    def problem(self, line: int, message: str) -> None:
        problem = ComposeProblem(self.result.path, line, message, refused=True)
        # A service's environment is resolved twice (as variables, then as values): say it once.
        if problem not in self.result.problems:
            self.result.problems.append(problem)

    def line_text(self, line: int) -> str:
        index, within = divmod(line, LINE_STRIDE)
        if index < len(self.texts) and 0 < within <= len(self.texts[index]):
            return self.texts[index][within - 1]
        return ""

    def document(self, text: str, name: str) -> MarkedDict | None:
        """One file parsed, its lines numbered for its place, normalised and substituted."""
        index = len(self.texts)
        if index:
            self.result.files.append(name)
        self.texts.append(text.splitlines())
        offset = index * LINE_STRIDE
        refused = _NOT_YAML.search(text)
        if refused is not None:
            # PyYAML says only "position N" of the whole text: name the line and column here.
            line = text.count("\n", 0, refused.start()) + 1
            column = refused.start() - (text.rfind("\n", 0, refused.start()) + 1) + 1
            self.problem(
                offset + line,
                f"control character U+{ord(refused.group()[0]):04X} at column {column}: YAML does not allow it"
                " (podman-compose stops here)",
            )
            return None
        try:
            document = yamlmarks.loads(text, name, TagLoader if self.newest else None)
        except YamlError as exc:
            self.problem(offset + exc.line, exc.message)
            return None
        if offset:
            shift(document, offset)
        if not isinstance(document, MarkedDict):
            line = document.line if isinstance(document, MarkedList) else 1
            self.problem(offset + line, "top level is not a mapping")
            return None
        services = document.get("services")
        if isinstance(services, MarkedDict):
            for name, body in services.items():
                if isinstance(body, MarkedDict):
                    for line, message in normalise_service(name, body):
                        self.problem(line, message)
        if index == 0 and self.newest:
            self.project_name(document)
        substituted = self.substitute(document, self.env)
        assert isinstance(substituted, MarkedDict)
        return substituted

    def project_name(self, document: MarkedDict) -> None:
        """1.6 names the project before it substitutes, and offers the name as COMPOSE_PROJECT_NAME."""
        written = self.env.get("COMPOSE_PROJECT_NAME") or document.get("name")
        given = isinstance(written, str) and bool(written)
        if not isinstance(written, str) or not written:
            # The folder's name (unknown for bare text: then no problem is made of it).
            written = posixpath.basename(self.first_dir).lower()
        name = re.sub(r"[^-_a-z0-9]", "", self.resolve(written, self.env, document.line_of("name"), record=False))
        if not name and (given or self.first_dir):
            self.problem(document.line_of("name"), f"project name {written!r} is empty once normalised")
        self.env["COMPOSE_PROJECT_NAME"] = name

    def substitute(self, node: Any, env: Mapping[str, str | None]) -> Any:
        if isinstance(node, MarkedDict):
            environment = node.get("environment")
            if isinstance(environment, MarkedDict):
                env = self.service_scope(environment, env)
            copy = marked_dict(node)
            for key, value in node.items():
                line = node.line_of(key)
                new_key = self.resolve(key, env, line) if self.newest and "$" in key else key
                copy[new_key] = self.substitute_value(value, env, line, new_key)
                copy.key_lines[new_key] = line
            return copy
        if isinstance(node, MarkedList):
            items = MarkedList(self.substitute_value(item, env, node.line_of(i)) for i, item in enumerate(node))
            items.line, items.item_lines = node.line, list(node.item_lines)
            return items
        return node

    def service_scope(self, environment: MarkedDict, outer: Mapping[str, str | None]) -> dict[str, str | None]:
        """The variables of a service: its own environment values fill what the invoking one lacks (rec_subs).

        1.6 resolves those values against the invoking environment alone; earlier releases
        against it plus the values as written, so `TAG: ${TAG}` stays `${TAG}` there."""
        own = {
            name: value if isinstance(value, str) or value is None else str(value)
            for name, value in environment.items()
            if name not in outer
        }
        scope: Mapping[str, str | None] = outer if self.newest else {**outer, **own}
        env = dict(outer)
        for name, value in own.items():
            env[name] = None if value is None else self.resolve(value, scope, environment.line_of(name), record=False)
        return env

    def substitute_value(self, value: Any, env: Mapping[str, str | None], line: int, key: str | None = None) -> Any:
        if isinstance(value, str):
            return self.resolve(value, env, line, key=key)
        return self.substitute(value, env)

    def resolve(
        self, text: str, env: Mapping[str, str | None], line: int, record: bool = True, key: str | None = None
    ) -> str:
        if "$" not in text:
            return text
        if self.budget.left < 0:
            # Refused once already (ExpansionError below); the rest is left as written.
            self.result.unresolved.add(line)
            return text
        try:
            resolved = interpolate(text, env, self.release, self.budget)
        except ExpansionError as exc:
            self.problem(line, str(exc))
            self.result.unresolved.add(line)
            return text
        except InterpolationError as exc:
            self.problem(line, f"{exc} (podman-compose stops here)")
            self.result.unresolved.add(line)
            return text
        if record and resolved.value != text:
            self.result.substitutions.setdefault(line, []).append(Substitution(line, text, resolved.value, key))
        for name in dict.fromkeys(resolved.unset):
            if record:
                self.result.warnings.append(
                    ComposeProblem(self.result.path, line, f"variable {name} is not set: substituted an empty string")
                )
        return resolved.value

    def fetch(self, name: str, line: int) -> str | None:
        if self.read is None:
            self.problem(line, f"{name}: another file is named but cannot be read here")
            return None
        try:
            return self.read(name)
        except SourceError as exc:
            self.problem(line, f"{exc.path}: {exc.message}")
            return None


def marked_dict(node: MarkedDict) -> MarkedDict:
    copy = MarkedDict()
    copy.line = getattr(node, "line", 1)
    copy.key_lines = {}
    return copy


def deep_copy(node: Any) -> Any:
    if isinstance(node, MarkedDict):
        copy = marked_dict(node)
        for key, value in node.items():
            copy[key] = deep_copy(value)
        copy.key_lines = dict(node.key_lines)
        return copy
    if isinstance(node, MarkedList):
        items = MarkedList(deep_copy(item) for item in node)
        items.line, items.item_lines = node.line, list(node.item_lines)
        return items
    return node


def shift(node: Any, offset: int) -> None:
    if isinstance(node, MarkedDict):
        node.line += offset
        node.key_lines = {key: line + offset for key, line in node.key_lines.items()}
        for value in node.values():
            shift(value, offset)
    elif isinstance(node, MarkedList):
        node.line += offset
        node.item_lines = [line + offset for line in node.item_lines]
        for value in node:
            shift(value, offset)


def kind(value: Any) -> str:
    if isinstance(value, MarkedDict):
        return "mapping"
    if isinstance(value, MarkedList):
        return "list"
    return "null" if value is None else type(value).__name__


def normalise_service(name: str, body: MarkedDict) -> list[tuple[int, str]]:
    """The forms podman-compose turns into one before it merges and substitutes (normalize_service);
    (line, message) for each it stops on."""
    stops: list[tuple[int, str]] = []
    for key in ("command", "entrypoint"):
        # shlex is podman-compose's own reading of these strings (1.3.0 and 1.6.0 alike), and it
        # splits before it substitutes: `echo ${MSG}` stays two words whatever MSG holds.
        written = body.get(key)
        if not isinstance(written, str):
            continue
        try:
            words = shlex.split(written)
        except ValueError as exc:
            stops.append(
                (body.line_of(key), f"service {name}: {key}: {str(exc).lower()} (podman-compose's shlex stops here)")
            )
            continue
        split = MarkedList(words)
        split.line = body.line_of(key)
        split.item_lines = [split.line] * len(words)
        body[key] = split
    for key in ("volumes", "env_file", "security_opt"):
        if isinstance(body.get(key), str):
            single = MarkedList([body[key]])
            single.line = body.line_of(key)
            single.item_lines = [single.line]
            body[key] = single
    extends = body.get("extends")
    if isinstance(extends, str):
        as_dict = marked_dict(body)
        as_dict["service"] = extends
        as_dict.line = body.line_of("extends")
        as_dict.key_lines = {"service": as_dict.line}
        body["extends"] = as_dict
    for key in ("environment", "labels"):
        entries = body.get(key)
        if isinstance(entries, MarkedList) and all(isinstance(item, str) for item in entries):
            as_dict = MarkedDict()
            as_dict.line, as_dict.key_lines = entries.line, {}
            for index, item in enumerate(entries):
                name, equals, value = item.partition("=")
                as_dict[name] = value if equals else None
                as_dict.key_lines[name] = entries.line_of(index)
            body[key] = as_dict
    return stops
