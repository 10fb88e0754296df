"""Compose keys and types against the compose specification's JSON schema, at file:line.

The schema (schema/compose-spec.json, see the README beside it) is the one list of the
names a compose file may use: the top-level keys and a service's keys come from it, and
the merged document is validated against it with jsonschema. podman-compose itself never
validates against the schema, so where the two disagree podman-compose decides the
verdict: a key it reads that the schema lacks is known (PODMAN_COMPOSE_SERVICE_KEYS), an
unknown top-level or service key stays what it was (a problem: podman-compose ignores the
line, so what it asked for is lost), and every other schema finding is a warning, never a
refusal (podman-compose runs the file). Messages name the path and what the schema wants,
never the value: a value is as likely to hold a secret as any.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from phoenix_compliance.parsers.yamlmarks import MarkedDict, MarkedList

SCHEMA = Path(__file__).with_name("schema") / "compose-spec.json"

# Service keys podman-compose reads (both 1.3.0 and 1.6.0, container_to_args) that the
# specification does not name: `http_proxy: false` adds --http-proxy=false, `publishall` -P.
PODMAN_COMPOSE_SERVICE_KEYS = frozenset({"http_proxy", "publishall"})


@functools.cache
def schema() -> Mapping[str, Any]:
    document: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return document


@functools.cache
def _validator() -> Draft7Validator:
    return Draft7Validator(schema())


TOP_LEVEL_KEYS = frozenset(schema()["properties"])
SERVICE_KEYS = frozenset(schema()["definitions"]["service"]["properties"]) | PODMAN_COMPOSE_SERVICE_KEYS


def warnings(document: MarkedDict) -> Iterator[tuple[int, str]]:
    """(line, message) for what the schema finds in the merged document, unknown top-level and
    service keys left out (the parser reports them as problems, with a guess)."""
    for error in (leaf for found in _validator().iter_errors(document) for leaf in _leaves(found)):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties":
            yield from _unknown_keys(document, path, error)
            continue
        yield (
            _line(document, path),
            f"{_where(path)}: {_wants(error)} (the compose specification; podman-compose does not check it)",
        )


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """The findings inside `anyOf`/`oneOf` when one form alone is of the value's type (a mapping
    for list-or-mapping): said at the line that breaks it, not at the key above."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [
            found
            for found in branches.values()
            if not any(sub.validator == "type" and not sub.relative_path for sub in found)
        ]
        if len(fitting) == 1:
            for sub in fitting[0]:
                yield from _leaves(sub)
            return
    yield error


def _unknown_keys(document: MarkedDict, path: list[str | int], error: ValidationError) -> Iterator[tuple[int, str]]:
    if len(path) == 0 or (len(path) == 2 and path[0] == "services"):
        return
    instance, rules = error.instance, error.schema
    if not isinstance(instance, MarkedDict) or not isinstance(rules, Mapping):
        return
    allowed = set(rules.get("properties", {}))
    patterns = [re.compile(pattern) for pattern in rules.get("patternProperties", {})]
    for key in instance:
        if key in allowed or any(pattern.search(key) for pattern in patterns):
            continue
        if path == ["services"]:
            message = f"service name {key!r} is not one the compose specification allows ([a-zA-Z0-9._-])"
        else:
            message = f"{_where(path)}: unknown key {key!r}"
        yield instance.line_of(key), message + " (the compose specification; podman-compose does not check it)"


def _line(document: MarkedDict, path: Sequence[str | int]) -> int:
    """The line of the value at `path`: its key's line in the mapping holding it, its item's in a list."""
    node: Any = document
    line = document.line
    for step in path:
        if isinstance(node, MarkedDict) and isinstance(step, str) and step in node:
            line, node = node.line_of(step), node[step]
            continue
        if not (isinstance(node, MarkedList) and isinstance(step, int) and 0 <= step < len(node)):
            break
        line, node = node.line_of(step), node[step]
    return line


def _where(path: Sequence[str | int]) -> str:
    if not path:
        return "the top level"
    if len(path) >= 2 and path[0] == "services":
        rest = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path[2:])
        return f"service {path[1]}: {rest.lstrip('.') or 'its body'}"
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path).lstrip(".")


_JSON_TYPES = {
    bool: "boolean",
    int: "integer",
    float: "number",
    str: "string",
    type(None): "null",
}


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _wants(error: ValidationError) -> str:
    """What the schema asks for, said without the value."""
    rule: Any = error.validator_value
    if error.validator == "type":
        wanted = " or ".join(rule) if isinstance(rule, list) else str(rule)
        return f"expected {wanted}, got {_kind(error.instance)}"
    if error.validator in ("anyOf", "oneOf"):
        return f"{_kind(error.instance)} in none of the forms the specification allows"
    if error.validator == "enum" and isinstance(rule, list):
        return "expected one of " + ", ".join(repr(choice) for choice in rule)
    if error.validator == "required":
        return str(error.message)
    if error.validator == "pattern":
        return f"does not match {rule!r}"
    if error.validator == "uniqueItems":
        return "an item is repeated"
    return f"fails {error.validator} {rule!r}"
