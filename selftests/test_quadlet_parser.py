"""Selftests for the unit-file parser (phoenix_compliance.quadlet.unitfile) and the generated service names."""

from __future__ import annotations

from pathlib import Path

import pytest
from quadlet_lint_cases import (
    GOOD_CONTAINER,
    write,
)

from phoenix_compliance.quadlet.names import service_name
from phoenix_compliance.quadlet.unitfile import parse_file, parse_text


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
