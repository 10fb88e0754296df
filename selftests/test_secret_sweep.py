"""Secrets never reach an output: a distinct marker planted in every place a value was seen
leaking (issue 13), every output format written, and none of the markers found anywhere."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from phoenix_compliance.redact import redact

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
