"""Selftests for the unit-file parser (phoenix_compliance.quadlet.unitfile) and the Quadlet linter."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from phoenix_compliance.cli import main
from phoenix_compliance.quadlet.names import service_name
from phoenix_compliance.quadlet.unitfile import parse_file, parse_text
from phoenix_compliance.quadlet_lint import (
    FILE_TYPE_SINCE,
    QUADLET_KEYS,
    RULES,
    Finding,
    StackRules,
    Version,
    format_version,
    keys_for,
    lint_paths,
    lint_units,
    parse_version,
)

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "infra" / "podman" / "systemd"
PODMAN_5_4: Version = (5, 4, 2)
PODMAN_4_4: Version = (4, 4, 0)

GOOD_CONTAINER = """\
[Unit]
Description=demo

[Container]
Image=localhost/demo:1.0
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def lint(*paths: Path, version: Version = PODMAN_5_4, stack: StackRules | None = None) -> list[Finding]:
    return lint_paths(paths, version, stack)


def hits(findings: Iterable[Finding]) -> set[tuple[str, int]]:
    """(rule id, line) of each finding: what the tests compare."""
    return {(finding.rule_id, finding.line) for finding in findings}


def only(findings: Sequence[Finding], rule_id: str) -> list[Finding]:
    return [finding for finding in findings if finding.rule_id == rule_id]


def line_of(path: Path, prefix: str) -> int:
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text.startswith(prefix):
            return number
    raise AssertionError(f"{prefix!r} not in {path}")


class TestParser:
    def test_entries_keep_section_key_value_and_line(self) -> None:
        unit = parse_text("# c\n[Unit]\nDescription=demo\n\n[Container]\nImage=busybox\n", "x.container")
        entries = list(unit.entries())
        assert [(e.section, e.key, e.value, e.line) for e in entries] == [
            ("Unit", "Description", "demo", 3),
            ("Container", "Image", "busybox", 6),
        ]
        assert unit.kind == "container"
        assert unit.problems == []

    def test_repeated_keys_are_kept_in_order(self) -> None:
        text = "[Pod]\nPublishPort=1:1\nPodName=p\nPublishPort=2:2\nPublishPort=3:3\n"
        unit = parse_text(text, "p.pod")
        assert unit.values("Pod", "PublishPort") == ["1:1", "2:2", "3:3"]
        assert [e.line for e in unit.entries_for("Pod", "PublishPort")] == [2, 4, 5]

    def test_last_wins_for_single_values(self) -> None:
        unit = parse_text("[Container]\nImage=a\nImage=b\n", "x.container")
        last = unit.last("Container", "Image")
        assert last is not None
        assert (last.value, last.line) == ("b", 3)
        assert unit.last("Container", "Pod") is None
        assert unit.values("Service", "Restart") == []

    def test_continuation_joins_lines_with_a_space_and_keeps_the_first_line(self) -> None:
        text = "[Container]\nExec=httpd \\\n   -f \\\n   -p 8080\nImage=x\n"
        unit = parse_text(text, "x.container")
        exec_entry = unit.last("Container", "Exec")
        assert exec_entry is not None
        assert exec_entry.value.split() == ["httpd", "-f", "-p", "8080"]
        assert exec_entry.line == 2
        image = unit.last("Container", "Image")
        assert image is not None and image.line == 5

    def test_backslash_becomes_a_space_as_in_systemd(self) -> None:
        unit = parse_text("[Service]\nExecStart=a\\\nb\n", "x.service")
        assert unit.values("Service", "ExecStart") == ["a b"]

    def test_quadlet_joins_without_a_space(self) -> None:
        # Seen on the 5.4.2 generator: Quadlet's parser, not systemd's, reads these files.
        unit = parse_text("[Container]\nExec=a\\\nb\n", "x.container")
        assert unit.values("Container", "Exec") == ["ab"]

    def test_comment_lines_inside_a_continuation_are_skipped(self) -> None:
        text = "[Container]\nExec=httpd \\\n# not part of it\n; nor this\n  -f\n"
        unit = parse_text(text, "x.container")
        assert unit.values("Container", "Exec")[0].split() == ["httpd", "-f"]

    def test_an_escaped_backslash_does_not_continue(self) -> None:
        unit = parse_text("[Service]\nEnvironment=path=C:\\\\\nUser=x\n", "x.service")
        assert unit.values("Service", "Environment") == ["path=C:\\\\"]
        assert unit.values("Service", "User") == ["x"]

    def test_quadlet_continues_after_any_trailing_backslash(self) -> None:
        unit = parse_text("[Container]\nLabel=path=C:\\\\\nImage=x\n", "x.container")
        assert unit.values("Container", "Label") == ["path=C:\\Image=x"]

    def test_quadlet_skips_blank_lines_inside_a_continuation_and_drops_one_left_open(self) -> None:
        unit = parse_text("[Container]\nExec=a \\\n\nb\nImage=x\\\n\n", "x.container")
        assert unit.values("Container", "Exec") == ["a b"]
        assert unit.values("Container", "Image") == []
        assert [(p.kind, p.line) for p in unit.problems] == [("eof-continuation-dropped", 5)]

    def test_quadlet_does_not_skip_a_byte_order_mark(self) -> None:
        unit = parse_text("\ufeff[Container]\nImage=x\n", "x.container")
        assert [(p.kind, p.line) for p in unit.problems] == [("byte-order-mark", 1)]

    def test_comments_and_blank_lines_are_ignored(self) -> None:
        unit = parse_text("#a\n;b\n\n   \n[Unit]\n  # indented comment\nDescription=x\n", "t.target")
        assert [(e.key, e.line) for e in unit.entries()] == [("Description", 7)]

    def test_whitespace_around_the_equals_sign_is_dropped(self) -> None:
        unit = parse_text("[Container]\n  Image =   busybox:1  \nLabel= a=b\n", "x.container")
        assert unit.values("Container", "Image") == ["busybox:1"]
        assert unit.values("Container", "Label") == ["a=b"]

    def test_a_repeated_section_header_is_merged(self) -> None:
        unit = parse_text("[Unit]\nA=1\n[Container]\nImage=x\n[Unit]\nB=2\n", "x.container")
        assert [s.name for s in unit.sections] == ["Unit", "Container"]
        unit_section = unit.section("Unit")
        assert unit_section is not None
        assert unit_section.header_lines == [1, 5]
        assert [(e.key, e.line) for e in unit_section.entries] == [("A", 2), ("B", 6)]

    def test_a_line_outside_any_section_is_a_problem_not_an_exception(self) -> None:
        unit = parse_text("Image=x\n[Container]\nImage=y\n", "x.container")
        assert [(p.kind, p.line) for p in unit.problems] == [("outside-section", 1)]
        assert unit.values("Container", "Image") == ["y"]

    def test_an_unfinished_line_is_a_problem_and_parsing_goes_on(self) -> None:
        unit = parse_text("[Container]\nImage\nExec=true\n[Sevice\n", "x.container")
        assert [(p.kind, p.line) for p in unit.problems] == [
            ("not-an-assignment", 2),
            ("not-an-assignment", 4),
        ]
        assert unit.values("Container", "Exec") == ["true"]

    def test_an_empty_section_name_is_a_problem(self) -> None:
        unit = parse_text("[]\nA=1\n", "x.container")
        assert [p.kind for p in unit.problems] == ["bad-section-name", "outside-section"]

    def test_a_continuation_at_end_of_file_is_kept_and_reported(self) -> None:
        unit = parse_text("[Container]\nImage=x\nExec=true \\", "x.container")
        assert unit.values("Container", "Exec") == ["true"]
        assert [(p.kind, p.line) for p in unit.problems] == [("eof-continuation", 3)]

    def test_a_byte_order_mark_is_skipped(self) -> None:
        unit = parse_text("\ufeff[Unit]\nDescription=x\n", "t.target")
        assert unit.problems == []
        assert unit.values("Unit", "Description") == ["x"]

    def test_parse_file_reads_from_disk(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER)
        unit = parse_file(path)
        assert (unit.path, unit.name, unit.kind) == (path, "web.container", "container")


class TestServiceName:
    @pytest.mark.parametrize(
        ("file_name", "expected"),
        [
            ("web.container", "web.service"),
            ("web.kube", "web.service"),
            ("phoenix-hydra.pod", "phoenix-hydra-pod.service"),
            ("data.volume", "data-volume.service"),
            ("net.network", "net-network.service"),
            ("base.image", "base-image.service"),
            ("app.build", "app-build.service"),
            ("phoenix.target", None),
        ],
    )
    def test_generated_name_follows_the_file_type(self, file_name: str, expected: str | None) -> None:
        assert service_name(parse_text("", file_name)) == expected

    def test_service_name_key_overrides_from_5_3(self) -> None:
        unit = parse_text("[Pod]\nServiceName=hydra\n", "phoenix-hydra.pod")
        assert service_name(unit, (5, 3, 0)) == "hydra.service"
        assert service_name(unit, (5, 2, 0)) == "phoenix-hydra-pod.service"


class TestSyntaxRules:
    def test_unfinished_line(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Exec\n")
        assert hits(lint(path)) == {("QL001", 6)}

    def test_assignment_outside_a_section(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", "Description=early\n" + GOOD_CONTAINER)
        findings = lint(path)
        assert hits(findings) == {("QL002", 1)}
        assert findings[0].key == "Description"

    def test_file_ending_in_a_continuation(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Exec=true \\")
        findings = lint(path)
        assert hits(findings) == {("QL003", 6)}
        assert findings[0].severity == "warning"

    def test_unreadable_file_is_reported_not_raised(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.container"
        path.write_bytes(b"[Container]\nImage=\xff\n")
        assert hits(lint(path)) == {("QL000", 1)}


class TestFolderDroppedByOneFile:
    """loadUnitsFromDir(): a file its parser fails on and no file of its folder is generated."""

    def test_every_sibling_is_an_error_naming_the_broken_file(self, tmp_path: Path) -> None:
        write(tmp_path, "a.container", GOOD_CONTAINER)
        write(tmp_path, "p.pod", "[Pod]\n")
        broken = write(tmp_path, "b.container", "---\n" + GOOD_CONTAINER)
        write(tmp_path, "sub/c.container", GOOD_CONTAINER)
        findings = lint(tmp_path)
        dropped = only(findings, "QL006")
        assert sorted(Path(f.path).name for f in dropped) == ["a.container", "p.pod"]
        assert all(f.severity == "error" and "b.container (line 1)" in f.message for f in dropped)
        assert hits(only(findings, "QL001")) == {("QL001", 1)}
        assert only(findings, "QL001")[0].path == str(broken)

    @pytest.mark.parametrize(
        "text",
        ["Label=a=b\n[Volume]\n", "\ufeff[Volume]\n", "[Volume]\n{{ options }}\n", "[Vol\x01ume]\n"],
        ids=["key-before-section", "byte-order-mark", "template-line", "bad-header"],
    )
    def test_each_parse_failure_drops_the_folder(self, tmp_path: Path, text: str) -> None:
        write(tmp_path, "a.container", GOOD_CONTAINER)
        (tmp_path / "b.volume").write_text(text, encoding="utf-8")
        assert [Path(f.path).name for f in only(lint(tmp_path), "QL006")] == ["a.container"]

    def test_an_unreadable_file_drops_the_folder(self, tmp_path: Path) -> None:
        write(tmp_path, "a.container", GOOD_CONTAINER)
        (tmp_path / "b.container").symlink_to(tmp_path / "gone")
        findings = lint(tmp_path)
        assert [Path(f.path).name for f in only(findings, "QL006")] == ["a.container"]
        assert [Path(f.path).name for f in only(findings, "QL000")] == ["b.container"]

    def test_what_does_not_drop_the_folder(self, tmp_path: Path) -> None:
        """A drop-in, a plain unit, a file type the release skips, a warning, a subfolder."""
        write(tmp_path, "a.container", GOOD_CONTAINER + "Exec=true \\")
        write(tmp_path, "a.container.d/10-x.conf", "---\n")
        write(tmp_path, "b.target", "---\n[Unit]\n")
        write(tmp_path, "b.artifact", "---\n")
        write(tmp_path, "sub/b.container", "---\n")
        assert not only(lint(tmp_path, version=PODMAN_5_4), "QL006")
        assert [Path(f.path).name for f in only(lint(tmp_path, version=(5, 8, 6)), "QL006")] == ["a.container"]

    def test_a_broken_file_hides_no_file_of_its_name(self, tmp_path: Path) -> None:
        write(tmp_path, "x.container", "---\n")
        write(tmp_path, "sub/x.container", GOOD_CONTAINER)
        assert not only(lint(tmp_path), "QL039")

    def test_a_host_folder_says_it_too(self) -> None:
        units = [parse_text(GOOD_CONTAINER, "/q/a.container"), parse_text("---\n", "/q/b.pod")]
        found = lint_units(units, PODMAN_5_4)
        assert [(f.rule_id, f.path) for f in found if f.rule_id == "QL006"] == [("QL006", "/q/a.container")]


class TestFileTypeVersions:
    @pytest.mark.parametrize(
        ("file_name", "too_old", "first"),
        [
            ("hydra.pod", (4, 9, 3), (5, 0, 0)),
            ("app.build", (5, 1, 0), (5, 2, 0)),
            ("base.image", (4, 7, 0), (4, 8, 0)),
        ],
    )
    def test_a_file_type_is_unknown_before_its_release(
        self, tmp_path: Path, file_name: str, too_old: Version, first: Version
    ) -> None:
        body = {
            "hydra.pod": "[Pod]\nPodName=hydra\n",
            "app.build": "[Build]\nImageTag=localhost/app:1\nFile=Containerfile\nSetWorkingDirectory=unit\n",
            "base.image": "[Image]\nImage=docker.io/library/busybox:1\n",
        }[file_name]
        path = write(tmp_path, file_name, body)
        old = lint(path, version=too_old)
        assert hits(old) == {("QL010", 1)}
        assert "no service is generated" in old[0].message
        assert lint(path, version=first) == []

    def test_keys_of_an_unread_file_are_not_judged_by_version(self, tmp_path: Path) -> None:
        path = write(tmp_path, "hydra.pod", "[Pod]\nPodName=hydra\nShmSize=1g\n")
        assert hits(lint(path, version=PODMAN_4_4)) == {("QL010", 1)}


class TestKeyVersions:
    def test_pod_key_is_unknown_in_4_4_and_fine_in_5_4(self, tmp_path: Path) -> None:
        write(tmp_path, "hydra.pod", "[Pod]\nPodName=hydra\n")
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Pod=hydra.pod\n")
        old = only(lint(path, version=PODMAN_4_4), "QL012")
        assert hits(old) == {("QL012", 6)}
        assert old[0].key == "Pod"
        assert "needs Podman 5.0" in old[0].message
        assert lint(path, version=PODMAN_5_4) == []

    def test_a_key_newer_than_5_4_is_flagged_against_5_4(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Memory=512m\n")
        findings = lint(path, version=PODMAN_5_4)
        assert hits(findings) == {("QL012", 6)}
        assert "needs Podman 5.5" in findings[0].message
        assert lint(path, version=(5, 5, 0)) == []

    @pytest.mark.parametrize(
        ("file_name", "body", "before", "since"),
        [
            ("web.container", GOOD_CONTAINER + "StartWithPod=false\n", (5, 2, 1), (5, 3, 0)),
            ("web.container", GOOD_CONTAINER + "HealthCmd=true\n", (4, 4, 2), (4, 5, 0)),
            ("hydra.pod", "[Pod]\nPodName=hydra\nShmSize=1g\n", (5, 3, 1), (5, 4, 0)),
            ("hydra.pod", "[Pod]\nPodName=hydra\nHostName=hydra\n", (5, 4, 2), (5, 5, 0)),
        ],
    )
    def test_key_boundaries(self, tmp_path: Path, file_name: str, body: str, before: Version, since: Version) -> None:
        path = write(tmp_path, file_name, body)
        assert {f.rule_id for f in lint(path, version=before)} == {"QL012"}
        assert lint(path, version=since) == []

    def test_keys_after_5_4_2_are_those_the_real_generators_tell_apart(self) -> None:
        # The key probe (test_quadlet_differential.py) on the real 5.4.2 and 5.8.6 generators:
        # 5.4.2 refuses exactly these, 5.8.6 accepts every one. Where between they arrived is
        # taken from quadlet.go at each tag.
        newer = {
            (section, key): format_version(since)
            for section, table in QUADLET_KEYS.items()
            for key, since in table.items()
            if since > PODMAN_5_4
        }
        artifact = "Artifact AuthFile CertDir ContainersConfModule Creds DecryptionKey GlobalArgs PodmanArgs Quiet"
        assert newer == {
            ("Container", "Memory"): "5.5",
            ("Container", "ReloadCmd"): "5.5",
            ("Container", "ReloadSignal"): "5.5",
            ("Container", "Retry"): "5.5",
            ("Container", "RetryDelay"): "5.5",
            ("Image", "Retry"): "5.5",
            ("Image", "RetryDelay"): "5.5",
            ("Build", "Retry"): "5.5",
            ("Build", "RetryDelay"): "5.5",
            ("Network", "NetworkDeleteOnStop"): "5.5",
            ("Pod", "HostName"): "5.5",
            ("Image", "Policy"): "5.6",
            ("Network", "InterfaceName"): "5.6",
            ("Pod", "ExitPolicy"): "5.6",
            ("Pod", "Label"): "5.6",
            ("Container", "HttpProxy"): "5.7",
            ("Build", "BuildArg"): "5.7",
            ("Build", "IgnoreFile"): "5.7",
            ("Pod", "StopTimeout"): "5.7",
            **{
                ("Artifact", key): "5.7"
                for key in [*artifact.split(), "Retry", "RetryDelay", "ServiceName", "TLSVerify"]
            },
            ("Container", "AppArmor"): "5.8",
            # The key probe on the real 6.1.1 generator: it accepts these, 5.8.6 refuses them.
            ("Volume", "UID"): "6.0",
            ("Volume", "GID"): "6.0",
        }

    @pytest.mark.parametrize(
        ("file_name", "body", "since"),
        [
            ("web.container", GOOD_CONTAINER + "HttpProxy=false\n", (5, 7, 0)),
            ("web.container", GOOD_CONTAINER + "AppArmor=unconfined\n", (5, 8, 0)),
            ("app.build", "[Build]\nImageTag=localhost/b:1\nFile=/src/Containerfile\nBuildArg=A=1\n", (5, 7, 0)),
            (
                "app.build",
                "[Build]\nImageTag=localhost/b:1\nFile=/src/Containerfile\nIgnoreFile=/src/.ign\n",
                (5, 7, 0),
            ),
            ("hydra.pod", "[Pod]\nStopTimeout=20\n", (5, 7, 0)),
        ],
    )
    def test_keys_of_5_7_and_5_8_are_known_there(
        self, tmp_path: Path, file_name: str, body: str, since: Version
    ) -> None:
        # Seen wrong before issue 14: "not a key in any Podman release".
        path = write(tmp_path, file_name, body)
        assert lint(path, version=since) == []
        findings = lint(path, version=(5, 6, 2))
        assert {f.rule_id for f in findings} == {"QL012"}
        assert f"needs Podman {format_version(since[:2])}" in findings[0].message

    def test_tables_only_grow(self) -> None:
        for section in QUADLET_KEYS:
            assert keys_for(section, (4, 4)) <= keys_for(section, PODMAN_5_4)
        assert "Pod" in keys_for("Container", (5, 0)) - keys_for("Container", (4, 9))

    def test_unknown_key_with_a_suggestion(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "ContainerNmae=web\nimage=x\n")
        findings = lint(path)
        assert hits(findings) == {("QL013", 6), ("QL013", 7)}
        assert "did you mean ContainerName=" in findings[0].message
        assert findings[1].fix == "rename it to Image="


class TestMisplacedSettings:
    @pytest.mark.parametrize(
        ("section", "line_text", "home", "rule"),
        [
            ("Container", "Restart=always", "Service", "QL014"),
            ("Container", "WantedBy=default.target", "Install", "QL014"),
            ("Container", "After=network-online.target", "Unit", "QL014"),
            ("Unit", "Restart=always", "Service", "QL017"),
            ("Unit", "WantedBy=phoenix.target", "Install", "QL017"),
            ("Service", "PartOf=phoenix.target", "Unit", "QL017"),
            ("Install", "Requires=db.service", "Unit", "QL017"),
            ("Service", "Image=busybox", "Container", "QL017"),
            ("Unit", "PublishPort=80:80", "Container", "QL017"),
        ],
    )
    def test_setting_in_the_wrong_section(
        self, tmp_path: Path, section: str, line_text: str, home: str, rule: str
    ) -> None:
        text = f"[Container]\nImage=localhost/x:1\n\n[{section}]\n{line_text}\n"
        path = write(tmp_path, "web.container", text)
        findings = lint(path)
        key = line_text.split("=", 1)[0]
        assert hits(findings) == {(rule, 5)}
        assert findings[0].fix == f"move {key}= to [{home}]"
        assert findings[0].severity == ("error" if rule == "QL014" else "warning")

    def test_keys_valid_in_both_are_left_alone(self, tmp_path: Path) -> None:
        # User= is a [Service] and a [Container] key: not misplaced, only the generator's own
        # warning about [Service] User= (QL019, since the issue 14 lint) is said.
        text = GOOD_CONTAINER + "\n[Service]\nEnvironment=A=1\nUser=1000\nTimeoutStartSec=900\n"
        assert hits(lint(write(tmp_path, "web.container", text))) == {("QL019", 9)}

    def test_plain_target_units_are_checked_too(self, tmp_path: Path) -> None:
        text = "[Unit]\nDescription=x\nWantedBy=default.target\n\n[Install]\nAlso=x.service\n"
        findings = lint(write(tmp_path, "stack.target", text))
        assert hits(findings) == {("QL017", 3)}


class TestResourceControlKeys:
    @pytest.mark.parametrize(
        "key",
        [
            "CPUAccounting=yes",
            "AllowedCPUs=0-1",
            "CPUQuota=50%",
            "MemoryMax=1G",
            "MemoryHigh=800M",
            "TasksMax=100",
            "IOWeight=50",
            "StartupCPUWeight=10",
            "MemoryZSwapMax=0",
            "CPUShares=512",
        ],
    )
    def test_each_under_container_has_one_finding_and_fix(self, tmp_path: Path, key: str) -> None:
        name = key.split("=")[0]
        findings = lint(write(tmp_path, "web.container", GOOD_CONTAINER + key + "\n"))
        assert hits(findings) == {("QL014", 6)}
        assert "resource-control" in findings[0].message and findings[0].fix == f"move {name}= to [Service]"

    def test_under_service_they_are_fine(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "[Service]\nAllowedCPUs=0-1\nCPUAccounting=yes\n")
        assert lint(path) == []


class TestSections:
    def test_misspelt_section(self, tmp_path: Path) -> None:
        text = GOOD_CONTAINER + "\n[Instal]\nWantedBy=default.target\n"
        findings = lint(write(tmp_path, "web.container", text))
        assert hits(findings) == {("QL011", 7)}
        assert findings[0].fix == "rename it to [Install]"

    def test_a_section_of_another_quadlet_type(self, tmp_path: Path) -> None:
        text = GOOD_CONTAINER + "\n[Pod]\nPodName=x\n"
        findings = lint(write(tmp_path, "web.container", text))
        assert hits(findings) == {("QL029", 7)}
        assert ".pod" in findings[0].message and findings[0].severity == "warning"

    def test_service_section_in_a_target(self, tmp_path: Path) -> None:
        text = "[Unit]\nDescription=x\n\n[Service]\nRestart=always\n"
        assert hits(lint(write(tmp_path, "stack.target", text))) == {("QL011", 4)}

    def test_x_sections_are_allowed(self, tmp_path: Path) -> None:
        text = GOOD_CONTAINER + "\n[X-Phoenix]\nOwner=ops\n"
        assert lint(write(tmp_path, "web.container", text)) == []


class TestSpecifiersAndEnvironment:
    """systemd expands specifiers and ${VAR}s in ExecStart: never judged as literal text."""

    def test_issue_cases_are_valid(self, tmp_path: Path) -> None:
        write(tmp_path, "home.container", GOOD_CONTAINER + "Volume=%h:%h\n")
        write(tmp_path, "job.container", GOOD_CONTAINER + "ContainerName=nextcloud-${NEXTCLOUD_MAJOR}-job\n")
        write(tmp_path, "data.container", GOOD_CONTAINER + "Volume=${DATA_PATH}/x:/x\nPublishPort=${PORT}:80\n")
        assert lint(tmp_path) == []

    def test_a_variable_path_still_needs_its_label(self, tmp_path: Path) -> None:
        path = write(tmp_path, "data.container", GOOD_CONTAINER + "Volume=${DATA_PATH}/x:/x\n")
        found = only(lint(path, stack=StackRules(kinds=("container",))), "QL052")
        assert [f.line for f in found] == [6]
        assert "Volume=${DATA_PATH}/x:/x:Z" in found[0].fix

    def test_resolved_from_the_units_environment(self, tmp_path: Path) -> None:
        text = GOOD_CONTAINER + "ContainerName=nc-${MAJOR}\n\n[Service]\nEnvironment=MAJOR=a/b\n"
        found = only(lint(write(tmp_path, "job.container", text)), "QL070")
        assert len(found) == 1 and "as systemd expands it: nc-a/b" in found[0].message

    def test_resolved_from_the_host(self, tmp_path: Path) -> None:
        from phoenix_compliance.grammar.specifiers import Known, user_manager_specifiers

        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Volume=%h/data:%U\nVolume=%h:%h\n")
        known = Known(user_manager_specifiers("phoenix", 1000, "/home/phoenix"))
        assert hits(lint_paths([path], PODMAN_5_4, None, known)) == {("QL043", 6)}
        assert lint(path) == []  # without a host, %U is not judged


class TestStackProfileSeverity:
    """What the generator accepts and podman or systemd then refuses is an error where the stack runs."""

    CASES: ClassVar[dict[str, tuple[dict[str, str], str]]] = {
        "publish-in-pod": (
            {"p.pod": "[Pod]\n", "web.container": GOOD_CONTAINER + "Pod=p.pod\nPublishPort=8080:80\n"},
            "QL032",
        ),
        "windows-drive": ({"web.container": GOOD_CONTAINER + "Volume=e:/data:/data\n"}, "QL040"),
        "network-group-in-pod": ({"p.pod": "[Pod]\n\n[Network]\nSubnet=10.0.0.0/24\n"}, "QL029"),
    }

    @pytest.mark.parametrize("name", sorted(CASES))
    def test_warning_for_validity_error_for_the_stack(self, tmp_path: Path, name: str) -> None:
        files, rule_id = self.CASES[name]
        for file_name, text in files.items():
            write(tmp_path, file_name, text)
        validity = only(lint(tmp_path), rule_id)
        stack = only(lint(tmp_path, stack=StackRules(kinds=())), rule_id)
        assert [f.severity for f in validity] == ["warning"]
        assert [f.severity for f in stack] == ["error"]
        assert RULES[rule_id].stack_severity == "error"


class TestInstall:
    def test_install_keys_quadlet_ignores(self, tmp_path: Path) -> None:
        text = GOOD_CONTAINER + "\n[Install]\nWantedBy=default.target\nAlso=other.service\n"
        findings = lint(write(tmp_path, "web.container", text))
        assert hits(findings) == {("QL015", 9)}
        assert findings[0].severity == "warning"


class TestSingleValuedKeys:
    def test_a_repeated_image_is_a_warning_on_the_repeat(self, tmp_path: Path) -> None:
        findings = lint(write(tmp_path, "web.container", GOOD_CONTAINER + "Image=localhost/other:2\n"))
        assert hits(findings) == {("QL016", 6)}
        assert "first on line 5" in findings[0].message


class TestRequiredKeys:
    def test_container_without_image(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", "[Unit]\nDescription=x\n\n[Container]\nExec=true\n")
        findings = lint(path)
        assert hits(findings) == {("QL020", 4)}
        assert findings[0].key == "Image"

    def test_container_without_any_container_section(self, tmp_path: Path) -> None:
        assert hits(lint(write(tmp_path, "web.container", "[Unit]\nDescription=x\n"))) == {("QL020", 1)}

    def test_rootfs_replaces_image(self, tmp_path: Path) -> None:
        assert lint(write(tmp_path, "web.container", "[Container]\nRootfs=/srv/root\n")) == []

    def test_image_and_rootfs_conflict(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", "[Container]\nImage=localhost/x:1\nRootfs=/srv/root\n")
        assert hits(lint(path)) == {("QL021", 3)}

    @pytest.mark.parametrize(
        ("file_name", "body", "keys"),
        [
            ("app.kube", "[Kube]\nNetwork=host\n", {"Yaml"}),
            ("base.image", "[Image]\nArch=amd64\n", {"Image"}),
            ("app.build", "[Build]\nArch=amd64\n", {"ImageTag", "File"}),
        ],
    )
    def test_other_types(self, tmp_path: Path, file_name: str, body: str, keys: set[str]) -> None:
        findings = lint(write(tmp_path, file_name, body))
        assert {f.rule_id for f in findings} == {"QL020"}
        assert {f.key for f in findings} == keys
        assert {f.line for f in findings} == {1}


class TestPodRules:
    def test_pod_without_the_pod_suffix(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Pod=phoenix-hydra\n")
        findings = lint(path)
        assert hits(findings) == {("QL030", 6)}
        assert "Pod=phoenix-hydra.pod" in findings[0].fix

    def test_pod_file_missing_beside_the_unit(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Pod=phoenix-hydra.pod\n")
        assert hits(lint(path)) == {("QL031", 6)}

    def test_pod_file_linted_in_the_same_run_counts(self, tmp_path: Path) -> None:
        pods = tmp_path / "pods"
        pods.mkdir()
        pod = write(pods, "phoenix-hydra.pod", "[Pod]\nPodName=phoenix-hydra\n")
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Pod=phoenix-hydra.pod\n")
        assert lint(path, pod) == []

    def test_published_ports_on_a_pod_member(self, tmp_path: Path) -> None:
        write(tmp_path, "hydra.pod", "[Pod]\nPodName=hydra\n")
        text = GOOD_CONTAINER + "Pod=hydra.pod\nPublishPort=8080:8080\nPublishPort=9090:9090\n"
        findings = lint(write(tmp_path, "web.container", text))
        assert hits(findings) == {("QL032", 7), ("QL032", 8)}
        assert findings[0].fix == "move PublishPort=8080:8080 to [Pod] in hydra.pod"

    def test_published_ports_without_a_pod_are_fine(self, tmp_path: Path) -> None:
        assert lint(write(tmp_path, "web.container", GOOD_CONTAINER + "PublishPort=80:80\n")) == []

    def test_two_files_generating_one_service(self, tmp_path: Path) -> None:
        first = write(tmp_path, "web.container", GOOD_CONTAINER)
        second = write(tmp_path, "web.kube", "[Kube]\nYaml=web.yaml\n")
        assert hits(lint(first, second)) == {("QL033", 1)}


class TestVolumeRules:
    @pytest.mark.parametrize(
        ("volume", "rules"),
        [
            ("C:/data:/www:Z", {"QL040"}),
            ("C:\\data:/www", {"QL040"}),
            ("./data:/www:Z", {"QL041"}),
            ("../data:/www", {"QL041"}),
            ("data/sub:/www", {"QL042"}),
            ("/srv/data:www:Z", {"QL043"}),
            ("cache", {"QL043"}),
            ("missing.volume:/var/lib/db", {"QL031"}),
            ("%h/phoenix/data:/www:Z", set()),
            ("%t/sockets:/run/sockets", set()),
            ("/srv/data:/www:Z", set()),
            ("appdata:/www", set()),
            ("%N-data:/data", set()),
            ("/cache", set()),
            ('"/srv/quoted:/www:Z"', {"QL047"}),  # 5.4.2 passes the quotes on to podman
        ],
    )
    def test_volume_sources_and_targets(self, tmp_path: Path, volume: str, rules: set[str]) -> None:
        findings = lint(write(tmp_path, "web.container", GOOD_CONTAINER + f"Volume={volume}\n"))
        assert {f.rule_id for f in findings} == rules
        assert {f.line for f in findings} <= {6}

    def test_a_volume_unit_beside_the_file_is_found(self, tmp_path: Path) -> None:
        write(tmp_path, "db.volume", "[Volume]\nVolumeName=db\n")
        text = GOOD_CONTAINER + "Volume=db.volume:/var/lib/db\n"
        assert lint(write(tmp_path, "web.container", text)) == []

    def test_pod_volumes_are_checked_as_well(self, tmp_path: Path) -> None:
        path = write(tmp_path, "hydra.pod", "[Pod]\nPodName=hydra\nVolume=./shared:/shared\n")
        assert hits(lint(path)) == {("QL041", 3)}

    def test_network_unit_reference_missing(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Network=backend.network\n")
        assert hits(lint(path)) == {("QL031", 6)}


class TestStackRules:
    STACK = StackRules(target="phoenix.target")

    def test_rules_apply_only_when_a_stack_is_given(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Volume=/srv/www:/www\n")
        assert lint(path) == []
        assert {f.rule_id for f in lint(path, stack=self.STACK)} == {"QL050", "QL051", "QL052"}

    def test_missing_wanted_by_and_part_of(self, tmp_path: Path) -> None:
        text = (
            "[Unit]\nDescription=x\nPartOf=other.target\n\n[Container]\nImage=localhost/x:1\n\n[Install]\n"
            "WantedBy=default.target\n"
        )
        findings = lint(write(tmp_path, "web.container", text), stack=self.STACK)
        assert hits(findings) == {("QL050", 8), ("QL051", 1)}
        assert {f.fix for f in findings} == {
            "add WantedBy=phoenix.target under [Install]",
            "add PartOf=phoenix.target under [Unit]",
        }

    def test_target_among_several_words_counts(self, tmp_path: Path) -> None:
        text = (
            "[Unit]\nPartOf=a.target phoenix.target\n\n[Pod]\nPodName=p\n\n"
            "[Install]\nWantedBy=default.target phoenix.target\n"
        )
        assert lint(write(tmp_path, "p.pod", text), stack=self.STACK) == []

    @pytest.mark.parametrize(
        ("volume", "flagged"),
        [
            ("%h/data:/www", True),
            ("/srv/data:/www:ro", True),
            ("/srv/data:/www:ro,Z", False),
            ("/srv/data:/www:z", False),
            ("named:/www", False),
            ("/anonymous", False),
        ],
    )
    def test_bind_mounts_need_a_relabel(self, tmp_path: Path, volume: str, flagged: bool) -> None:
        text = (
            "[Unit]\nPartOf=phoenix.target\n\n[Container]\nImage=localhost/x:1\n"
            f"Volume={volume}\n\n[Install]\nWantedBy=phoenix.target\n"
        )
        findings = lint(write(tmp_path, "web.container", text), stack=self.STACK)
        assert hits(findings) == ({("QL052", 6)} if flagged else set())

    def test_mount_bind_needs_relabel_too(self, tmp_path: Path) -> None:
        text = (
            "[Unit]\nPartOf=phoenix.target\n\n[Container]\nImage=localhost/x:1\n"
            "Mount=type=bind,source=/srv/a,destination=/a\n"
            "Mount=type=bind,source=/srv/b,destination=/b,relabel=private\n"
            "\n[Install]\nWantedBy=phoenix.target\n"
        )
        findings = lint(write(tmp_path, "web.container", text), stack=self.STACK)
        assert hits(findings) == {("QL052", 6)}

    def test_volumes_and_targets_are_not_stack_members(self, tmp_path: Path) -> None:
        volume = write(tmp_path, "data.volume", "[Volume]\nVolumeName=data\n")
        target = write(tmp_path, "phoenix.target", "[Unit]\nDescription=x\n")
        assert lint(volume, target, stack=self.STACK) == []


# The stack's containers, members of its pod (the optional group's grafana-loki is not one).
POD_MEMBERS = [path for path in REFERENCE_DIR.glob("*.container") if path.name != "grafana-loki.container"]


class TestReferenceUnits:
    def test_reference_units_lint_clean_against_5_4_with_stack_rules(self) -> None:
        assert lint(REFERENCE_DIR, version=PODMAN_5_4, stack=StackRules("phoenix.target")) == []

    def test_the_expected_files_are_there(self) -> None:
        names = sorted(path.name for path in REFERENCE_DIR.iterdir())
        assert names == [
            "grafana-loki.container",  # the optional observability group: a container of its own, no pod
            "n8n-phoenix.container",
            "nca-toolkit.container",
            "phoenix-core.container",
            "phoenix-hydra.pod",
            "phoenix.target",
            "revenue-db.container",
            "windmill-phoenix.container",
        ]

    def test_against_4_4_the_pod_is_skipped_and_pod_keys_rejected(self) -> None:
        findings = lint(REFERENCE_DIR, version=PODMAN_4_4)
        pod_file = REFERENCE_DIR / "phoenix-hydra.pod"
        assert ("QL010", 1) in {(f.rule_id, f.line) for f in findings if f.path == str(pod_file)}
        for container in sorted(POD_MEMBERS):
            mine = [f for f in findings if f.path == str(container)]
            assert ("QL012", line_of(container, "Pod=")) in hits(mine)
            assert ("QL012", line_of(container, "HealthCmd=")) in hits(mine)

    def test_the_pod_publishes_every_port_a_container_serves(self) -> None:
        pod = parse_file(REFERENCE_DIR / "phoenix-hydra.pod")
        published = {value.split(":")[-1] for value in pod.values("Pod", "PublishPort")}
        served = set()
        for container in POD_MEMBERS:
            unit = parse_file(container)
            words = unit.values("Container", "Exec")[0].split()
            served.add(words[words.index("-p") + 1])
            assert unit.values("Container", "ContainerName") == [container.stem]
            assert unit.values("Container", "Pod") == ["phoenix-hydra.pod"]
        assert served == published == {"8080", "5678", "8000", "8081", "5432"}

    def test_generated_service_names(self) -> None:
        assert service_name(parse_file(REFERENCE_DIR / "phoenix-hydra.pod")) == ("phoenix-hydra-pod.service")
        assert service_name(parse_file(REFERENCE_DIR / "phoenix-core.container")) == ("phoenix-core.service")


class TestReportsEverything:
    def test_every_problem_of_every_file_at_once(self, tmp_path: Path) -> None:
        broken = write(
            tmp_path,
            "web.container",
            """\
            [Unit]
            Restart=always

            [Container]
            Pod=hydra
            Volume=C:/data:/www
            Volume=./data:/www
            Sysctl
            Bogus=1

            [Instal]
            WantedBy=default.target
            """,
        )
        other = write(tmp_path, "db.kube", "[Kube]\nPublishPort=5432:5432\nRestart=always\n")
        findings = lint(broken, other)
        assert hits(f for f in findings if f.path == str(broken)) == {
            ("QL017", 2),
            ("QL020", 4),
            ("QL030", 5),
            ("QL040", 6),
            ("QL041", 7),
            ("QL001", 8),
            ("QL013", 9),
            ("QL011", 11),
        }
        # The generator loads no file of a folder with web.container's line 8 in it.
        assert hits(f for f in findings if f.path == str(other)) == {("QL006", 1), ("QL020", 1), ("QL014", 3)}
        assert findings == sorted(findings, key=lambda f: (f.path, f.line, f.rule_id, f.key or ""))

    def test_every_finding_names_place_reason_and_fix(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Restart=always\n")
        (finding,) = lint(path)
        assert finding.severity == RULES[finding.rule_id].severity == "error"
        assert finding.location == f"{path}:6"
        assert str(finding).startswith(f"{path}:6: QL014 error: Restart= is a systemd [Service]")
        assert str(finding).endswith("Fix: move Restart= to [Service]")


class TestVersionsAndCli:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [("5.4.2", (5, 4, 2)), ("v4.4.0-dev", (4, 4, 0)), ("5.0", (5, 0))],
    )
    def test_parse_version(self, text: str, expected: Version) -> None:
        assert parse_version(text) == expected

    def test_a_string_version_is_accepted_by_lint_paths(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Pod=x.pod\n")
        assert {f.rule_id for f in lint_paths([path], "4.4.0")} == {"QL012", "QL031"}

    def test_parse_version_rejects_nonsense(self) -> None:
        with pytest.raises(ValueError, match="not a Podman version"):
            parse_version("latest")

    def test_cli_exit_codes(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["lint", "--podman-version", "5.4.2", "--target", "phoenix.target", str(REFERENCE_DIR)]) == 0
        broken = write(tmp_path, "web.container", GOOD_CONTAINER + "Restart=always\n")
        assert main(["lint", "--podman-version", "5.4.2", "--profile", "validity", str(broken)]) == 1
        assert "QL014" in capsys.readouterr().out
        assert main(["lint"]) == 2


def _dry_run_script(files: dict[str, str]) -> str:
    """Shell that writes files into a fresh temp dir, dry-runs Quadlet on it and removes it."""
    lines = ["d=$(mktemp -d)", "trap 'rm -rf \"$d\"' EXIT"]
    for number, (name, text) in enumerate(files.items()):
        lines.append(f"cat > \"$d/{name}\" <<'QL_EOF_{number}'\n{text.rstrip()}\nQL_EOF_{number}")
    lines.append('QUADLET_UNIT_DIRS="$d" /usr/libexec/podman/quadlet -dryrun -user 2>&1')
    return "\n".join(lines)


@pytest.fixture(scope="module")
def guest() -> None:
    """The reference host, if it is up; these comparisons never boot it."""
    from phoenix_compliance import refhost

    if not refhost.is_up():
        pytest.skip("the reference host is down; run `phoenix-refhost up` to compare with the real generator")


@pytest.mark.refhost
class TestRealGenerator:
    """Compare with the Quadlet generator of the reference host; nothing stays in the guest."""

    def run(self, files: dict[str, str]) -> tuple[int, str]:
        from phoenix_compliance import refhost

        done = refhost.run_in_guest(["sh", "-c", _dry_run_script(files)], user="phoenix", timeout=120)
        return done.returncode, done.stdout + done.stderr

    def guest_version(self) -> Version:
        from phoenix_compliance import refhost

        done = refhost.run_in_guest(["podman", "--version"], user="phoenix", timeout=60)
        return parse_version(done.stdout.split()[-1])

    def test_reference_units_pass_the_real_generator(self, guest: None) -> None:
        units = [*sorted(REFERENCE_DIR.glob("*.container")), REFERENCE_DIR / "phoenix-hydra.pod"]
        code, output = self.run({path.name: path.read_text(encoding="utf-8") for path in units})
        assert code == 0, output
        generated = {line.strip("-") for line in output.splitlines() if line.startswith("---")}
        assert generated == {service_name(parse_file(path)) for path in units}
        assert "unsupported" not in output and "warning" not in output.lower(), output

    def test_key_table_matches_the_real_generator(self, guest: None) -> None:
        version = self.guest_version()
        base = {"Container": "Image=localhost/x:1\n", "Kube": "Yaml=/dev/null\n", "Image": "Image=localhost/x:1\n"}
        base["Build"] = "ImageTag=localhost/x:1\nFile=/dev/null\n"
        files: dict[str, str] = {}
        expected_rejected: set[str] = set()
        for section, table in QUADLET_KEYS.items():
            if section == "Quadlet" or FILE_TYPE_SINCE[section.lower()] > version:
                continue  # [Quadlet] is probed with the other keys in the differential's key probe
            for key, since in table.items():
                name = f"probe-{section}-{key}.{section.lower()}"
                files[name] = f"[{section}]\n{base.get(section, '')}{key}=1\n"
                if since > version:
                    expected_rejected.add(name)
        _code, output = self.run(files)
        rejected = set(re.findall(r'converting "([^"]+)": unsupported key', output))
        assert rejected == expected_rejected, f"Podman {format_version(version)} disagrees with the table"


class TestGeneratorRules:
    """Rules proven against the 5.4.2 and 5.8.6 generators (test_quadlet_differential.py); here one
    small file each, with the rule and line the lint must name."""

    @pytest.mark.parametrize(
        ("file_name", "body", "expected"),
        [
            ("a.container", GOOD_CONTAINER + "[Service]\nKillMode=process\n", {("QL018", 7)}),
            ("a.container", GOOD_CONTAINER + "[Service]\nType=simple\n", {("QL018", 7)}),
            ("a.container", GOOD_CONTAINER + "Group=1000\n", {("QL022", 6)}),
            ("a.container", GOOD_CONTAINER + "RemapUid=0:1:1\n", {("QL022", 6)}),
            ("a.container", GOOD_CONTAINER + "RemapUsers=bogus\n", {("QL027", 6)}),
            ("a.kube", "[Kube]\nYaml=/a.yaml\nRemapUsers=manual\n", {("QL027", 3)}),
            ("a.container", GOOD_CONTAINER + "UserNS=keep-id\nRemapUsers=keep-id\n", {("QL028", 7)}),
            ("a.network", "[Network]\nGateway=10.0.0.1\n", {("QL023", 2)}),
            (
                "a.network",
                "[Network]\nSubnet=10.0.0.0/24\nIPRange=10.0.0.0/25\nIPRange=10.0.0.128/25\n",
                {("QL023", 4)},
            ),
            ("a.network", "[Network]\nGateway=10.0.0.1\nGateway=\n", set()),  # an empty value clears the list
            ("a.volume", "[Volume]\nType=nfs\n", {("QL022", 2)}),
            ("a.volume", "[Volume]\nDriver=image\n", {("QL020", 2)}),
            ("a.build", "[Build]\nImageTag=localhost/a:1\nFile=Containerfile\n", {("QL024", 3)}),
            ("a.build", "[Build]\nImageTag=localhost/a:1\nSetWorkingDirectory=yaml\n", {("QL024", 3)}),
            ("a.kube", "[Kube]\nYaml=/a.yaml\nSetWorkingDirectory=/src\n", {("QL024", 3)}),
            ("a.container", GOOD_CONTAINER + "ExposeHostPort=http\n", {("QL026", 6)}),
            ("a.container", GOOD_CONTAINER + "Image=missing.image\n", {("QL016", 6), ("QL031", 6)}),
            ("a.container", GOOD_CONTAINER + "Mount=source=/a,destination=/a\n", {("QL045", 6)}),
            ("a.container", GOOD_CONTAINER + "Mount=type=bind,destination=/a\n", {("QL045", 6)}),
            ("a.container", GOOD_CONTAINER + "Mount=type=bind,destination=/a\\q\n", set()),  # unsplittable: ignored
            ("a.container", GOOD_CONTAINER + "Mount=type=volume,source=v.volume,destination=/a\n", {("QL031", 6)}),
            ("a.container", GOOD_CONTAINER + "Network=c.container:ip=10.0.0.2\n", {("QL031", 6)}),
            ("a.container", GOOD_CONTAINER + "[Unit]\nAfter=b.container\n", {("QL036", 7)}),
            ("a.container", "[Container]\nImage=busybox\n", {("QL025", 2)}),
            ("a.container", '[Container]\nImage="localhost/a:1\n', set()),  # Lookup() trims every quote
            ("a.container", GOOD_CONTAINER + 'Volume="/srv:/srv"\n', {("QL047", 6)}),
            ("a.container", GOOD_CONTAINER + "Volume=/srv:/srv:bogus\n", {("QL044", 6)}),
            ("a.container", GOOD_CONTAINER + "Environment=FOO\n", {("QL060", 6)}),
            ("a.container", GOOD_CONTAINER + "PublishPort=80:http\n", {("QL061", 6)}),
            ("a.container", GOOD_CONTAINER + "Secret=s,type=file\n", {("QL062", 6)}),
            ("a.container", GOOD_CONTAINER + "UserNS=sometimes\n", {("QL063", 6)}),
            ("a.container", GOOD_CONTAINER + "AutoUpdate=daily\n", {("QL064", 6)}),
            ("a.container", GOOD_CONTAINER + "ContainerName=my web\n", {("QL070", 6)}),
            ("a.container", GOOD_CONTAINER + "\\\n\\\n", set()),  # lone backslashes are empty lines
        ],
    )
    def test_rule(self, tmp_path: Path, file_name: str, body: str, expected: set[tuple[str, int]]) -> None:
        assert hits(lint(write(tmp_path, file_name, body))) == expected

    def test_joining_a_container_whose_name_quadlet_cannot_resolve(self, tmp_path: Path) -> None:
        write(tmp_path, "db.container", "[Container]\nImage=localhost/db:1\nContainerName=%p-db\n")
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Network=db.container\n")
        assert hits(only(lint(tmp_path), "QL038")) == {("QL038", 6)}
        write(tmp_path, "db.container", "[Container]\nImage=localhost/db:1\nContainerName=%N-db\n")
        assert lint(path, tmp_path / "db.container") == []

    def test_dependencies_name_quadlet_files_from_5_5(self, tmp_path: Path) -> None:
        write(tmp_path, "db.container", "[Container]\nImage=localhost/db:1\n")
        write(tmp_path, "web.container", GOOD_CONTAINER + "[Unit]\nRequires=db.container gone.container\n")
        assert hits(lint(tmp_path, version=(5, 5, 0))) == {("QL035", 7)}
        write(tmp_path, "web.container", GOOD_CONTAINER + "[Unit]\nRequires=db.service\n")
        assert hits(lint(tmp_path, version=(5, 5, 0))) == {("QL037", 7)}
        assert lint(tmp_path, version=PODMAN_5_4) == []


class TestDropins:
    def test_a_dropin_completes_the_unit(self, tmp_path: Path) -> None:
        write(tmp_path, "web.container", "[Container]\nExec=true\n")
        write(tmp_path, "web.container.d/10-image.conf", "[Container]\nImage=localhost/web:1\n")
        assert lint(tmp_path) == []

    def test_findings_in_a_dropin_name_the_dropin(self, tmp_path: Path) -> None:
        write(tmp_path, "web.container", GOOD_CONTAINER)
        dropin = write(tmp_path, "container.d/50-extra.conf", "[Container]\nImagee=x\ngarbage\n")
        findings = lint(tmp_path)
        assert {(f.path, f.line, f.rule_id) for f in findings} == {(str(dropin), 2, "QL013"), (str(dropin), 3, "QL001")}

    @pytest.mark.parametrize(
        ("unit", "folder"),
        [
            ("web.container", "web.container.d"),
            ("web.container", "container.d"),
            ("phoenix-web.container", "phoenix-.container.d"),
            ("web@blue.container", "web@.container.d"),
        ],
    )
    def test_where_quadlet_looks(self, tmp_path: Path, unit: str, folder: str) -> None:
        write(tmp_path, unit, "[Container]\nExec=true\n")
        write(tmp_path, f"{folder}/10-image.conf", "[Container]\nImage=localhost/web:1\n")
        assert lint(tmp_path) == []

    def test_the_more_specific_dropin_of_a_name_wins(self, tmp_path: Path) -> None:
        write(tmp_path, "web.container", GOOD_CONTAINER)
        write(tmp_path, "web.container.d/10-x.conf", "[Container]\nLabel=a=b\n")
        write(tmp_path, "container.d/10-x.conf", "[Container]\nBogus=1\n")
        assert lint(tmp_path) == []


class TestSearchOrder:
    def test_a_file_hidden_by_one_of_the_same_name_is_not_linted(self, tmp_path: Path) -> None:
        write(tmp_path, "web.container", GOOD_CONTAINER)
        hidden = write(tmp_path, "old/web.container", "[Container]\nBogus=1\n")
        assert hits(lint(tmp_path)) == {("QL039", 1)}
        assert only(lint(tmp_path), "QL039")[0].path == str(hidden)


class TestLaterReleases:
    """Rules that changed after 5.4 (quadlet.go and parser/unitfile.go at each tag; proven on 5.8.6)."""

    def test_reload_command_and_signal_are_exclusive(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "ReloadCmd=/bin/kill -HUP 1\nReloadSignal=SIGHUP\n")
        findings = lint(path, version=(5, 8, 6))
        assert hits(findings) == {("QL021", 7)}
        assert "mutually exclusive" in findings[0].message
        only_signal = write(tmp_path / "b", "web.container", GOOD_CONTAINER + "ReloadCmd=\nReloadSignal=SIGHUP\n")
        assert lint(only_signal, version=(5, 8, 6)) == []

    def test_several_yaml_files_from_5_7(self, tmp_path: Path) -> None:
        path = write(tmp_path, "app.kube", "[Kube]\nYaml=/srv/a.yaml\nYaml=/srv/b.yaml\n")
        assert {f.rule_id for f in lint(path, version=(5, 6, 2))} == {"QL016"}
        assert lint(path, version=(5, 7, 0)) == []

    def test_set_working_directory_yaml_needs_a_single_yaml_from_5_7(self, tmp_path: Path) -> None:
        path = write(tmp_path, "app.kube", "[Kube]\nYaml=/srv/a.yaml\nYaml=/srv/b.yaml\nSetWorkingDirectory=yaml\n")
        findings = lint(path, version=(5, 8, 6))
        assert hits(findings) == {("QL024", 4)}
        assert "only supported when a single Yaml key is provided" in findings[0].message

    def test_a_lone_quote_is_kept_from_5_8_2(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", '[Container]\nImage="\n')
        # Both read it as empty: no image, and the generator's short-name warning names the empty image.
        assert {f.rule_id for f in lint(path, version=(5, 8, 1))} == {"QL020", "QL025"}
        assert {f.rule_id for f in lint(path, version=(5, 8, 2))} == {"QL025"}
        pair = write(tmp_path / "b", "web.container", '[Container]\nImage=""\n')
        assert {f.rule_id for f in lint(pair, version=(5, 8, 2))} == {"QL020", "QL025"}

    def test_specifiers_in_build_file_from_5_7(self, tmp_path: Path) -> None:
        path = write(tmp_path, "app.build", "[Build]\nImageTag=localhost/b:1\nFile=%h/src/Containerfile\n")
        assert {f.rule_id for f in lint(path, version=(5, 6, 2))} == {"QL024"}
        assert lint(path, version=(5, 7, 0)) == []

    def test_mount_without_type_is_a_volume_from_5_6(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Mount=source=/srv/a,destination=/a\n")
        assert {f.rule_id for f in lint(path, version=(5, 5, 2))} == {"QL045"}
        assert lint(path, version=(5, 6, 0)) == []

    def test_an_artifact_needs_its_artifact(self, tmp_path: Path) -> None:
        path = write(tmp_path, "a.artifact", "[Artifact]\nQuiet=true\n")
        findings = lint(path, version=(5, 8, 6))
        assert hits(findings) == {("QL020", 1)}
        assert "no Artifact key specified" in findings[0].message


class TestPodman6:
    """What 6.0 changed (quadlet.go at v6.0.0-rc1 against v5.8.2; proven on the real 6.1.1 generator):
    Podman 6's own test corpus gave these false errors when judged with 5.8.6's tables."""

    def test_volume_uid_and_gid_are_keys_from_6_0(self, tmp_path: Path) -> None:
        path = write(tmp_path, "data.volume", "[Volume]\nUID=1000\nGID=1000\n")
        assert hits(lint(path, version=(5, 8, 6))) == {("QL012", 2), ("QL012", 3)}
        assert lint(path, version=(6, 0, 0)) == []
        assert lint(path, version=(6, 1, 1)) == []

    def test_volume_options_without_device_from_6_0(self, tmp_path: Path) -> None:
        path = write(tmp_path, "data.volume", "[Volume]\nOptions=nodev\n")
        assert hits(lint(path, version=(5, 8, 6))) == {("QL022", 2)}
        assert lint(path, version=(6, 1, 1)) == []
        typed = write(tmp_path / "b", "data.volume", "[Volume]\nType=tmpfs\n")
        assert hits(lint(typed, version=(6, 1, 1))) == {("QL022", 2)}

    def test_an_anonymous_volume_mount_from_6_0(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Mount=type=volume,destination=/data\n")
        assert hits(lint(path, version=(5, 8, 6))) == {("QL045", 6)}
        assert lint(path, version=(6, 1, 1)) == []
        untyped = write(tmp_path / "b", "web.container", GOOD_CONTAINER + "Mount=destination=/data\n")
        assert lint(untyped, version=(6, 1, 1)) == []

    def test_other_mount_types_still_need_a_source_at_6_0(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "Mount=type=bind,destination=/data\n")
        findings = lint(path, version=(6, 1, 1))
        assert hits(findings) == {("QL045", 6)}
        assert "source parameter is required for mount type bind" in findings[0].message

    def test_slirp4netns_is_a_stack_error_from_6_0(self, tmp_path: Path) -> None:
        text = GOOD_CONTAINER + "Network=slirp4netns:port_handler=slirp4netns\n"
        path = write(tmp_path, "web.container", text)
        stack = StackRules(kinds=())
        assert lint(path, version=(5, 8, 6), stack=stack) == []
        findings = only(lint(path, version=(6, 1, 1), stack=stack), "QL048")
        assert [(f.severity, f.line, f.key) for f in findings] == [("error", 6, "Network")]
        assert "slirp4netns support has been removed, use --network=pasta instead" in findings[0].message
        assert [f.severity for f in lint(path, version=(6, 1, 1))] == ["warning"]

    @pytest.mark.parametrize(
        "line",
        [
            "GlobalArgs=--network-cmd-path=/usr/bin/slirp4netns",
            "GlobalArgs=--network-cmd-path /usr/bin/slirp4netns",
            "PodmanArgs=--network-cmd-path=/usr/bin/slirp4netns",
            "PodmanArgs=--network slirp4netns",
            "PodmanArgs=--net=slirp4netns:allow_host_loopback=true",
        ],
    )
    def test_network_cmd_path_and_slirp4netns_flags_are_stack_errors_from_6_0(self, tmp_path: Path, line: str) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + line + "\n")
        stack = StackRules(kinds=())
        assert lint(path, version=(5, 8, 6), stack=stack) == []
        findings = lint(path, version=(6, 0, 0), stack=stack)
        assert hits(findings) == {("QL048", 6)}
        assert findings[0].severity == "error" and findings[0].key == line.partition("=")[0]

    def test_pasta_and_other_flags_are_not_flagged(self, tmp_path: Path) -> None:
        text = GOOD_CONTAINER + "Network=pasta\nPodmanArgs=--network-alias=web --net=host\n"
        assert lint(write(tmp_path, "web.container", text), version=(6, 1, 1), stack=StackRules(kinds=())) == []


class TestNewerThanKnown:
    NEWER: Version = (6, 2, 0)

    def test_said_once_as_a_warning_with_the_version_used(self, tmp_path: Path) -> None:
        write(tmp_path, "a.container", GOOD_CONTAINER)
        write(tmp_path, "b.container", GOOD_CONTAINER)
        findings = lint(tmp_path, version=self.NEWER)
        notes = [f for f in findings if f.rule_id == "QL009"]
        assert len(notes) == 1
        assert notes[0].severity == "warning"
        assert "Podman 6.2.0 is newer than 6.1.1" in notes[0].message
        assert "judged with what 6.1.1 accepts" in notes[0].message

    def test_not_said_for_a_known_release(self, tmp_path: Path) -> None:
        write(tmp_path, "a.container", GOOD_CONTAINER)
        assert lint(tmp_path, version=(5, 8, 6)) == []
        assert lint(tmp_path, version=(6, 1, 1)) == []

    def test_a_key_the_tables_lack_is_a_warning_that_says_so(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "CpuWeight=100\n")
        assert hits(lint(path, version=(6, 1, 1))) == {("QL013", 6)}
        findings = [f for f in lint(path, version=self.NEWER) if f.line == 6]
        assert [(f.rule_id, f.severity) for f in findings] == [("QL009", "warning")]
        assert "not a [Container] key in any Podman release up to 6.1.1" in findings[0].message
        assert "Podman 6.2.0 may have added it" in findings[0].message

    def test_a_key_in_the_wrong_case_is_still_an_error(self, tmp_path: Path) -> None:
        path = write(tmp_path, "web.container", GOOD_CONTAINER + "image=localhost/x\n")
        assert {f.rule_id for f in lint(path, version=self.NEWER) if f.line == 6} == {"QL013"}


# Podman's own table of generator warnings (test/e2e/quadlet_test.go, "Running expected warning
# quadlet test case", 5.6 to 5.8.2): file name, a unit that makes the warning, the lint's rule.
GENERATOR_WARNINGS: list[tuple[str, str, str]] = [
    ("label-unsupported-escape.container", "[Container]\nImage=localhost/i\nLabel=regex=^foo(\\?.*)?$\n", "QL065"),
    ("shortname.container", "[Container]\nImage=shortname\n", "QL025"),
    ("service-user.container", "[Container]\nImage=localhost/i\nUser=1000\n[Service]\nUser=1000\n", "QL019"),
    ("service-group.container", "[Container]\nImage=localhost/i\nUser=1\nGroup=1\n[Service]\nGroup=1\n", "QL019"),
    (
        "service-dynamicuser.build",
        "[Build]\nImageTag=localhost/i\nSetWorkingDirectory=unit\n[Service]\nDynamicUser=x\n",
        "QL019",
    ),
    ("service-dynamicuser.container", "[Container]\nImage=localhost/i\n[Service]\nDynamicUser=x\n", "QL019"),
    ("service-dynamicuser.image", "[Image]\nImage=localhost/i\n[Service]\nDynamicUser=x\n", "QL019"),
    ("service-dynamicuser.kube", "[Kube]\nYaml=deployment.yml\n[Service]\nDynamicUser=x\n", "QL019"),
    ("service-dynamicuser.network", "[Service]\nDynamicUser=x\n", "QL019"),
    ("service-dynamicuser.pod", "[Service]\nDynamicUser=x\n", "QL019"),
    ("service-dynamicuser.volume", "[Service]\nDynamicUser=x\n", "QL019"),
    ("exec-unsupported-escape.container", "[Container]\nImage=localhost/i\nExec='test\\.com'\n", "QL065"),
    ("reloadcmd-unsupported-escape.container", "[Container]\nImage=localhost/i\nReloadCmd='test\\.sh'\n", "QL065"),
]


class TestGeneratorWarnings:
    @pytest.mark.parametrize(("name", "text", "rule"), GENERATOR_WARNINGS, ids=[c[0] for c in GENERATOR_WARNINGS])
    def test_each_warning_of_podmans_table_is_a_lint_warning(
        self, tmp_path: Path, name: str, text: str, rule: str
    ) -> None:
        findings = lint(write(tmp_path, name, text), version=(5, 8, 6))
        assert {f.rule_id for f in findings if f.severity != "info"} == {rule}
        assert all(f.severity == "warning" for f in findings if f.rule_id == rule)

    def test_all_thirteen_are_covered(self) -> None:
        assert len(GENERATOR_WARNINGS) == 13
