"""Selftests for the Quadlet linter's rules at one release: syntax, sections, keys, pods, volumes, the stack's rules."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from quadlet_lint_cases import (
    GOOD_CONTAINER,
    PODMAN_5_4,
    hits,
    lint,
    only,
    write,
)

from phoenix_compliance.quadlet.unitfile import parse_text
from phoenix_compliance.quadlet_lint import (
    RULES,
    StackRules,
    lint_paths,
    lint_units,
)


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
