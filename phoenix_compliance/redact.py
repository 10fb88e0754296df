"""The one guard against secret values in any output, applied at the boundary.

Every output passes through here: a check's evidence and pytest's report of it (terminal,
JUnit, pytest-html's rows: run/outcome.py and the plugin's makereport), the test ids
(run/selection.py), the JSON and the Prometheus textfile (report/outputs.py, report/files.py).
So no check has to remember it: evidence quoting a `DB_PASSWORD=...` pair keeps the name
and loses the value.

What is a secret is grammar/secrets.py's vocabulary, the one the detector (PHX-S.17) and
convert use, so what they call a secret is what is withheld here. Masked:

- `NAME=value` where NAME is a secret name in any case style (`DB_PASS=`, `Password=`,
  `dbPassword=`, `PGPASSWORD=`), and `NAME: value` where a mapping is written (a YAML line,
  `- NAME: x`, a printed dict `{'password': 'x'}`, JSON), not in prose ("environment
  DB_PASSWORD: its value is ..." stays readable);
- values secret by shape: the password of a URL (`postgresql://user:***@db/`) and a token
  standing alone as its user, issuers' tokens (`ghp_`, `AKIA`...), private key blocks,
  `Authorization: Bearer ***`;
- the value of a command-line option that says secret (`--password VALUE`, `--api-token=VALUE`),
  a MySQL client's `-p***` and curl's `-u user:***`;
- the rest of a quoted line after a word that says secret (`'DB_PASSWORD hunter2'`, a unit
  line without `=` as a syntax finding quotes it);
- control characters (a NUL byte of a unit file) become visible escapes, never raw bytes;
- every value registered with withhold(), wherever it stands, as CI systems mask a value
  (GitHub Actions' add-mask): substitution registers the value of each variable the
  vocabulary calls secret (by name, or its value by shape) when it resolves one
  (parsers/interpolation.py), so `-p${MYSQL_ROOT_PASSWORD}` from a `.env` is masked in a
  port, an image, a test id or a diff alike.

The registry is process-wide: each xdist worker parses the compose files it checks and so
registers what it substitutes, and redacts its own reports. It is bounded (WITHHELD_LIMIT
values, each at most WITHHELD_MAX_LENGTH characters matched) and values shorter than
WITHHELD_MIN_LENGTH are not registered: a password "1" or "ab" would mask every digit or
syllable of every output. A registered value is masked wherever it stands, inside a longer
word too (a password `root` shows `rootless` as `***less`): masking too much is read, masking
too little is a leak; CI systems choose the same.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from phoenix_compliance.grammar import secrets

MASK = "***"
_VALUE = r"(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;]+)"
# `NAME=value`, the value right after the `=` (`NAME= is` is prose about an empty value).
_ASSIGNMENT = re.compile(rf"(?<![\w.$-])(?P<name>[A-Za-z_][\w.-]*)(?P<sep>['\"]?=)(?!=){_VALUE}")
# `NAME: value` where a mapping is written: at the start of a line (YAML, `- NAME: x` too) or
# after `{`, `[` or `,` (a printed dict, JSON), not in prose ("environment NAME: its value").
_MAPPING = re.compile(
    rf"(?m)(?:^[ \t]*(?:-[ \t]+)?|[{{\[,][ \t]*)(?P<name>['\"]?[A-Za-z_][\w.-]*)(?P<sep>['\"]?[ \t]*:[ \t]*){_VALUE}"
)
_OPTION = re.compile(
    r"(?<![\w-])(?P<name>--?[A-Za-z][\w-]*)(?P<sep>=|\s+)(?!-)(?P<value>\"[^\"]*\"|'[^']*'|[^\s,;'\"]+)"
)
_QUOTED = re.compile(r"'([^'\n]*)'")
_QUOTED_WORD = re.compile(r"([\w.-]+)([ \t]+)(?=\S)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Values registered by withhold(); see the module's docstring for the bounds and why.
WITHHELD_MIN_LENGTH = 4
WITHHELD_MAX_LENGTH = 4096
WITHHELD_LIMIT = 1000
_withheld: dict[str, None] = {}
_withheld_pattern: re.Pattern[str] | None = None


def withhold(value: str) -> bool:
    """Mask `value` in every later output of this process; whether it is (now) withheld.

    Refused: values shorter than WITHHELD_MIN_LENGTH, and any beyond WITHHELD_LIMIT (the first
    ones stay). A value longer than WITHHELD_MAX_LENGTH is withheld by its first characters."""
    global _withheld_pattern
    value = value[:WITHHELD_MAX_LENGTH]
    if len(value.strip()) < WITHHELD_MIN_LENGTH:
        return False
    if value in _withheld:
        return True
    if len(_withheld) >= WITHHELD_LIMIT:
        return False
    _withheld[value] = None
    _withheld_pattern = None
    _redacted.cache_clear()
    return True


def withheld() -> tuple[str, ...]:
    """The values withheld so far."""
    return tuple(_withheld)


def forget_withheld() -> None:
    """Withhold nothing any more (for the suite's own tests)."""
    global _withheld_pattern
    _withheld.clear()
    _withheld_pattern = None
    _redacted.cache_clear()


def _pattern() -> re.Pattern[str] | None:
    global _withheld_pattern
    if _withheld and _withheld_pattern is None:
        # Longest first, so a value that holds another is masked whole.
        alternatives = sorted(_withheld, key=len, reverse=True)
        _withheld_pattern = re.compile("|".join(re.escape(value) for value in alternatives))
    return _withheld_pattern


def withheld_in(text: str) -> set[str]:
    """The withheld values that stand in the text (convert writes no literal of one it substituted)."""
    pattern = _pattern()
    return set() if pattern is None else set(pattern.findall(text))


def _mask_withheld(text: str) -> str:
    pattern = _pattern()
    return text if pattern is None else pattern.sub(MASK, text)


def _mask_pairs(pattern: re.Pattern[str], text: str, secret: Callable[[str], bool]) -> str:
    """Mask the value of every match whose name is secret; a name that is not is stepped over
    (not its value), so `Environment=DB_PASSWORD=x` still finds the pair inside."""
    out: list[str] = []
    position = 0
    while (match := pattern.search(text, position)) is not None:
        if secret(match.group("name").strip("'\"")):
            out.append(text[position : match.start("value")] + MASK)
            position = match.end("value")
        else:
            out.append(text[position : match.end("sep")])
            position = match.end("sep")
    return "".join(out) + text[position:]


def _quoted(match: re.Match[str]) -> str:
    inner = match.group(1)
    for word in _QUOTED_WORD.finditer(inner):
        if secrets.is_secret_name(word.group(1)):
            return f"'{inner[: word.end()]}{MASK}'"
    return match.group(0)


def _command_line(line: str) -> str:
    """`-pSECRET` after a MySQL client, `-u user:SECRET` after curl (the forms the vocabulary reads there)."""
    if secrets.MYSQL_CLIENTS.search(line):
        line = secrets.GLUED_PASSWORD.sub(lambda m: f"{m.group(1)}{MASK}", line)
    if secrets.CURL.search(line):
        line = secrets.CURL_USER.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}:{MASK}", line)
    return line


# The same short texts come back many times in a run (check ids, hosts, a fleet's identical
# evidence; each report redacted at the boundary and again in the JSON): redacted once each,
# while the withheld values stay as they are (withhold() forgets the answers).
_CACHED_LENGTH = 2048


def redact(text: str) -> str:
    """The text with every secret value masked and every control character escaped."""
    return _redacted(text) if len(text) <= _CACHED_LENGTH else _redact(text)


@functools.lru_cache(maxsize=1 << 16)
def _redacted(text: str) -> str:
    return _redact(text)


def _redact(text: str) -> str:
    # Before the escapes: a withheld value may hold a control character.
    text = _mask_withheld(text)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    text = secrets.PEM.sub(lambda m: f"{m.group(1)}{MASK}{m.group(4)}", text)
    text = secrets.URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    text = secrets.URL_TOKEN.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    text = secrets.TOKEN.sub(MASK, text)
    text = secrets.HTTP_CREDENTIAL.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = "".join(_command_line(line) for line in text.splitlines(keepends=True))
    text = _mask_pairs(_OPTION, text, secrets.is_secret_option)
    text = _mask_pairs(_ASSIGNMENT, text, secrets.is_secret_name)
    text = _mask_pairs(_MAPPING, text, secrets.is_secret_name)
    return _QUOTED.sub(_quoted, text)


def redact_data(value: Any) -> Any:
    """A JSON-like value with every string in it (keys included) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(key) if isinstance(key, str) else key: redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(item) for item in value]
    return value


def redact_table(table: dict[str, Any]) -> None:
    """A name-to-value table shown as is (pytest-metadata's environment table in the HTML),
    redacted in place: a value whose name looks secret is masked, any other text redacted."""
    for key, value in list(table.items()):
        if isinstance(value, dict):
            redact_table(value)
        elif isinstance(value, str):
            table[key] = MASK if value and secrets.is_secret_name(key) else redact(value)


def redact_report(report: Any) -> None:
    """A pytest report as every reporter reads it (terminal, JUnit, pytest-html): its failure text,
    captured output and user properties redacted in place. Duck-typed: this module imports no pytest."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        # A skip: (path, line, reason).
        report.longrepr = (longrepr[0], longrepr[1], redact(str(longrepr[2])))
    elif longrepr is not None:
        text = str(longrepr)
        redacted = redact(text)
        if redacted != text or isinstance(longrepr, str):
            report.longrepr = redacted
    report.sections = [(title, redact(content)) for title, content in report.sections]
    report.user_properties = [
        (name, redact(value) if isinstance(value, str) else value) for name, value in report.user_properties
    ]
