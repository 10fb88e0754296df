"""What a rule sees and how a rule is declared.

A unit rule is a function of one ``UnitContext`` (the unit, the Podman version
judged, the files beside it, the stack profile) that records findings on it;
a cross-file rule is a function of all units and the version that returns
findings. Both are declared where they are written, with ``@unit_rule(order)``
or ``@cross_file_rule(order)``; the engine runs each kind in ``order``.

Orders are those of the lint before it was split into families, so that
``lint_unit()`` returns findings in the same order; gaps are left for new
rules. ``lint_units()`` sorts the findings by place anyway, so the order of a
new rule only matters against a rule reporting the same rule id, key and line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from phoenix_compliance.grammar.specifiers import NOTHING_KNOWN, Known
from phoenix_compliance.quadlet.readers import unit_environment
from phoenix_compliance.quadlet.unitfile import Entry, Section, UnitFile
from phoenix_compliance.quadlet.versions import Version, generator_reads
from phoenix_compliance.quadlet_lint.findings import RULES, Finding, StackRules


class UnitContext:
    """One unit being judged, and the findings recorded on it so far."""

    def __init__(
        self,
        unit: UnitFile,
        version: Version,
        present: frozenset[str],
        others: Mapping[str, UnitFile],
        stack: StackRules | None = None,
        known: Known = NOTHING_KNOWN,
    ) -> None:
        self.unit = unit
        self.version = version
        # Names of the Quadlet files the generator would have loaded with this one,
        # and those of them that were parsed (to look inside a referenced unit).
        self.present = present
        self.others = others
        self.stack = stack
        # What systemd will put in place of specifiers and ${VAR}s: the host's values where
        # there is a host, and the unit's own [Service] Environment=/EnvironmentFile=.
        self.known = known.with_environment(unit_environment(unit))
        self.findings: list[Finding] = []

    def add(self, rule_id: str, where: int | Entry | Section, key: str | None, message: str, fix: str) -> None:
        """Record a finding at a line of the unit, or where an entry or section was written
        (which may be a drop-in)."""
        rule = RULES[rule_id]
        if isinstance(where, int):
            path, line = self.unit.path, where
        else:
            path, line = where.source or self.unit.path, where.line
        if path != self.unit.path:
            # One drop-in (container.d/, say) can reach several units: say which one.
            message = f"{message} [drop-in of {self.unit.name}]"
        severity = rule.stack_severity if self.stack is not None and rule.stack_severity else rule.severity
        self.findings.append(Finding(rule_id, severity, str(path), line, key, message, fix))

    def has(self, name: str) -> bool:
        """Whether a referenced Quadlet file is there for the generator to resolve."""
        return name in self.present or (self.unit.path.parent / name).is_file()

    @property
    def converted(self) -> bool:
        """Whether the generator of this version converts this file type: its own checks only matter then."""
        return generator_reads(self.unit.kind, self.version)

    @property
    def converted_main(self) -> str | None:
        """The unit's Quadlet section ('Container', ...) if the generator of this version converts the
        file; None for a plain systemd unit or a file type this version skips."""
        return self.unit.main_section_name if self.converted else None

    def section_line(self, name: str | None) -> int:
        """The line of a section's header, or 1 when the unit has no such section."""
        section = self.unit.section(name) if name else None
        return section.line if section else 1


UnitCheck = Callable[[UnitContext], None]
CrossFileCheck = Callable[[Sequence[UnitFile], Version], list[Finding]]


@dataclass(frozen=True)
class UnitRule:
    order: int
    check: UnitCheck
    # Most rules judge what the generator does with a Quadlet file; the syntax,
    # file type, section and key rules judge plain systemd units too.
    quadlet_only: bool


@dataclass(frozen=True)
class CrossFileRule:
    order: int
    check: CrossFileCheck


# Filled as the family modules are imported (rules/__init__.py imports them all), then read only.
_UNIT_RULES: list[UnitRule] = []
_CROSS_FILE_RULES: list[CrossFileRule] = []


def _claim(order: int) -> None:
    taken = {rule.order for rule in _UNIT_RULES} | {rule.order for rule in _CROSS_FILE_RULES}
    if order in taken:
        raise ValueError(f"two lint rules declare order {order}")


def unit_rule(order: int, *, quadlet_only: bool = True) -> Callable[[UnitCheck], UnitCheck]:
    """Declare a unit rule, run in ``order`` among the others."""

    def declare(check: UnitCheck) -> UnitCheck:
        _claim(order)
        _UNIT_RULES.append(UnitRule(order, check, quadlet_only))
        return check

    return declare


def cross_file_rule(order: int) -> Callable[[CrossFileCheck], CrossFileCheck]:
    """Declare a rule judging all units together, run in ``order`` after the unit rules."""

    def declare(check: CrossFileCheck) -> CrossFileCheck:
        _claim(order)
        _CROSS_FILE_RULES.append(CrossFileRule(order, check))
        return check

    return declare


def unit_rules() -> tuple[UnitRule, ...]:
    return tuple(sorted(_UNIT_RULES, key=lambda rule: rule.order))


def cross_file_rules() -> tuple[CrossFileRule, ...]:
    return tuple(sorted(_CROSS_FILE_RULES, key=lambda rule: rule.order))
