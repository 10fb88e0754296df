"""A last guard against secret values in any output: evidence quoting a
`DB_PASSWORD=...` pair keeps the name and loses the value.

Names are matched the way environments spell them (upper case, `NAME=value` or
`NAME: value`) and, in lower case, only as `name=value`: prose and remediation
text such as "declare it under `secrets:`" must stay readable.
"""

from __future__ import annotations

import re

_WORDS = r"PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?|AUTH"
_VALUE = r"(\"[^\"]*\"|'[^']*'|[^\s,;]+)"
_UPPER = re.compile(rf"\b([A-Z0-9_]*(?:{_WORDS})[A-Z0-9_]*)(\s*[=:]\s*){_VALUE}")
_LOWER = re.compile(rf"\b([a-z0-9_]*(?:{_WORDS.lower()})[a-z0-9_]*)(=){_VALUE}")
MASK = "***"


def redact(text: str) -> str:
    for pattern in (_UPPER, _LOWER):
        text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    return text
