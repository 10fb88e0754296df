"""Literal secrets in environment variables, labels, options and env files (PHX-S.17)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from phoenix_compliance.parsers.compose import ComposeFile
from phoenix_compliance.parsers.quadlet import Entry, UnitFile
from phoenix_compliance.security.common import (
    PORT_SECTIONS,
    Offence,
    RuleInfo,
    entries,
    podman_options,
    split_words,
    unit_offence,
)

SECRETS = RuleInfo(
    id="SEC-SECRET",
    title="No literal secret in an environment variable",
    remediation="podman secret create NAME - and pass it with Secret=NAME,type=env,target=VAR (compose: secrets:)",
)


# Words of a variable name that mark its value as secret (matched per word, so
# KEYBOARD_LAYOUT and PASSENGER_COUNT are not secrets).
_SECRET_WORDS = frozenset(
    {
        "PASSWORD",
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
# `POSTGRES_PASSWORD_FILE=/run/secrets/db` is the recommended way to pass a
# secret to many images: the value is where the secret is, not the secret.
_LOCATION_WORDS = frozenset({"FILE", "PATH", "DIR"})
_NAME_WORD_RE = re.compile(r"[^A-Za-z0-9]+")
# `$$` is compose's escaped dollar; what is left is an interpolated reference.
_REFERENCE_RE = re.compile(r"\$(?:\{[^}]+\}|[A-Za-z_][A-Za-z0-9_]*)")


def is_secret_name(name: str) -> bool:
    """Whether a variable name says its value is a secret (by its `_`-separated words)."""
    words = [word for word in _NAME_WORD_RE.split(name.upper()) if word]
    return bool(words) and words[-1] not in _LOCATION_WORDS and any(word in _SECRET_WORDS for word in words)


def _is_literal(value: str | None) -> bool:
    """A value written into the file, not taken from the environment or a reference."""
    if not value:
        return False
    return _REFERENCE_RE.search(value.replace("$$", "")) is None


# scheme://user:PASSWORD@host in a value: the password is a literal unless it is a reference.
_URL_PASSWORD_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:([^\s/@]+)@")
# Values that are a credential whatever the name says: the formats of common issuers' tokens,
# and a private key pasted in.
_TOKEN_RE = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,})\b|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
# Command-line options that take a secret as their value (`--password VALUE`, `--api-token=VALUE`).
# podman's own --secret NAME names a secret, it is not one; *-file/-path options name where it is.
_SECRET_OPTION_RE = re.compile(
    r"^--?[a-z0-9-]*(?:password|passwd|passphrase|token|api-?key|secret|credentials?)[a-z0-9-]*$", re.I
)
_NOT_SECRET_OPTIONS = frozenset({"--secret", "--secret-env"})


def secret_value_reason(name: str, value: str | None) -> str | None:
    """Why a NAME=value (a variable, a label) puts a secret in the file, or None; never the value."""
    if not value:
        return None
    # Phrased so that the name never stands next to a value: the redaction layer would mask the prose.
    if is_secret_name(name) and _is_literal(value):
        return "its value is a literal (withheld here)"
    password = _URL_PASSWORD_RE.search(value)
    if password is not None and _is_literal(password.group(1)):
        return "its value is a URL with a literal password (withheld here)"
    if _TOKEN_RE.search(value):
        return "its value looks like a token or private key (withheld here)"
    return None


def secret_options(words: Iterable[str]) -> list[str]:
    """The options among command-line words that are given a literal secret (their names only)."""
    found = []
    words = list(words)
    for index, word in enumerate(words):
        option, equals, value = word.partition("=")
        if not _SECRET_OPTION_RE.match(option) or option.lower() in _NOT_SECRET_OPTIONS:
            continue
        if option.lower().endswith(("-file", "-path", "-dir", "-env")):
            continue
        if not equals:
            if index + 1 >= len(words) or words[index + 1].startswith("-"):
                continue  # a flag alone (--no-password), or followed by the next option
            value = words[index + 1]
        if _is_literal(value):
            found.append(option)
    return found


def env_file_secrets(path: str, text: str) -> list[Offence]:
    """Literal secrets in an env file (`NAME=value` lines, `export` allowed) at their own line."""
    offences = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name = name.strip()
        value = value.strip().strip("\"'")
        reason = secret_value_reason(name, value) if equals else None
        if reason is not None:
            offences.append(
                Offence(
                    SECRETS.id,
                    path,
                    number,
                    f"env file variable {name}",
                    f"{reason}: an env file next to the stack is as readable as the stack; keep the secret "
                    f"in `podman secret create {name.lower()} -` and pass it as a secret",
                )
            )
    return offences


def compose_secrets(compose: ComposeFile) -> list[Offence]:
    """`environment` entries and labels with a secret-looking name and a literal value, a URL
    with a password or a token; `command:`/`entrypoint:` options given a secret; and the same
    in the env_file files when they could be read (ComposeFile.env_file_texts).

    The value never enters an Offence: only the name, file and line do.
    """
    offences = []
    for service in compose.services.values():
        for var in service.environment:
            # Judged as written: `${DB_PASSWORD}` is no literal, whatever it resolves to.
            reason = secret_value_reason(var.name, compose.as_written(var.line, var.value))
            if reason is not None:
                secret = var.name.lower()
                offences.append(
                    Offence(
                        SECRETS.id,
                        *compose.locate(var.line),
                        f"service {service.name}, environment {var.name}",
                        f"{reason}, so the secret sits in the file, "
                        f"in version control and in podman inspect; run `podman secret create {secret} -`, declare "
                        f"it under top-level `secrets:` ({secret}: {{external: true}}) and list it in the "
                        f"service's `secrets:`, or interpolate ${{{var.name}}} from an uncommitted .env",
                    )
                )
        for label in service.labels:
            reason = secret_value_reason(label.name, compose.as_written(label.line, label.value))
            if reason is not None:
                offences.append(
                    Offence(
                        SECRETS.id,
                        *compose.locate(label.line),
                        f"service {service.name}, label {label.name}",
                        f"{reason}; labels are readable by anyone who can list containers: "
                        "drop the secret from the labels",
                    )
                )
        for key, words in service.commands:
            for option in secret_options(words):
                offences.append(
                    Offence(
                        SECRETS.id,
                        *compose.locate(service.line_of(key)),
                        f"service {service.name}, {key} {option}",
                        "the option's value is a literal secret (withheld here) on the command line, readable in "
                        "podman inspect and ps; pass it as a secret file or an environment variable from a secret",
                    )
                )
        for reference, _line in service.env_files:
            if reference in compose.env_file_texts:
                where, text = compose.env_file_texts[reference]
                offences.extend(env_file_secrets(where, text))
    return offences


def quadlet_secrets(units: Iterable[UnitFile]) -> list[Offence]:
    """`Environment=` (several `A=1 B="x y"` pairs a line), `PodmanArgs=--env` and `Label=` with a
    literal secret (by name, a URL with a password, a token); `Exec=`/`PodmanArgs=` options given a
    secret; and the EnvironmentFile= files when they could be read (UnitFile.environment_files).

    [Service] Environment= is judged too: its value is as readable in the file.
    The value never enters an Offence: only the name, file and line do.
    """
    offences = []
    for unit in units:
        # (entry, where it was set, NAME=value word): the value stays in here.
        assignments: list[tuple[Entry, str, str]] = []
        for entry in entries(unit, ("Container", "Service"), "Environment"):
            assignments.extend((entry, "Environment", word) for word in split_words(entry.value))
        for entry in entries(unit, PORT_SECTIONS, "PodmanArgs"):
            for option, arg in podman_options(entry.value):
                if option in ("--env", "-e") and arg is not None:
                    assignments.append((entry, "PodmanArgs --env", arg))
        for entry in entries(unit, (*PORT_SECTIONS, "Volume", "Network"), "Label"):
            assignments.extend((entry, "Label", word) for word in split_words(entry.value))
        # Report in file order, whichever key the assignment came from.
        for entry, where, word in sorted(assignments, key=lambda found: found[0].line):
            name, equals, value = word.partition("=")
            reason = secret_value_reason(name, value) if equals else None
            if reason is None:
                continue
            secret = name.lower()
            fix = (
                f"run `podman secret create {secret} -` and replace the assignment with "
                f"Secret={secret},type=env,target={name} under [Container]"
                if where != "Label"
                else "drop the secret from the labels"
            )
            offences.append(
                unit_offence(
                    SECRETS,
                    unit,
                    entry,
                    f"{where} {name}",
                    f"{reason}, so the secret sits in the unit file and in podman inspect; {fix}",
                )
            )
        for key in ("Exec", "PodmanArgs"):
            for entry in entries(unit, PORT_SECTIONS, key):
                for option in secret_options(split_words(entry.value)):
                    offences.append(
                        unit_offence(
                            SECRETS,
                            unit,
                            entry,
                            f"{key} {option}",
                            "the option's value is a literal secret (withheld here) on the command line, readable "
                            "in podman inspect and ps; pass it with Secret=NAME,type=mount and a --password-file",
                        )
                    )
        for reference, text in unit.environment_files.items():
            offences.extend(env_file_secrets(reference, text))
    return offences
