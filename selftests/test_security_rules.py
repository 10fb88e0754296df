"""Selftests for the file security rules (phoenix_compliance.security): the rule table, ports, privileges,
sockets, images, the reference stack, substituted values. SELinux labels and secrets have their own modules.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from security_rules_cases import (
    DIGEST,
    REFERENCE,
    compose,
    unit,
    where,
)

from phoenix_compliance import security as rules
from phoenix_compliance.parsers.compose import ComposeFile, load, parse
from phoenix_compliance.quadlet.unitfile import UnitFile, parse_file
from phoenix_compliance.security import Offence


class TestRuleInfo:
    def test_ids_are_stable_and_unique(self) -> None:
        assert [rule.id for rule in rules.RULES] == [
            "SEC-LABEL",
            "SEC-PORT",
            "SEC-PRIV",
            "SEC-SOCKET",
            "SEC-SECRET",
            "SEC-IMAGE",
            "SEC-NOLABEL",
            "SEC-REGISTRY",
        ]

    @pytest.mark.parametrize("rule", rules.RULES, ids=lambda rule: rule.id)
    def test_title_and_one_line_remediation(self, rule: rules.RuleInfo) -> None:
        assert rule.title and rule.remediation
        assert "\n" not in rule.remediation

    def test_offence_reads_as_file_line(self) -> None:
        offence = Offence("SEC-PORT", "compose.yaml", 7, "service web, port 80", "too low")
        assert str(offence) == "compose.yaml:7: SEC-PORT service web, port 80: too low"


class TestUnprivilegedPorts:
    COMPOSE = """\
    services:
      web:
        image: docker.io/library/nginx:1.27
        ports:
          - "80:8080"
          - "127.0.0.1:443:8443/tcp"
          - "8080:80"
          - "53"
          - target: 8053
            published: 53
            protocol: udp
          - "20-21:2020-2021"
    """

    def test_compose_low_host_ports(self) -> None:
        offences = rules.compose_unprivileged_ports(compose(self.COMPOSE))
        assert where(offences) == [
            ("compose.yaml", 5, "service web, port 80"),
            ("compose.yaml", 6, "service web, port 443"),
            ("compose.yaml", 9, "service web, port 53"),
            # A range is one offence for its line.
            ("compose.yaml", 12, "service web, port 20-21"),
        ]
        assert "ip_unprivileged_port_start=1024" in offences[0].message

    def test_compose_threshold_is_an_argument(self) -> None:
        offences = rules.compose_unprivileged_ports(compose(self.COMPOSE), unprivileged_start=80)
        assert [offence.line for offence in offences] == [9, 12]
        assert rules.compose_unprivileged_ports(compose(self.COMPOSE), unprivileged_start=0) == []

    def test_compose_clean(self) -> None:
        clean = 'services:\n  web:\n    image: docker.io/library/nginx:1.27\n    ports: ["8080:80", "80"]\n'
        assert rules.compose_unprivileged_ports(compose(clean)) == []

    def test_quadlet_container_and_pod(self) -> None:
        container = unit("[Container]\nImage=localhost/app:1\nPublishPort=80:8080\nPublishPort=8080:80\n")
        pod = unit("[Pod]\nPodName=stack\nPublishPort=127.0.0.1:443:8443\nPublishPort=5432:5432\n", "stack.pod")
        offences = rules.quadlet_unprivileged_ports([container, pod])
        assert where(offences) == [
            ("web.container", 3, "web.container, PublishPort=80:8080"),
            ("stack.pod", 3, "stack.pod, PublishPort=127.0.0.1:443:8443"),
        ]
        assert "port 443" in offences[1].message

    def test_quadlet_clean(self) -> None:
        clean = unit("[Pod]\nPublishPort=8080:80\nPublishPort=443\n", "stack.pod")
        assert rules.quadlet_unprivileged_ports([clean]) == []
        low = unit("[Pod]\nPublishPort=80:80\n", "stack.pod")
        assert rules.quadlet_unprivileged_ports([low], unprivileged_start=80) == []


class TestPrivileges:
    COMPOSE = """\
    services:
      web:
        image: docker.io/library/nginx:1.27
        privileged: true
        cap_add: [CAP_NET_BIND_SERVICE, SYS_ADMIN]
        network_mode: host
        pid: host
    """

    def test_compose_offences(self) -> None:
        offences = rules.compose_privileges(compose(self.COMPOSE), allowed_caps=["NET_BIND_SERVICE"])
        assert where(offences) == [
            ("compose.yaml", 4, "service web, privileged: true"),
            ("compose.yaml", 5, "service web, cap_add SYS_ADMIN"),
            ("compose.yaml", 6, "service web, network_mode: host"),
            ("compose.yaml", 7, "service web, pid: host"),
        ]
        assert "NET_BIND_SERVICE" in offences[1].message

    def test_compose_allow_list_defaults_to_nothing(self) -> None:
        subjects = [offence.subject for offence in rules.compose_privileges(compose(self.COMPOSE))]
        assert "service web, cap_add NET_BIND_SERVICE" in subjects

    def test_compose_clean(self) -> None:
        clean = """\
        services:
          web:
            image: docker.io/library/nginx:1.27
            privileged: false
            cap_add: [NET_BIND_SERVICE]
            network_mode: bridge
        """
        assert rules.compose_privileges(compose(clean), allowed_caps=["CAP_NET_BIND_SERVICE"]) == []

    def test_quadlet_keys(self) -> None:
        container = unit("""\
        [Container]
        Image=localhost/app:1
        AddCapability=CAP_CHOWN CAP_SYS_ADMIN
        Network=host
        """)
        pod = unit("[Pod]\nNetwork=host\n", "stack.pod")
        offences = rules.quadlet_privileges([container, pod], allowed_caps=["chown"])
        assert where(offences) == [
            ("web.container", 3, "web.container, AddCapability SYS_ADMIN"),
            ("web.container", 4, "web.container, Network=host"),
            ("stack.pod", 2, "stack.pod, Network=host"),
        ]

    @pytest.mark.parametrize(
        ("args", "subject"),
        [
            ("--privileged", "PodmanArgs --privileged"),
            ("--log-level=info --privileged=true", "PodmanArgs --privileged"),
            ("--pid=host", "PodmanArgs --pid=host"),
            ("--pid host", "PodmanArgs --pid=host"),
            ("--network=host", "PodmanArgs --network=host"),
            ("--net host", "PodmanArgs --net=host"),
            ("--cap-add SYS_ADMIN", "PodmanArgs --cap-add SYS_ADMIN"),
            ("--cap-add=cap_net_raw", "PodmanArgs --cap-add NET_RAW"),
        ],
    )
    def test_quadlet_podman_args(self, args: str, subject: str) -> None:
        container = unit(f"[Container]\nImage=localhost/app:1\nPodmanArgs={args}\n")
        assert where(rules.quadlet_privileges([container])) == [("web.container", 3, f"web.container, {subject}")]

    def test_quadlet_clean(self) -> None:
        clean = unit("""\
        [Container]
        Image=localhost/app:1
        AddCapability=CAP_NET_BIND_SERVICE
        Network=phoenix.network
        PodmanArgs=--privileged=false --pid=private --network=bridge --cap-add=NET_BIND_SERVICE --log-level info
        """)
        assert rules.quadlet_privileges([clean], allowed_caps=["NET_BIND_SERVICE"]) == []


class TestSocketMounts:
    @pytest.mark.parametrize(
        "source",
        [
            "/run/podman/podman.sock",
            "/var/run/docker.sock",
            "/run/docker.sock",
            "%t/podman/podman.sock",
            "/run/user/1000/podman/podman.sock",
            "/run/user/%U/podman/podman.sock",
            "$XDG_RUNTIME_DIR/podman/podman.sock",
            "${XDG_RUNTIME_DIR}/podman/podman.sock",
            "//run//podman/podman.sock/",
            "/run/podman",
        ],
    )
    def test_sockets(self, source: str) -> None:
        assert rules.is_api_socket(source)

    @pytest.mark.parametrize(
        "source", ["/run/user/1000/app.sock", "%h/podman/podman.sock", "/srv/run/docker.sock", "podman", "/run"]
    )
    def test_not_sockets(self, source: str) -> None:
        assert not rules.is_api_socket(source)

    def test_compose_offences(self) -> None:
        offences = rules.compose_socket_mounts(
            compose("""\
            services:
              web:
                image: docker.io/library/nginx:1.27
                volumes:
                  - /var/run/docker.sock:/var/run/docker.sock:Z
                  - ./www:/www:Z
                  - ${XDG_RUNTIME_DIR}/podman/podman.sock:/run/podman/podman.sock
                  - type: bind
                    source: /run/podman/podman.sock
                    target: /sock
            """)
        )
        assert where(offences) == [
            ("compose.yaml", 5, "service web, volume /var/run/docker.sock:/var/run/docker.sock"),
            ("compose.yaml", 7, "service web, volume ${XDG_RUNTIME_DIR}/podman/podman.sock:/run/podman/podman.sock"),
            ("compose.yaml", 8, "service web, volume /run/podman/podman.sock:/sock"),
        ]
        assert "API socket" in offences[0].message

    def test_quadlet_offences(self) -> None:
        container = unit("""\
        [Container]
        Image=localhost/app:1
        Volume=%t/podman/podman.sock:/run/podman/podman.sock:Z
        Volume=%h/www:/www:Z
        Mount=type=bind,source=/run/user/1000/podman/podman.sock,destination=/sock,relabel=private
        """)
        assert where(rules.quadlet_socket_mounts([container])) == [
            ("web.container", 3, "web.container, Volume=%t/podman/podman.sock:/run/podman/podman.sock"),
            ("web.container", 5, "web.container, Mount source=/run/user/1000/podman/podman.sock"),
        ]

    def test_clean(self) -> None:
        clean_compose = 'services:\n  web:\n    image: docker.io/library/nginx:1.27\n    volumes: ["./www:/www:Z"]\n'
        assert rules.compose_socket_mounts(compose(clean_compose)) == []
        clean_unit = unit("[Container]\nImage=localhost/app:1\nVolume=%t/app/app.sock:/app.sock:Z\n")
        assert rules.quadlet_socket_mounts([clean_unit]) == []


class TestImages:
    @pytest.mark.parametrize(
        "image",
        [
            "docker.io/library/nginx:1.27",
            "localhost/phoenix-standin:1.0",
            "registry.example.com:5000/team/app:2",
            "localhost:5000/app:1",
            f"quay.io/team/app@{DIGEST}",
            f"docker.io/library/nginx:latest@{DIGEST}",
        ],
    )
    def test_qualified_and_pinned(self, image: str) -> None:
        assert rules.image_problems(image) == []

    @pytest.mark.parametrize(
        ("image", "problems"),
        [
            ("nginx", ["short name", "no tag"]),
            ("nginx:1.27", ["short name"]),
            ("library/nginx:1.27", ["short name"]),
            ("docker.io/library/nginx", ["no tag"]),
            ("registry:5000/app", ["no tag"]),
            ("docker.io/library/nginx:latest", [":latest"]),
            ("quay.io/team/app@sha256:abc", ["malformed digest"]),
        ],
    )
    def test_problems(self, image: str, problems: list[str]) -> None:
        found = rules.image_problems(image)
        assert len(found) == len(problems)
        for message, expected in zip(found, problems, strict=True):
            assert expected in message

    def test_compose(self) -> None:
        offences = rules.compose_images(
            compose("""\
            services:
              web:
                container_name: web
                image: nginx
              built:
                build: ./app
                image: app
              templated:
                image: docker.io/library/nginx:${TAG}
              ok:
                image: localhost/phoenix-standin:1.0
            """)
        )
        assert where(offences) == [("compose.yaml", 4, "service web, image nginx")]
        assert offences[0].rule == "SEC-IMAGE"
        assert "short name" in offences[0].message and "latest" in offences[0].message

    def test_quadlet(self) -> None:
        container = unit("[Unit]\nDescription=x\n\n[Container]\nImage=docker.io/library/nginx:latest\n")
        built = unit("[Container]\nImage=app.build\n", "built.container")
        image = unit("[Image]\nImage=quay.io/team/app\n", "app.image")
        clean = unit("[Container]\nImage=localhost/phoenix-standin:1.0\n", "ok.container")
        assert where(rules.quadlet_images([container, built, image, clean])) == [
            ("web.container", 5, "web.container, Image=docker.io/library/nginx:latest"),
            ("app.image", 2, "app.image, Image=quay.io/team/app"),
        ]


COMPOSE_RULES: list[Callable[[ComposeFile], list[Offence]]] = [
    rules.compose_selinux_labels,
    rules.compose_unprivileged_ports,
    rules.compose_privileges,
    rules.compose_socket_mounts,
    rules.compose_secrets,
    rules.compose_images,
    rules.compose_labelling_disabled,
]
QUADLET_RULES: list[Callable[[list[UnitFile]], list[Offence]]] = [
    rules.quadlet_selinux_labels,
    rules.quadlet_unprivileged_ports,
    rules.quadlet_privileges,
    rules.quadlet_socket_mounts,
    rules.quadlet_secrets,
    rules.quadlet_images,
    rules.quadlet_labelling_disabled,
]


class TestReferenceStack:
    """The reference stack (localhost/...:1.0 images, %h/...:Z mounts, ports >= 1024) passes every rule."""

    def test_units_are_there(self) -> None:
        names = {path.name for path in (REFERENCE / "systemd").iterdir()}
        assert "phoenix-hydra.pod" in names
        assert any(name.endswith(".container") for name in names)

    @pytest.mark.parametrize("rule", QUADLET_RULES, ids=lambda rule: rule.__name__)
    def test_quadlet_units_clean(self, rule: Callable[[list[UnitFile]], list[Offence]]) -> None:
        units = [
            parse_file(path)
            for path in sorted((REFERENCE / "systemd").iterdir())
            if path.suffix in (".container", ".pod")
        ]
        assert [str(offence) for offence in rule(units)] == []

    @pytest.mark.parametrize("rule", COMPOSE_RULES, ids=lambda rule: rule.__name__)
    def test_compose_clean(self, rule: Callable[[ComposeFile], list[Offence]]) -> None:
        path = REFERENCE / "compose.yaml"
        if not path.exists():
            pytest.skip(f"{path} is not in this checkout yet")
        stack = load(path)
        assert stack.ok, stack.problems
        assert stack.services
        assert [str(offence) for offence in rule(stack)] == []


class TestSubstitutedValues:
    def test_a_secret_from_a_variable_is_no_literal(self) -> None:
        text = "services:\n  db:\n    image: x\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n"
        parsed = parse(text, "compose.yaml", environ={"DB_PASSWORD": "hunter2-correct-horse"})
        assert parsed.services["db"].environment[0].value == "hunter2-correct-horse"
        assert rules.compose_secrets(parsed) == []

    def test_a_privileged_port_behind_a_default(self) -> None:
        parsed = parse('services:\n  mail:\n    image: x\n    ports: ["${X_PORT:-25}:25"]\n', "compose.yaml")
        [offence] = rules.compose_unprivileged_ports(parsed)
        assert (offence.line, offence.subject) == (4, "service mail, port 25")
        assert "(written '${X_PORT:-25}:25' -> '25:25')" in offence.message
