"""The user's systemd as the Quadlet probe saw it: the generator's dry run, the
stack's target and the states of the generated services."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property

from phoenix_compliance.facts.groups import CouldNotCheck, GroupReader, ProbeGroup, unreadable
from phoenix_compliance.quadlet.systemd_verify import VerifyMessage, parse_verify
from phoenix_compliance.transport.runner import Section


@dataclass(frozen=True)
class UnitSwitches:
    """`systemctl --user is-enabled` and `is-active` of one unit."""

    unit: str
    enabled: Section
    active: Section

    @property
    def enabled_state(self) -> str:
        return self.enabled.out.strip()

    @property
    def enabled_at_boot(self) -> bool:
        """is-enabled said exactly `enabled`: the unit's own [Install] section hooked it into a
        target, so the user's manager starts it at every boot. Its other exit-0 states do not
        promise that: enabled-runtime is gone at reboot, static and indirect units start only
        when something else pulls them in, generated and transient ones are not the user's."""
        return self.enabled.rc == 0 and self.enabled_state == "enabled"

    @property
    def active_now(self) -> bool:
        return self.active.rc == 0 and self.active.out.strip() == "active"

    @property
    def up(self) -> bool:
        """Enabled at boot and active now."""
        return self.enabled_at_boot and self.active_now

    @property
    def said(self) -> str:
        """What each answered (its output, else its error): 'enabled=enabled, active=inactive'."""
        enabled = self.enabled_state or self.enabled.err.strip()
        return f"enabled={enabled}, active={self.active.out.strip() or self.active.err.strip()}"


@dataclass(frozen=True)
class GeneratorRun:
    """Quadlet's generator and what its `-dryrun -user` said."""

    path: str  # "" when no generator is installed
    dryrun: Section

    @property
    def clean(self) -> bool:
        """Exit 0 and no line of its stderr names an error."""
        return self.dryrun.ok and not any("error" in line.lower() for line in self.dryrun.err.splitlines())

    @property
    def problems(self) -> str:
        """The stderr lines naming an error or an unsupported key, else all of stderr."""
        lines = self.dryrun.err.strip().splitlines()
        return (
            "\n".join(line for line in lines if "error" in line.lower() or "unsupported" in line.lower())
            or self.dryrun.err.strip()
        )

    def reason_for(self, file_name: str) -> str | None:
        """Why the generator refused a file, from its `converting "NAME": REASON` line."""
        marker = f'converting "{file_name}": '
        for line in self.dryrun.err.splitlines():
            if marker in line:
                return line.split(marker, 1)[1].strip()
        return None

    @property
    def unparsed(self) -> list[str]:
        """The files it could not load (`error loading "PATH", ...`): each costs its whole folder."""
        return [match.group(1) for match in _ERROR_LOADING.finditer(self.dryrun.err)]

    @property
    def generated(self) -> list[str]:
        """The units it would write (its ---name--- lines)."""
        return [line.strip("-") for line in self.dryrun.out.splitlines() if line.startswith("---")]


# loadUnitsFromDir()'s message for a file its parser fails on (5.4.2 to 5.8).
_ERROR_LOADING = re.compile(r'error loading "([^"]+)"')

# How a Podman before 5.6 refuses `podman quadlet list --format json` (5.4.2: "unknown flag: --format").
_NO_QUADLET_COMMAND = re.compile(r"unknown flag|unknown command|unrecognized command|has no quadlet command")


# systemctl --version's first line: "systemd 257 (257.9-1~deb13u1)".
_SYSTEMD_RELEASE = re.compile(r"^systemd (\d+)\b")
# systemd-analyze could not set up the test manager it loads the units in: no verdict on them.
_NO_MANAGER = re.compile(r"Failed to initialize manager")


@dataclass(frozen=True)
class VerifiedServices:
    """`systemd-analyze --user verify` of the stack's generated services, as the Quadlet probe
    printed it: the generator's folder, each service found there with its lines, and what
    systemd said (its messages, paths relative to the folder)."""

    folder: str
    services: dict[str, list[str]]
    messages: list[VerifyMessage]
    section: Section

    def about(self, service: str) -> list[VerifyMessage]:
        """systemd's messages on one service: those naming its file, or the unit by name."""
        return [m for m in self.messages if m.unit == service or m.text.startswith(f"{service}: ")]

    @property
    def where(self) -> str:
        return f"{self.folder}/"


@dataclass(frozen=True)
class ListedQuadlet:
    """One line of `podman quadlet list`: a Quadlet file and the state of its unit."""

    name: str
    unit_name: str
    path: str
    status: str

    @property
    def loaded(self) -> bool:
        return self.status != "Not loaded"


class UserSystemd(GroupReader):
    """The Quadlet probe read for the user's systemd."""

    def __init__(self, quadlet_probe: ProbeGroup, target: str) -> None:
        super().__init__(quadlet_probe)
        self.manifest_target = target

    @property
    def target(self) -> UnitSwitches:
        """The stack's target."""
        return UnitSwitches(self.manifest_target, self.section("target_enabled"), self.section("target_active"))

    @property
    def auto_update_timer(self) -> UnitSwitches:
        """podman-auto-update.timer, which runs `podman auto-update` for the user's units."""
        return UnitSwitches(
            "podman-auto-update.timer", self.section("autoupdate_enabled"), self.section("autoupdate_active")
        )

    @property
    def generator(self) -> GeneratorRun:
        """The generator and its dry run; the probe runs the dry run only when it found one."""
        path = self.section("generator_path").out.strip()
        if path == "none":
            return GeneratorRun("", Section("generator_dryrun", 127, "", "no generator installed"))
        return GeneratorRun(path, self.section("generator_dryrun"))

    @cached_property
    def quadlet_list(self) -> list[ListedQuadlet] | None:
        """`podman quadlet list` (Podman 5.6 and later), or None where this Podman has no such
        command; raise CouldNotCheck when a Podman that has it did not answer readably."""
        section = self.probe.raw("quadlet_list")
        if section.rc == 125 and _NO_QUADLET_COMMAND.search(section.err):
            return None
        listed = self.section("quadlet_list")
        try:
            entries = json.loads(listed.out)
        except ValueError:
            raise unreadable(listed, "podman quadlet list's JSON") from None
        if not isinstance(entries, list):
            raise unreadable(listed, "podman quadlet list's JSON")
        return [
            ListedQuadlet(
                str(entry.get("Name", "")),
                str(entry.get("UnitName", "")),
                str(entry.get("Path", "")),
                str(entry.get("Status", "")),
            )
            for entry in entries
            if isinstance(entry, dict)
        ]

    @cached_property
    def unit_states(self) -> dict[str, dict[str, str]]:
        """systemctl --user show of the expected services, by unit name."""
        section = self.section("units_show")
        states: dict[str, dict[str, str]] = {}
        for block in section.out.split("\n\n"):
            fields = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
            if "Id" in fields:
                states[fields["Id"]] = fields
        if not states:
            raise unreadable(section, "systemctl show blocks with Id=")
        return states

    @cached_property
    def start_errors(self) -> dict[str, list[str]]:
        """The error lines each unit that is not active logged (its journal), by unit name: the
        evidence of why it did not start. Read only to explain a failure already seen, so a probe
        that did not answer is no lines, never a verdict."""
        section = self.probe.raw("units_journal")
        errors: dict[str, list[str]] = {}
        if section.rc != 0:
            return errors
        for line in section.out.splitlines():
            unit, sep, said = line.partition(": ")
            said = said.strip()
            if sep and said and said not in errors.get(unit, []):
                errors.setdefault(unit, []).append(said)
        return errors

    @cached_property
    def systemd_release(self) -> int:
        """The host's systemd release (systemctl --version's first line); CouldNotCheck when unreadable."""
        section = self.section("systemd_version")
        found = _SYSTEMD_RELEASE.match(section.out.strip())
        if found is None:
            raise unreadable(section, "systemctl --version ('systemd N (...)')")
        return int(found.group(1))

    @cached_property
    def verified(self) -> VerifiedServices:
        """What systemd-analyze verify said of the stack's generated services; CouldNotCheck when
        it timed out, is not installed, or said nothing a reader can take as a verdict."""
        section = self.section("systemd_verify")
        folder = ""
        services: dict[str, list[str]] = {}
        verdict: list[str] = []
        current: list[str] | None = None
        for line in section.out.splitlines():
            if line.startswith("@@DIR "):
                folder = line[6:].rstrip("/")
            elif line.startswith("@@FILE "):
                current = services.setdefault(line[7:], [])
            elif line.startswith("@@L ") and current is not None:
                current.append(line[4:])
            elif line == "@@L" and current is not None:  # sed prefixes an empty line as "@@L "; kept whole
                current.append("")
            elif line.startswith("@@V "):
                verdict.append(line[4:])
        if not folder:
            raise unreadable(section, "the generated services and systemd-analyze verify's words")
        said = "\n".join(verdict)
        if _NO_MANAGER.search(said):
            raise CouldNotCheck(
                f"probe section {section.name}", f"systemd-analyze verify could not load the units: {said[:300]}"
            )
        messages = parse_verify(said, folder)
        # A failure with no word said is no verdict on any line.
        if section.rc != 0 and not messages:
            raise unreadable(section, "systemd-analyze verify's words (it failed and said nothing)")
        return VerifiedServices(folder, services, messages, section)
