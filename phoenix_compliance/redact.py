"""The one guard against secret values in any output, applied at the boundary.

Every output passes through here: a check's evidence and pytest's report of it (terminal,
JUnit, pytest-html's rows: run/outcome.py and the plugin's makereport), the test ids
(run/selection.py), the JSON and the Prometheus textfile (report/outputs.py, report/files.py).
So no check has to remember it: evidence quoting a `DB_PASSWORD=...` pair keeps the name
and loses the value. What is masked:

- `NAME=value` where NAME says secret, in upper case (as environments spell it), and
  `NAME: value` where a mapping is written (a YAML line, a printed dict `{'DB_PASSWORD': 'x'}`,
  JSON); in lower case only as `name=value`, so prose and remediation ("declare it under
  `secrets:`", "environment DB_PASSWORD: its value is ...") stay readable;
- the password of a URL (`postgresql://user:***@db/`), and a token standing alone as its user;
- the value of a command-line option that says secret: `--password VALUE`, `--api-token=VALUE`;
- the rest of a quoted line after a word that says secret (`'DB_PASSWORD hunter2'`, a unit
  line without `=` as a syntax finding quotes it);
- control characters (a NUL byte of a unit file) become visible escapes, never raw bytes.
"""

from __future__ import annotations

import re
from typing import Any

_WORDS = r"PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH"
_VALUE = r"(\"[^\"]*\"|'[^']*'|[^\s,;]+)"
# `NAME=value`, the value right after the `=` (`NAME= is` is prose about an empty value) ...
_UPPER = re.compile(rf"\b([A-Z0-9_]*(?:{_WORDS})[A-Z0-9_]*)(['\"]?=){_VALUE}")
# ... and `NAME: value` where a mapping is written: at the start of a line (YAML, `- NAME: x`
# too) or after `{`, `[` or `,` (a printed dict, JSON), not in prose ("environment NAME: its value").
_UPPER_MAPPING = re.compile(
    rf"(?m)((?:^[ \t]*(?:-[ \t]+)?|[{{\[,][ \t]*)['\"]?[A-Z0-9_]*(?:{_WORDS})[A-Z0-9_]*)(['\"]?[ \t]*:[ \t]*){_VALUE}"
)
_LOWER = re.compile(rf"\b([a-z0-9_]*(?:{_WORDS.lower()})[a-z0-9_]*)(=){_VALUE}")
# scheme://user:password@host: the password goes, the user and host stay (they name the service).
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'\"]*):([^\s/@'\"]+)@")
# scheme://TOKEN@host: a long user with no password is a token (GitHub's x-access-token style).
_URL_TOKEN = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)([A-Za-z0-9_\-.~]{20,})@")
_FLAG = re.compile(
    r"(?i)(?<![\w-])(--?[a-z0-9-]*(?:password|passwd|passphrase|secret|token|api-?key|credentials?)[a-z0-9-]*)"
    r"(=|\s+)(?!-)(\"[^\"]*\"|'[^']*'|[^\s,;'\"]+)"
)
_QUOTED_LINE = re.compile(
    rf"(?i)('[^'\n]*?\b[\w.-]*(?:{_WORDS}|passwd)[\w.-]*)([ \t]+)([^'\n]+)'",
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MASK = "***"


def redact(text: str) -> str:
    """The text with every secret value masked and every control character escaped."""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    text = _URL_TOKEN.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    text = _FLAG.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    for pattern in (_UPPER, _UPPER_MAPPING, _LOWER):
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _QUOTED_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}'", text)
    return text


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
            pair = f"{key}={value}"
            masked = redact(pair)
            table[key] = masked.split("=", 1)[1] if masked != pair and masked.startswith(f"{key}=") else redact(value)


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
