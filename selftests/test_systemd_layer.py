"""The systemd layer offline: its tables, its value grammars and the lint rules over them (QL071-QL076).

What systemd itself says of these lines is held by test_systemd_differential.py; here, the
issue's cases each give the rule, line and severity meant, and convert's units give none.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from phoenix_compliance import convert
from phoenix_compliance.quadlet.systemd_values import (
    SYSTEMD_RELEASES,
    exec_problem,
    judging_systemd,
    key_kind,
    parse_boolean,
    parse_timespan,
    system_units,
    user_units,
    value_problem,
)
from phoenix_compliance.quadlet.systemd_verify import parse_verify, source_line
from phoenix_compliance.quadlet.versions import SYSTEMD_KEYS
from phoenix_compliance.quadlet_lint import RULES, Finding, StackRules, lint_paths

PODMAN = (5, 4, 2)
SYSTEMD_RULES = ("QL071", "QL072", "QL073", "QL074", "QL075", "QL076")

# The issue's examples, measured on public Quadlet repositories.
DOCKER_MIGRATION = """\
[Unit]
Description=web
WWantedBy=default.target
After=network-online.target

[Container]
Image=localhost/web:1

[Service]
Restart=unless-stopped
restart=always
MemoryReservation=1g
TimeoutStartSec=900 # the image is large
MemoryMax=512m

[Install]
WantedBy=default.targe
"""


def lint_text(tmp_path: Path, text: str, release: int | None = None, stack: StackRules | None = None,
              name: str = "web.container") -> list[Finding]:  # fmt: skip
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with judging_systemd(release):
        return lint_paths([tmp_path], PODMAN, stack)


def systemd_hits(findings: list[Finding]) -> set[tuple[str, int]]:
    return {(f.rule_id, f.line) for f in findings if f.rule_id in SYSTEMD_RULES}


class TestTables:
    def test_the_releases_of_our_hosts_are_tabled(self) -> None:
        assert SYSTEMD_RELEASES == (252, 257, 262)

    def test_a_key_is_known_from_its_release(self) -> None:
        # Type=notify-reload's companion ReloadSignal= arrived in 253; RootMStack= in 262.
        assert key_kind("Service", "ReloadSignal", 252) is None
        assert key_kind("Service", "ReloadSignal", 257) == "SIGNAL"
        assert key_kind("Service", "RootMStack", 257) is None
        assert key_kind("Service", "RootMStack", 262) is not None

    def test_a_release_between_is_judged_by_the_one_before(self) -> None:
        # 256 has had its own (source-only) table since 253-256 were tabled from source: 260 lies between 257 and 262.
        assert key_kind("Service", "CPUPressureWatch", 260) == key_kind("Service", "CPUPressureWatch", 257)
        assert key_kind("Service", "CPUPressureWatch", 262) is not None

    def test_the_user_manager_has_no_system_targets(self) -> None:
        for release in SYSTEMD_RELEASES:
            assert "default.target" in user_units(release)
            assert {"multi-user.target", "network-online.target"} <= system_units(release)

    def test_the_structure_rules_know_every_tabled_key(self) -> None:
        """QL017 read a hand-kept list and called [Service] StartLimitBurst= misplaced (systemd reads it there)."""
        assert {"StartLimitBurst", "StartLimitInterval", "StartLimitAction"} <= SYSTEMD_KEYS["Service"]


class TestGrammars:
    @pytest.mark.parametrize("value", ["5", "5s", "1min 30s", "2.5h", "infinity", "5 sec", "100ms", "1y2M"])
    def test_time_spans_systemd_reads(self, value: str) -> None:
        assert parse_timespan(value)

    @pytest.mark.parametrize("value", ["", "5x", "-1", "900 # comment", "5 parsecs", "1.5.2s"])
    def test_time_spans_systemd_ignores(self, value: str) -> None:
        assert not parse_timespan(value)

    def test_booleans(self) -> None:
        assert parse_boolean("On") is True and parse_boolean("n") is False
        assert parse_boolean("maybe") is None and parse_boolean("") is None

    @pytest.mark.parametrize(
        ("key", "value", "ignored"),
        [
            ("Restart", "unless-stopped", True),
            ("Restart", "on-failure:5", True),
            ("Restart", "Always", True),
            ("Restart", "on-abnormal", False),
            ("MemoryMax", "512m", True),
            ("MemoryMax", "512M", False),
            ("MemoryMax", "50%", False),
            ("LimitNOFILE", "65536", False),
            ("LimitNOFILE", "50%", True),
            ("LimitNOFILE", "", True),
            ("IOReadBandwidthMax", "512M", True),
            ("IOReadBandwidthMax", "/dev/sda 512M", False),
            ("StartLimitBurst", "-1", True),
            ("RestartSec", "", True),
            ("ExecStartPre", "", False),
        ],
    )
    def test_values(self, key: str, value: str, ignored: bool) -> None:
        assert (value_problem("Service", key, value, 257) is not None) == ignored

    def test_type_notify_reload_is_read_from_253(self) -> None:
        assert value_problem("Service", "Type", "notify-reload", 252) is not None
        assert value_problem("Service", "Type", "notify-reload", 257) is None

    def test_a_specifier_is_not_judged_but_a_percentage_is(self) -> None:
        assert value_problem("Service", "TimeoutStartSec", "%i", 257) is None
        assert value_problem("Service", "MemoryMax", "50%", 257) is None
        assert value_problem("Service", "LimitNOFILE", "50%", 257) is not None

    @pytest.mark.parametrize(
        ("value", "fatal"),
        [("bin/true", True), ("-bin/true", False), ("@bin/true x", True), ("/bin/true", None), ("true", None)],
    )
    def test_exec_commands(self, value: str, fatal: bool | None) -> None:
        found = exec_problem(value)
        assert (found[1] if found else None) == fatal


class TestRules:
    def test_the_issues_docker_migration(self, tmp_path: Path) -> None:
        findings = lint_text(tmp_path, DOCKER_MIGRATION)
        assert systemd_hits(findings) == {
            ("QL073", 3),  # WWantedBy=: the [Install] WantedBy= meant
            ("QL075", 4),  # network-online.target: a system unit
            ("QL073", 10),  # Restart=unless-stopped
            ("QL073", 11),  # restart=
            ("QL071", 12),  # MemoryReservation=
            ("QL072", 13),  # the inline comment
            ("QL072", 14),  # 512m
            ("QL074", 17),  # default.targe
        }
        by_line = {f.line: f for f in findings}
        assert "Restart=always" in by_line[10].fix
        assert "Restart=" in by_line[11].message and "did you mean" in by_line[11].message
        assert "MemoryLow=" in by_line[12].fix
        assert "comment" in by_line[13].message
        assert "default.target" in by_line[17].fix

    def test_severity_says_who_fails(self, tmp_path: Path) -> None:
        validity = lint_text(tmp_path, DOCKER_MIGRATION)
        assert {f.severity for f in validity if f.rule_id in SYSTEMD_RULES} == {"warning"}
        stack = lint_text(tmp_path, DOCKER_MIGRATION, stack=StackRules(target="default.target"))
        errors = {(f.rule_id, f.line) for f in stack if f.severity == "error" and f.rule_id in SYSTEMD_RULES}
        assert errors == {("QL073", 3), ("QL073", 10), ("QL073", 11), ("QL074", 17)}

    def test_every_rule_is_catalogued(self) -> None:
        assert all(rule in RULES for rule in SYSTEMD_RULES)
        assert RULES["QL076"].stack_severity == "error" and RULES["QL071"].stack_severity is None

    def test_a_newer_key_is_ignored_by_an_older_release_only(self, tmp_path: Path) -> None:
        text = "[Container]\nImage=localhost/x:1\n[Service]\nReloadSignal=SIGHUP\n"
        assert systemd_hits(lint_text(tmp_path, text, release=252)) == {("QL071", 4)}
        assert systemd_hits(lint_text(tmp_path, text, release=257)) == set()
        # Unasked, the lint calls ignored only what no tabled release reads.
        assert systemd_hits(lint_text(tmp_path, text)) == set()

    def test_a_second_exec_start_stops_a_container_loading(self, tmp_path: Path) -> None:
        text = "[Container]\nImage=localhost/x:1\n[Service]\nExecStart=/bin/true\n"
        assert systemd_hits(lint_text(tmp_path, text)) == {("QL076", 4)}
        volume = tmp_path / "volume"
        volume.mkdir()
        assert systemd_hits(lint_text(volume, "[Volume]\n[Service]\nExecStart=/bin/true\n", name="v.volume")) == set()

    def test_a_relative_exec_pre_stops_the_unit_loading_unless_prefixed_with_dash(self, tmp_path: Path) -> None:
        text = "[Container]\nImage=localhost/x:1\n[Service]\nExecStartPre=bin/setup\nExecStartPost=-bin/after\n"
        assert systemd_hits(lint_text(tmp_path, text)) == {("QL076", 4), ("QL072", 5)}

    def test_targets_the_user_manager_has_and_the_folders_units_resolve(self, tmp_path: Path) -> None:
        (tmp_path / "db.container").write_text("[Container]\nImage=localhost/db:1\n", encoding="utf-8")
        text = (
            "[Unit]\nRequires=db.service\nAfter=podman.socket\nPartOf=phoenix.target\n"
            "[Container]\nImage=localhost/x:1\n[Install]\nWantedBy=default.target phoenix.target\n"
        )
        assert systemd_hits(lint_text(tmp_path, text)) == set()

    def test_a_wanted_by_on_a_system_target_never_starts_the_unit(self, tmp_path: Path) -> None:
        text = "[Container]\nImage=localhost/x:1\n[Install]\nWantedBy=multi-user.target\n"
        findings = lint_text(tmp_path, text)
        assert systemd_hits(findings) == {("QL074", 4)}
        assert "system unit" in findings[0].message

    def test_start_limits_under_service_are_read_there(self, tmp_path: Path) -> None:
        """On main QL017 said systemd ignores [Service] StartLimitBurst=; systemd 252-262 read it there."""
        text = "[Container]\nImage=localhost/x:1\n[Service]\nStartLimitBurst=5\nStartLimitAction=none\n"
        assert [f.rule_id for f in lint_text(tmp_path, text)] == []

    def test_one_finding_per_line(self, tmp_path: Path) -> None:
        """A line another rule already judged is not judged again ([Service] User= is QL019's)."""
        text = "[Container]\nImage=localhost/x:1\n[Service]\nDynamicUser=x\n"
        assert systemd_hits(lint_text(tmp_path, text)) == set()

    def test_a_plain_target_beside_the_units_is_judged_too(self, tmp_path: Path) -> None:
        text = "[Unit]\nDescription=stack\nStopWhenUneeded=yes\n[Install]\nWantedBy=default.target\n"
        assert systemd_hits(lint_text(tmp_path, text, name="phoenix.target")) == {("QL071", 3)}


class TestConvertWritesWhatSystemdReads:
    def test_the_reference_compose_file(self, tmp_path: Path) -> None:
        compose = Path(__file__).resolve().parents[1] / "fixtures" / "infra" / "podman" / "compose.yaml"
        texts = convert.convert(convert.read_compose([compose]), convert.Options(PODMAN)).texts()
        for name, text in texts.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        for release in SYSTEMD_RELEASES:
            with judging_systemd(release):
                findings = lint_paths([tmp_path], PODMAN, None)
            assert [str(f) for f in findings if f.rule_id in SYSTEMD_RULES] == [], release

    def test_docker_restart_policies(self, tmp_path: Path) -> None:
        services = {name: {"image": "localhost/x:1", "restart": policy} for name, policy in
                    (("a", "unless-stopped"), ("b", "on-failure:5"), ("c", "always"), ("d", "no"))}  # fmt: skip
        compose = tmp_path / "compose.yaml"
        compose.write_text(yaml.safe_dump({"services": services}), encoding="utf-8")
        texts = convert.convert(convert.read_compose([compose]), convert.Options(PODMAN)).texts()
        out = tmp_path / "units"
        out.mkdir()
        for name, text in texts.items():
            (out / name).write_text(text, encoding="utf-8")
        for release in SYSTEMD_RELEASES:
            with judging_systemd(release):
                findings = lint_paths([out], PODMAN, None)
            assert [str(f) for f in findings if f.rule_id in SYSTEMD_RULES] == [], release


class TestVerifyReadBack:
    GENERATED = ("[Unit]", "Description=x", "[Service]", "Restart=no", "Restart = no", "KillMode=mixed")
    SOURCE = ("[Container]", "Image=localhost/x:1", "[Service]", "Restart=no", "Restart=no")

    def test_the_nth_copy_is_the_nth_line_written(self) -> None:
        assert source_line(self.GENERATED, 4, self.SOURCE) == 4
        assert source_line(self.GENERATED, 5, self.SOURCE) == 5

    def test_a_line_quadlet_wrote_has_no_source(self) -> None:
        assert source_line(self.GENERATED, 6, self.SOURCE) is None
        assert source_line(self.GENERATED, 99, self.SOURCE) is None

    def test_systemds_messages(self) -> None:
        output = "\n".join(
            [
                "/tmp/out/web.service:16: Failed to parse Restart=unless-stopped, ignoring: Invalid argument",
                "/tmp/out/web.service:14: Support for option CPUShares= has been removed and it is ignored",
                "web.service: Failed to create web.service/start: Unit nothere.service not found.",
                "Unit web.service has a bad unit file setting.",
            ]
        )
        first, second, third, fourth = parse_verify(output, "/tmp/out")
        assert (first.unit, first.line, first.ignored, first.unknown_key) == ("web.service", 16, True, False)
        assert second.unknown_key and not second.fatal
        assert third.not_found == "nothere.service" and third.line == 0
        assert fourth.fatal
