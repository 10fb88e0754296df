"""Literal secrets in environment variables, labels, options and env files (PHX-S.17)."""

from __future__ import annotations

from collections.abc import Iterable

from phoenix_compliance.grammar.secrets import is_secret_name, secret_options, secret_value_reason
from phoenix_compliance.parsers.compose import ComposeFile
from phoenix_compliance.quadlet.unitfile import Entry, UnitFile
from phoenix_compliance.rules import RuleSpec
from phoenix_compliance.security.common import (
    PORT_SECTIONS,
    Offence,
    entries,
    podman_options,
    split_words,
    unit_offence,
)

# The vocabulary's names stay importable from here (convert asks security.secrets).
__all__ = [
    "SECRETS",
    "compose_secrets",
    "env_file_secrets",
    "is_secret_name",
    "quadlet_secrets",
    "secret_options",
    "secret_value_reason",
]

SECRETS = RuleSpec(
    id="SEC-SECRET",
    title="No literal secret in an environment variable",
    remediation="podman secret create NAME - and pass it with Secret=NAME,type=env,target=VAR (compose: secrets:)",
    check="PHX-S.17",
)


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
