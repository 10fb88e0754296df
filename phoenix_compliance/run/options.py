"""The suite's options, in one named group, each also settable once in the user's ini file.

Every option that describes a site rather than one run has an ini setting named after it
(``--probe-timeout`` is ``phoenix_probe_timeout``), read from the user's pytest.ini,
pyproject.toml ``[tool.pytest.ini_options]``, tox.ini or setup.cfg, as pytest-html does;
the command line overrides its setting. Paths in the ini file are relative to that file's
folder, paths on the command line to the current folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from phoenix_compliance.catalogue import ALL_PHASES, phase_choices, standalone_words
from phoenix_compliance.run.writers import WRITERS

Kind = Literal["text", "path", "seconds", "count", "flag"]
INI_PREFIX = "phoenix_"


@dataclass(frozen=True)
class Option:
    flag: str
    dest: str
    help: str
    metavar: str | None = None
    kind: Kind = "text"
    # Used when neither the command line nor the ini file gives a value.
    default: str | float | int | bool | None = None
    # Whether it has an ini setting: per-run options (who signs, what to compare with) have none.
    ini: bool = True
    # Given any number of times (a list of values, in order; one per line in the ini file).
    repeat: bool = False

    @property
    def ini_name(self) -> str:
        return INI_PREFIX + self.flag.removeprefix("--").replace("-", "_")


def _writer_options() -> list[Option]:
    # One option per output format that has its own (--json, --prometheus), from the registry.
    return [
        Option(w.option.flag, w.option.dest, w.option.help, "PATH", "path") for w in WRITERS if w.option is not None
    ]


OPTIONS: tuple[Option, ...] = (
    Option(
        "--phase",
        "phx_phase",
        f"phases to check: {phase_choices()}, or a comma-separated list (default: all, which is"
        f" {','.join(ALL_PHASES)}; {standalone_words()} gate on their own)",
        "PHASES",
        default="all",
    ),
    Option(
        "--stack",
        "phx_stack",
        "stack manifest (YAML) describing what to expect (default: the guide's stack, phoenix-hydra.yaml, bundled)",
        "PATH",
        "path",
    ),
    Option("--podman-user", "phx_podman_user", "rootless account to check (default: the connecting user)", "NAME"),
    Option(
        "--compose-file",
        "phx_compose_file",
        "a local compose file to check instead of the one in the project folder on the host;"
        " repeat it to merge override files in order, as podman-compose -f A -f B does",
        "PATH",
        "path",
        repeat=True,
    ),
    Option(
        "--env-file",
        "phx_env_file",
        "a local file of variables for the compose file, read instead of the .env beside it"
        " (as podman-compose --env-file); repeat it to read several, later ones winning",
        "PATH",
        "path",
        repeat=True,
    ),
    Option(
        "--quadlet-dir",
        "phx_quadlet_dir",
        "a local folder of Quadlet files (and the target unit) to check instead of the host's",
        "DIR",
        "path",
    ),
    Option(
        "--source-dir",
        "phx_source_dir",
        "the repository's infra folder (compose.yaml, systemd/): the host's Quadlet units must be its units",
        "DIR",
        "path",
    ),
    Option(
        "--allow-restart",
        "phx_allow_restart",
        "allow the disruptive check that restarts the stack's target (off: the suite only reads)",
        kind="flag",
        default=False,
    ),
    Option(
        "--health-wait",
        "phx_health_wait",
        "how long a healthcheck still 'starting' is waited for (default: 60)",
        "SECONDS",
        "seconds",
        60.0,
    ),
    Option(
        "--waivers",
        "phx_waivers",
        "YAML file of accepted failures: check, hosts (pattern), justification, expires",
        "FILE",
        "path",
    ),
    Option(
        "--signoff",
        "phx_signoff",
        "record who signs the report off (name, time, suite version, manifest digest)",
        "NAME",
        ini=False,
    ),
    Option(
        "--sign-key",
        "phx_sign_key",
        "also sign the report's digest with this SSH private key (ssh-keygen -Y sign)",
        "KEY",
        "path",
    ),
    Option(
        "--compare",
        "phx_compare",
        "report what changed since a previous run's JSON report",
        "PREVIOUS.json",
        "path",
        ini=False,
    ),
    *_writer_options(),
    Option(
        "--reports-dir",
        "phx_reports_dir",
        "where the HTML readiness report and JUnit XML are written (default: reports, in the current folder)",
        "DIR",
        "path",
        "reports",
    ),
    Option(
        "--shard",
        "phx_shard",
        "take the K-th of N slices of the hosts (sorted by id, dealt in turn), so N runs, one per CI job,"
        " check every host exactly once",
        "K/N",
        ini=False,
    ),
    Option(
        "--probe-timeout",
        "phx_probe_timeout",
        "bound on each probe of a host, connection included (default: 30)",
        "SECONDS",
        "seconds",
        30.0,
    ),
    Option(
        "--probe-concurrency",
        "phx_probe_concurrency",
        "how many hosts are probed at once before the checks run (default: 32)",
        "N",
        "count",
        32,
    ),
)


def _count(text: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise pytest.UsageError(f"{where}: expected a whole number, got {text!r}") from None


_TYPES: dict[str, type] = {"seconds": float, "count": int}


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("phoenix", "Phoenix Hydra migration compliance")
    for option in OPTIONS:
        # No default here: None means "not on the command line", so the ini setting can apply.
        if option.kind == "flag":
            group.addoption(option.flag, dest=option.dest, action="store_true", default=None, help=option.help)
        else:
            group.addoption(
                option.flag,
                dest=option.dest,
                default=None,
                metavar=option.metavar,
                type=_TYPES.get(option.kind, str),
                help=option.help,
                action="append" if option.repeat else "store",
            )
        if option.ini:
            parser.addini(
                option.ini_name,
                f"as {option.flag}: {option.help}",
                type="bool" if option.kind == "flag" else "linelist" if option.repeat else "string",
            )


def _seconds(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise pytest.UsageError(f"{where}: expected a number of seconds, got {text!r}") from None


def _from_ini(config: pytest.Config, option: Option) -> str | float | int | bool | list[str] | None:
    """The option's ini setting, or None when the ini file does not set it."""
    value = config.getini(option.ini_name)
    if option.kind == "flag":
        return True if value else None
    if option.repeat:
        paths = [_ini_path(config, str(line).strip()) for line in value if str(line).strip()]
        return paths or None
    text = str(value).strip()
    if not text:
        return None
    if option.kind == "seconds":
        return _seconds(text, f"{option.ini_name} in {config.inipath}")
    if option.kind == "count":
        return _count(text, f"{option.ini_name} in {config.inipath}")
    if option.kind == "path":
        return _ini_path(config, text)
    return text


def _ini_path(config: pytest.Config, text: str) -> str:
    path = Path(os.path.expanduser(text))
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return str(path if path.is_absolute() else base / path)


def resolve(config: pytest.Config) -> None:
    """Give every option its value: the command line's, else the ini file's, else its default."""
    for option in OPTIONS:
        value = getattr(config.option, option.dest, None)
        if value is None and option.ini:
            value = _from_ini(config, option)
        if value is None:
            value = option.default
        elif option.repeat:
            value = [os.path.expanduser(str(item)) for item in value]
        elif option.kind == "path":
            value = os.path.expanduser(str(value))
        setattr(config.option, option.dest, value)
