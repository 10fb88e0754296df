"""A probe group: one probe script, run once per host, its sections looked up by name.

A group remembers how its run ended: the sections, or the HostUnreachable that every
later lookup raises again without running the script a second time (a group that runs
after another remembers that one's failure as its own). Only a section the script
declares can be asked for; any other name is the suite's own bug.

A section is handed out only when it is an answer its declaration expects (its exit code,
and output where output is due); anything else raises CouldNotCheck, which the outcome
layer shows as "could not check" with the reason, so no check mistakes a probe that
timed out, a missing program or an empty output for a fact about the host.
"""

from __future__ import annotations

from phoenix_compliance.facts.probes import Expect, Probe
from phoenix_compliance.transport.runner import HostRunner, HostUnreachable, Section

MISSING = "probe section missing"


class CouldNotCheck(Exception):
    """A fact a check needs could not be gathered; the check is neither passed nor failed."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")
        self.what = what
        self.reason = reason


def unreadable(section: Section, what: str) -> CouldNotCheck:
    """A section that answered but cannot be read as `what`."""
    shown = " ".join((section.out or section.err).split())[:120] or "no output"
    return CouldNotCheck(f"probe section {section.name}", f"unreadable as {what}: {shown!r}")


def gathered(section: Section, expect: Expect, where: str = "") -> Section:
    """The section when it is an answer `expect` allows; else raise CouldNotCheck saying why
    (`where`: the script and host, for the reason)."""
    what = f"probe section {section.name}{' (' + where + ')' if where else ''}"
    if section.err == MISSING and section.rc == 127 and not section.out:
        raise CouldNotCheck(what, "the probe script did not print it")
    if section.rc not in expect.codes:
        said = section.describe_failure()
        detail = section.err.strip().splitlines()
        if section.rc in (126, 127) and detail:
            said += f" ({detail[-1]})"
        raise CouldNotCheck(what, f"{said}; expected {expect.describe()}")
    # A program that printed nothing at all did not say anything (stderr counts: Quadlet's
    # generator says "No files parsed" there).
    if section.rc == 0 and not expect.empty_ok and not (section.out.strip() or section.err.strip()):
        raise CouldNotCheck(what, "exit 0 but no output")
    return section


class ProbeGroup:
    """The sections of one probe script, run on first lookup (after the group it
    depends on, so an unreachable host is known from its first probe)."""

    def __init__(
        self,
        runner: HostRunner,
        probe: Probe,
        env: dict[str, str],
        after: ProbeGroup | None = None,
    ) -> None:
        self.runner = runner
        self.probe = probe
        self.script = probe.script
        self.declared = probe.sections
        self.env = env
        self.after = after
        self._sections: dict[str, Section] | None = None
        self._failure: HostUnreachable | None = None

    @property
    def probed(self) -> bool:
        """Whether the script ran and answered."""
        return self._sections is not None

    @property
    def failure(self) -> HostUnreachable | None:
        return self._failure

    def sections(self) -> dict[str, Section]:
        """Every section the script printed; raise the host's HostUnreachable, remembered."""
        if self._failure is not None:
            # A fresh exception each time: re-raising the one remembered would grow its
            # traceback by every lookup (and pytest formats all of it, once per check).
            raise HostUnreachable(self._failure.host_id, self._failure.reason) from None
        if self._sections is None:
            try:
                if self.after is not None:
                    self.after.sections()
                self._sections = self.runner.run_script(self.script, self.probe.body(), self.env)
            except HostUnreachable as exc:
                self._failure = exc
                raise
        return self._sections

    def raw(self, name: str) -> Section:
        """A declared section as printed, whatever it answered (rc 127 when the script did not print it)."""
        if name not in self.declared:
            raise KeyError(f"{self.script} declares no section {name!r} (it declares {', '.join(self.declared)})")
        return self.sections().get(name, Section(name, 127, "", MISSING))

    def section(self, name: str) -> Section:
        """A declared section that answered as declared; raise CouldNotCheck otherwise."""
        return gathered(self.raw(name), self.probe.expect[name], f"{self.script} on {self.runner.host_id}")


def run_together(groups: list[ProbeGroup]) -> None:
    """Run the scripts of these groups (of one host) that have not run yet as ONE command, so
    that a run costs the host one command for all its probes: each group then holds its own
    sections, or the host's HostUnreachable. Groups whose section names clash, or of other
    runners, are left to run on their own on first lookup."""
    pending = [group for group in groups if group._sections is None and group._failure is None]
    names = [name for group in pending for name in group.declared]
    together = len(pending) > 1 and len(set(names)) == len(names) and len({id(g.runner) for g in pending}) == 1
    # A stand-in runner without run_scripts (a selftest's fake host) is asked script by script.
    if not together or not hasattr(pending[0].runner, "run_scripts"):
        for group in pending:
            group.sections()
        return
    runner = pending[0].runner
    label = "+".join(group.script for group in pending)
    try:
        printed = runner.run_scripts(label, [(group.probe.body(), group.env) for group in pending])
    except HostUnreachable as exc:
        for group in pending:
            group._failure = exc
        raise
    for group in pending:
        group._sections = {name: section for name, section in printed.items() if name in group.declared}


class GroupReader:
    """A part of the facts that reads one probe group's sections."""

    def __init__(self, probe: ProbeGroup) -> None:
        self.probe = probe

    def section(self, name: str) -> Section:
        return self.probe.section(name)
