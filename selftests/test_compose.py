"""Selftests for the compose parser (phoenix_compliance.parsers.compose)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import ClassVar

import pytest

from phoenix_compliance.parsers.compose import (
    SERVICE_KEYS,
    TOP_LEVEL_KEYS,
    ComposeFile,
    ComposeProblem,
    PortMapping,
    load,
    parse,
    validation,
)
from phoenix_compliance.parsers.interpolation import InterpolationError, interpolate, parse_dotenv

CLEAN = """\
name: phoenix
services:
  web:
    image: docker.io/library/nginx:1.27
    container_name: phoenix-web
    restart: unless-stopped
    ports:
      - "127.0.0.1:8080:80"
    volumes:
      - ./www:/usr/share/nginx/html:ro,Z
    environment:
      - TZ=UTC
    healthcheck:
      test: ["CMD", "curl", "-f", "http://localhost/"]
  worker:
    build: ./worker
    cap_add: [NET_BIND_SERVICE]
    network_mode: host
    pid: host
    privileged: true
volumes:
  data: {}
x-podman:
  in_pod: false
"""


def compose(text: str) -> ComposeFile:
    return parse(textwrap.dedent(text), "compose.yml")


def service_yaml(body: str) -> str:
    """A one-service file; `body` lines start at line 4."""
    # The named volume `data` declared after the body's lines (podman-compose refuses it undeclared).
    return (
        "services:\n  web:\n    image: nginx\n"
        + textwrap.indent(textwrap.dedent(body), "    ")
        + "volumes:\n  data: {}\n"
    )


def problems(result: ComposeFile) -> list[tuple[int, str]]:
    return [(problem.line, problem.message) for problem in result.problems]


class TestServices:
    def test_clean_file_has_no_problems(self) -> None:
        result = compose(CLEAN)
        assert result.ok, result.problems
        assert result.project_name == "phoenix"
        assert list(result.services) == ["web", "worker"]

    def test_service_fields(self) -> None:
        web = compose(CLEAN).services["web"]
        assert (web.line, web.image, web.has_build) == (3, "docker.io/library/nginx:1.27", False)
        assert (web.container_name, web.restart, web.healthcheck) == ("phoenix-web", "unless-stopped", True)
        assert web.line_of("ports") == 7
        assert web.line_of("absent") == 3

    def test_build_only_service_and_host_namespaces(self) -> None:
        worker = compose(CLEAN).services["worker"]
        assert worker.image is None and worker.has_build
        assert worker.privileged and worker.cap_add == ("NET_BIND_SERVICE",)
        assert (worker.network_mode, worker.pid) == ("host", "host")

    @pytest.mark.parametrize(
        "healthcheck",
        ['{test: ["NONE"]}', '{test: ["CMD", "true"], disable: true}', "{interval: 10s}"],
        ids=["none", "disabled", "no-test"],
    )
    def test_healthcheck_off(self, healthcheck: str) -> None:
        result = compose(service_yaml(f"healthcheck: {healthcheck}\n"))
        assert result.services["web"].healthcheck is False

    def test_healthcheck_shell_string(self) -> None:
        result = compose(service_yaml("healthcheck: {test: curl -f http://localhost/}\n"))
        assert result.services["web"].healthcheck is True

    def test_services_are_hashable(self) -> None:
        web = compose(CLEAN).services["web"]
        assert web in {web}


class TestPorts:
    @pytest.mark.parametrize(
        ("spec", "expected"),
        [
            ('"8080:80"', [PortMapping(None, 8080, 80, "tcp", 5)]),
            ('"127.0.0.1:53:53/udp"', [PortMapping("127.0.0.1", 53, 53, "udp", 5)]),
            ("80", [PortMapping(None, None, 80, "tcp", 5)]),
            ('"127.0.0.1::80"', [PortMapping("127.0.0.1", None, 80, "tcp", 5)]),
            ('"[::1]:6001:6001"', [PortMapping("::1", 6001, 6001, "tcp", 5)]),
            (
                '"8000-8001:9000-9001"',
                [PortMapping(None, 8000, 9000, "tcp", 5), PortMapping(None, 8001, 9001, "tcp", 5)],
            ),
        ],
        ids=["host-container", "ip-udp", "container-only", "ip-no-host-port", "ipv6", "range"],
    )
    def test_short_syntax(self, spec: str, expected: list[PortMapping]) -> None:
        result = compose(service_yaml(f"ports:\n  - {spec}\n"))
        assert result.ok, result.problems
        assert list(result.services["web"].ports) == expected

    def test_long_syntax(self) -> None:
        result = compose(
            service_yaml(
                """\
                ports:
                  - target: 80
                    published: "8080"
                    host_ip: 127.0.0.1
                    protocol: udp
                  - target: 443
                """
            )
        )
        assert result.ok, result.problems
        assert result.services["web"].ports == (
            PortMapping("127.0.0.1", 8080, 80, "udp", 5),
            PortMapping(None, None, 443, "tcp", 9),
        )

    @pytest.mark.parametrize(
        ("spec", "reason"),
        [
            ('"http:80"', "host port 'http'"),
            ('"8080:70000"', "container port '70000'"),
            ('"80/icmp"', "unknown protocol 'icmp'"),
            ('"8000-8010:80"', "ranges differ in length"),
            ("{published: 8080}", "needs 'target'"),
        ],
        ids=["non-numeric", "out-of-range", "protocol", "host-range-to-one-port", "long-no-target"],
    )
    def test_malformed(self, spec: str, reason: str) -> None:
        result = compose(service_yaml(f"ports:\n  - {spec}\n"))
        [(line, message)] = problems(result)
        assert line == 5
        assert message.startswith("service web: port") and reason in message

    def test_unquoted_base60_port(self) -> None:
        # PyYAML reads `22:22` as 22*60+22; podman-compose would publish 1342.
        result = compose(service_yaml("ports:\n  - 22:22\n  - 8080:80\n"))
        assert problems(result) == [
            (5, "service web: port 22:22 must be quoted: YAML 1.1 (PyYAML, podman-compose) reads it as the number 1342")
        ]
        assert result.services["web"].ports == (PortMapping(None, 8080, 80, "tcp", 6),)


class TestVolumes:
    def test_short_bind_with_selinux(self) -> None:
        [mount] = compose(CLEAN).services["web"].volumes
        assert (mount.source, mount.target) == ("./www", "/usr/share/nginx/html")
        assert (mount.kind, mount.syntax) == ("bind", "short")
        assert mount.options == ("ro", "Z")
        assert mount.selinux == "Z" and mount.read_only and mount.line == 10

    @pytest.mark.parametrize(
        ("spec", "source", "target", "kind", "read_only"),
        [
            ("data:/var/lib/data", "data", "/var/lib/data", "volume", False),
            ("~/conf:/etc/conf", "~/conf", "/etc/conf", "bind", False),
            ("/var/lib/mysql", None, "/var/lib/mysql", "anonymous", False),
            ("/var/lib/mysql:ro", None, "/var/lib/mysql", "anonymous", True),
        ],
        ids=["named", "home", "anonymous", "anonymous-with-options"],
    )
    def test_short_kinds(self, spec: str, source: str | None, target: str, kind: str, read_only: bool) -> None:
        result = compose(service_yaml(f"volumes:\n  - {spec}\n"))
        assert result.ok, result.problems
        [mount] = result.services["web"].volumes
        assert (mount.source, mount.target, mount.kind, mount.read_only) == (source, target, kind, read_only)

    def test_accepted_options(self) -> None:
        result = compose(service_yaml('volumes:\n  - "./a:/a:rw,z,O,U,rshared,nosuid,noexec,cached,rbind"\n'))
        assert result.ok, result.problems
        assert result.services["web"].volumes[0].selinux == "z"

    def test_unknown_short_option(self) -> None:
        result = compose(service_yaml("volumes:\n  - ./ok:/ok\n  - ./www:/www:X\n"))
        assert problems(result) == [(6, "service web: volume './www:/www:X': unknown mount option 'X'")]

    def test_long_bind_selinux(self) -> None:
        result = compose(
            service_yaml(
                """\
                volumes:
                  - type: bind
                    source: ./www
                    target: /www
                    read_only: true
                    bind:
                      selinux: z
                  - type: volume
                    target: /cache
                  - type: tmpfs
                    target: /tmp
                """
            )
        )
        assert result.ok, result.problems
        bind, anonymous, tmpfs = result.services["web"].volumes
        assert (bind.kind, bind.source, bind.syntax, bind.line) == ("bind", "./www", "long", 5)
        assert bind.selinux == "z" and bind.read_only
        assert (anonymous.kind, anonymous.source) == ("anonymous", None)
        assert tmpfs.kind == "tmpfs"

    @pytest.mark.parametrize(
        ("item", "reason"),
        [
            ("{type: bind, source: ./a}", "needs 'target'"),
            ("{type: nfs, target: /a}", "unknown type 'nfs'"),
            ("{type: npipe, source: x, target: /a}", "not supported by podman-compose"),
        ],
        ids=["no-target", "unknown-type", "spec-only-type"],
    )
    def test_long_syntax_problems(self, item: str, reason: str) -> None:
        result = compose(service_yaml(f"volumes:\n  - {item}\n"))
        [(line, message)] = problems(result)
        assert line == 5 and reason in message


class TestEnvironment:
    def test_list_form(self) -> None:
        result = compose(service_yaml("environment:\n  - A=1\n  - B\n  - C=x=y\n  - D=\n"))
        assert result.ok, result.problems
        env = result.services["web"].environment
        assert [(var.name, var.value, var.line) for var in env] == [
            ("A", "1", 5),
            ("B", None, 6),
            ("C", "x=y", 7),
            ("D", "", 8),
        ]

    def test_mapping_form(self) -> None:
        result = compose(service_yaml("environment:\n  A: 1\n  B:\n  DEBUG: true\n"))
        assert result.ok, result.problems
        env = result.services["web"].environment
        # `true` becomes `True`: podman-compose passes str(value) to the container.
        assert [(var.name, var.value, var.line) for var in env] == [("A", "1", 5), ("B", None, 6), ("DEBUG", "True", 7)]

    def test_malformed_entries(self) -> None:
        result = compose(service_yaml("environment:\n  - =value\n  - {A: 1}\n  - GOOD=1\n"))
        assert [line for line, _ in problems(result)] == [5, 6]
        assert [var.name for var in result.services["web"].environment] == ["GOOD"]


class TestProblems:
    def test_invalid_yaml(self) -> None:
        result = compose("services:\n  web:\n    image: [unclosed\n")
        [problem] = result.problems
        assert problem.line == 4 and problem.message.startswith("invalid YAML")
        assert result.services == {}

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("- a\n- b\n", (1, "top level is not a mapping")),
            ("", (1, "top level is not a mapping")),
            ("version: '3'\nname: x\n", (1, "no 'services' key")),
            ("name: x\nservices: [web]\n", (2, "'services' is not a mapping")),
            ("services:\n  web: nginx\n", (2, "service web: not a mapping")),
        ],
        ids=["list", "empty", "no-services", "services-list", "service-scalar"],
    )
    def test_structure(self, text: str, expected: tuple[int, str]) -> None:
        assert problems(compose(text)) == [expected]

    def test_no_image_nor_build(self) -> None:
        result = compose("services:\n  web:\n    image: nginx\n  db:\n    restart: always\n")
        assert problems(result) == [(4, "service db: neither 'image' nor 'build'")]

    def test_unknown_top_level_key(self) -> None:
        result = compose("x-common: {}\nsrevices: {}\nservices: {}\n")
        assert problems(result) == [(2, "unknown top-level key 'srevices' (did you mean 'services'?)")]

    def test_all_problems_are_reported(self) -> None:
        text = """\
        extra: 1
        services:
          a:
            restart: always
          b:
            image: nginx
            volumes: ["./x:/x:bogus"]
            ports: ["99999"]
        """
        assert [line for line, _ in problems(compose(text))] == [1, 3, 7, 8]

    def test_str_is_path_line_message(self) -> None:
        assert str(ComposeProblem("c.yml", 3, "boom")) == "c.yml:3: boom"


class TestCommands:
    """`command:` and `entrypoint:` strings: podman-compose splits them with shlex.split (its own
    reading, so shlex is right here) in normalize_service, before it substitutes."""

    def test_split_before_substitution(self) -> None:
        text = "services:\n  web:\n    image: x\n    command: echo ${MSG} 'a b'\n"
        result = parse(text, "compose.yml", environ={"MSG": "one two"})
        assert result.services["web"].commands == (("command", ("echo", "one two", "a b")),)

    def test_an_unclosed_quote_is_refused_at_its_line(self) -> None:
        result = compose('services:\n  web:\n    image: x\n    entrypoint: "sh -c \'echo"\n')
        assert result.refused
        assert problems(result) == [
            (4, "service web: entrypoint: no closing quotation (podman-compose's shlex stops here)")
        ]


class TestSchema:
    """Keys and types against the compose specification's JSON schema (parsers/compose/schema/)."""

    def test_the_key_names_are_the_shipped_schemas(self) -> None:
        shipped = validation.schema()
        assert set(shipped["properties"]) == TOP_LEVEL_KEYS
        assert set(shipped["definitions"]["service"]["properties"]) <= SERVICE_KEYS
        readme = (validation.SCHEMA.parent / "README.md").read_text()
        assert "Apache License 2.0" in readme
        assert re.search(r"commit\s+`[0-9a-f]{40}`", readme)
        assert (validation.SCHEMA.parent / "LICENSE").is_file()

    def test_keys_podman_compose_reads_beyond_the_schema_are_known(self) -> None:
        """podman-compose 1.3.0 and 1.6.0 turn `http_proxy: false` into --http-proxy=false and
        `publishall: true` into -P; the schema lacks both, podman-compose wins."""
        result = compose("services:\n  web:\n    image: x\n    http_proxy: false\n    publishall: true\n")
        assert problems(result) == []

    def test_a_finding_below_a_service_is_a_warning_at_its_line(self) -> None:
        text = """\
        services:
          web:
            image: x
            healthcheck:
              tset: [CMD, true]
              interval: 5
        volumes:
          data:
            driver: 3
        """
        result = compose(text)
        assert not result.problems
        assert [(w.line, w.message.split(" (")[0]) for w in result.warnings] == [
            (5, "service web: healthcheck: unknown key 'tset'"),
            (6, "service web: healthcheck.interval: expected string, got integer"),
            (9, "volumes.data.driver: expected string, got integer"),
        ]
        assert all("podman-compose does not check it" in w.message for w in result.warnings)

    def test_a_service_name_the_schema_refuses_is_accepted_with_a_warning(self) -> None:
        result = compose("services:\n  my web:\n    image: x\n")
        assert not result.refused and list(result.services) == ["my web"]
        assert [w.line for w in result.warnings] == [2]

    def test_a_finding_never_shows_the_value(self) -> None:
        result = compose("services:\n  web:\n    image: x\n    labels:\n      DB_PASS: [s3cr3t]\n")
        assert [w.line for w in result.warnings] == [5]
        assert "s3cr3t" not in result.warnings[0].message

    def test_a_finding_in_an_override_names_its_file(self, tmp_path: Path) -> None:
        write(tmp_path, {"a.yaml": "services:\n  web:\n    image: x\n", "b.yaml": "services:\n  web:\n    init: 1\n"})
        result = load([tmp_path / "a.yaml", tmp_path / "b.yaml"])
        assert [(w.path, w.line) for w in result.warnings] == [(str(tmp_path / "b.yaml"), 3)]

    def test_a_line_the_parser_already_judged_is_not_said_twice(self) -> None:
        result = compose('services:\n  web:\n    image: x\n    ports: "80:80"\n')
        assert problems(result) == [(4, "service web: 'ports' is not a list")]
        assert result.warnings == []


class TestLoad:
    def test_load_file(self, tmp_path: Path) -> None:
        path = tmp_path / "compose.yaml"
        path.write_text(CLEAN, encoding="utf-8")
        result = load(path)
        assert result.ok and result.path == str(path)

    def test_unreadable_file(self, tmp_path: Path) -> None:
        result = load(tmp_path / "missing.yaml")
        [problem] = result.problems
        assert problem.line == 1 and problem.message.startswith("cannot read")


class TestInterpolation:
    """The two grammars of podman-compose: a regular expression up to 1.5, a tokenizer from 1.6."""

    ENV: ClassVar[dict[str, str | None]] = {"SET": "v", "EMPTY": ""}

    @pytest.mark.parametrize(
        ("text", "newest", "legacy"),
        [
            ("${SET}", "v", "v"),
            ("$SET/x", "v/x", "v/x"),
            ("${UNSET:-d}", "d", "d"),
            ("${EMPTY:-d}", "d", "d"),
            ("${EMPTY-d}", "", ""),
            ("${UNSET-d}", "d", "d"),
            ("${SET:+alt}", "alt", "${SET:+alt}"),
            ("${EMPTY:+alt}", "", "${EMPTY:+alt}"),
            ("${EMPTY+alt}", "alt", "${EMPTY+alt}"),
            ("${UNSET:-${SET}}", "v", "${SET}"),
            ("$$SET and $${SET}", "$SET and ${SET}", "$SET and ${SET}"),
            ("price $5 and $", "price $5 and $", "price $5 and $"),
        ],
    )
    def test_forms(self, text: str, newest: str, legacy: str) -> None:
        assert interpolate(text, self.ENV).value == newest
        assert interpolate(text, self.ENV, (1, 3, 0)).value == legacy

    @pytest.mark.parametrize("text", ["${UNSET:?say it}", "${EMPTY:?}", "${UNSET?}"])
    def test_required_unset_stops_both(self, text: str) -> None:
        for release in (None, (1, 3, 0)):
            with pytest.raises(InterpolationError, match="required variable"):
                interpolate(text, self.ENV, release)

    @pytest.mark.parametrize("text", ["${}", "${1X}", "${SET", "${SET:x}"])
    def test_unreadable_braces_stop_1_6_only(self, text: str) -> None:
        with pytest.raises(InterpolationError):
            interpolate(text, self.ENV)
        assert interpolate(text, self.ENV, (1, 3, 0)).value == text

    def test_unset_plain_variables_are_named(self) -> None:
        assert interpolate("${A}$B${C:-x}", {}).unset == ["A", "B"]


class TestDotenv:
    def test_python_dotenv_forms(self) -> None:
        text = "# comment\nexport A='x y'\nB=\"q\\tz\" # c\nC=v #c\nD\nE=${A}-${Z:-z}\n\nF=a=b\n"
        assert parse_dotenv(text, {}) == {"A": "x y", "B": "q\tz", "C": "v", "D": None, "E": "x y-z", "F": "a=b"}

    def test_values_interpolate_from_the_environment_after_the_file(self) -> None:
        assert parse_dotenv("A=${HOME}\n", {"HOME": "/home/u"}) == {"A": "/home/u"}

    # python-dotenv's own parser (podman-compose's dotenv_values) where the hand-written one drifted.
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            # A lone CR ends a line for python-dotenv (old Mac files); the hand parser saw no binding.
            ("A=1\rB=2\r", {"A": "1", "B": "2"}),
            # An unclosed quote makes the statement unreadable: skipped, not the value `"x`.
            ('A="x\nB=2\n', {"B": "2"}),
            # `export` alone is no key.
            ("export =\nB=1\n", {"B": "1"}),
        ],
    )
    def test_read_by_python_dotenv(self, text: str, expected: dict[str, str | None]) -> None:
        assert parse_dotenv(text, {}) == expected

    def test_a_statement_python_dotenv_cannot_read_is_a_warning_naming_its_line(self) -> None:
        result = parse(CLEAN, "compose.yaml", dotenvs=[("/p/.env", 'A=1\nB="open\nC=3\n')])
        assert result.ok
        assert [(w.path, w.line) for w in result.warnings] == [("/p/.env", 2)]
        assert "podman-compose skips it" in result.warnings[0].message

    def test_each_env_file_is_substituted_on_its_own(self) -> None:
        """podman-compose reads every env file with dotenv_values: its `${VAR}`s see the file's own
        keys and the invoking environment, never another env file's values."""
        text = "services:\n  web:\n    image: x\n    environment:\n      B: ${B}\n"
        result = parse(text, "compose.yaml", environ={"E": "e"}, dotenvs=[("1", "A=a\n"), ("2", "B=${A}-${E}\n")])
        assert result.services["web"].environment[0].value == "-e"

    def test_values_doubling_each_other_are_refused_at_their_line(self) -> None:
        """Issue 24: a 1.6 KB .env whose values double the one before asks for a terabyte."""
        text = "A0=" + "x" * 1000 + "\n" + "".join(f"A{i}=${{A{i - 1}}}${{A{i - 1}}}\n" for i in range(1, 41))
        assert len(text) < 1700
        result = parse(CLEAN, "compose.yaml", dotenvs=[("/p/.env", text)])
        assert result.refused
        assert [(p.path, p.line) for p in result.problems] == [("/p/.env", 11)]
        assert "A10: the values expand past 1024 KB" in result.problems[0].message


def write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(textwrap.dedent(text))


class TestSubstitution:
    def test_ports_and_volumes_are_judged_resolved(self) -> None:
        result = compose("""\
            services:
              mail:
                image: localhost/mail:${TAG-1}
                ports: ["${X_PORT:-25}:25", "${Y_PORT:-587}:587"]
                volumes:
                  - ${DATA:-/mnt/data}:/data
            """)
        assert result.ok, result.problems
        mail = result.services["mail"]
        assert mail.image == "localhost/mail:1"
        assert [p.host_port for p in mail.ports] == [25, 587]
        assert mail.volumes[0].source == "/mnt/data" and mail.volumes[0].kind == "bind"

    def test_a_problem_shows_the_text_as_written(self) -> None:
        result = parse(service_yaml('ports: ["${P:-x}:80"]\n'), "compose.yml", environ={})
        assert problems(result) == [
            (
                4,
                "service web: port 'x:80': host port 'x' is not a port or range 1-65535"
                " (written '${P:-x}:80' -> 'x:80')",
            )
        ]

    def test_required_variable_is_a_refusal_naming_it(self) -> None:
        result = parse(service_yaml("environment:\n  A: ${NEED:?set NEED}\n"), "compose.yml")
        assert problems(result) == [(5, "required variable NEED is unset: set NEED (podman-compose stops here)")]
        assert result.refused

    def test_unset_plain_variable_is_a_warning(self) -> None:
        result = parse(service_yaml('ports: ["${P}8080:80"]\n'), "compose.yml")
        assert result.ok
        assert [(w.line, w.message) for w in result.warnings] == [
            (4, "variable P is not set: substituted an empty string (written '${P}8080:80' -> '8080:80')")
        ]

    def test_environment_wins_over_dotenv(self) -> None:
        text = service_yaml('ports: ["${P}:80"]\n')
        dotenv = [(".env", "P=8080\n")]
        assert parse(text, "c.yml", dotenvs=dotenv).services["web"].ports[0].host_port == 8080
        assert parse(text, "c.yml", dotenvs=dotenv, environ={"P": "9090"}).services["web"].ports[0].host_port == 9090

    def test_a_service_environment_fills_its_own_variables(self) -> None:
        text = "services:\n  web:\n    image: localhost/web:${TAG}\n    environment:\n      TAG: '7'\n"
        assert parse(text, "c.yml").services["web"].image == "localhost/web:7"
        # Earlier releases resolve `TAG: ${TAG}` with the value as written: it stays.
        text = "services:\n  web:\n    image: x\n    environment:\n      TAG: ${TAG}\n"
        assert parse(text, "c.yml", release=(1, 3, 0)).services["web"].environment[0].value == "${TAG}"
        assert parse(text, "c.yml").services["web"].environment[0].value == ""

    def test_dotenv_beside_the_file_and_env_files_instead(self, tmp_path: Path) -> None:
        write(
            tmp_path,
            {
                "compose.yml": "services:\n  web:\n    image: x:${A:-none}-${B:-none}\n",
                ".env": "A=dot\n",
                "alt.env": "B=alt\n",
            },
        )
        assert load(tmp_path / "compose.yml").services["web"].image == "x:dot-none"
        with_alt = load(tmp_path / "compose.yml", env_files=[tmp_path / "alt.env"])
        assert with_alt.services["web"].image == "x:none-alt"


class TestSeveralFiles:
    def test_override_merges_in_order_and_keeps_its_own_lines(self, tmp_path: Path) -> None:
        write(
            tmp_path,
            {
                "compose.yml": """\
                    services:
                      web:
                        image: localhost/web:1
                        ports: ["8080:80"]
                        volumes:
                          - ./a:/a
                        environment:
                          A: "1"
                    """,
                "override.yml": """\
                    services:
                      web:
                        image: localhost/web:2
                        ports: ["80:443"]
                        volumes:
                          - ./b:/a
                        environment:
                          - B=2
                    """,
            },
        )
        result = load([tmp_path / "compose.yml", tmp_path / "override.yml"])
        assert result.ok, result.problems
        web = result.services["web"]
        assert web.image == "localhost/web:2"
        assert [(p.host_port, p.container_port) for p in web.ports] == [(8080, 80), (80, 443)]
        # The override's mount replaces the base's mount of the same target.
        assert [(v.source, v.target) for v in web.volumes] == [("./b", "/a")]
        assert [(e.name, e.value) for e in web.environment] == [("A", "1"), ("B", "2")]
        assert result.locate(web.ports[1].line) == (str(tmp_path / "override.yml"), 4)
        assert result.locate(web.line_of("image")) == (str(tmp_path / "override.yml"), 3)

    def test_a_problem_of_the_override_names_its_file(self, tmp_path: Path) -> None:
        write(
            tmp_path,
            {"compose.yml": "services:\n  web:\n    image: x\n", "o.yml": "services:\n  web:\n    prots: []\n"},
        )
        result = load([tmp_path / "compose.yml", tmp_path / "o.yml"])
        assert [(p.path, p.line) for p in result.problems] == [(str(tmp_path / "o.yml"), 3)]

    def test_a_type_clash_is_refused(self, tmp_path: Path) -> None:
        write(
            tmp_path,
            {
                "compose.yml": "services:\n  web:\n    image: x\n    ports: []\n",
                "o.yml": "services:\n  web:\n    ports: 80\n",
            },
        )
        result = load([tmp_path / "compose.yml", tmp_path / "o.yml"])
        assert result.refused and "cannot merge a int over a list" in result.problems[0].message

    def test_include_relative_to_the_including_file(self, tmp_path: Path) -> None:
        write(
            tmp_path,
            {
                "compose.yml": "include:\n  - sub/a.yml\nservices:\n  web:\n    image: x\n",
                "sub/a.yml": "include:\n  - b.yml\nservices:\n  a:\n    image: a\n",
                "sub/b.yml": "services:\n  b:\n    image: b\n",
            },
        )
        assert sorted(load(tmp_path / "compose.yml").services) == ["a", "b", "web"]

    def test_include_of_a_missing_file_is_refused(self, tmp_path: Path) -> None:
        write(tmp_path, {"compose.yml": "include:\n  - gone.yml\nservices:\n  web:\n    image: x\n"})
        result = load(tmp_path / "compose.yml")
        assert result.refused and "gone.yml" in result.problems[0].message

    def test_bare_text_cannot_name_other_files(self) -> None:
        result = parse("include:\n  - other.yml\nservices:\n  web:\n    image: x\n", "compose.yml")
        assert "cannot be read here" in result.problems[0].message


class TestExtends:
    def test_same_file_chain(self) -> None:
        result = compose("""\
            services:
              base:
                image: localhost/b:1
                environment: {A: "1"}
              mid:
                extends: base
                ports: ["8080:80"]
              app:
                extends:
                  service: mid
                environment: {B: "2"}
            """)
        assert result.ok, result.problems
        app = result.services["app"]
        assert app.image == "localhost/b:1"
        assert [p.host_port for p in app.ports] == [8080]
        assert {e.name for e in app.environment} == {"A", "B"}

    def test_other_file(self, tmp_path: Path) -> None:
        write(
            tmp_path,
            {
                "compose.yml": "services:\n  app:\n    extends:\n      file: common.yml\n      service: base\n",
                "common.yml": "services:\n  base:\n    image: localhost/b:${T:-1}\n",
            },
        )
        assert load(tmp_path / "compose.yml").services["app"].image == "localhost/b:1"

    def test_missing_service_and_cycle_are_refused(self) -> None:
        missing = compose("services:\n  app:\n    image: x\n    extends: nothere\n")
        assert missing.refused and "'nothere'" in missing.problems[0].message
        cycle = compose("services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: y\n    extends: a\n")
        assert cycle.refused


class TestDeclarations:
    def test_a_network_not_declared_is_refused(self) -> None:
        result = compose("services:\n  web:\n    image: x\n    networks: [front]\nnetworks:\n  back: {}\n")
        assert problems(result) == [
            (
                4,
                "service web: network 'front' is not declared under the top-level 'networks'"
                " (podman-compose refuses the file: missing networks)",
            )
        ]
        assert result.refused

    def test_declared_networks_and_the_default(self) -> None:
        result = compose(
            "services:\n  web:\n    image: x\n    networks: {front: {aliases: [w]}}\n"
            "  db:\n    image: y\nnetworks:\n  front: {}\n"
        )
        assert result.ok, result.problems
        assert result.service_networks == {"web": ("front",), "db": ("front",)}

    def test_a_named_volume_not_declared_is_refused(self) -> None:
        result = compose("services:\n  web:\n    image: x\n    volumes:\n      - data:/data\n")
        assert result.refused and "volume 'data' is not declared" in result.problems[0].message


class TestTags:
    def test_reset_and_override_merge_in_1_6(self, tmp_path: Path) -> None:
        write(
            tmp_path,
            {
                "compose.yml": "services:\n  web:\n    image: x\n    ports: ['8080:80']\n    command: [a]\n",
                "o.yml": "services:\n  web:\n    ports: !override\n      - '9090:90'\n    command: !reset null\n",
            },
        )
        web = load([tmp_path / "compose.yml", tmp_path / "o.yml"]).services["web"]
        assert [p.host_port for p in web.ports] == [9090]
        assert web.commands == ()
        assert load([tmp_path / "compose.yml", tmp_path / "o.yml"], release=(1, 3, 0)).refused

    def test_a_tag_with_nothing_to_merge_is_refused(self) -> None:
        assert compose("services:\n  web:\n    image: x\n    ports: !reset []\n").refused


class TestHostileSubstitution:
    def test_deep_nesting_and_unclosed_braces_are_problems_with_short_messages(self) -> None:
        nested = parse('services:\n  a:\n    image: "' + "${A:-" * 5000 + "x" + "}" * 5000 + '"\n', "c.yml")
        assert [p.message for p in nested.problems] == ["operands nested too deep to read (podman-compose stops here)"]
        unclosed = parse('services:\n  a:\n    image: "' + "${" * 200_000 + '"\n', "c.yml")
        assert unclosed.refused and len(unclosed.problems[0].message) < 200

    @pytest.mark.parametrize("release", [(1, 3, 0), (1, 6, 0)])
    def test_a_value_named_again_and_again_is_refused_before_it_is_built(self, release: tuple[int, ...]) -> None:
        """Issue 24: a large value named in every line of a file adds up to gigabytes."""
        body = "".join(f"      V{i}: ${{BIG}}${{BIG}}\n" for i in range(8))
        text = "services:\n  a:\n    image: x\n    environment:\n" + body
        result = parse(text, "c.yml", environ={"BIG": "x" * 1_000_000}, release=release)
        assert result.refused
        assert [p.line for p in result.problems] == [9]
        assert "add up to more than 8 MB" in result.problems[0].message
        small = parse(text, "c.yml", environ={"BIG": "x" * 1000}, release=release)
        assert small.ok and small.services["a"].environment[0].value == "x" * 2000
