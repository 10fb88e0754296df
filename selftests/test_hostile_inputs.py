"""Hostile but fair input: every file the user hands the suite is bounded, strictly read and
reported at its file and line, never a traceback (issue 13)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from phoenix_compliance.facts.files import local_quadlet_folder, quadlet_declarations
from phoenix_compliance.parsers import compose, manifest, waivers, yamlmarks
from phoenix_compliance.quadlet import unitfile as quadlet

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
REFERENCE = (REPO / "fixtures" / "stacks" / "reference.yaml").read_text()


def bomb(levels: int = 9, width: int = 9) -> str:
    """A billion laughs: each anchor a list of `width` aliases of the one before."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


# Run in a child whose address space is capped: a loader that expands the bomb dies of
# MemoryError there instead of taking the machine with it.
_CAPPED = """
import resource, sys, time
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from phoenix_compliance.parsers import compose, manifest, waivers
kind, path = sys.argv[1], Path(sys.argv[2])
start = time.process_time()
try:
    if kind == "compose":
        result = compose.load(path)
        message = str(result.problems[0]) if result.problems else "no problem"
    else:
        (manifest if kind == "manifest" else waivers).load(path)
        message = "loaded"
except ValueError as exc:
    message = str(exc)
print(f"{{time.process_time() - start:.3f}} {{message}}")
"""
MEMORY_CAP = 512 * 1024 * 1024


def load_capped(kind: str, path: Path) -> tuple[float, str]:
    done = subprocess.run(
        [sys.executable, "-c", _CAPPED.format(cap=MEMORY_CAP), kind, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    seconds, _, message = done.stdout.strip().partition(" ")
    return float(seconds), message


class TestBoundedYaml:
    @pytest.mark.parametrize("kind", ["manifest", "waivers", "compose"])
    def test_a_yaml_bomb_is_refused_in_well_under_a_second(self, tmp_path: Path, kind: str) -> None:
        path = tmp_path / f"{kind}.yaml"
        path.write_text(bomb())
        seconds, message = load_capped(kind, path)
        assert "expands to more than" in message and message.startswith(f"{path}:"), message
        # CPU time of the child, under a 512 MB address-space cap; generous against a slow CI.
        assert seconds < 2.0

    @pytest.mark.parametrize("kind", ["manifest", "waivers", "compose"])
    def test_a_50_mb_file_is_refused_without_being_parsed(self, tmp_path: Path, kind: str) -> None:
        path = tmp_path / f"{kind}.yaml"
        with path.open("w") as handle:
            handle.write("services:\n")
            for index in range(50 * 1024 * 1024 // 32):
                handle.write(f"  s{index:08d}: {{image: x}}      \n")
        seconds, message = load_capped(kind, path)
        assert message == f"{path}:1: the file is larger than 1024 KB; refused" or "larger than 1024 KB" in message
        assert seconds < 2.0

    def test_the_bomb_costs_a_few_mb_at_most(self) -> None:
        import tracemalloc

        text = bomb(levels=12, width=12)
        tracemalloc.start()
        try:
            with pytest.raises(yamlmarks.YamlError, match="expands to more than"):
                yamlmarks.loads(text, "bomb.yaml")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 4 * 1024 * 1024, peak

    def test_nesting_and_self_reference_are_refused(self) -> None:
        with pytest.raises(yamlmarks.YamlError, match="nested"):
            yamlmarks.loads("[" * 10000, "deep.yaml")
        with pytest.raises(yamlmarks.YamlError, match=r"deep\.yaml:1: an alias refers to a node that contains it"):
            yamlmarks.loads("a: &a [*a]\n", "deep.yaml")

    def test_anchors_a_real_compose_file_uses_still_load(self) -> None:
        text = "x-common: &common\n  restart: always\nservices:\n  web:\n    <<: *common\n    image: a/b:1\n"
        result = compose.parse(text, "compose.yaml")
        assert result.ok and result.services["web"].restart == "always"


class TestDates:
    def test_a_date_that_is_not_a_date_anywhere_in_a_compose_file_is_one_problem_at_its_line(self) -> None:
        result = compose.parse("services:\n  web:\n    image: a/b:1\nx-when: 2027-13-45\n", "compose.yaml")
        assert [str(p) for p in result.problems] == [
            "compose.yaml:4: invalid YAML: '2027-13-45' is not a valid date (month must be in 1..12)"
        ]

    def test_in_a_waiver(self) -> None:
        text = "waivers:\n  - check: PHX-1.05\n    justification: j\n    expires: 2027-13-45\n"
        with pytest.raises(waivers.WaiverError, match=r"^w\.yaml:4: invalid YAML: '2027-13-45' is not a valid date"):
            waivers.parse(text, "w.yaml")

    def test_in_a_manifest(self) -> None:
        with pytest.raises(manifest.ManifestError, match=r"^m\.yaml:2: invalid YAML: '2027-13-45' is not a valid"):
            manifest.parse(REFERENCE.replace("\n", "\nx: 2027-13-45\n", 1), "m.yaml")


class TestStrictManifest:
    @pytest.mark.parametrize(
        ("old", "new", "message"),
        [
            ("    healthcheck: true", "    healthchek: true", "unknown key 'healthchek'; did you mean 'healthcheck'?"),
            ('    ports: ["8080:8080"]', '    port: ["8080:8080"]', "unknown key 'port'; did you mean 'ports'?"),
            (
                "    url: http://localhost:8080",
                "    url: http://localhost:8080\n    statuss: 200",
                "endpoints[0]: unknown key 'statuss'; did you mean 'status'?",
            ),
            ("  pod_unit: phoenix-hydra.pod", "  pod_unti: x.pod", "quadlet: unknown key 'pod_unti'; did you mean"),
            ('["8080:8080"]', '["99999:80"]', "ports 1-65535, got '99999:80'"),
            ('["8080:8080"]', '["0:0"]', "ports 1-65535, got '0:0'"),
            ('["8080:8080"]', '["-5:80"]', "ports 1-65535, got '-5:80'"),
            ('["8080:8080"]', '["8080:80/tcpp"]', "protocol 'tcpp' is not one of tcp, udp, sctp"),
            (
                "    url: http://localhost:8080",
                "    url: http://localhost:8080\n    status: 9999",
                "expected an HTTP status code 100-599",
            ),
            ("name: phoenix-hydra", "name: phoenix-hydra\nregistri: r.example.com", "did you mean 'registry'?"),
            ("name: phoenix-hydra", "name: phoenix-hydra\nregistry: https://r.example.com/", "expected HOST[/PATH]"),
            (
                "name: phoenix-hydra",
                "name: phoenix-hydra\nauto_update: always",
                "auto_update: expected one of registry, local (Quadlet's AutoUpdate=), got 'always'",
            ),
            (
                "    units: [grafana-loki.container]",
                "    unitz: [grafana-loki.container]",
                "optional_groups.observability: unknown key 'unitz'; did you mean 'units'?",
            ),
            (
                "    compose_file: infra/podman/observability.compose.yaml",
                "    compose_files: infra/podman/observability.compose.yaml",
                "unknown key 'compose_files'; did you mean 'compose_file'?",
            ),
            ('["3100:3100"]', '["3100:99999"]', "optional_groups.observability.services[0].ports[0]: expected"),
            (
                "    units: [grafana-loki.container]",
                "    units: [grafana-loki.service]",
                "optional_groups.observability.units[0]: expected a Quadlet file name",
            ),
            (
                "      - name: grafana-loki",
                "      - name: phoenix-core",
                "optional_groups.observability.services[0]: 'phoenix-core' is already a service of the stack",
            ),
            (
                "      - service: grafana-loki",
                "      - service: phoenix-core",
                "optional_groups.observability.endpoints[0].service: 'phoenix-core' is not a declared service",
            ),
            (
                '        ports: ["3100:3100"]\n        healthcheck: true',
                '        ports: ["3100:3100"]\n        healthchek: true',
                "unknown key 'healthchek'; did you mean 'healthcheck'?",
            ),
        ],
    )
    def test_a_mistake_at_any_level_is_named_at_its_line(self, old: str, new: str, message: str) -> None:
        assert old in REFERENCE, old
        text = REFERENCE.replace(old, new, 1)
        changed = new.splitlines()[-1]
        line = next(number for number, text_line in enumerate(text.splitlines(), 1) if changed in text_line)
        with pytest.raises(manifest.ManifestError) as raised:
            manifest.parse(text, "stack.yaml")
        assert str(raised.value).startswith(f"stack.yaml:{line}: "), raised.value
        assert message in str(raised.value)

    def test_the_registry_and_automatic_updates_are_read(self) -> None:
        text = REFERENCE.replace(
            "name: phoenix-hydra", "name: phoenix-hydra\nregistry: r.example.com/phoenix\nauto_update: registry", 1
        )
        parsed = manifest.parse(text, "stack.yaml")
        assert (parsed.registry, parsed.auto_update) == ("r.example.com/phoenix", "registry")
        assert (
            manifest.parse(REFERENCE, "stack.yaml").registry,
            manifest.parse(REFERENCE, "stack.yaml").auto_update,
        ) == (
            None,
            None,
        )

    def test_a_byte_that_is_not_utf8_is_reported_at_its_line(self, tmp_path: Path) -> None:
        path = tmp_path / "stack.yaml"
        path.write_bytes(REFERENCE.encode().replace(b"\n", b"\n# caf\xe9\n", 3))
        with pytest.raises(yamlmarks.SourceError) as raised:
            manifest.load(path)
        assert str(raised.value) == f"{path}:2: cannot read the stack manifest: byte 0xe9 is not UTF-8"


class TestComposeServiceKeys:
    def test_typos_are_problems_naming_the_key_and_the_nearest_one(self) -> None:
        text = "services:\n  web:\n    imagee: a/b:1\n    image: a/b:1\n    prots: ['80:80']\n    x-mine: 1\n"
        ignored = "podman-compose ignores the line"
        assert [str(p) for p in compose.parse(text, "compose.yaml").problems] == [
            f"compose.yaml:3: service web: unknown key 'imagee' (did you mean 'image'?); {ignored}",
            f"compose.yaml:5: service web: unknown key 'prots' (did you mean 'ports'?); {ignored}",
        ]

    def test_environment_problems_never_quote_a_value(self) -> None:
        text = (
            "services:\n  web:\n    image: a/b:1\n    environment:\n"
            "      - DB_PASSWORD: marker-one-key-mapping\n      - 'DB PASSWORD=marker-space-name'\n"
        )
        messages = " ".join(str(p) for p in compose.parse(text, "compose.yaml").problems)
        assert "entry for DB_PASSWORD is a mapping" in messages and "'DB PASSWORD'" in messages
        assert "marker" not in messages


class TestQuadletFiles:
    def test_a_latin1_byte_is_a_problem_at_its_line(self) -> None:
        unit = quadlet.parse_bytes(b"[Container]\nImage=a/b:1\n# caf\xe9\nExec=x\n", "web.container")
        assert [(p.line, p.kind) for p in unit.problems] == [(3, "not-utf-8")]
        assert unit.values("Container", "Exec") == ["x"]

    def test_units_that_exist_but_cannot_be_read_are_named_unreadable(self, tmp_path: Path) -> None:
        (tmp_path / "ok.container").write_text("[Container]\nImage=a/b:1\n")
        (tmp_path / "dangling.container").symlink_to(tmp_path / "nowhere")
        os.mkfifo(tmp_path / "fifo.container")
        (tmp_path / "latin.container").write_bytes(b"[Container]\n# \xe9\nImage=a/b:1\n")
        folder = local_quadlet_folder(tmp_path, "phoenix.target")
        problems = {name: [(p.line, p.kind, p.message) for p in unit.problems] for name, unit in folder.units.items()}
        assert problems["ok.container"] == []
        assert problems["dangling.container"][0][:2] == (1, "unreadable")
        assert "dangling symbolic link" in problems["dangling.container"][0][2]
        assert problems["fifo.container"] == [(1, "unreadable", "the file cannot be read: a FIFO, not a regular file")]
        assert problems["latin.container"] == [(2, "not-utf-8", "byte 0xe9 is not UTF-8; save the file as UTF-8")]

    def test_an_unclosed_quote_in_environment_is_named_not_raised(self) -> None:
        unit = quadlet.parse_text('[Container]\nImage=a/b:1\nEnvironment=A=1 B="x y\n', "web.container")
        env = quadlet_declarations(unit, None)["environment"]
        assert {"A", "B"} <= env
        assert "(Environment= at line 3 cannot be read: unclosed quote or bad escape)" in env


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", *args)


CHECKS = """
from phoenix_compliance.checks import check

@check("T-1.05", phase="1", severity="high", title="fails", remediation="none")
def test_fails():
    assert False, "expected x"
"""


class TestOptionPaths:
    @pytest.mark.parametrize(
        ("option", "value", "message"),
        [
            ("--compose-file", "nowhere.yaml", "--compose-file: nowhere.yaml does not exist"),
            ("--compose-file", ".", "--compose-file: . is a folder; a file is expected"),
            ("--quadlet-dir", "nowhere", "--quadlet-dir: nowhere does not exist"),
            ("--quadlet-dir", "test_checks.py", "--quadlet-dir: test_checks.py is not a folder"),
            ("--source-dir", "nowhere", "--source-dir: nowhere does not exist"),
            ("--source-dir", "test_checks.py", "--source-dir: test_checks.py is not a folder"),
            ("--source-dir", ".", "--source-dir: . has no systemd/ folder (the repository's Quadlet units)"),
            ("--waivers", "nowhere.yaml", "--waivers: nowhere.yaml does not exist"),
            ("--waivers", ".", "--waivers: . is a folder; a file is expected"),
            ("--compare", "nowhere.json", "--compare: nowhere.json does not exist"),
            ("--stack", ".", "--stack: .:1: cannot read the stack manifest: not a regular file"),
        ],
    )
    def test_a_path_that_does_not_exist_or_is_the_wrong_type_is_a_usage_error(
        self, pytester: pytest.Pytester, option: str, value: str, message: str
    ) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        result = run(pytester, f"{option}={value}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert f"ERROR: {message}" in result.stderr.str()

    @pytest.mark.parametrize(
        ("document", "message"),
        [
            ({"format": "phoenix-compliance/1", "results": {}}, "'results' is not a list"),
            ({"format": "phoenix-compliance/1", "results": ["x"]}, "results[0] is not an object"),
            ({"format": "phoenix-compliance/1", "results": [{"host": "h"}]}, "results[0].key is missing"),
            ([1, 2], "not a phoenix-compliance JSON report"),
        ],
    )
    def test_a_previous_report_with_broken_fields_is_a_usage_error(
        self, pytester: pytest.Pytester, document: object, message: str
    ) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        (pytester.path / "old.json").write_text(json.dumps(document))
        result = run(pytester, "--compare=old.json")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
        assert message in result.stderr.str()


class TestWaiverIds:
    @pytest.mark.parametrize(
        ("check_id", "message"),
        [
            ("T-1.5", "check 'T-1.5' is not a check of this suite; did you mean T-1.05?"),
            ("t-1.05", "check 't-1.05' is not a check of this suite; did you mean T-1.05?"),
        ],
    )
    def test_a_waiver_for_a_check_the_catalogue_does_not_have_is_a_usage_error(
        self, pytester: pytest.Pytester, check_id: str, message: str
    ) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        (pytester.path / "waivers.yaml").write_text(
            textwrap.dedent(
                f"""\
                waivers:
                  - check: {check_id}
                    justification: later
                    expires: 2999-01-01
                """
            )
        )
        result = run(pytester, "--waivers=waivers.yaml")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert f"--waivers: waivers.yaml:2: {message}" in result.stderr.str()


class TestThroughTheSuite:
    """The same inputs through the real checks, judged from local files: one failing check
    naming file and line, never a traceback in every check of the phase."""

    def suite(self, pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
        result = pytester.runpytest_subprocess(
            str(REPO / "tests"),
            f"--stack={REPO / 'fixtures/stacks/reference.yaml'}",
            f"--reports-dir={pytester.path / 'reports'}",
            *args,
        )
        output = result.stdout.str() + result.stderr.str()
        for crash in ("Traceback", "INTERNALERROR", "ValueError", "UnicodeDecodeError", "ReadError"):
            assert crash not in output, output
        return result

    def failed(self, result: pytest.RunResult) -> list[str]:
        return [
            line.split("::")[1].split(" ")[0].split("[")[0] for line in result.stdout.lines if line.startswith("FAILED")
        ]

    def test_a_date_that_is_not_a_date_fails_phx_2_01_alone(self, pytester: pytest.Pytester) -> None:
        compose_file = pytester.path / "compose.yaml"
        compose_file.write_text((REPO / "fixtures/infra/podman/compose.yaml").read_text() + "x-when: 2027-13-45\n")
        line = len(compose_file.read_text().splitlines())
        result = self.suite(pytester, "--phase=2", f"--compose-file={compose_file}")
        result.stdout.fnmatch_lines([f"*{compose_file}:{line}: invalid YAML: '2027-13-45' is not a valid date*"])
        assert self.failed(result) == ["test_compose_file_valid"]

    def test_a_typo_in_a_service_key_fails_phx_2_01_naming_it(self, pytester: pytest.Pytester) -> None:
        compose_file = pytester.path / "compose.yaml"
        text = (REPO / "fixtures/infra/podman/compose.yaml").read_text()
        compose_file.write_text(text.replace("    restart: always\n", "    restart: always\n    prots: ['1:1']\n", 1))
        result = self.suite(pytester, "--phase=2", f"--compose-file={compose_file}")
        result.stdout.fnmatch_lines(
            ["*compose.yaml:*: service phoenix-core: unknown key 'prots' (did you mean 'ports'?)*"]
        )
        assert "test_compose_file_valid" in self.failed(result)

    def test_broken_units_are_findings_of_phx_3_02_at_their_line(self, pytester: pytest.Pytester) -> None:
        folder = pytester.path / "systemd"
        shutil.copytree(REPO / "fixtures/infra/podman/systemd", folder)
        core = folder / "phoenix-core.container"
        core.write_bytes(core.read_bytes().replace(b"[Container]\n", b"[Container]\n# caf\xe9 au lait\n", 1))
        bad_line = core.read_bytes().split(b"\n").index(b"# caf\xe9 au lait") + 1
        toolkit = folder / "nca-toolkit.container"
        toolkit.unlink()
        toolkit.symlink_to(folder / "gone.container")
        n8n = folder / "n8n-phoenix.container"
        n8n.unlink()
        os.mkfifo(n8n)
        db = folder / "revenue-db.container"
        db.write_text(db.read_text().replace("[Container]\n", '[Container]\nEnvironment=A=1 B="open\n', 1))
        env_line = db.read_text().splitlines().index('Environment=A=1 B="open') + 1
        compose_file = REPO / "fixtures/infra/podman/compose.yaml"
        result = self.suite(pytester, "--phase=3", f"--quadlet-dir={folder}", f"--compose-file={compose_file}")
        result.stdout.fnmatch_lines_random(
            [
                f"*{core}:{bad_line}: QL000 error: byte 0xe9 is not UTF-8*",
                f"*{toolkit}:1: QL000 error: the file cannot be read:*dangling symbolic link*",
                f"*{n8n}:1: QL000 error: the file cannot be read: a FIFO, not a regular file*",
                f"*Environment= at line {env_line} cannot be read: unclosed quote or bad escape*",
            ]
        )

    def test_under_xdist_too(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        (pytester.path / "waivers.yaml").write_text(
            "waivers:\n  - check: T-1.5\n    justification: later\n    expires: 2999-01-01\n"
        )
        result = run(pytester, "-n", "2", "--waivers=waivers.yaml")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert "--waivers: waivers.yaml:2: check 'T-1.5' is not a check of this suite; did you mean T-1.05?" in (
            result.stderr.str()
        )
        assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


class TestQuadletFolderFromTheHost:
    def test_the_hosts_tar_with_a_bad_byte_a_link_and_a_fifo(self) -> None:
        import io
        import tarfile

        from phoenix_compliance.facts.files import quadlet_units, read_quadlet_folder
        from phoenix_compliance.quadlet.discovery import ListingTree

        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:") as archive:
            data = b"[Container]\nImage=a/b:1\n# caf\xe9\n"
            member = tarfile.TarInfo("./web.container")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
            link = tarfile.TarInfo("./db.container")
            link.type, link.linkname = tarfile.SYMTYPE, "/nowhere/db.container"
            archive.addfile(link)
            fifo = tarfile.TarInfo("./pipe.container")
            fifo.type = tarfile.FIFOTYPE
            archive.addfile(fifo)
        root = Path("/home/u/.config/containers/systemd")
        units = quadlet_units(root, read_quadlet_folder(root, ListingTree.from_tar(root, buffer.getvalue()))[1])
        found = {name: [(p.line, p.kind, p.message) for p in unit.problems] for name, unit in units.items()}
        assert found == {
            "web.container": [(3, "not-utf-8", "byte 0xe9 is not UTF-8; save the file as UTF-8")],
            "db.container": [
                (
                    1,
                    "unreadable",
                    "the file cannot be read: a link to /nowhere/db.container that the host could not follow",
                )
            ],
            "pipe.container": [(1, "unreadable", "the file cannot be read: a FIFO, not a regular file")],
        }
