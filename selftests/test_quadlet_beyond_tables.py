"""A release newer than the lint's tables: an error of a rule a tabled release relaxed is a warning
that says so (quadlet_lint.findings.RELAXED), and every other rule keeps its severity.

Which rules a tabled release relaxed is held to the rules themselves: every witness case (the
release-rule cases of the differential, the kept regressions) is linted at each release boundary the
tables and the gates of quadlet/versions.py know, and a rule with an error at one boundary that is
gone at the next (same case, same file and line) must be in RELAXED, with that boundary as its newest
relaxation; a rule in RELAXED must have such a witness.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from quadlet_drawn_cases import generated_cases
from quadlet_generator import Case, _case, lint_case, regression_cases
from quadlet_rule_cases import RELEASE_RULES

from phoenix_compliance.quadlet import versions
from phoenix_compliance.quadlet_lint import NEWEST_KNOWN_VERSION, Finding, StackRules, Version, lint_paths
from phoenix_compliance.quadlet_lint.findings import RELAXED, beyond_the_tables

NEWER: tuple[Version, ...] = ((6, 2, 0), (7, 0, 0))

# MATCHED_QUOTES_SINCE changed how Lookup() reads a value ('Image="' is read as '"', no longer as
# empty), not what a rule requires: the QL020 it takes away is no relaxation of QL020.
READING_GATES: frozenset[Version] = frozenset({versions.MATCHED_QUOTES_SINCE})


def _full(version: Version) -> Version:
    return tuple(version) + (0,) * (3 - len(version))


def boundaries() -> list[Version]:
    """Every release at which the tables or a gate of quadlet/versions.py says something changed."""
    found: set[Version] = {since for table in versions.QUADLET_KEYS.values() for since in table.values()}
    found |= set(versions.FILE_TYPE_SINCE.values())
    for name in dir(versions):
        value = getattr(versions, name)
        if name.isupper() and isinstance(value, tuple) and value and all(isinstance(part, int) for part in value):
            found.add(value)
    return sorted({_full(v) for v in found if v <= NEWEST_KNOWN_VERSION} | {NEWEST_KNOWN_VERSION})


def witness_cases() -> list[Case]:
    return [_case(files, what) for what, files in RELEASE_RULES.items()] + [kept.case for kept in regression_cases()]


def _errors(findings: list[Finding]) -> set[tuple[str, str, int]]:
    return {(f.rule_id, Path(f.path).name, f.line) for f in findings if f.severity == "error"}


class TestRelaxedRules:
    def test_relaxed_rules_are_those_a_tabled_release_relaxed(self, tmp_path: Path) -> None:
        releases = boundaries()
        seen: dict[str, set[Version]] = {}
        for number, case in enumerate(witness_cases()):
            errors = []
            for index, release in enumerate(releases):
                folder = tmp_path / f"{number}-{index}"
                folder.mkdir()
                errors.append(_errors(lint_case(case, folder, release)))
            for before, after, release in zip(errors, errors[1:], releases[1:], strict=False):
                if release in READING_GATES:
                    continue
                for rule_id, _name, _line in before - after:
                    seen.setdefault(rule_id, set()).add(release)
        newest = {rule_id: max(releases) for rule_id, releases in seen.items()}
        declared = {rule_id: _full(relaxation.since) for rule_id, relaxation in RELAXED.items()}
        assert newest == declared, f"relaxed by a tabled release (witnessed): {newest}; declared (RELAXED): {declared}"

    def test_the_rules_named_in_the_issue_are_among_them(self) -> None:
        assert {"QL022", "QL045", "QL012"} <= set(RELAXED)
        assert str(RELAXED["QL022"]) == "6.0 accepts [Volume] Options= without Device="
        assert str(RELAXED["QL045"]) == "6.0 accepts Mount=type=volume without a source"
        assert str(RELAXED["QL012"]) == "6.0 accepts [Volume] GID=, [Volume] UID="


def _lint(tmp_path: Path, case: Case, version: Version, stack: StackRules | None) -> list[Finding]:
    folder = tmp_path / f"{case.name}-{'.'.join(map(str, version))}-{'stack' if stack else 'validity'}"
    for name, text in case.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return [replace(f, path=str(Path(f.path).relative_to(folder))) for f in lint_paths([folder], version, stack)]


Said = list[tuple[str, str, str, int]]

# A key the tables lack: QL013 (an error) at a tabled release, QL009 (a warning: the release may
# have added it) beyond them, unless only its case is wrong (TestNewerThanKnown in
# test_quadlet_versions.py); the drawn units compare the two as one.
_UNKNOWN_KEY = ("QL013|QL009", "-")


def _row(finding: Finding, severity: str) -> tuple[str, str, str, int]:
    if finding.rule_id == "QL013" or (finding.rule_id == "QL009" and finding.key is not None):
        return (*_UNKNOWN_KEY, finding.path, finding.line)
    return (finding.rule_id, severity, finding.path, finding.line)


def _is_release_note(finding: Finding) -> bool:
    return finding.rule_id == "QL009" and finding.key is None


def _expected_beyond(findings: list[Finding]) -> Said:
    """What the lint at 6.1.1 said, as a newer release must say it: relaxed rules' errors as warnings."""
    return sorted(_row(f, _severity_beyond(f)) for f in findings if not _is_release_note(f))


def _severity_beyond(finding: Finding) -> str:
    return "warning" if finding.severity == "error" and finding.rule_id in RELAXED else finding.severity


def _said(findings: list[Finding]) -> Said:
    return sorted(_row(f, f.severity) for f in findings if not _is_release_note(f))


_ERROR_CASES = {
    "[Volume] Type= without Device= (QL022)": {"v.volume": "[Volume]\nType=tmpfs\n"},
    "Mount=type=bind without a source (QL045)": {
        "app.container": "[Container]\nImage=localhost/app:1\nMount=type=bind,destination=/a\n"
    },
    "a .container without Image= (QL020, never relaxed)": {"app.container": "[Container]\nExec=true\n"},
    "a misspelt key in the wrong case (QL013, never relaxed)": {
        "app.container": "[Container]\nImage=localhost/app:1\nimage=localhost/x\n"
    },
    "Network=slirp4netns (QL048, an error in the stack profile from 6.0)": {
        "app.container": "[Container]\nImage=localhost/app:1\nNetwork=slirp4netns\n"
    },
}


class TestAReleaseNewerThanTheTables:
    @pytest.mark.parametrize("stack", [None, StackRules(kinds=())], ids=["validity", "stack"])
    @pytest.mark.parametrize("newer", NEWER, ids=lambda v: ".".join(map(str, v)))
    @pytest.mark.parametrize("what", sorted(_ERROR_CASES))
    def test_an_error_at_6_1_1_is_a_warning_only_for_a_relaxed_rule(
        self, tmp_path: Path, what: str, newer: Version, stack: StackRules | None
    ) -> None:
        case = _case(_ERROR_CASES[what], what)
        at_newest = _lint(tmp_path, case, NEWEST_KNOWN_VERSION, stack)
        # Each is an error at 6.1.1 in the stack profile (QL048 only there: a warning in validity).
        assert stack is None or any(f.severity == "error" for f in at_newest), at_newest
        beyond = _lint(tmp_path, case, newer, stack)
        assert _said(beyond) == _expected_beyond(at_newest)
        for finding in beyond:
            if finding.rule_id in RELAXED:
                assert "an error up to Podman 6.1.1, the newest release the lint's tables know" in finding.message
                assert f"a warning for Podman {newer[0]}.{newer[1]}" in finding.message
                assert f"({RELAXED[finding.rule_id]})" in finding.message

    @pytest.mark.parametrize("what", sorted(RELEASE_RULES))
    def test_every_release_rule_case(self, tmp_path: Path, what: str) -> None:
        case = _case(RELEASE_RULES[what], what)
        for stack in (None, StackRules(kinds=())):
            at_newest = _lint(tmp_path, case, NEWEST_KNOWN_VERSION, stack)
            assert _said(_lint(tmp_path, case, (7, 0, 0), stack)) == _expected_beyond(at_newest)

    @pytest.mark.parametrize("stack", [None, StackRules()], ids=["validity", "stack"])
    def test_drawn_units(self, tmp_path: Path, stack: StackRules | None) -> None:
        """Units drawn for 6.1.1 (the differential's hypothesis draw, fixed seed): at 6.2 and 7.0 each says
        what it says at 6.1.1, with only the relaxed rules' errors made warnings."""
        drawn = generated_cases(NEWEST_KNOWN_VERSION)[:200]
        relaxed = kept = 0
        for case in drawn:
            at_newest = _lint(tmp_path, case, NEWEST_KNOWN_VERSION, stack)
            expected = _expected_beyond(at_newest)
            for newer in NEWER:
                assert _said(_lint(tmp_path, case, newer, stack)) == expected, (newer, case.files)
            relaxed += any(f.severity == "error" and f.rule_id in RELAXED for f in at_newest)
            kept += any(f.severity == "error" and f.rule_id not in {*RELAXED, "QL013"} for f in at_newest)
        assert relaxed and kept, f"the draw hit relaxed rules in {relaxed} units, others in {kept}: both are needed"

    def test_a_tabled_release_is_untouched(self) -> None:
        finding = Finding.of("QL022", "v.volume", 2, "Type", "Type= is set without Device=", "add Device=")
        for release in ((5, 4, 2), (6, 0, 0), NEWEST_KNOWN_VERSION):
            assert beyond_the_tables(finding, release) == finding
        assert beyond_the_tables(finding, (6, 1, 2)).severity == "warning"
