"""The one secret vocabulary: which names say their value is secret, and which values are secret by shape.

The detector (security.secrets, PHX-S.17), the redactor (redact.py) and convert
all ask here, so what one calls a secret the others withhold alike.

Names are read by their words, in every case style: ``DB_PASSWORD``,
``db-password``, ``dbPassword``, ``DBPassword`` and ``PGPASSWORD`` (a word that
ends in PASSWORD, TOKEN, SECRET, ...). A name whose last word says where the
secret is (``POSTGRES_PASSWORD_FILE``) names a location, not a secret, and the
keys that name a podman secret (Quadlet's ``Secret=``, compose's ``secrets:``,
podman's ``--secret``) are references, not secrets.

Values are secret by shape whatever their name: a URL with a password, an issuer's
token (``ghp_``, ``AKIA``...), a pasted private key, an HTTP ``Bearer``/``Basic``
credential; and on a command line, a MySQL client's ``-pSECRET`` and curl's
``-u user:password``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence

# Words of a name that mark its value as secret (matched per word, so KEYBOARD_LAYOUT and
# PASSENGER_COUNT are not secrets).
SECRET_WORDS = frozenset(
    {
        "PASSWORD",
        "PASSWORDS",
        "PASSWD",
        "PASS",
        "PASSPHRASE",
        "SECRET",
        "SECRETS",
        "TOKEN",
        "TOKENS",
        "KEY",
        "KEYS",
        "APIKEY",
        "PRIVATE",
        "CREDENTIAL",
        "CREDENTIALS",
        "CREDS",
    }
)
# A word written without separators that ends in one of these is a secret word too (PGPASSWORD,
# APITOKEN, CLIENTSECRET); shorter words (KEY, PASS) are not read as endings: MONKEY, COMPASS.
SECRET_ENDINGS = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "CREDENTIALS")
# `*_AUTH` (REGISTRY_AUTH, BASIC_AUTH) holds a credential; AUTH_TYPE or AUTH_URL only say how.
SECRET_LAST_WORDS = frozenset({"AUTH"})
# `POSTGRES_PASSWORD_FILE=/run/secrets/db` is the recommended way to pass a secret to many
# images: the value is where the secret is, not the secret; `--password-stdin` reads it.
LOCATION_WORDS = frozenset({"FILE", "PATH", "DIR", "STDIN"})
# Alone, these words name a dictionary key or an attribute (`key="..."` in a metric, `private=true`);
# as a word of a longer name (STRIPE_KEY, SSH_PRIVATE) they say secret.
GENERIC_WORDS = frozenset({"KEY", "KEYS", "PRIVATE"})
# Names of a podman secret, not secrets: Quadlet's Secret=, compose's secrets:, podman's --secret.
REFERENCE_NAMES = frozenset({"Secret", "secrets", "--secret", "--secret-env"})

_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
# camelCase and PascalCase boundaries: dbPassword -> db Password, DBPassword -> DB Password.
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# `$$` is compose's escaped dollar; what is left is an interpolated reference.
_REFERENCE = re.compile(r"\$(?:\{[^}]+\}|[A-Za-z_][A-Za-z0-9_]*)")


def name_words(name: str) -> list[str]:
    """The words of a name in upper case, whatever its case style."""
    return [word.upper() for part in _SEPARATORS.split(name) for word in _CAMEL.split(part) if word]


def _secret_word(word: str) -> bool:
    return word in SECRET_WORDS or word.endswith(SECRET_ENDINGS)


# The same few names come back millions of times when a fleet's report is redacted (host=,
# check=, key= of every Prometheus line): each is judged once.
@functools.lru_cache(maxsize=1 << 14)
def is_secret_name(name: str) -> bool:
    """Whether a name (a variable, a label, a mapping key, an option) says its value is a secret."""
    if name in REFERENCE_NAMES:
        return False
    words = name_words(name)
    if not words or words[-1] in LOCATION_WORDS or (len(words) == 1 and words[0] in GENERIC_WORDS):
        return False
    return words[-1] in SECRET_LAST_WORDS or any(_secret_word(word) for word in words)


def is_literal(value: str | None) -> bool:
    """A value written into the file, not taken from the environment or a reference."""
    if not value:
        return False
    return _REFERENCE.search(value.replace("$$", "")) is None


# scheme://user:PASSWORD@host: the password is a literal unless it is a reference.
URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:'\"]*):([^\s/@'\"]+)@")
# scheme://TOKEN@host: a long user with no password is a token (GitHub's x-access-token style).
URL_TOKEN = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://)([A-Za-z0-9_\-.~]{20,})@")
# The formats of common issuers' tokens.
TOKEN = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,})(?!\w)"  # not \b: a token may end in "-"
)
# A private key pasted in, to its END line (or the end of the text, if cut).
PEM = re.compile(
    r"(-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----)(.*?)(-----END \2PRIVATE KEY-----|\Z)",
    re.DOTALL,
)
# An HTTP credential (Authorization: Bearer ..., Basic ...).
HTTP_CREDENTIAL = re.compile(r"\b(Bearer|Basic|Token)([ \t]+)([A-Za-z0-9._~+/=-]{8,})")

# MySQL and MariaDB clients take the password glued to -p (`mysql -uroot -pSECRET`).
MYSQL_CLIENTS = re.compile(r"(?<![\w.-])(?:mysql|mysqladmin|mysqldump|mysqlcheck|mariadb(?:-admin|-dump)?)(?![\w.-])")
GLUED_PASSWORD = re.compile(r"(?<![\w-])(-p)([^\s'\"]+)")
# curl's -u/--user USER:PASSWORD (podman's -u 1000:1000 is a user and group, so only for curl).
CURL = re.compile(r"(?<![\w.-])curl(?![\w.-])")
CURL_USER = re.compile(r"(?<![\w-])(-u|--user)(=|[ \t]+)([^\s:'\"]*):([^\s'\"]+)")


def secret_value_reason(name: str, value: str | None) -> str | None:
    """Why a NAME=value (a variable, a label) puts a secret in the file, or None; never the value."""
    if not value:
        return None
    # Phrased so that the name never stands next to a value: the redaction layer would mask the prose.
    if is_secret_name(name) and is_literal(value):
        return "its value is a literal (withheld here)"
    password = URL_PASSWORD.search(value)
    if password is not None and is_literal(password.group(2)):
        return "its value is a URL with a literal password (withheld here)"
    if TOKEN.search(value) or PEM.search(value):
        return "its value looks like a token or private key (withheld here)"
    if HTTP_CREDENTIAL.search(value):
        return "its value is an HTTP credential (withheld here)"
    return None


def is_secret_option(option: str) -> bool:
    """Whether a command-line option (`--db-password`, `--api-token`) is given a secret as its value."""
    if not option.startswith("-") or option.lower() in REFERENCE_NAMES:
        return False
    # --password-env NAME names the variable that holds it.
    return not option.lower().endswith("-env") and is_secret_name(option)


def secret_options(words: Sequence[str] | Iterable[str]) -> list[str]:
    """The options among command-line words that are given a literal secret (their names only)."""
    found = []
    words = list(words)
    command = " ".join(words)
    mysql = MYSQL_CLIENTS.search(command) is not None
    curl = CURL.search(command) is not None
    for index, word in enumerate(words):
        option, equals, value = word.partition("=")
        if mysql and GLUED_PASSWORD.fullmatch(word) and is_literal(word[2:]):
            found.append("-p")
            continue
        if curl and option in ("-u", "--user"):
            value = value if equals else (words[index + 1] if index + 1 < len(words) else "")
            user_password = CURL_USER.fullmatch(f"{option}={value}")
            if user_password is not None and is_literal(user_password.group(4)):
                found.append(option)
            continue
        if not is_secret_option(option):
            continue
        if not equals:
            if index + 1 >= len(words) or words[index + 1].startswith("-"):
                continue  # a flag alone (--no-password), or followed by the next option
            value = words[index + 1]
        if is_literal(value):
            found.append(option)
    return found
