"""A last guard against secret values in any output: evidence quoting a
`PASSWORD=...` or `token: ...` pair keeps the name and loses the value."""

from __future__ import annotations

import re

SECRET_WORDS = r"PASSWORD|PASSWD|PASS|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|KEY|CREDENTIALS?|AUTH"
_PAIR = re.compile(
    rf"(?i)\b([A-Z0-9_.-]*(?:{SECRET_WORDS})[A-Z0-9_.-]*)(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;]+)"
)
MASK = "***"


def redact(text: str) -> str:
    return _PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
