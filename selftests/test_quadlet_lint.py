"""Selftests for the Quadlet linter as a whole: the reference units, every finding at once, the CLI,
the generator's own rules (drop-ins, search order, warnings) and the comparison with the
reference host's generator.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from quadlet_lint_cases import (
    GOOD_CONTAINER,
    PODMAN_4_4,
    PODMAN_5_4,
    REFERENCE_DIR,
    hits,
    line_of,
    lint,
    only,
    write,
)

from phoenix_compliance.cli import main
from phoenix_compliance.quadlet.names import service_name
from phoenix_compliance.quadlet.unitfile import parse_file
from phoenix_compliance.quadlet_lint import (
    FILE_TYPE_SINCE,
    QUADLET_KEYS,
    RULES,
    StackRules,
    Version,
    format_version,
    lint_paths,
    parse_version,
)

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
