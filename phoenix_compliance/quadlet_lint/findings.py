"""What the lint reports: the rule catalogue (id, severity, title; phoenix_compliance.rules) and the findings.

Every rule a family module under ``rules/`` checks has its entry in RULES; the
id and severity of a finding come from there, so a rule's severity is changed
in one place. The SARIF output lists RULES as the tool's rules.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from phoenix_compliance.quadlet.versions import (
    ANONYMOUS_VOLUME_MOUNT,
    BUILD_FILE_SPECIFIER,
    MOUNT_WITHOUT_TYPE,
    NEWEST_KNOWN_VERSION,
    VOLUME_OPTIONS_WITHOUT_DEVICE,
    Relaxation,
    Version,
    beyond_tables,
    format_version,
    newest_file_type,
    newest_key_arrival,
)
from phoenix_compliance.rules import RuleSpec


def Rule(
    rule_id: str, severity: str, title: str, stack_severity: str | None = None, *, same_as: str | None = None
) -> RuleSpec:
    """A lint rule in the one rule schema (phoenix_compliance.rules)."""
    profiles = (("stack", stack_severity),) if stack_severity else ()
    return RuleSpec(rule_id, title, severity=severity, profiles=profiles, same_as=same_as)


# Severity is honest about who fails: "error" only where the Quadlet generator
# of the judged version refuses the file (proven for 5.4.2 and 5.8.6 by the
# differential selftests), "warning" where the generator accepts it but warns, or
# passes it on to podman or systemd, which then refuse or ignore it, "info" for
# advice. Stack rules (QL05x) are project conventions, errors by the project's
# choice; so is QL010 (a file type the release skips without a word: no service).
# In the stack profile a finding is an error where the stack itself fails: the
# generator accepts the file, but podman refuses to create the container or
# systemd to start it as meant (``stack_severity``).
RULES: dict[str, RuleSpec] = {
    rule.rule_id: rule
    for rule in (
        Rule("QL000", "error", "file cannot be read"),
        Rule("QL001", "error", "line is not a section, assignment or comment"),
        Rule("QL002", "error", "assignment outside any section"),
        Rule("QL003", "warning", "file ends inside a line continuation"),
        Rule("QL004", "error", "file starts with a byte order mark"),
        Rule("QL005", "warning", "line systemd ignores in a plain unit"),
        Rule("QL006", "error", "unit not generated: another file of its folder cannot be parsed"),
        Rule("QL009", "warning", "Podman release newer than the lint's tables"),
        Rule("QL010", "error", "file type not supported by this Podman version"),
        Rule("QL011", "warning", "unknown section"),
        Rule("QL012", "error", "key not supported by this Podman version"),
        Rule("QL013", "error", "unknown Quadlet key"),
        Rule("QL014", "error", "setting in a Quadlet section it does not belong to"),
        Rule("QL015", "warning", "[Install] key Quadlet does not act on"),
        Rule("QL016", "warning", "single-valued key set more than once"),
        Rule("QL017", "warning", "setting in a section where systemd ignores it"),
        Rule("QL018", "error", "[Service] KillMode= or Type= Quadlet refuses"),
        Rule("QL019", "warning", "[Service] User=, Group= or DynamicUser= in a Quadlet file"),
        Rule("QL020", "error", "missing required key"),
        Rule("QL021", "error", "conflicting keys"),
        Rule("QL022", "error", "key set without the key it needs"),
        Rule("QL023", "error", "network Gateway= or IPRange= without a matching Subnet="),
        Rule("QL024", "error", "SetWorkingDirectory= or File= the generator cannot use"),
        Rule("QL025", "warning", "image name is not fully qualified"),
        Rule("QL026", "error", "ExposeHostPort= is not a port or range"),
        Rule("QL027", "error", "RemapUsers= value Quadlet refuses"),
        Rule("QL029", "warning", "section of another Quadlet file type, which systemd ignores", "error"),
        Rule("QL028", "error", "deprecated Remap keys combined with explicit ID mappings"),
        Rule("QL030", "error", "Pod= does not name a .pod unit"),
        Rule("QL031", "error", "referenced Quadlet unit not found beside the file"),
        Rule("QL032", "warning", "PublishPort= or Network= on a container that joins a pod", "error"),
        Rule("QL033", "warning", "two files generate the same service"),
        Rule("QL034", "error", "network options when joining another container's network"),
        Rule("QL035", "error", "dependency on a Quadlet unit that does not exist"),
        Rule("QL036", "warning", "dependency names a Quadlet file this Podman version does not translate"),
        Rule("QL037", "info", "dependency names a generated service instead of its Quadlet file"),
        Rule("QL038", "error", "Network= joins a container whose name Quadlet cannot resolve"),
        Rule("QL039", "warning", "file hidden by one of the same name found earlier"),
        Rule("QL040", "warning", "Volume= source is a Windows path", "error"),
        Rule("QL041", "warning", "Volume= source is a relative path"),
        Rule("QL042", "warning", "Volume= source is not a valid volume name"),
        Rule("QL043", "warning", "Volume= container path is not absolute"),
        Rule("QL044", "warning", "Volume= option podman does not know"),
        Rule("QL045", "error", "Mount= value the generator refuses"),
        Rule("QL046", "warning", "Mount= type podman does not know"),
        Rule("QL047", "warning", "value in quotes that Quadlet passes on with the quotes"),
        Rule("QL048", "warning", "slirp4netns or --network-cmd-path, which Podman 6 removed", "error"),
        Rule("QL050", "error", "unit does not join the stack target ([Install] WantedBy=)"),
        Rule("QL051", "error", "unit is not stopped with the stack target ([Unit] PartOf=)"),
        Rule(
            "QL052",
            "error",
            "bind mount of the stack's data without :Z or :z, or system content relabelled",
            same_as="SEC-LABEL",
        ),
        Rule("QL053", "warning", "SELinux labelling turned off for a container", same_as="SEC-NOLABEL"),
        Rule("QL060", "warning", "Environment=, Label= or Annotation= word without '='"),
        Rule("QL061", "warning", "PublishPort= is not a port mapping podman accepts"),
        Rule("QL062", "warning", "Secret= value podman refuses"),
        Rule("QL063", "warning", "UserNS= mode podman does not know"),
        Rule("QL064", "warning", "AutoUpdate= policy podman does not know"),
        Rule("QL065", "warning", "escape sequence Quadlet cannot read, so it drops the value"),
        Rule("QL070", "warning", "container, pod, volume or network name podman refuses"),
        Rule("QL071", "warning", "[Unit], [Service] or [Install] key systemd does not know"),
        Rule("QL072", "warning", "value systemd cannot parse, so it ignores the line"),
        Rule("QL073", "warning", "Restart= or [Install] line systemd ignores: not restarted or not started", "error"),
        Rule("QL074", "warning", "dependency or [Install] target no unit provides", "error"),
        Rule("QL075", "warning", "ordering or weak dependency on a unit no one provides"),
        Rule("QL076", "warning", "Exec line that makes systemd refuse to load the unit", "error"),
    )
}

# Rules that are project conventions rather than validity: --profile validity leaves them out.
STACK_RULE_IDS = frozenset({"QL050", "QL051", "QL052", "QL053"})


# Rules a tabled release relaxed (it accepts what the release before refused), with the newest
# relaxation of each: the key and file-type rules from the tables, the others from the gates in
# quadlet/versions.py the rules test. A release newer than the tables may relax them again, so
# there their errors are warnings (``beyond_the_tables()``); every other rule keeps its severity.
# selftests/test_quadlet_versions.py (TestRelaxedRules) holds this to the rules: each witness case
# the lint refuses at one tabled release and accepts at the next is a finding of a rule named here.
RELAXED: dict[str, Relaxation] = {
    "QL010": newest_file_type(),
    "QL012": newest_key_arrival(),
    "QL022": VOLUME_OPTIONS_WITHOUT_DEVICE,
    "QL024": BUILD_FILE_SPECIFIER,
    "QL045": max((MOUNT_WITHOUT_TYPE, ANONYMOUS_VOLUME_MOUNT), key=lambda relaxation: relaxation.since),
}


@dataclass(frozen=True)
class Finding:
    """One problem: where (path:line, key), why (message) and what to do (fix)."""

    rule_id: str
    severity: str
    path: str
    line: int
    key: str | None
    message: str
    fix: str

    @classmethod
    def of(cls, rule_id: str, path: str, line: int, key: str | None, message: str, fix: str) -> Finding:
        """A finding of a catalogued rule, with the rule's severity."""
        return cls(rule_id, RULES[rule_id].severity, path, line, key, message, fix)

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def __str__(self) -> str:
        return f"{self.location}: {self.rule_id} {self.severity}: {self.message} Fix: {self.fix}"


@dataclass(frozen=True)
class StackRules:
    """Project conventions for a stack grouped under one systemd target."""

    target: str = "phoenix.target"
    require_selinux_relabel: bool = True
    kinds: tuple[str, ...] = ("container", "pod")


def beyond_the_tables(finding: Finding, version: Version) -> Finding:
    """At a release newer than the tables, an error of a rule a release relaxed (RELAXED) is a warning
    that says a later release may have relaxed it too; any other finding is as it is."""
    relaxed = RELAXED.get(finding.rule_id)
    if relaxed is None or finding.severity != "error" or not beyond_tables(version):
        return finding
    newest = format_version(NEWEST_KNOWN_VERSION)
    return replace(
        finding,
        severity="warning",
        message=(
            f"{finding.message} [an error up to Podman {newest}, the newest release the lint's tables know; "
            f"a warning for Podman {format_version(version)}: releases relaxed this rule before ({relaxed}), so a "
            "later one may accept it, and on a host the generator's own dry run (PHX-3.03) decides]"
        ),
    )
