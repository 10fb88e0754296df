"""Selftests for grammar/: each value is read once, and every reader of it agrees (issue 23)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from phoenix_compliance import security
from phoenix_compliance.cli import main
from phoenix_compliance.facts.identity import parse_version as identity_version
from phoenix_compliance.grammar.images import is_unambiguous_image, parse_image, qualified_image
from phoenix_compliance.grammar.ports import Publish, publish_port_problem, read_publish
from phoenix_compliance.grammar.secrets import REFERENCE_NAMES, is_secret_name, secret_value_reason
from phoenix_compliance.grammar.versions import read_version
from phoenix_compliance.parsers.compose import PortMapping, parse
from phoenix_compliance.quadlet.unitfile import parse_text
from phoenix_compliance.quadlet_lint import RULES as LINT_RULES
from phoenix_compliance.quadlet_lint import parse_version
from phoenix_compliance.quadlet_lint.output import same_judgement
from phoenix_compliance.redact import redact
from phoenix_compliance.rules import RuleSpec


class TestPublishSpecs:
    """podman's CreatePortBindings() and checkProtocol(): `/tcp,udp` publishes the port once per protocol."""

    def test_protocol_list_as_podman_reads_it(self) -> None:
        assert read_publish("80:80/tcp,udp") == Publish(None, (80, 80), (80, 80), ("tcp", "udp"))
        assert read_publish("53:53/UDP,,udp") == Publish(None, (53, 53), (53, 53), ("udp", "tcp"))
        assert read_publish("[::1]:8080:80/sctp") == Publish("::1", (8080, 8080), (80, 80), ("sctp",))

    @pytest.mark.parametrize(
        "spec",
        ["80:80/tcp/udp", "80:80/", "80/icmp", "::1:80:80", "[::1]80:80", "0:80", "8000-8010:80", "a:b:c:d"],
    )
    def test_refused_as_podman_refuses(self, spec: str) -> None:
        assert isinstance(read_publish(spec), str)
        assert publish_port_problem(spec) is not None

    def test_quadlet_publish_with_two_protocols_is_judged(self) -> None:
        # On main, PHX-S.04 read PublishPort= through the compose parser, found nothing in
        # `/tcp,udp` and passed while the lint read host port 80.
        unit = parse_text("[Container]\nImage=localhost/a:1\nPublishPort=80:80/tcp,udp\n", "web.container")
        offences = security.quadlet_unprivileged_ports([unit])
        assert [(offence.line, offence.subject) for offence in offences] == [
            (3, "web.container, PublishPort=80:80/tcp,udp")
        ]
        assert "host port 80 " in offences[0].message

    def test_compose_reads_the_same_protocol_list(self) -> None:
        text = 'services:\n  dns:\n    image: localhost/dns:1\n    ports: ["53:53/tcp,udp"]\n'
        compose = parse(text, "compose.yaml")
        assert compose.ok, compose.problems
        assert compose.services["dns"].ports == (
            PortMapping(None, 53, 53, "tcp", 4),
            PortMapping(None, 53, 53, "udp", 4),
        )
        [offence] = security.compose_unprivileged_ports(compose)
        assert offence.subject == "service dns, port 53"


# -- secrets: one vocabulary for the detector (PHX-S.17), the redactor and convert --------------

SECRET_NAMES = [
    "DB_PASSWORD",
    "DB_PASS",
    "STRIPE_KEY",
    "GITHUB_CREDS",
    "REGISTRY_AUTH",
    "Password",
    "password",
    "dbPassword",
    "DBPassword",
    "PGPASSWORD",
    "MYSQL_ROOT_PASSWORD",
    "api-token",
    "com.example.secret",
]
PLAIN_NAMES = ["KEYBOARD_LAYOUT", "PASSENGER_COUNT", "TOKENIZER_MODEL", "POSTGRES_PASSWORD_FILE", "TZ", "AUTH_TYPE"]
VALUE = "v4lue-x9q"
_WORDS = [
    "db",
    "api",
    "stripe",
    "github",
    "pg",
    "password",
    "pass",
    "key",
    "token",
    "secret",
    "creds",
    "auth",
    "file",
    "path",
    "layout",
    "keyboard",
    "user",
    "name",
    "host",
    "port",
    "private",
    "tokenizer",
    "passenger",
]


def _forms(name: str, value: str) -> list[str]:
    """Every way an output writes a name and its value: an assignment, YAML, a dict, JSON."""
    return [
        f"{name}={value}",
        f"Environment={name}={value} TZ=UTC",
        f"{name}: {value}",
        f"env:\n  - {name}: {value}\n",
        f"{{'{name}': '{value}'}}",
        f'{{"x": 1, "{name}": "{value}"}}',
        f"Label: repository {name}={value}, host {name}=other",
    ]


class TestSecretVocabulary:
    """What the detector calls a secret, the redactor withholds, in the same cases (issues 23, 24)."""

    @pytest.mark.parametrize("name", SECRET_NAMES)
    def test_secret_names_are_detected_and_redacted(self, name: str) -> None:
        assert secret_value_reason(name, VALUE) is not None
        for text in _forms(name, VALUE):
            assert VALUE not in redact(text), text

    @pytest.mark.parametrize("name", PLAIN_NAMES)
    def test_plain_names_are_neither(self, name: str) -> None:
        assert secret_value_reason(name, VALUE) is None
        assert redact(f"{name}={VALUE}") == f"{name}={VALUE}"

    def test_drift_evidence_of_phx_3_09(self) -> None:
        # On main the redactor masked PASSWORD= only, so PHX-3.09 printed both values.
        text = "Label: repository DB_PASS=one, host DB_PASS=two"
        assert redact(text) == "Label: repository DB_PASS=***, host DB_PASS=***"
        assert security.is_secret_name("DB_PASS")

    @pytest.mark.parametrize(
        ("value", "secret"),
        [
            ("postgresql://app:hunter2@db/app", "hunter2"),
            ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            ("AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"),
            ("Bearer eyJhbGciOiJIUzI1NiJ9.payload", "eyJhbGciOiJIUzI1NiJ9"),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----",
                "b3BlbnNzaC1rZXk",
            ),
        ],
        ids=["url-password", "github-token", "aws-key-id", "bearer", "pem"],
    )
    def test_values_secret_by_shape(self, value: str, secret: str) -> None:
        assert secret_value_reason("SETTING", value) is not None
        assert secret not in redact(f"SETTING={value}")
        assert secret not in redact(f"Authorization: {value}" if value.startswith("Bearer") else value)

    @pytest.mark.parametrize(
        ("command", "option"),
        [
            ("mysqladmin ping -uroot -pS3cretW0rd", "-p"),
            ("curl -fsS -u admin:S3cretW0rd http://localhost/", "-u"),
            ("serve --db-password S3cretW0rd --port 80", "--db-password"),
            ("serve --api-token=S3cretW0rd", "--api-token"),
            ("skopeo copy --creds user:S3cretW0rd docker://a docker://b", "--creds"),
        ],
    )
    def test_command_lines(self, command: str, option: str) -> None:
        assert security.secret_options(command.split()) == [option]
        assert "S3cretW0rd" not in redact(command)

    @pytest.mark.parametrize(
        "command",
        ["podman run -p8080:80 -u 1000:1000 img", "serve --secret db --password-file /run/secrets/db", "mysql -p"],
    )
    def test_command_lines_without_a_secret(self, command: str) -> None:
        assert security.secret_options(command.split()) == []
        assert redact(command) == command

    @given(
        value=st.one_of(
            st.from_regex(r"ghp_[A-Za-z0-9]{36}", fullmatch=True),
            st.from_regex(r"AKIA[0-9A-Z]{16}", fullmatch=True),
            st.from_regex(r"glpat-[A-Za-z0-9_-]{20}", fullmatch=True),
            st.from_regex(r"[a-z]{3,8}://[a-z]{1,8}:P[A-Z0-9]{6,20}@[a-z]{1,8}/", fullmatch=True),
        ),
        name=st.sampled_from(["SETTING", "url", "upstream", "MIRROR"]),
    )
    def test_drawn_values_secret_by_shape(self, value: str, name: str) -> None:
        assert secret_value_reason(name, value) is not None
        secret = value.split(":")[-1].rstrip("/").split("@")[0] if "://" in value else value
        for text in _forms(name, value)[:6]:
            assert secret not in redact(text), text

    @given(
        words=st.lists(st.sampled_from(_WORDS), min_size=1, max_size=4),
        style=st.sampled_from(["upper_snake", "lower_snake", "kebab", "camel", "pascal", "dotted"]),
        value=st.from_regex(r"v[a-z0-9]{5,15}", fullmatch=True),
    )
    def test_drawn_names_every_case_style(self, words: list[str], style: str, value: str) -> None:
        name = _styled(words, style)
        assume(name not in REFERENCE_NAMES)  # Quadlet's Secret=, compose's secrets: name a secret, hold none
        # The vocabulary reads words, not spelling: every style of the same words is one answer.
        assert is_secret_name(name) == is_secret_name("_".join(words).upper())
        detected = secret_value_reason(name, value) is not None
        for text in _forms(name, value)[:5]:
            assert (value not in redact(text)) == detected, (name, text)


def _styled(words: list[str], style: str) -> str:
    if style == "upper_snake":
        return "_".join(words).upper()
    if style == "lower_snake":
        return "_".join(words)
    if style == "kebab":
        return "-".join(words)
    if style == "dotted":
        return ".".join(words)
    camel = "".join(word.capitalize() for word in words)
    return camel if style == "pascal" else words[0] + camel[len(words[0]) :]


IMAGE_ID = "0123456789abcdef" * 4


class TestImageReferences:
    """One parser for image references: the lint's QL025, PHX-S.18's image_problems() and convert agree."""

    @pytest.mark.parametrize(
        ("reference", "registry", "path", "tag", "digest"),
        [
            ("nginx", None, "nginx", None, None),
            ("library/nginx:1.27", None, "library/nginx", "1.27", None),
            ("localhost:5000/app:1", "localhost:5000", "app", "1", None),
            ("quay.io/team/app@sha256:abc", "quay.io", "team/app", None, "sha256:abc"),
            (f"docker.io/library/nginx:1@sha256:{IMAGE_ID}", "docker.io", "library/nginx", "1", f"sha256:{IMAGE_ID}"),
        ],
    )
    def test_parts(self, reference: str, registry: str | None, path: str, tag: str | None, digest: str | None) -> None:
        image = parse_image(reference)
        assert (image.registry, image.path, image.tag, image.digest) == (registry, path, tag, digest)

    @pytest.mark.parametrize("image_id", [IMAGE_ID, f"sha256:{IMAGE_ID}"])
    def test_an_image_id_is_qualified_and_pinned_for_both(self, image_id: str) -> None:
        # On main the lint took an image id as unambiguous (Quadlet's isUnambiguousName) while
        # SEC-IMAGE called it a short name without a tag.
        unit = parse_text(f"[Container]\nImage={image_id}\n", "web.container")
        assert security.quadlet_images([unit]) == []
        assert security.image_problems(image_id) == []
        assert is_unambiguous_image(image_id) and qualified_image(image_id) == image_id

    def test_quadlet_reads_the_registry_before_the_digest(self) -> None:
        # isUnambiguousName() looks at the text before the first '/', '@' or not (differential case
        # hypothesis-949da083516a: the generator does not warn, so neither may QL025).
        assert is_unambiguous_image("#@b1.,=c/c@library/fedora1_b")
        assert parse_image("quay.io/team/app@sha256:abc").registry == "quay.io"

    @given(st.from_regex(r"(?:[a-z0-9.:]{1,12}/)?[a-z0-9]{1,8}(?:/[a-z0-9]{1,8})?(?::[a-z0-9.]{1,8})?", fullmatch=True))
    def test_lint_and_security_agree_on_qualified(self, reference: str) -> None:
        short = any("short name" in problem for problem in security.image_problems(reference))
        assert short is not is_unambiguous_image(reference)
        assert qualified_image(reference).startswith("docker.io/") or not short


class TestSockets:
    @pytest.mark.parametrize(
        "source",
        [
            "%t/podman/./podman.sock",
            "${XDG_RUNTIME_DIR:-/run/user/1000}/podman/podman.sock",
            "//var//run/docker.sock/",
            "/run/podman/../podman/podman.sock",
        ],
    )
    def test_every_spelling_of_an_api_socket(self, source: str) -> None:
        # On main these spellings passed PHX-S.13: only exact paths and the plain runtime-dir forms matched.
        assert security.is_api_socket(source)
        if ":-" in source:
            return  # a compose spelling: systemd has no ${VAR:-default}, and ':' splits a Volume=
        unit = parse_text(f"[Container]\nImage=localhost/a:1\nVolume={source}:/var/run/docker.sock\n", "web.container")
        assert [offence.line for offence in security.quadlet_socket_mounts([unit])] == [3]


class TestVersions:
    """Podman and podman-compose releases ordered with packaging: a pre-release comes before its release."""

    def test_a_release_candidate_is_before_its_release(self) -> None:
        # On main the lint read 5.8.0-rc1 as 5.8.0 and gave it everything 5.8 brought.
        rc = parse_version("5.8.0-rc1")
        assert rc < (5, 8) and rc < (5, 8, 0) and rc > (5, 7, 9)
        assert parse_version("5.9.0-dev") < (5, 9)
        assert parse_version("5.8.0") >= (5, 8)
        assert sorted([read_version("5.8.0"), read_version("5.8.0-rc1"), read_version("5.7.1")]) == [
            (5, 7, 1),
            (5, 8, 0),
            (5, 8, 0),
        ]
        assert sorted([read_version("5.8.0"), read_version("5.8.0-rc1")])[0].prerelease

    def test_the_host_reading_is_the_same(self) -> None:
        found = identity_version("5.8.0-rc1\n")
        assert found == (5, 8, 0) and found is not None and found < (5, 8)
        assert identity_version("not a version") is None


class TestPodmanArgs:
    """PodmanArgs= is split as Quadlet splits it (systemd's rules), not by shlex."""

    @pytest.mark.parametrize(
        ("args", "subject"),
        [
            ("--cap\\x2dadd=SYS_ADMIN", "PodmanArgs --cap-add SYS_ADMIN"),
            ("--privileged=True", "PodmanArgs --privileged"),
            ('"--pid" host', "PodmanArgs --pid=host"),
        ],
        ids=["c-escape", "go-bool", "quoted"],
    )
    def test_privileges_read_as_podman_gets_them(self, args: str, subject: str) -> None:
        # On main shlex read `\x2d` as `x2d` and only `true` as a true bool, so these passed PHX-S.11 (and S.20).
        unit = parse_text(f"[Container]\nImage=localhost/a:1\nPodmanArgs={args}\n", "web.container")
        offences = security.quadlet_privileges([unit])
        assert [offence.subject for offence in offences] == [f"web.container, {subject}"]

    def test_an_escaped_security_opt_turns_labelling_off(self) -> None:
        unit = parse_text(
            "[Container]\nImage=localhost/a:1\nPodmanArgs=--security-opt label\\x3ddisable\n", "w.container"
        )
        assert security.quadlet_labelling_off(unit) is not None


class TestOneRuleSchema:
    """Lint rules and security rules are records of one schema, and one judgement names its other ids."""

    def test_one_dataclass(self) -> None:
        assert all(type(rule) is RuleSpec for rule in (*LINT_RULES.values(), *security.RULES))
        ids = [rule.id for rule in (*LINT_RULES.values(), *security.RULES)]
        assert len(ids) == len(set(ids))

    def test_security_rules_name_their_check(self) -> None:
        source = (Path(__file__).resolve().parent.parent / "tests" / "security" / "test_security.py").read_text()
        for rule in security.RULES:
            assert rule.check is not None and f'"{rule.check}"' in source, rule.id
            assert rule.remediation and rule.title

    def test_one_judgement_one_id_everywhere(self) -> None:
        linked = {rule.id: rule.same_as for rule in LINT_RULES.values() if rule.same_as}
        assert linked == {"QL052": "SEC-LABEL", "QL053": "SEC-NOLABEL"}
        assert same_judgement(LINT_RULES["QL052"]) == ["SEC-LABEL", "PHX-S.01"]
        assert same_judgement(LINT_RULES["QL053"]) == ["SEC-NOLABEL", "PHX-S.20"]

    def test_severity_per_profile(self) -> None:
        rule = LINT_RULES["QL029"]
        assert (rule.severity_in(None), rule.severity_in("stack")) == ("warning", "error")
        assert rule.stack_severity == "error" and LINT_RULES["QL000"].stack_severity is None


class TestLintOutputRedacted:
    """The lint quotes unit lines; a secret in them is withheld in text, JSON and SARIF (issue 24)."""

    @pytest.mark.parametrize("output_format", ["text", "json", "sarif"])
    def test_no_planted_secret_in_any_format(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], output_format: str
    ) -> None:
        # On main the lint printed `'DB_PASSWORD mk-lint-...'` (QL001) verbatim in every format.
        unit = tmp_path / "web.container"
        unit.write_text(
            "[Container]\nImage=localhost/a:1\nDB_PASSWORD mk-lint-4e1f\nEnvironment=dbPassword=mk-lint-77a0 X\n"
        )
        main(["lint", "--podman-version", "5.4.2", "--format", output_format, str(tmp_path)])
        shown = capsys.readouterr().out
        assert "QL001" in shown and "DB_PASSWORD" in shown
        assert "mk-lint-4e1f" not in shown and "mk-lint-77a0" not in shown
