"""HostFacts: everything the checks know about one host, composed of its parts, each probe
once per host and run: read ahead of the checks (prefetch, the parts the chosen checks read),
else on first lookup."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from phoenix_compliance.catalogue import SIMULATED, SIMULATED_NOTE
from phoenix_compliance.facts import probes
from phoenix_compliance.facts.endpoints import EndpointProbe
from phoenix_compliance.facts.files import FileSources
from phoenix_compliance.facts.groups import ProbeGroup, run_together
from phoenix_compliance.facts.identity import HostIdentity
from phoenix_compliance.facts.optional import OptionalGroups
from phoenix_compliance.facts.podman import PodmanFacts
from phoenix_compliance.facts.security import SecurityFacts
from phoenix_compliance.facts.systemd import UserSystemd
from phoenix_compliance.facts.upgrade import UpgradeFacts
from phoenix_compliance.grammar.specifiers import NOTHING_KNOWN, Known, user_manager_specifiers
from phoenix_compliance.parsers.manifest import Manifest
from phoenix_compliance.transport.reach import reach_for
from phoenix_compliance.transport.runner import HostRunner, HostUnreachable, Section

# The parts of the facts that wait on the host, as prefetch names them: a probe group each
# (base, stack, systemd: the Quadlet probe, security, upgrade: the containers.conf files,
# endpoints), the stack's files parsed with the files they name (compose, quadlet), the Podman
# API's answers (api: _ping and info; containers: the list and the stack's containers inspected;
# inspect: every container inspected).
PARTS = (
    "base",
    "stack",
    "compose",
    "quadlet",
    "systemd",
    "security",
    "upgrade",
    "endpoints",
    "api",
    "containers",
    "inspect",
)


class HostFacts:
    """One host's facts: its identity, the API's answers, its endpoints, its files,
    its user systemd and its security settings."""

    def __init__(
        self,
        runner: HostRunner,
        manifest: Manifest,
        backend: Any,
        compose_override: Path | Sequence[Path] | None = None,
        quadlet_override: Path | None = None,
        source_dir: Path | None = None,
        env_files: Sequence[Path] = (),
    ) -> None:
        self.runner = runner
        self.manifest = manifest
        self.reach = reach_for(backend)
        # A host whose answers are a recording replayed (the benchmark's sim:// hosts), which
        # every report then says, so that no simulated run passes for a host's verdict.
        self.simulated = bool(getattr(backend, "simulated", False))
        # Before the first command, bounded like a probe. A reach of an older shape (a test's or
        # a simulation's own) opens no connection first.
        connect = getattr(self.reach, "connect", None)
        if connect is not None:
            runner.connect = lambda: connect(runner.timeout)
        self.host_id = runner.host_id
        self.compose_override = compose_override
        self.quadlet_override = quadlet_override
        base = ProbeGroup(runner, probes.BASE, {"PHX_QUADLET_DIR": manifest.quadlet_dir})
        # Every other probe runs after the base one: an unreachable host is known from its first probe.
        stack = ProbeGroup(
            runner,
            probes.stack(len(manifest.groups)),
            {
                "PHX_PROJECT_DIR": manifest.project_dir,
                "PHX_COMPOSE_FILE": manifest.compose_file,
                "PHX_GROUP_COMPOSE_FILES": "\n".join(group.compose_file for group in manifest.groups),
            },
            after=base,
        )
        quadlet_probe = ProbeGroup(
            runner,
            probes.QUADLET,
            {
                "PHX_QUADLET_DIR": manifest.quadlet_dir,
                "PHX_TARGET": manifest.target,
                "PHX_UNITS": " ".join(manifest.every_generated_service()),
            },
            after=base,
        )
        self._groups = {"base": base, "stack": stack, "systemd": quadlet_probe}
        self.host = HostIdentity(base, stack, manifest, self.host_id)
        self.podman = PodmanFacts(self.host, self.reach, manifest, runner.timeout)
        self.endpoints = EndpointProbe(runner, manifest, after=base)
        self.files = FileSources(
            stack, quadlet_probe, manifest, self.host_id, compose_override, quadlet_override, source_dir, env_files
        )
        self.systemd = UserSystemd(quadlet_probe, manifest.target)
        self.optional = OptionalGroups(self.files, self.podman)
        self.security = SecurityFacts(ProbeGroup(runner, probes.SECURITY, {}, after=base))
        self.upgrade = UpgradeFacts(ProbeGroup(runner, probes.UPGRADE, {}, after=base), self.host)

    def unit_values(self, files_are_local: bool) -> tuple[Known, str | None]:
        """What the user's systemd puts in place of specifiers (%h, %t, %U, ...) in the unit files,
        and the user's home: known from the host when the files are the host's (CouldNotCheck when
        the host did not say who the user is); for local files unknown, and left unresolved, which
        the rules never judge as literal text."""
        if files_are_local:
            return NOTHING_KNOWN, None
        host = self.host
        return Known(user_manager_specifiers(host.user, host.uid, host.home)), host.home

    def prefetch(self, parts: Iterable[str]) -> None:
        """Read these parts now (in the order of PARTS; every probe runs after the base one), so
        that the checks then read ready facts.

        A part that cannot be read is left as it ended: the check that reads it meets the same
        failure and shows it (an unreachable host, remembered, stops the rest at once)."""
        readers: dict[str, Callable[[], object]] = {
            **{name: group.sections for name, group in self._groups.items()},
            "compose": lambda: self.files.compose,
            "quadlet": lambda: self.files.quadlet,
            "security": self.security.probe.sections,
            "upgrade": self.upgrade.probe.sections,
            "endpoints": self.endpoints.prefetch,
            "api": lambda: self.podman.api,
            "containers": self.podman.inspect_stack,
            "inspect": self.podman.inspect_all,
        }
        wanted = set(parts)
        if not self.probe_together(wanted):
            return
        for part in (p for p in PARTS if p in wanted):
            try:
                readers[part]()
            except HostUnreachable:
                return
            except Exception:  # the check that reads the part reports it, with its evidence
                continue

    def probe_together(self, parts: Iterable[str]) -> bool:
        """Run the probe scripts these parts read as one command on the host (those not run yet);
        False when the host turned out unreachable (remembered by every group)."""
        try:
            run_together(self._probe_groups(set(parts)))
        except HostUnreachable:
            return False
        return True

    def _probe_groups(self, wanted: set[str]) -> list[ProbeGroup]:
        """The probe groups these parts read, the base one first: run as one command on the host."""
        base, stack, quadlet = self._groups["base"], self._groups["stack"], self._groups["systemd"]
        reads: dict[str, list[ProbeGroup]] = {
            "base": [base],
            "stack": [base, stack],
            "compose": [base] if self.compose_override is not None else [base, stack],
            "quadlet": [base] if self.quadlet_override is not None else [base, quadlet],
            "systemd": [base, quadlet],
            "security": [base, self.security.probe],
            "upgrade": [base, self.upgrade.probe],
            "endpoints": [base, *self.endpoints.prefetched()],
            "api": [base],
            "containers": [base],
            "inspect": [base],
        }
        chosen = [group for part in PARTS if part in wanted for group in reads[part]]
        return list(dict.fromkeys(chosen))

    def restart_target(self) -> Section:
        """Restart the stack's target (the one probe that changes the host); run each time it is asked."""
        return ProbeGroup(self.runner, probes.RESTART, {"PHX_TARGET": self.manifest.target}).section("restart")

    def summary(self) -> dict[str, str]:
        """Host facts for the report's header; safe on an unreachable host."""
        if self.simulated:
            return {SIMULATED: SIMULATED_NOTE, **self.host.summary()}
        return self.host.summary()

    def close(self) -> None:
        self.podman.close()
        self.reach.close()
