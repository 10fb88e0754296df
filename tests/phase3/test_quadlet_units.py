"""Phase 3 of the guide (section 5): the stack as Quadlet units under the user's
systemd, grouped by the stack's target, generated cleanly and running."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest

from phoenix_compliance.catalogue import ORDER_RELOAD, ORDER_SERVICES, ORDER_TARGET, ORDER_UNITS, USER, Step
from phoenix_compliance.checks import check, container_of, could_not_check, not_applicable
from phoenix_compliance.facts import HostFacts, source
from phoenix_compliance.facts.files import compose_declarations, quadlet_declarations
from phoenix_compliance.facts.groups import CouldNotCheck
from phoenix_compliance.parsers.manifest import Manifest, generated_service
from phoenix_compliance.quadlet.discovery import folder_losses
from phoenix_compliance.quadlet.readers import unquote
from phoenix_compliance.quadlet.systemd_values import SYSTEMD_SECTIONS
from phoenix_compliance.quadlet.systemd_verify import source_line
from phoenix_compliance.quadlet_lint import DEFAULT_PODMAN_VERSION, newer_than_known

Observed = Callable[[str], None]
INSTALL_UNITS = (
    "cp infra/podman/systemd/*.container infra/podman/systemd/*.pod ~/.config/containers/systemd/"
    " && cp infra/podman/systemd/phoenix.target ~/.config/systemd/user/"
    " && systemctl --user daemon-reload && systemctl --user enable --now phoenix.target"
)

# The plan's steps (catalogue.Step): the repository's unit in place, systemd reloaded, the target on.
RELOAD_STEP = Step(
    ORDER_RELOAD,
    USER,
    "systemctl --user daemon-reload: systemd reads the units and Quadlet generates the services",
    "units_loaded {units}",
    "systemctl --user daemon-reload",
)
TARGET_STEP = Step(
    ORDER_TARGET,
    USER,
    "enable and start the stack's target",
    "systemctl --user is-enabled -q {target} && systemctl --user is-active -q {target}",
    "systemctl --user enable --now {target}",
)
UNIT_FIX = (
    Step(
        ORDER_UNITS,
        USER,
        "install the repository's unit (plan --source-dir)",
        "same_file {unit_path} {unit_text}",
        "put_file {unit_path} {unit_text}",
    ),
    RELOAD_STEP,
    TARGET_STEP,
)


def _lint_version(facts: HostFacts) -> tuple[int, ...]:
    # A local folder is judged for the newest release confirmed against a real generator;
    # a host's folder for the Podman that will read it (drop-in order and unquoting differ
    # between releases, so the drift checks read the folder as that release does too).
    if facts.quadlet_override is not None:
        return DEFAULT_PODMAN_VERSION
    version = facts.host.podman_version
    if version is None:
        could_not_check("the Podman release that reads the files", f"podman is not installed on {facts.host_id}")
    return version


@check(
    "PHX-3.01",
    phase="3",
    severity="high",
    files=True,
    title="The stack's unit file is installed",
    remediation=INSTALL_UNITS,
    fix=UNIT_FIX,
)
def test_unit_file_present(facts: HostFacts, stack: Manifest, unit_file: str, observed: Observed) -> None:
    folder = facts.files.quadlet
    if unit_file == stack.target:
        assert folder.target is not None, f"expected {unit_file}, got none ({folder.target_where})"
        observed(f"present ({folder.target_where})")
        return
    assert folder.error is None, f"expected the Quadlet folder, got {folder.error} ({folder.where})"
    present = sorted(folder.units)
    assert unit_file in folder.units, (
        f"expected {unit_file}, got {', '.join(present) or 'no Quadlet file'} ({folder.where})"
    )
    observed(f"present ({folder.where})")


@check(
    "PHX-3.02",
    phase="3",
    severity="high",
    files=True,
    title="The unit file passes the Quadlet lint",
    remediation="Fix each finding as its 'Fix:' says, then: systemctl --user daemon-reload",
)
def test_unit_file_lint(facts: HostFacts, stack: Manifest, unit_file: str, observed: Observed) -> None:
    folder = facts.files.quadlet
    unit = folder.target if unit_file == stack.target else folder.units.get(unit_file)
    if unit is None:
        pytest.skip(f"{unit_file} is not installed, see PHX-3.01 ({folder.where})")
    version = _lint_version(facts)
    local = facts.quadlet_override is not None
    known, _home = facts.unit_values(files_are_local=local)
    # The systemd sections are judged at the host's systemd release (its keys and values); local
    # files, at every tabled release (a line counts as ignored only where all of them ignore it).
    systemd = None if local else facts.systemd.systemd_release
    # Its own findings, and those of the drop-ins merged into it (which name the unit).
    merged_in = f"[drop-in of {unit.name}]"
    mine = [
        f
        for f in folder.lint(version, stack.target, known, systemd)
        if f.path == str(unit.path) or f.message.endswith(merged_in)
    ]
    errors = [f for f in mine if f.severity == "error"]
    # Warnings and advice are shown too, as findings that do not block.
    others = "".join(f"\n  not blocking: {finding}" for finding in mine if finding.severity != "error")
    note = newer_than_known(version)  # a release newer than the lint's tables, said in the evidence
    shown = ".".join(map(str, version)) + (f" ({note})" if note else "")
    judged = f"\n  [Unit], [Service] and [Install] judged as systemd {systemd} reads them" if systemd else ""
    assert not errors, (
        f"expected no lint error for Podman {shown}, got {len(errors)}:\n"
        + "\n".join(f"  {finding}" for finding in errors)
        + others
        + judged
    )
    observed(f"no lint error for Podman {shown} ({unit.path}){others}{judged}")


@check(
    "PHX-3.03",
    phase="3",
    severity="critical",
    title="Quadlet's generator accepts the user's units",
    remediation="/usr/libexec/podman/quadlet -dryrun -user  # fix what it names, then: systemctl --user daemon-reload",
)
def test_generator_dry_run(facts: HostFacts, observed: Observed) -> None:
    run = facts.systemd.generator
    where = facts.host.where(f"{run.path or 'the Quadlet generator'} -dryrun -user")
    assert run.path, f"expected the Quadlet generator, got none installed ({where})"
    # Podman 5.6+ also names the units systemd did not load, each with the generator's reason.
    listed = facts.systemd.quadlet_list
    unreloaded = "accepted by the generator now, not loaded since: systemctl --user daemon-reload"
    dropped = [f"{q.name}: {run.reason_for(q.name) or unreloaded}" for q in listed or [] if not q.loaded]
    not_loaded = "".join(f"\n  not loaded (podman quadlet list): {line}" for line in dropped)
    not_loaded += "".join(f"\n  {line}" for line in _dropped_folders(facts, run.unparsed))
    assert run.clean, f"expected a clean dry run, got exit {run.dryrun.rc}: {run.problems[:1500]} ({where}){not_loaded}"
    assert run.generated, f"expected the user's units generated, got none: {run.problems[:300]} ({where})"
    assert not dropped, f"expected every Quadlet unit loaded, got:{not_loaded}"
    loaded = "" if listed is None else f"; podman quadlet list: {len(listed)} loaded"
    observed(f"generated {', '.join(run.generated)}{loaded} ({where})")


@check(
    "PHX-3.14",
    phase="3",
    severity="high",
    title="systemd reads every line of the generated service (systemd-analyze verify)",
    remediation="Fix the line systemd names at its place in the Quadlet file (Docker's Restart=unless-stopped"
    " is systemd's Restart=always), then: systemctl --user daemon-reload && systemctl --user restart phoenix.target",
)
def test_generated_service_verified(facts: HostFacts, generated_service: str, observed: Observed) -> None:
    """systemd's own verdict on each line of the generated service, read back to the Quadlet file.

    A check of its own, not PHX-3.03's evidence: PHX-3.03 is "the generator accepts the units",
    and these units are accepted. Quadlet copies [Unit], [Service] and [Install] unchecked; systemd
    then drops each line it cannot parse with one journal line and starts the unit without it
    (Docker's Restart=unless-stopped: a service never restarted). Only systemd-analyze verify of
    the generated file says so, in systemd's words, at the generated line; the failure names the
    Quadlet file's line it copies (systemd_verify.source_line)."""
    verified = facts.systemd.verified
    where = facts.host.where(f"systemd-analyze --user verify {verified.where}{generated_service}")
    lines = verified.services.get(generated_service)
    if lines is None:
        pytest.skip(f"{generated_service} is not in {verified.where} (not generated), see PHX-3.03")
    said = verified.about(generated_service)
    dropped = [message for message in said if message.ignored or message.fatal]
    others = "".join(f"\n  not blocking, systemd said: {m.text}" for m in said if m not in dropped)
    # The Quadlet files are read only to name the lines systemd dropped: its verdict needs none of them.
    written = _written_at(facts, generated_service, lines) if dropped else str
    assert not dropped, (
        f"expected systemd to read every line of {generated_service}, got {len(dropped)} it"
        " ignores or refuses:\n"
        + "\n".join(
            f'  {written(m.line)}: systemd said "{m.text}" ({verified.where}{m.unit}:{m.line})'
            if m.line
            else f'  {generated_service}: systemd said "{m.text.removeprefix(generated_service + ": ")}"'
            for m in dropped
        )
        + f"\n  ({where}){others}"
    )
    observed(f"systemd reads all {len(lines)} lines of {generated_service} ({where}){others}")


def _written_at(facts: HostFacts, service: str, generated: list[str]) -> Callable[[int], str]:
    """Where the Quadlet files say what a line of the generated service says: 'PATH:LINE (Key=value)',
    the drop-in's own place for a line a drop-in gave; a line Quadlet wrote itself says so."""
    try:
        folder = facts.files.quadlet
        units = folder.merged_units(_lint_version(facts)) if folder.error is None else {}
    except CouldNotCheck:  # systemd's verdict stands without them: the generated line is named
        units = {}
    declared = next((line.split("=", 1)[1].strip() for line in generated if line.startswith("SourcePath=")), "")
    # The file its SourcePath= names, else the one whose generated name it has.
    unit = next((u for u in units.values() if str(u.path) == declared), None) or next(
        (u for u in units.values() if generated_service(u.name) == service), None
    )
    # The systemd sections as the generator copies them, each line with the file and line it comes from.
    sections = [unit.section(name) for name in SYSTEMD_SECTIONS] if unit is not None else []
    entries = [entry for section in sections if section is not None for entry in section.entries]
    source = [f"{entry.key}={entry.value}" for entry in entries]

    def place(number: int) -> str:
        copied = generated[number - 1].strip() if 0 < number <= len(generated) else "?"
        if unit is None:
            return f"{copied}, from {declared or 'a Quadlet file'} (not read here: its line unknown)"
        found = source_line(generated, number, source)
        if found is None:
            return f"a line Quadlet wrote ({copied}), not in {unit.path}"
        entry = entries[found - 1]
        return f"{entry.source or unit.path}:{entry.line} ({copied})"

    return place


def _dropped_folders(facts: HostFacts, unparsed: list[str]) -> list[str]:
    """Each file the generator could not parse and the user's units it took down with it: the
    generator loads no file of that folder and names none of them (QL006)."""
    units = list(facts.files.quadlet.units.values()) if facts.files.quadlet.error is None else []
    losses = folder_losses(units, [Path(broken) for broken in unparsed])
    lines = []
    for broken in unparsed:
        lost = sorted(u.name for u in units if Path(broken) in losses.get(u.path, []))
        if lost:
            lines.append(
                f"not generated, since the generator cannot parse {broken} and then loads no file of"
                f" {PurePosixPath(broken).parent}: " + ", ".join(lost)
            )
    return lines


@check(
    "PHX-3.04",
    phase="3",
    severity="high",
    title="The stack's target is enabled and active",
    remediation="systemctl --user enable --now phoenix.target",
    fix=(RELOAD_STEP, TARGET_STEP),
)
def test_target_enabled_active(facts: HostFacts, observed: Observed) -> None:
    target = facts.systemd.target
    where = facts.host.where(f"systemctl --user is-enabled/is-active {target.unit}")
    assert target.up, f"expected enabled=enabled, active=active, got {target.said} ({where})"
    observed(f"{target.said} ({where})")


def _start_error(facts: HostFacts, service: str) -> str:
    """Why the service is not active, in its own journal's words; for a service that failed on a
    dependency (a pod member), the error of the unit it waited for too."""
    errors = facts.systemd.start_errors
    own = errors.get(service, [])
    lines = [f"{service}: {line}" for line in own]
    if not own or any("Dependency failed" in line for line in own):
        lines += [
            f"{unit}: {line}" for unit, said in errors.items() if unit != service for line in said if "rror" in line
        ]
    return "".join(f"\n  journal: {line}" for line in lines)


@check(
    "PHX-3.05",
    phase="3",
    severity="high",
    title="The generated service is active with a restart policy",
    remediation="Give the unit [Service] Restart=always, then: systemctl --user daemon-reload"
    " && systemctl --user restart phoenix.target; journalctl --user -u SERVICE",
    # Started only: a unit without Restart= is the repository's to fix (the re-check holds, the check not).
    fix=(
        RELOAD_STEP,
        TARGET_STEP,
        Step(
            ORDER_SERVICES,
            USER,
            "start the generated service",
            "systemctl --user is-active -q {service}",
            "systemctl --user start {service}",
        ),
    ),
)
def test_generated_service_active(facts: HostFacts, generated_service: str, observed: Observed) -> None:
    state = facts.systemd.unit_states.get(generated_service, {})
    where = facts.host.where(f"systemctl --user show {generated_service}")
    got = ", ".join(f"{k}={state.get(k, '?')}" for k in ("LoadState", "ActiveState", "SubState", "Restart"))
    assert state.get("LoadState") == "loaded" and state.get("ActiveState") == "active", (
        f"expected LoadState=loaded, ActiveState=active, got {got} ({where}){_start_error(facts, generated_service)}"
    )
    assert state.get("Restart", "no") != "no", f"expected a Restart= policy, got {got} ({where})"
    observed(f"{got} ({where})")


@check(
    "PHX-3.06",
    phase="3",
    severity="high",
    title="The service's container is managed by systemd, not started by hand",
    remediation="podman rm -f SERVICE && systemctl --user start SERVICE.service",
)
def test_container_managed_by_systemd(facts: HostFacts, service: str, observed: Observed) -> None:
    container = container_of(facts, service)
    where = facts.podman.where
    name = (container.get("Names") or [service])[0]
    unit = (container.get("Labels") or {}).get("PODMAN_SYSTEMD_UNIT")
    # podman-compose 1.3 sets the label too (podman-compose@PROJECT.service): only the
    # Quadlet unit's own name shows the container is the one systemd runs.
    expected = generated_service(f"{service}.container")
    got = f"PODMAN_SYSTEMD_UNIT={unit}" if unit else "no PODMAN_SYSTEMD_UNIT label (started by hand?)"
    assert unit == expected, f"expected {name} to carry PODMAN_SYSTEMD_UNIT={expected}, got {got} ({where})"
    observed(f"{name}: {got} ({where})")


@check(
    "PHX-3.07",
    phase="3",
    severity="medium",
    files=True,
    title="The compose file and the Quadlet unit agree",
    remediation="Make infra/podman/compose.yaml and infra/podman/systemd/SERVICE.container declare the"
    " same image, ports, volume targets with their :Z/:z labels and environment variables",
)
def test_compose_quadlet_parity(facts: HostFacts, stack: Manifest, service: str, observed: Observed) -> None:
    source = facts.files.compose_for(service)
    folder = facts.files.quadlet
    if source.parsed is None or service not in source.parsed.services:
        pytest.skip(f"no compose service {service} to compare, see PHX-2.01/2.02 ({source.where})")
    # The units as the generator reads them: with their drop-ins merged (as the default release
    # merges them: the parity does not depend on the host's Podman).
    version = DEFAULT_PODMAN_VERSION
    units = folder.merged_units(version)
    unit = units.get(f"{service}.container")
    if unit is None:
        pytest.skip(f"{service}.container is not installed, see PHX-3.01 ({folder.where})")
    compose_view = compose_declarations(source.parsed.services[service])
    pod = units.get(stack.pod_unit) if stack.pod_unit else None
    quadlet_view = quadlet_declarations(unit, pod, version)
    if pod is not None and unit.values("Container", "Pod"):
        # The pod publishes every member's ports: only this service's own must be among them.
        quadlet_view["ports"] &= compose_view["ports"]
    differences = [
        f"{aspect}: compose {', '.join(sorted(compose_view[aspect])) or 'none'}"
        f" vs quadlet {', '.join(sorted(quadlet_view[aspect])) or 'none'}"
        for aspect in compose_view
        if compose_view[aspect] != quadlet_view[aspect]
    ]
    where = f"{source.where} and {unit.path}"
    assert not differences, (
        "expected the same declarations, got differences:\n"
        + "\n".join(f"  {d}" for d in differences)
        + f"\n  ({where})"
    )
    observed(f"image, ports, volumes and environment agree ({where})")


@check(
    "PHX-3.08",
    phase="3",
    severity="medium",
    title="The stack comes back after its target is restarted (disruptive, opt-in)",
    remediation="systemctl --user restart phoenix.target; journalctl --user -u 'phoenix*' -e",
)
def test_restart_recovers(
    facts: HostFacts, stack: Manifest, allow_restart: bool, health_wait: float, observed: Observed
) -> None:
    if not allow_restart:
        pytest.skip("disruptive: pass --allow-restart to restart the target and time the endpoints")
    restart = facts.restart_target()
    where = facts.host.where(f"systemctl --user restart {stack.target}")
    assert restart.ok, f"expected the restart to succeed, got {restart.describe_failure()} ({where})"
    started = time.monotonic()
    waiting = list(stack.endpoints)
    while waiting and time.monotonic() - started < health_wait:
        waiting = [e for e in waiting if facts.endpoints.answer(e, retries=1, timeout=2, fresh=True).status is None]
        if waiting:
            time.sleep(1)
    elapsed = time.monotonic() - started
    assert not waiting, (
        f"expected every endpoint back within {health_wait:g}s, got {', '.join(e.url for e in waiting)}"
        f" still silent ({where})"
    )
    observed(f"every endpoint answered {elapsed:.1f}s after the restart ({where})")


# -- GitOps (guide section 6): the host runs what the repository says -------------------

DEPLOY_FROM_REPOSITORY = (
    "rsync -a --delete --exclude=phoenix.target infra/podman/systemd/ ~/.config/containers/systemd/"
    " && cp infra/podman/systemd/phoenix.target ~/.config/systemd/user/"
    " && systemctl --user daemon-reload && systemctl --user restart phoenix.target"
)


@check(
    "PHX-3.09",
    phase="3",
    severity="high",
    title="The host's Quadlet units are the repository's (--source-dir)",
    remediation=DEPLOY_FROM_REPOSITORY,
)
def test_units_match_repository(facts: HostFacts, stack: Manifest, observed: Observed) -> None:
    repository = facts.files.repository
    if repository is None:
        not_applicable("no --source-dir given: no repository to compare the host's units with")
        return
    folder = facts.files.quadlet
    assert folder.error is None, f"expected the Quadlet folder, got {folder.error} ({folder.where})"
    # An optional group with no trace on the host is not deployed, which is fine (PHX-3.13).
    not_deployed = [unit for group in stack.groups if not facts.optional.trace(group).present for unit in group.units]
    drift = source.compare(repository, folder, not_deployed, _lint_version(facts))
    assert drift.none, (
        f"expected the repository's units, got {len(drift.missing) + len(drift.extra) + len(drift.changed)}"
        " differing after the generator's normalisation (comments, whitespace, continuations, drop-ins):\n"
        + "\n".join(f"  {line}" for line in drift.lines(folder.where, repository.where))
        + f"\n  ({folder.where} against {repository.where})"
    )
    observed(f"{drift.compared} units the same ({folder.where} against {repository.where})")


@check(
    "PHX-3.10",
    phase="3",
    severity="high",
    title="systemd runs the current version of the unit file (no daemon-reload pending)",
    remediation="systemctl --user daemon-reload && systemctl --user restart phoenix.target",
    fix=(RELOAD_STEP, TARGET_STEP),
)
def test_unit_reloaded(facts: HostFacts, stack: Manifest, generated_service: str, observed: Observed) -> None:
    state = facts.systemd.unit_states.get(generated_service, {})
    where = facts.host.where(f"systemctl --user show -p NeedDaemonReload {generated_service}")
    if state.get("LoadState") != "loaded":
        pytest.skip(f"{generated_service} is not loaded ({state.get('LoadState', 'not shown')}), see PHX-3.05")
    reload = state.get("NeedDaemonReload")
    if reload not in ("yes", "no"):
        could_not_check(f"NeedDaemonReload of {generated_service}", f"systemctl show printed {reload!r} ({where})")
    source_file = state.get("SourcePath") or "its unit file"
    assert reload == "no", (
        f"systemd runs an older version of {generated_service}: {source_file} changed after the last"
        f" daemon-reload (NeedDaemonReload=yes); run systemctl --user daemon-reload"
        f" && systemctl --user restart {stack.target} ({where})"
    )
    observed(f"NeedDaemonReload=no, {source_file} ({where})")


@check(
    "PHX-3.11",
    phase="3",
    severity="medium",
    files=True,
    title="The service's unit asks for automatic updates where the stack does (AutoUpdate=)",
    remediation="Give the unit [Container] AutoUpdate=registry (the manifest's auto_update), then:"
    " systemctl --user daemon-reload && systemctl --user restart phoenix.target",
)
def test_unit_auto_update(facts: HostFacts, stack: Manifest, service: str, observed: Observed) -> None:
    if stack.auto_update is None:
        not_applicable(f"the stack manifest asks for no automatic updates (no auto_update:, {stack.path})")
    folder = facts.files.quadlet
    name = f"{service}.container"
    version = _lint_version(facts)
    unit = source.merged_units(folder, version).get(name)
    if unit is None:
        pytest.skip(f"{name} is not installed, see PHX-3.01 ({folder.where})")
    entry = unit.last("Container", "AutoUpdate")
    got = f"AutoUpdate={entry.value}" if entry is not None else "no AutoUpdate="
    expected = f"AutoUpdate={stack.auto_update}"
    place = f"{entry.source or unit.path}:{entry.line}" if entry is not None else str(unit.path)
    assert entry is not None and unquote(entry.value, version) == stack.auto_update, (
        f"expected {expected} (the manifest's auto_update), got {got} ({place})"
    )
    observed(f"{got} ({place})")


@check(
    "PHX-3.12",
    phase="3",
    severity="medium",
    title="podman-auto-update.timer is enabled and active where the stack asks for automatic updates",
    remediation="systemctl --user enable --now podman-auto-update.timer",
    fix=(
        Step(
            ORDER_SERVICES,
            USER,
            "enable and start podman-auto-update.timer",
            "systemctl --user is-enabled -q podman-auto-update.timer"
            " && systemctl --user is-active -q podman-auto-update.timer",
            "systemctl --user enable --now podman-auto-update.timer",
        ),
    ),
)
def test_auto_update_timer(facts: HostFacts, stack: Manifest, observed: Observed) -> None:
    if stack.auto_update is None:
        not_applicable(f"the stack manifest asks for no automatic updates (no auto_update:, {stack.path})")
    timer = facts.systemd.auto_update_timer
    where = facts.host.where(f"systemctl --user is-enabled/is-active {timer.unit}")
    assert timer.up, f"expected enabled=enabled, active=active, got {timer.said} ({where})"
    observed(f"{timer.said} ({where})")


@check(
    "PHX-3.13",
    phase="3",
    severity="high",
    title="The optional service group is deployed whole or not at all",
    remediation="Deploy the group whole (its compose file beside compose.yaml, its Quadlet units in"
    " ~/.config/containers/systemd/, then systemctl --user daemon-reload && systemctl --user restart"
    " phoenix.target) or remove every part of it (the units, the compose file, podman rm -f its containers)",
)
def test_optional_group_whole(
    facts: HostFacts, stack: Manifest, optional_group: str | None, observed: Observed
) -> None:
    if optional_group is None:
        not_applicable(f"the manifest declares no optional group ({stack.path})")
    trace = facts.optional.trace(next(g for g in stack.groups if g.name == optional_group))
    if not trace.present:
        not_applicable(trace.absent_reason())
    missing = trace.missing()
    where = f"containers from {trace.containers_where}"
    assert not missing, (
        f"expected the optional group {optional_group} whole or not at all, got it in part:"
        f" {'; '.join(trace.found())} present, but no {'; no '.join(missing)} ({where})"
    )
    observed(f"deployed whole: {'; '.join(trace.found())} (containers from {trace.containers_where})")
