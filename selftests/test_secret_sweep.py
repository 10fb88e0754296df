"""Secrets never reach an output: a distinct marker planted in every place a value was seen
leaking (issue 13), every output format written, and none of the markers found anywhere."""

from __future__ import annotations

import contextlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoenix_compliance.cli import main
from phoenix_compliance.parsers.interpolation import interpolate
from phoenix_compliance.redact import WITHHELD_LIMIT, forget_withheld, redact, withheld, withhold

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
INFRA = REPO / "fixtures" / "infra" / "podman"
REFERENCE_STACK = (REPO / "fixtures" / "stacks" / "reference.yaml").read_text()

# One marker per leak, so a failure names the place that leaked.
HEALTH = "mk-health-conn-7f3a"
ENDPOINT = "mk-endpoint-cred-91c2"
STDOUT = "mk-captured-stdout-5d1e"
ONE_KEY = "mk-one-key-mapping-2b8c"
SPACE = "mk-name-with-space-44af"
NO_EQUALS = "mk-quadlet-no-equals-e0d9"
NO_EQUALS_ENV = "mk-quadlet-env-key-a7b3"
FLAG = "mk-flag-value-6c2d"
URL = "mk-database-url-0f1e"
ENV_FILE = "mk-env-file-83aa"
MARKERS = (HEALTH, ENDPOINT, STDOUT, ONE_KEY, SPACE, NO_EQUALS, NO_EQUALS_ENV, FLAG, URL, ENV_FILE)

CHECKS = f"""
from phoenix_compliance.checks import check

@check("T-1.01", phase="1", severity="high", title="healthy", remediation="podman healthcheck run web")
def test_health(observed):
    assert False, (
        "expected healthy, got unhealthy: psql: FATAL: password authentication failed"
        " for postgresql://app:{HEALTH}@db:5432/app"
    )

@check("T-1.02", phase="1", severity="low", title="endpoint answers", remediation="curl it")
def test_endpoint(endpoint, observed):
    print(f"API_TOKEN={STDOUT} calling {{endpoint.url}}")
    observed(f"answered at {{endpoint.url}}")
    assert False, f"expected 200 from {{endpoint.url}}, got 503"
"""


def outputs(result: pytest.RunResult, reports: Path) -> dict[str, bytes]:
    found = {"stdout": result.stdout.str().encode(), "stderr": result.stderr.str().encode()}
    found.update({path.name: path.read_bytes() for path in sorted(reports.iterdir())})
    return found


def assert_clean(found: dict[str, bytes], markers: tuple[str, ...]) -> None:
    suffixes = sorted(Path(name).suffix for name in found if name not in ("stdout", "stderr"))
    assert suffixes == [".html", ".json", ".prom", ".xml"], suffixes
    for name, data in found.items():
        for marker in markers:
            assert marker.encode() not in data, f"{marker} leaked into {name}"
        assert b"\x00" not in data, f"a raw NUL byte reached {name}"


class TestPlantedSecrets:
    def test_evidence_test_ids_captured_output_and_endpoint_urls(self, pytester: pytest.Pytester) -> None:
        pytester.makepyfile(test_checks=CHECKS)
        stack = pytester.path / "stack.yaml"
        stack.write_text(REFERENCE_STACK.replace("http://localhost:8080", f"http://admin:{ENDPOINT}@localhost:8080"))
        reports = pytester.path / "reports"
        result = pytester.runpytest_subprocess("-p", "phoenix_compliance.plugin", f"--stack={stack}")
        found = outputs(result, reports)
        assert_clean(found, (HEALTH, ENDPOINT, STDOUT))
        # What was masked is still named: the id, the URL's user and host, the variable.
        assert "test_endpoint[phoenix-core-http://admin:***@localhost:8080]" in result.stdout.str()
        assert b"postgresql://app:***@db:5432/app" in found["stdout"]
        assert b'key="T-1.02 test_endpoint[phoenix-core-http://admin:***@localhost:8080]"' in next(
            data for name, data in found.items() if name.endswith(".prom")
        )

    def test_the_html_environment_table(self, pytester: pytest.Pytester) -> None:
        # pytest-metadata's table shows CI variables and --metadata pairs as they are.
        marker = "mk-metadata-token-3c9e"
        pytester.makepyfile(test_checks=CHECKS)
        reports = pytester.path / "reports"
        result = pytester.runpytest_subprocess(
            "-p", "phoenix_compliance.plugin", "--metadata", "DEPLOY_TOKEN", marker, "--metadata", "Build", "ok-42"
        )
        html = next(reports.glob("readiness-*.html")).read_bytes()
        assert marker.encode() not in html and marker not in result.stdout.str()
        assert b"ok-42" in html  # what is not secret is still shown

    def test_compose_and_quadlet_files_judged_without_a_host(self, pytester: pytest.Pytester) -> None:
        compose = pytester.path / "compose.yaml"
        text = (INFRA / "compose.yaml").read_text()
        anchor = "    command: httpd -f -p 8080 -h /www\n"
        assert anchor in text
        compose.write_text(
            text.replace(
                anchor,
                f"    command: [httpd, --db-password, {FLAG}]\n    env_file: [db.env]\n    environment:\n"
                f"      - DB_PASSWORD: {ONE_KEY}\n"
                f"      - 'DB PASSWORD={SPACE}'\n"
                f"      - DATABASE_URL=postgresql://app:{URL}@db/app\n",
                1,
            )
        )
        (pytester.path / "db.env").write_text(f"DB_PASSWORD={ENV_FILE}\n")
        folder = pytester.path / "systemd"
        shutil.copytree(INFRA / "systemd", folder)
        unit = folder / "phoenix-core.container"
        unit.write_bytes(
            unit.read_bytes().replace(
                b"[Container]\n",
                b"[Container]\n"
                + f"DB_PASSWORD {NO_EQUALS}\nEnvironment DB_PASSWORD={NO_EQUALS_ENV}\n".encode()
                + b"# a NUL \x00 in a comment\n",
                1,
            )
        )
        reports = pytester.path / "reports"
        result = pytester.runpytest_subprocess(
            str(REPO / "tests"),
            f"--stack={REPO / 'fixtures/stacks/reference.yaml'}",
            f"--reports-dir={reports}",
            "--phase=2,3,security",
            f"--compose-file={compose}",
            f"--quadlet-dir={folder}",
        )
        output = result.stdout.str()
        # The findings are there, naming what they found ...
        assert "PHX-2.01" in output and "PHX-3.02" in output and "PHX-S.17" in output, output
        assert "DATABASE_URL" in output and "--db-password" in output and "env file variable DB_PASSWORD" in output
        # ... and no value of them reaches any output.
        assert_clean(outputs(result, reports), MARKERS[3:])


class TestRedactRules:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("DB_PASSWORD=hunter2", "DB_PASSWORD=***"),
            ("{'DB_PASSWORD': 'hunter2'}", "{'DB_PASSWORD': ***}"),
            ("env:\n  - API_TOKEN: hunter2\n", "env:\n  - API_TOKEN: ***\n"),
            ('{"x": 1, "AUTH_TOKEN": "hunter2"}', '{"x": 1, "AUTH_TOKEN": ***}'),
            ("environment DB_PASSWORD: its value is a literal (withheld here)", None),
            ("postgresql://app:hunter2@db/app", "postgresql://app:***@db/app"),
            ("https://ghp_abcdefghijklmnopqrstuvwxyz@github.com/x", "https://***@github.com/x"),
            ("ssh://ops@web1", "ssh://ops@web1"),
            ("serve --db-password hunter2 --port 80", "serve --db-password *** --port 80"),
            ("serve --api-token=hunter2", "serve --api-token=***"),
            ("'DB_PASSWORD hunter2' is neither", "'DB_PASSWORD ***' is neither"),
            ("a NUL \x00 here", "a NUL \\x00 here"),
            ("declare it under `secrets:` and run podman secret create db_password -", None),
        ],
    )
    def test_what_is_masked_and_what_stays(self, text: str, expected: str | None) -> None:
        assert redact(text) == (text if expected is None else expected)


# -- a substituted secret is withheld wherever it lands (issue 24) ------------

ROOT_PASSWORD = "mk-root-pw-Zq9v41"
TOKEN_VALUE = "mk-api-tok3n-8e5d"
SUBSTITUTED_COMPOSE = """\
services:
  db:
    image: "docker.io/library/mariadb:${API_TOKEN}"
    command: ["mysqld", "-p${MYSQL_ROOT_PASSWORD}", "--label=${API_TOKEN}"]
    ports: ["${API_TOKEN}:80"]
    volumes: ["data:/var/lib/mysql:${MYSQL_ROOT_PASSWORD}"]
    labels:
      note: "set from ${API_TOKEN}"
    environment:
      MYSQL_ROOT_PASSWORD: ${MYSQL_ROOT_PASSWORD}
volumes:
  data: {}
"""


@pytest.fixture
def no_withheld() -> Iterator[None]:
    """Each test starts with nothing withheld, and leaves nothing withheld behind."""
    forget_withheld()
    yield
    forget_withheld()


def substituted_project(folder: Path) -> Path:
    (folder / ".env").write_text(f"MYSQL_ROOT_PASSWORD={ROOT_PASSWORD}\nAPI_TOKEN={TOKEN_VALUE}\n")
    compose = folder / "compose.yaml"
    compose.write_text(SUBSTITUTED_COMPOSE)
    return compose


@pytest.mark.usefixtures("no_withheld")
class TestSubstitutedSecrets:
    """`-p${MYSQL_ROOT_PASSWORD}` from a `.env`: the value is masked in every output once substituted.
    Before redact.withhold() the two markers reached PHX-2.01's "written -> resolved" text, the
    JUnit, JSON and HTML reports, and convert wrote them into the units."""

    @pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["in-process", "xdist"])
    def test_through_every_report_of_a_check_run(self, pytester: pytest.Pytester, workers: list[str]) -> None:
        compose = substituted_project(pytester.path)
        reports = pytester.path / "reports"
        result = pytester.runpytest_subprocess(
            str(REPO / "tests"),
            f"--stack={REPO / 'fixtures/stacks/reference.yaml'}",
            f"--reports-dir={reports}",
            "--phase=2",
            f"--compose-file={compose}",
            *workers,
        )
        output = result.stdout.str()
        # PHX-2.01 still says what was written and where, the value masked.
        assert "PHX-2.01" in output and "(written '${API_TOKEN}:80' -> '***:80')" in output, output
        assert_clean(outputs(result, reports), (ROOT_PASSWORD, TOKEN_VALUE))

    def test_convert_writes_no_literal_and_prints_none(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        compose = substituted_project(tmp_path)
        out = tmp_path / "out"
        code = main(["convert", "--podman-version", "5.4", "--out", str(out), str(compose)])
        printed = capsys.readouterr()
        assert code == 0, printed.err
        for name, text in [("stdout", printed.out), ("stderr", printed.err)] + [
            (path.name, path.read_text()) for path in sorted(out.iterdir())
        ]:
            assert ROOT_PASSWORD not in text and TOKEN_VALUE not in text, f"leaked into {name}"
        # Each is a gap naming its line, and the environment variable a podman secret.
        assert "compose.yaml:3: service db: image: its value holds a substituted secret" in printed.err
        assert "compose.yaml:4: service db: command: its value holds a substituted secret" in printed.err
        assert "Secret=" in (out / "db.container").read_text()
        # A unit already in --out that holds the value (written by hand, say): its diff is masked.
        (out / "db.container").write_text(f"[Container]\nExec=mysqld -p{ROOT_PASSWORD}\nLabel=t={TOKEN_VALUE}\n")
        code = main(["convert", "--podman-version", "5.4", "--dry-run", "--out", str(out), str(compose)])
        printed = capsys.readouterr()
        assert code == 0 and "-Exec=mysqld -p***" in printed.out and "-Label=t=***" in printed.out, printed
        assert ROOT_PASSWORD not in printed.out + printed.err and TOKEN_VALUE not in printed.out + printed.err

    def test_a_value_the_file_spells_out_itself_is_still_written(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """POSTGRES_PASSWORD=postgres is common: the image `postgres:16` is the file's own text, not
        a substituted secret, so Image= is written, and the Secret= the converter names after the
        variable is a reference (outputs still mask the word wherever it stands, as CI systems do)."""
        (tmp_path / ".env").write_text("POSTGRES_PASSWORD=postgres\n")
        compose = tmp_path / "compose.yaml"
        compose.write_text(
            "services:\n  db:\n    image: docker.io/library/postgres:16\n"
            "    environment:\n      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}\n"
        )
        out = tmp_path / "out"
        assert main(["convert", "--podman-version", "5.4", "--out", str(out), str(compose)]) == 0
        assert "substituted secret" not in capsys.readouterr().err
        unit = (out / "db.container").read_text()
        assert "Image=docker.io/library/postgres:16" in unit and "Secret=" in unit

    def test_what_is_withheld_and_what_is_not(self) -> None:
        env = {
            "DB_PASS": "hunter2-long",
            "PORT": "8080",
            "DATABASE_URL": "postgres://u:pw1234@db/x",
            "PGPASSWORD": "ab",
        }
        assert interpolate("${DB_PASS}:${PORT} ${DATABASE_URL} ${PGPASSWORD}", env).value
        assert withheld() == ("hunter2-long", "postgres://u:pw1234@db/x")
        # A value of fewer than WITHHELD_MIN_LENGTH characters would mask every digit or syllable.
        assert redact("port 8080 ab x hunter2-long-y") == "port 8080 ab x ***-y"

    def test_the_registry_is_bounded(self) -> None:
        for index in range(WITHHELD_LIMIT + 5):
            withhold(f"value-{index:05d}")
        assert len(withheld()) == WITHHELD_LIMIT
        assert not withhold("abc") and not withhold("   abc  ")


NAME_WORDS = st.sampled_from(["PASSWORD", "TOKEN", "SECRET", "API_KEY", "PASS", "CREDS", "AUTH"])
PREFIXES = st.sampled_from(["DB", "MYSQL_ROOT", "STRIPE", "REGISTRY", "APP"])
# Letters and digits, with a marker digit group, so a value never happens to be text of its own.
VALUES = st.text("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ", min_size=6, max_size=24).map(
    lambda text: f"{text}7319"
)
FIELDS = [
    'image: "docker.io/library/nginx:{ref}"',
    'command: ["run", "--opt={ref}"]',
    'entrypoint: ["/bin/sh", "-c", "echo {ref}"]',
    'ports: ["{ref}:80"]',
    'volumes: ["data:/data:{ref}"]',
    'volumes: ["/srv/{ref}:/data"]',
    'working_dir: "/app/{ref}"',
    'hostname: "h{ref}"',
    'labels: {{note: "x{ref}"}}',
    'extra_hosts: ["{ref}:10.0.0.1"]',
    'healthcheck: {{test: ["CMD", "curl", "{ref}"]}}',
    'environment: {{OTHER: "{ref}"}}',
]


@pytest.mark.usefixtures("no_withheld")
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=PREFIXES, word=NAME_WORDS, value=VALUES, field=st.sampled_from(FIELDS))
def test_drawn_secrets_in_every_field_kind_reach_no_output(
    tmp_path_factory: pytest.TempPathFactory, prefix: str, word: str, value: str, field: str
) -> None:
    """A drawn secret name and value, substituted into each kind of field: convert's units, its
    report and its diffs (--dry-run against a planted older unit) hold no literal of it."""
    forget_withheld()
    folder = tmp_path_factory.mktemp("drawn")
    name = f"{prefix}_{word}"
    (folder / ".env").write_text(f"{name}={value}\n")
    compose = folder / "compose.yaml"
    compose.write_text(
        "services:\n  web:\n    image: docker.io/library/nginx:1.27\n    "
        + field.format(ref=f"${{{name}}}")
        + "\nvolumes:\n  data: {}\n"
    )
    out = folder / "out"
    out.mkdir()
    (out / "web.container").write_text("[Container]\nImage=old\n")
    texts: dict[str, str] = {}
    for mode in (["--out", str(out)], ["--dry-run", "--out", str(out)], []):
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(["convert", "--podman-version", "5.4", *mode, str(compose)])
        assert code in (0, 1), stderr.getvalue()
        texts[f"stdout {mode}"], texts[f"stderr {mode}"] = stdout.getvalue(), stderr.getvalue()
    texts.update({path.name: path.read_text() for path in sorted(out.iterdir())})
    # What the lint says about the written units, in each of its formats.
    for form in ("text", "json", "sarif"):
        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(io.StringIO()):
            main(["lint", "--format", form, str(out)])
        texts[f"lint {form}"] = stdout.getvalue()
    for where, text in texts.items():
        assert value not in text, f"{name}'s value leaked into {where}:\n{text}"
