"""The run's state, kept in the config's stash: what the options and the user's files say.

Built once in pytest_configure; every problem with an option or a file is a pytest.UsageError.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pytest

from phoenix_compliance import bundled
from phoenix_compliance.catalogue import parse_phases
from phoenix_compliance.facts import HostFacts
from phoenix_compliance.parsers import manifest as manifest_module
from phoenix_compliance.parsers import waivers as waivers_module
from phoenix_compliance.parsers.manifest import Manifest
from phoenix_compliance.parsers.waivers import Waiver
from phoenix_compliance.report import outputs
from phoenix_compliance.report.model import RunReport, Signoff
from phoenix_compliance.run.writers import report_files


@dataclass
class RunState:
    manifest: Manifest
    phases: tuple[str, ...]
    podman_user: str | None
    probe_timeout: float
    compose_override: Path | None
    quadlet_override: Path | None
    allow_restart: bool
    health_wait: float
    report: RunReport
    # The output files by writer name, in the registry's order (none on an xdist worker).
    report_files: dict[str, Path]
    waivers: list[Waiver]
    previous: dict[str, dict[str, str]] | None
    sign_key: Path | None
    facts: dict[str, HostFacts] = field(default_factory=dict)


STATE = pytest.StashKey[RunState]()


def _resolve_stack(config: pytest.Config) -> Path:
    given = config.option.phx_stack
    return Path(given) if given else bundled.default_stack()


T = TypeVar("T")


def _read(option: str, load: Callable[[Path], T], path: Path) -> T:
    """Load a user's file; its problems (file:line: what) are usage errors."""
    try:
        return load(path)
    except ValueError as exc:
        raise pytest.UsageError(f"{option}: {exc}") from None


def build_state(config: pytest.Config) -> RunState:
    """Check the options, read the stack, waivers and previous report, and name the output files."""
    try:
        phases = parse_phases(config.option.phx_phase)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.option.phx_probe_timeout <= 0:
        raise pytest.UsageError("--probe-timeout must be a positive number of seconds")
    if getattr(config.option, "ansible_inventory", None) and shutil.which("ansible-inventory") is None:
        raise pytest.UsageError(
            "--ansible-inventory: testinfra reads the inventory with the ansible-inventory command,"
            " which is not on PATH (pip install ansible-core)"
        )
    stack_path = _resolve_stack(config)
    manifest = _read("--stack", manifest_module.load, stack_path)
    waivers: list[Waiver] = []
    if config.option.phx_waivers:
        waivers = _read("--waivers", waivers_module.load, Path(config.option.phx_waivers))
    previous = None
    if config.option.phx_compare:
        previous = _read("--compare", outputs.load_previous, Path(config.option.phx_compare))
    sign_key = Path(config.option.phx_sign_key) if config.option.phx_sign_key else None
    if sign_key is not None and not sign_key.is_file():
        raise pytest.UsageError(f"--sign-key: {sign_key} is not a readable private key file")

    now = dt.datetime.now().astimezone()
    files = report_files(config, now)
    state = RunState(
        manifest=manifest,
        phases=phases,
        podman_user=config.option.phx_podman_user,
        probe_timeout=config.option.phx_probe_timeout,
        compose_override=Path(config.option.phx_compose_file) if config.option.phx_compose_file else None,
        quadlet_override=Path(config.option.phx_quadlet_dir) if config.option.phx_quadlet_dir else None,
        allow_restart=config.option.phx_allow_restart,
        health_wait=config.option.phx_health_wait,
        report=RunReport(
            started=now.isoformat(timespec="seconds"),
            phases=phases,
            stack=str(stack_path),
            suite_version=bundled.suite_version(),
        ),
        report_files=files,
        waivers=waivers,
        previous=previous,
        sign_key=sign_key,
    )
    state.report.stack_digest = hashlib.sha256(stack_path.read_bytes()).hexdigest()
    state.report.compared_with = config.option.phx_compare
    if config.option.phx_signoff:
        state.report.signoff = Signoff(config.option.phx_signoff, now.isoformat(timespec="seconds"))
    return state
