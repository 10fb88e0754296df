"""One rule schema for every judgement made on files: the lint's rules (QL...) and the security rules (SEC-...).

A rule is data: its id, title, remediation and severity, with the severity it
takes in a profile where that differs (the lint's stack profile). Where the lint
and a security rule make one judgement (QL052 and SEC-LABEL read a mount's
relabel option through one function), the lint's rule names the other with
``same_as`` and the security rule names the check that reports it
(``check``, PHX-S.01), so a reader of any output finds the one judgement under
each id it meets. Plain data, no pytest.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleSpec:
    id: str
    title: str
    remediation: str = ""
    # In the default profile: the lint's 'error' | 'warning' | 'info'; a security rule's
    # severity is its check's (catalogue.SEVERITIES), so it is left empty here.
    severity: str = ""
    # (profile, severity) where a profile judges it otherwise: ("stack", "error").
    profiles: tuple[tuple[str, str], ...] = ()
    # The id of the same judgement in the other catalogue (QL052 -> SEC-LABEL).
    same_as: str | None = None
    # The check that reports a security rule (SEC-LABEL -> PHX-S.01).
    check: str | None = None

    def severity_in(self, profile: str | None) -> str:
        """The severity in a profile (None: the default)."""
        return dict(self.profiles).get(profile or "", self.severity)

    @property
    def rule_id(self) -> str:
        """The lint's name for the id."""
        return self.id

    @property
    def stack_severity(self) -> str | None:
        """The severity in the lint's stack profile, where it differs (None: as ``severity``)."""
        return dict(self.profiles).get("stack")
