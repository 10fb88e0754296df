"""Selftests for the secret rules of phoenix_compliance.security: names, values beyond names."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from security_rules_cases import (
    compose,
    unit,
    where,
)

from phoenix_compliance import security as rules
from phoenix_compliance.parsers.compose import load
from phoenix_compliance.security import Offence


class TestSecrets:
    # Distinctive values, so a leak into any field cannot go unnoticed.
    VALUES = (
        "hunter2-XYZZY-c0mpose",
        "pl0ver-QUUX fr0b-W0RD",
        "t0ken-FROB",
        "spaced-PLUGH thud-W4LDO",
        "argv-GRAULT",
        "s3rv1ce-WIBBLE",
        "pr3fix-$${l1teral}",
    )

    COMPOSE = """\
    services:
      web:
        image: docker.io/library/nginx:1.27
        environment:
          DB_PASSWORD: hunter2-XYZZY-c0mpose
          KEYBOARD_LAYOUT: us
          POSTGRES_PASSWORD_FILE: /run/secrets/db
          API_KEY: ${API_KEY}
          SESSION_SECRET: pr3fix-$${l1teral}
      worker:
        image: docker.io/library/busybox:1.36
        environment:
          - Api_Key=pl0ver-QUUX fr0b-W0RD
          - GITHUB_TOKEN
          - TZ=UTC
          - AUTH_TOKEN=$TOKEN
    """

    QUADLET = """\
    [Container]
    Image=localhost/app:1
    Environment=TZ=UTC GITHUB_TOKEN=t0ken-FROB
    Environment=KEYBOARD_LAYOUT=us DB_PASSWORD="spaced-PLUGH thud-W4LDO"
    Environment=API_KEY=${API_KEY}
    Secret=db_password,type=env,target=DB_PASSWORD
    PodmanArgs=--env PRIVATE_KEY=argv-GRAULT -e LANG=C

    [Service]
    Environment=SECRET_KEY=s3rv1ce-WIBBLE
    """

    @pytest.mark.parametrize(
        ("name", "secret"),
        [
            ("DB_PASSWORD", True),
            ("db_passwd", True),
            ("API_KEY", True),
            ("GITHUB_TOKEN", True),
            ("AWS_SECRET_ACCESS_KEY", True),
            ("SSH_PRIVATE", True),
            ("REGISTRY_CREDENTIALS", True),
            ("my-secret", True),
            ("KEYBOARD_LAYOUT", False),
            ("PASSENGER_COUNT", False),
            ("TOKENIZER_MODEL", False),
            ("POSTGRES_PASSWORD_FILE", False),
            ("TZ", False),
        ],
    )
    def test_secret_names(self, name: str, secret: bool) -> None:
        assert rules.is_secret_name(name) is secret

    def test_compose_literals(self) -> None:
        offences = rules.compose_secrets(compose(self.COMPOSE))
        assert where(offences) == [
            ("compose.yaml", 5, "service web, environment DB_PASSWORD"),
            # `$$` is an escaped dollar: the value is a literal.
            ("compose.yaml", 9, "service web, environment SESSION_SECRET"),
            ("compose.yaml", 13, "service worker, environment Api_Key"),
        ]
        assert "podman secret create db_password -" in offences[0].message
        assert "secrets:" in offences[0].message

    def test_quadlet_literals(self) -> None:
        offences = rules.quadlet_secrets([unit(self.QUADLET)])
        assert where(offences) == [
            ("web.container", 3, "web.container, Environment GITHUB_TOKEN"),
            ("web.container", 4, "web.container, Environment DB_PASSWORD"),
            ("web.container", 7, "web.container, PodmanArgs --env PRIVATE_KEY"),
            ("web.container", 10, "web.container, Environment SECRET_KEY"),
        ]
        assert "podman secret create db_password -" in offences[1].message
        assert "Secret=db_password,type=env,target=DB_PASSWORD" in offences[1].message

    def test_values_never_reported(self) -> None:
        offences = rules.compose_secrets(compose(self.COMPOSE)) + rules.quadlet_secrets([unit(self.QUADLET)])
        assert len(offences) == 7
        rendered = [str(offence) for offence in offences] + [repr(offence) for offence in offences]
        rendered += [str(value) for offence in offences for value in vars(offence).values()]
        for value in self.VALUES:
            for part in (value, *value.split(), *value.split("-")):
                assert not any(part in text for text in rendered), part

    def test_clean(self) -> None:
        clean_compose = """\
        services:
          web:
            image: docker.io/library/nginx:1.27
            environment:
              DB_PASSWORD: ${DB_PASSWORD}
              API_TOKEN:
              EMPTY_SECRET: ""
              KEYBOARD_LAYOUT: us
        """
        assert rules.compose_secrets(compose(clean_compose)) == []
        clean_unit = unit("""\
        [Container]
        Image=localhost/app:1
        Secret=db_password,type=env,target=DB_PASSWORD
        Environment=KEYBOARD_LAYOUT=us DB_PASSWORD_FILE=/run/secrets/db_password
        """)
        assert rules.quadlet_secrets([clean_unit]) == []


class TestSecretsBeyondNames:
    """What PHX-S.17 missed (issue 13): URLs with a password, secret options on a command line,
    token-looking labels and literal secrets in the env files the stack names; values withheld."""

    MARKERS = ("pw-url-marker", "pw-flag-marker", "ghp_" + "A1b2C3d4" * 5, "pw-envfile-marker", "tok-label-marker")

    def test_compose(self, tmp_path: Path) -> None:
        (tmp_path / "db.env").write_text("# the database\nexport DB_PASSWORD='pw-envfile-marker'\nLOG_LEVEL=debug\n")
        path = tmp_path / "compose.yaml"
        path.write_text(
            textwrap.dedent(
                f"""\
                services:
                  web:
                    image: docker.io/library/nginx:1.27
                    environment:
                      DATABASE_URL: postgresql://app:pw-url-marker@db:5432/app
                      SAFE_URL: postgresql://app:${{DB_PASSWORD}}@db/app
                    command: ["serve", "--db-password", "pw-flag-marker", "--password-file", "/run/secrets/x"]
                    labels:
                      deploy.token: tok-label-marker
                      build.ref: {self.MARKERS[2]}
                    env_file: [db.env]
                """
            )
        )
        from phoenix_compliance.facts.files import _attach_env_files

        parsed = load(path)
        assert parsed.ok, parsed.problems
        _attach_env_files(parsed, tmp_path)
        offences = rules.compose_secrets(parsed)
        assert where(offences) == [
            (str(path), 5, "service web, environment DATABASE_URL"),
            (str(path), 9, "service web, label deploy.token"),
            (str(path), 10, "service web, label build.ref"),
            (str(path), 7, "service web, command --db-password"),
            (str(tmp_path / "db.env"), 2, "env file variable DB_PASSWORD"),
        ]
        assert "a URL with a literal password (withheld here)" in offences[0].message
        assert "podman secret create" in offences[-1].message
        assert "looks like a token" in offences[2].message
        self.assert_withheld(offences)

    def test_quadlet(self, tmp_path: Path) -> None:
        (tmp_path / "app.env").write_text("API_TOKEN=pw-envfile-marker\n")
        path = tmp_path / "web.container"
        path.write_text(
            textwrap.dedent(
                """\
                [Container]
                Image=localhost/app:1
                Environment=DATABASE_URL=mysql://root:pw-url-marker@db/app
                Exec=serve --api-token=pw-flag-marker
                PodmanArgs=--secret db_password --label auth.token=tok-label-marker
                Label=auth.token=tok-label-marker
                EnvironmentFile=app.env
                """
            )
        )
        from phoenix_compliance.facts.files import local_quadlet_folder

        folder = local_quadlet_folder(tmp_path, "phoenix.target")
        offences = rules.quadlet_secrets(folder.units.values())
        assert where(offences) == [
            (str(path), 3, "web.container, Environment DATABASE_URL"),
            (str(path), 6, "web.container, Label auth.token"),
            (str(path), 4, "web.container, Exec --api-token"),
            (str(tmp_path / "app.env"), 1, "env file variable API_TOKEN"),
        ]
        self.assert_withheld(offences)

    def assert_withheld(self, offences: list[Offence]) -> None:
        rendered = " ".join(str(offence) for offence in offences)
        for marker in self.MARKERS:
            assert marker not in rendered, marker

    @pytest.mark.parametrize(
        ("words", "options"),
        [
            (["--password", "x"], ["--password"]),
            (["--password=x"], ["--password"]),
            (["--password", "$DB_PASSWORD"], []),
            (["--password-file", "/run/secrets/db"], []),
            (["--no-password", "--verbose"], []),
            (["--secret", "db_password"], []),
            (["--client-secret", "abc"], ["--client-secret"]),
        ],
    )
    def test_secret_options(self, words: list[str], options: list[str]) -> None:
        assert rules.secret_options(words) == options
