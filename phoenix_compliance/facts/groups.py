"""A probe group: one probe script, run once per host, its sections looked up by name.

A group remembers how its run ended: the sections, or the HostUnreachable that every
later lookup raises again without running the script a second time. Only a section
the script declares can be asked for; any other name is the suite's own bug.
"""

from __future__ import annotations

from phoenix_compliance.facts.probes import Probe
from phoenix_compliance.transport.runner import HostRunner, HostUnreachable, Section

MISSING = "probe section missing"


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
            raise self._failure
        if self._sections is None:
            if self.after is not None:
                self.after.sections()
            try:
                self._sections = self.runner.run_script(self.script, self.probe.body(), self.env)
            except HostUnreachable as exc:
                self._failure = exc
                raise
        return self._sections

    def section(self, name: str) -> Section:
        """A declared section; one the script did not print reads as a failure (rc 127)."""
        if name not in self.declared:
            raise KeyError(f"{self.script} declares no section {name!r} (it declares {', '.join(self.declared)})")
        return self.sections().get(name, Section(name, 127, "", MISSING))


class GroupReader:
    """A part of the facts that reads one probe group's sections."""

    def __init__(self, probe: ProbeGroup) -> None:
        self.probe = probe

    def section(self, name: str) -> Section:
        return self.probe.section(name)
