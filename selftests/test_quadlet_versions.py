"""Selftests for the Quadlet linter across Podman releases: file types and keys per release,
later releases, 6.0, newer than known.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from quadlet_lint_cases import (
    GOOD_CONTAINER,
    PODMAN_4_4,
    PODMAN_5_4,
    hits,
    lint,
    only,
    write,
)

from phoenix_compliance.quadlet_lint import (
    QUADLET_KEYS,
    StackRules,
    Version,
    format_version,
    keys_for,
)


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
