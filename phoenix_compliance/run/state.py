"""The run's state, kept in the config's stash: what the options and the user's files say.

Built once in pytest_configure; every problem with an option or a file is a pytest.UsageError:
a path that does not exist or is not what the option takes (a folder for a file, a FIFO), a
file too large, not UTF-8, or not valid at a line. Waivers are checked against the catalogue
once the checks are collected (check_waiver_ids), since only collection fills it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import shutil
import stat
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
from phoenix_compliance.report.signing import SigningError, key_fingerprint
from phoenix_compliance.run.writers import Staging, report_files


@dataclass
class RunState:
    manifest: Manifest
    phases: tuple[str, ...]
    podman_user: str | None
    probe_timeout: float
    # --probe-concurrency: how many hosts are probed at once (run/probing.py).
    probe_concurrency: int
    compose_override: Path | None
    quadlet_override: Path | None
    # --source-dir: the repository's infra folder the host's units are compared with.
    source_dir: Path | None
    allow_restart: bool
    health_wait: float
    report: RunReport
    # The output files by writer name, in the registry's order (none on an xdist worker).
    report_files: dict[str, Path]
    waivers: list[Waiver]
    previous: dict[str, dict[str, str]] | None
    sign_key: Path | None
    facts: dict[str, HostFacts] = field(default_factory=dict)
    # Where the formats are written before they are published (run/writers.py); None on a worker.
    staging: Staging | None = None
    # --shard K/N: this run checks the K-th of N slices of the hosts.
    shard: tuple[int, int] | None = None
    # The further --compose-file files (merged over compose_override in order) and the --env-file files.
    compose_extra: tuple[Path, ...] = ()
    env_files: tuple[Path, ...] = ()
    # How the hosts were probed ahead of the checks: hosts, seconds, at most how many at once.
    probed: tuple[int, float, int] | None = None


STATE = pytest.StashKey[RunState]()


def _resolve_stack(config: pytest.Config) -> Path:
    given = config.option.phx_stack
    return Path(given) if given else bundled.default_stack()


T = TypeVar("T")


def _given_path(option: str, value: str, kind: str) -> Path:
    """The path an option names, which must exist and be a regular file ("file") or a folder ("dir")."""
    path = Path(value).expanduser()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise pytest.UsageError(f"{option}: {value} does not exist") from None
    except OSError as exc:
        raise pytest.UsageError(f"{option}: cannot read {value}: {exc.strerror or exc}") from None
    if kind == "dir" and not stat.S_ISDIR(mode):
        raise pytest.UsageError(f"{option}: {value} is not a folder")
    if kind == "file" and not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
        raise pytest.UsageError(f"{option}: {value} is {what}; a file is expected")
    return path


def _read(option: str, load: Callable[[Path], T], path: Path) -> T:
    """Load a user's file; its problems (file:line: what) are usage errors."""
    try:
        return load(path)
    except ValueError as exc:
        raise pytest.UsageError(f"{option}: {exc}") from None


def parse_shard(value: str) -> tuple[int, int]:
    """`--shard K/N` as (K, N), 1 <= K <= N; raise ValueError saying what is wrong."""
    k, slash, n = value.partition("/")
    if not slash or not k.strip().isdigit() or not n.strip().isdigit():
        raise ValueError(f"--shard: expected K/N such as 2/5, got {value!r}")
    shard = (int(k), int(n))
    if not 1 <= shard[0] <= shard[1]:
        raise ValueError(f"--shard: K must be 1 to N, got {value!r}")
    return shard


def build_state(config: pytest.Config) -> RunState:
    """Check the options, read the stack, waivers and previous report, and name the output files."""
    try:
        phases = parse_phases(config.option.phx_phase)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if config.option.phx_probe_timeout <= 0:
        raise pytest.UsageError("--probe-timeout must be a positive number of seconds")
    if config.option.phx_probe_concurrency < 1:
        raise pytest.UsageError("--probe-concurrency must be at least 1")
    try:
        shard = parse_shard(config.option.phx_shard) if config.option.phx_shard else None
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if getattr(config.option, "ansible_inventory", None) and shutil.which("ansible-inventory") is None:
        raise pytest.UsageError(
            "--ansible-inventory: testinfra reads the inventory with the ansible-inventory command,"
            " which is not on PATH (pip install ansible-core)"
        )
    stack_path = _resolve_stack(config)
    # Missing, a folder or a FIFO: the manifest loader says so, as `PATH:1: cannot read the stack manifest`.
    manifest = _read("--stack", manifest_module.load, stack_path)
    compose_override = quadlet_override = None
    compose_files = [_given_path("--compose-file", value, "file") for value in config.option.phx_compose_file or []]
    if compose_files:
        compose_override = compose_files[0]
    env_files = [_given_path("--env-file", value, "file") for value in config.option.phx_env_file or []]
    if config.option.phx_quadlet_dir:
        quadlet_override = _given_path("--quadlet-dir", config.option.phx_quadlet_dir, "dir")
    source_dir = None
    if config.option.phx_source_dir:
        source_dir = _given_path("--source-dir", config.option.phx_source_dir, "dir")
        if not (source_dir / "systemd").is_dir():
            raise pytest.UsageError(
                f"--source-dir: {source_dir} has no systemd/ folder (the repository's Quadlet units)"
            )
    waivers: list[Waiver] = []
    if config.option.phx_waivers:
        waivers = _read("--waivers", waivers_module.load, _given_path("--waivers", config.option.phx_waivers, "file"))
    if waivers and getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        _import_check_modules(config)
        _check_ids(waivers)
    previous = None
    if config.option.phx_compare:
        compare_path = _given_path("--compare", config.option.phx_compare, "file")
        previous = _read("--compare", outputs.load_previous, compare_path)
    sign_key = Path(config.option.phx_sign_key) if config.option.phx_sign_key else None
    if sign_key is not None and not sign_key.is_file():
        raise pytest.UsageError(f"--sign-key: {sign_key} is not a readable private key file")

    now = dt.datetime.now().astimezone()
    files, staging = report_files(config, now)
    state = RunState(
        manifest=manifest,
        phases=phases,
        podman_user=config.option.phx_podman_user,
        probe_timeout=config.option.phx_probe_timeout,
        probe_concurrency=config.option.phx_probe_concurrency,
        compose_override=compose_override,
        quadlet_override=quadlet_override,
        source_dir=source_dir,
        compose_extra=tuple(compose_files[1:]),
        env_files=tuple(env_files),
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
        staging=staging,
        shard=shard,
    )
    state.report.stack_digest = hashlib.sha256(stack_path.read_bytes()).hexdigest()
    state.report.compared_with = config.option.phx_compare
    if sign_key is not None:
        try:
            state.report.signer_fingerprint = key_fingerprint(sign_key)
        except SigningError as exc:
            raise pytest.UsageError(f"--sign-key: {exc}") from None
    if config.option.phx_signoff:
        state.report.signoff = Signoff(config.option.phx_signoff, now.isoformat(timespec="seconds"))
    return state


def check_waiver_ids(config: pytest.Config) -> None:
    """A waiver naming a check the suite does not have is a usage error naming the nearest id.

    Called after collection (pytest_collection_modifyitems), when importing the check
    modules has filled the catalogue."""
    state = config.stash.get(STATE, None)
    if state is None or not state.waivers:
        return
    if hasattr(config, "workerinput"):
        # A UsageError on an xdist worker crashes it (INTERNALERROR); the controller checked them.
        return
    _check_ids(state.waivers)


def _check_ids(waivers: list[Waiver]) -> None:
    from phoenix_compliance.checks import CATALOGUE

    try:
        waivers_module.check_ids(waivers, CATALOGUE)
    except waivers_module.WaiverError as exc:
        raise pytest.UsageError(f"--waivers: {exc}") from None


def _import_check_modules(config: pytest.Config) -> None:
    """Under xdist the controller collects nothing, so the catalogue is filled by importing the
    test modules the run names (each under a private name: pytest imports them again on the workers)."""
    files: list[Path] = []
    for arg in config.args or [str(config.invocation_params.dir)]:
        path = Path(arg.split("::", 1)[0])
        path = path if path.is_absolute() else config.invocation_params.dir / path
        if path.is_dir():
            files.extend(
                p for p in sorted(path.rglob("test_*.py")) if not any(part.startswith(".") for part in p.parts)
            )
        elif path.suffix == ".py":
            files.append(path)
    for index, file in enumerate(files):
        spec = importlib.util.spec_from_file_location(f"_phoenix_waiver_catalogue_{index}", file)
        if spec is None or spec.loader is None:
            continue
        try:
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
        except Exception:  # a module that fails to import is pytest's to report, on the worker
            continue
