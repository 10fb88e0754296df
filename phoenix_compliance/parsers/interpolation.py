"""Variable substitution in compose files, and `.env` files, as podman-compose does them.

A plain module (no pytest). podman-compose substitutes every string of the loaded
YAML (`rec_subs`) from one environment: the `--env-file` (by default the `.env`
beside the first compose file), then the invoking shell's environment over it.
Two grammars, by release:

- up to 1.5 a regular expression: `$$`, `$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR-x}`,
  `${VAR:?msg}`, `${VAR?msg}`; anything else (`${VAR:+x}`, `${}`, an unclosed `${`)
  stays as written, and a default ends at the first `}` (no nesting);
- from 1.6 a tokenizer: the same plus `${VAR:+x}` and `${VAR+x}`, nested operands
  (`${A:-${B}}`), and a `${` it cannot read (no name, unknown operator, no closing
  brace) is an error that stops podman-compose.

A variable the secret vocabulary calls secret (grammar/secrets.py: by its name, or its
value by shape) has its value registered with the redactor when it is substituted
(redact.withhold), so the value is masked wherever it lands: a port, an image, a
command, a test id.

Hostile input is bounded where podman-compose is not: every value substituted is
counted against a Budget (EXPANSION_LIMIT for a whole project) before it is added.

`.env` files are read by python-dotenv's own parser, as podman-compose reads them
(`dotenv_values`): `[export] KEY=value`, quotes (double with escapes), ` #`
comments on unquoted values, `KEY` alone is declared but unset, and values may use
`${VAR}` / `${VAR:-x}` (earlier keys, then the environment), bounded in bytes.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from dotenv.parser import parse_stream
from dotenv.variables import Atom, Variable, parse_variables

from phoenix_compliance import redact
from phoenix_compliance.grammar import secrets
from phoenix_compliance.parsers.yamlmarks import MAX_BYTES, SourceError

Release = tuple[int, ...]

# podman-compose 1.6.0 replaced the regular expression with a tokenizer (var_interpolate).
TOKENIZER_SINCE: Release = (1, 6)

_NAME_START = re.compile(r"[A-Za-z_]")
_NAME = re.compile(r"[A-Za-z0-9_]*")
_LEGACY = re.compile(
    r"\$(?:(?P<escaped>\$)|(?P<named>[_a-zA-Z][_a-zA-Z0-9]*)"
    r"|\{(?P<braced>[_a-zA-Z][_a-zA-Z0-9]*)(?:(?P<empty>:)?(?:-(?P<default>[^}]*)|\?(?P<err>[^}]*)))?\})"
)
_OPERATORS = (":-", ":?", ":+", "-", "?", "+")


class InterpolationError(ValueError):
    """podman-compose stops on this string: a required variable unset, or a `${` it cannot read."""


class ExpansionError(InterpolationError):
    """The substituted strings grew past their Budget: refused before they are built."""


# What all the substituted strings of one project may add up to: eight times the largest file
# read. A `.env` value of a megabyte named 2,000 times in 8 KB of compose text asks for 2 GB.
EXPANSION_LIMIT = 8 * MAX_BYTES


class Budget:
    """Bytes substituted values may still add; shared by every string of one project."""

    def __init__(self, limit: int = EXPANSION_LIMIT) -> None:
        self.limit = limit
        self.left = limit

    def spend(self, text: str) -> str:
        self.left -= len(text)
        if self.left < 0:
            raise ExpansionError(
                f"the substituted values add up to more than {self.limit // (1024 * 1024)} MB"
                " (a variable named again and again?); refused"
            )
        return text


def _substituted(name: str, value: str | None, budget: Budget) -> str:
    """A variable's value as it is substituted: counted, and withheld from every output if secret."""
    if value and (secrets.is_secret_name(name) or secrets.secret_value_reason(name, value) is not None):
        redact.withhold(value)
    return budget.spend(value or "")


@dataclass
class Resolved:
    value: str
    # Variables used plainly ($VAR, ${VAR}) that are unset: podman-compose makes them empty.
    unset: list[str] = field(default_factory=list)


def interpolate(
    text: str, env: Mapping[str, str | None], release: Release | None = None, budget: Budget | None = None
) -> Resolved:
    """`text` with its variables substituted; raises InterpolationError where podman-compose stops,
    ExpansionError where the values substituted would outgrow `budget` (checked before each is added)."""
    if "$" not in text:
        return Resolved(text)
    budget = budget or Budget()
    if release is not None and release < TOKENIZER_SINCE:
        return _legacy(text, env, budget)
    resolved = Resolved("")
    try:
        resolved.value = _tokenized(text, env, resolved.unset, budget)
    except RecursionError:
        # Python's recursion gives out where podman-compose's would too: a refusal, not a crash.
        raise InterpolationError("operands nested too deep to read") from None
    return resolved


def _legacy(text: str, env: Mapping[str, str | None], budget: Budget) -> Resolved:
    unset: list[str] = []

    def one(match: re.Match[str]) -> str:
        if match.group("escaped") is not None:
            return "$"
        name = match.group("named") or match.group("braced")
        value = env.get(name)
        if value == "" and match.group("empty"):
            value = None
        if value is not None:
            return _substituted(name, value, budget)
        if match.group("err") is not None:
            raise InterpolationError(f"required variable {name} is unset: {match.group('err')}".rstrip(": "))
        if match.group("default") is None:
            unset.append(name)
        return match.group("default") or ""

    return Resolved(_LEGACY.sub(one, text), unset)


def _tokenized(text: str, env: Mapping[str, str | None], unset: list[str], budget: Budget) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        following = text[i + 1] if i + 1 < len(text) else ""
        if char != "$" or not following:
            out.append(char)
            i += 1
        elif following == "$":
            out.append("$")
            i += 2
        elif following == "{":
            end = _closing_brace(text, i + 2)
            out.append(_braced(text[i + 2 : end], env, unset, budget))
            i = end + 1
        elif _NAME_START.match(following):
            name = _NAME.match(text, i + 1)
            assert name is not None
            value = env.get(name.group())
            if value is None:
                unset.append(name.group())
            out.append(_substituted(name.group(), value, budget))
            i = name.end()
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for index in range(start, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return index
    raise InterpolationError(f"no closing brace in {_quoted(text[start - 2 :])}")


def _quoted(text: str, limit: int = 60) -> str:
    """Text for a message, cut short: the string may be a megabyte of a hostile file."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _braced(content: str, env: Mapping[str, str | None], unset: list[str], budget: Budget) -> str:
    if not content or not _NAME_START.match(content):
        raise InterpolationError(
            f"invalid interpolation format {_quoted(f'${{{content}}}')} (write $$ for a literal $)"
        )
    name_match = _NAME.match(content)
    assert name_match is not None
    name, rest = name_match.group(), content[name_match.end() :]
    value = env.get(name)
    if not rest:
        if value is None:
            unset.append(name)
        return _substituted(name, value, budget)
    operator = next((op for op in _OPERATORS if rest.startswith(op)), None)
    if operator is None:
        raise InterpolationError(f"invalid interpolation syntax {_quoted(f'${{{content}}}')}")
    operand = rest[len(operator) :]
    if operator in (":?", "?"):
        if value is None or (operator == ":?" and value == ""):
            message = _tokenized(operand, env, unset, budget)
            raise InterpolationError(f"required variable {name} is unset" + (f": {message}" if message else ""))
        return _substituted(name, value, budget)
    if operator == ":-":
        use_operand = not value
    elif operator == "-":
        use_operand = value is None
    elif operator == ":+":
        use_operand = bool(value)
    else:
        use_operand = value is not None
    if use_operand:
        return _tokenized(operand, env, unset, budget)
    return "" if operator in (":+", "+") else _substituted(name, value, budget)


# -- .env files ----------------------------------------------------------------

# What the values of one `.env` file may expand to, together, once its `${VAR}`s are
# substituted: as much as a file the suite reads at all (yamlmarks.MAX_BYTES). Each value
# may name the ones before it, so 30 lines of `B=${A}${A}` ask for gigabytes.
DOTENV_EXPANSION_LIMIT = MAX_BYTES


class DotenvError(SourceError):
    """A `.env` file the suite refuses to expand (its values grow past DOTENV_EXPANSION_LIMIT)."""


@dataclass
class Dotenv:
    """The variables of one `.env` file, as podman-compose's `dotenv_values` gives them."""

    values: dict[str, str | None]
    # Lines python-dotenv cannot read (it logs and skips them): where each statement starts.
    skipped: list[int] = field(default_factory=list)


def read_dotenv(text: str, environ: Mapping[str, str | None], where: str = ".env") -> Dotenv:
    """The bindings of a `.env` text through python-dotenv's own parser, substituted as
    `dotenv_values(path)` does (interpolate=True, override=True): `${VAR}` and `${VAR:-x}`
    from the file's earlier keys, then `environ` (the invoking environment: podman-compose
    reads each env file on its own, never one file's values into the next).

    podman-compose 1.3.0 and 1.6.0 read it the same way (`dotenv_to_dict`). The expansion is
    bounded in bytes (DOTENV_EXPANSION_LIMIT); past it DotenvError names the line."""
    values: dict[str, str | None] = {}
    sizes: dict[str, int] = {}
    skipped: list[int] = []
    total = 0
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            skipped.append(binding.original.line)
            continue
        if binding.key is None:
            continue
        if binding.value is None:
            values[binding.key] = None
            sizes.pop(binding.key, None)
            continue
        atoms = list(parse_variables(binding.value))
        scope: dict[str, str | None] = {**environ, **values}
        # Measured before it is built: a value is the sum of its parts.
        size = sum(_atom_size(atom, scope, sizes) for atom in atoms)
        total += size
        if total > DOTENV_EXPANSION_LIMIT:
            raise DotenvError(
                where,
                binding.original.line,
                f"{binding.key}: the values expand past {DOTENV_EXPANSION_LIMIT // 1024} KB once their"
                " ${...} are substituted (each naming the ones before it); refused",
            )
        value = "".join(atom.resolve(scope) for atom in atoms)
        values[binding.key] = value
        sizes[binding.key] = size
    return Dotenv(values, skipped)


def _atom_size(atom: Atom, scope: Mapping[str, str | None], sizes: Mapping[str, int]) -> int:
    if isinstance(atom, Variable):
        name = atom.name
        if name in sizes and scope.get(name) is not None:
            return sizes[name]
    return len(atom.resolve(scope).encode())


def parse_dotenv(text: str, environ: Mapping[str, str | None]) -> dict[str, str | None]:
    """The variables of a `.env` text (read_dotenv's values); a line python-dotenv cannot read is skipped."""
    return read_dotenv(text, environ).values
