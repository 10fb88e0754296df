"""Selftests for the file security rules (phoenix_compliance.security)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from phoenix_compliance import security as rules
from phoenix_compliance.parsers.compose import ComposeFile, load, parse
from phoenix_compliance.quadlet.unitfile import UnitFile, parse_file, parse_text
from phoenix_compliance.quadlet_lint import StackRules, lint_paths
from phoenix_compliance.security import Offence

REFERENCE = Path(__file__).resolve().parent.parent / "fixtures" / "infra" / "podman"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def compose(text: str) -> ComposeFile:
    text = textwrap.dedent(text)
    # The named volume these files mount, declared after their lines (podman-compose refuses it undeclared).
    if "\nvolumes:" not in text:
        text += "volumes:\n  data: {}\n"
    result = parse(text, "compose.yaml")
    assert result.ok, result.problems
    return result


def unit(text: str, name: str = "web.container") -> UnitFile:
    result = parse_text(textwrap.dedent(text), name)
    assert not result.problems, result.problems
    return result


def where(offences: list[Offence]) -> list[tuple[str, int, str]]:
    return [(offence.path, offence.line, offence.subject) for offence in offences]


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


class TestSelinuxLabels:
    COMPOSE = """\
    services:
      web:
        image: docker.io/library/nginx:1.27
        volumes:
          - ./www:/usr/share/nginx/html:ro
          - /srv/logs:/var/log/nginx
          - data:/data
          - type: bind
            source: ./conf
            target: /etc/nginx/conf.d
          - ./ok:/ok:ro,Z
          - type: bind
            source: ./ok-long
            target: /ok-long
            bind:
              selinux: z
          - type: tmpfs
            target: /tmp
          - /anonymous
    """

    def test_compose_bind_mounts_without_label(self) -> None:
        offences = rules.compose_selinux_labels(compose(self.COMPOSE))
        assert where(offences) == [
            ("compose.yaml", 5, "service web, volume ./www:/usr/share/nginx/html"),
            ("compose.yaml", 6, "service web, volume /srv/logs:/var/log/nginx"),
            ("compose.yaml", 8, "service web, volume ./conf:/etc/nginx/conf.d"),
        ]
        assert {offence.rule for offence in offences} == {"SEC-LABEL"}
        assert "./www:/usr/share/nginx/html:ro,Z" in offences[0].message

    def test_compose_named_volumes_on_request(self) -> None:
        offences = rules.compose_selinux_labels(compose(self.COMPOSE), named_volumes_too=True)
        assert ("compose.yaml", 7, "service web, volume data:/data") in where(offences)
        assert "named volume data" in offences[2].message

    def test_compose_clean(self) -> None:
        clean = """\
        services:
          web:
            image: docker.io/library/nginx:1.27
            volumes:
              - ./www:/www:Z
              - data:/data
        """
        assert rules.compose_selinux_labels(compose(clean)) == []

    QUADLET = """\
    [Container]
    Image=docker.io/library/nginx:1.27
    Volume=/srv/www:/www
    Volume=%h/logs:/var/log/nginx:ro
    Volume=data.volume:/data
    Volume=cache:/cache
    Volume=%h/ok:/ok:ro,Z
    Mount=type=bind,source=/srv/conf,destination=/etc/nginx
    Mount=type=bind,src=/srv/ok,dst=/ok2,relabel=private
    Mount=type=volume,source=vol1,destination=/vol1
    Mount=type=tmpfs,destination=/tmp
    """

    def test_quadlet_bind_mounts_without_label(self) -> None:
        offences = rules.quadlet_selinux_labels([unit(self.QUADLET)])
        assert where(offences) == [
            ("web.container", 3, "web.container, Volume=/srv/www:/www"),
            ("web.container", 4, "web.container, Volume=%h/logs:/var/log/nginx"),
            ("web.container", 8, "web.container, Mount type=bind source=/srv/conf"),
        ]
        assert "Volume=%h/logs:/var/log/nginx:ro,Z" in offences[1].message
        assert "relabel=private" in offences[2].message

    def test_quadlet_named_volumes_on_request(self) -> None:
        offences = rules.quadlet_selinux_labels([unit(self.QUADLET)], named_volumes_too=True)
        assert [offence.line for offence in offences] == [3, 4, 5, 6, 8, 10]
        # podman refuses relabel= on type=volume, so the advice is the Volume= form.
        assert "Volume=vol1:/vol1:Z" in offences[-1].message

    def test_quadlet_pod_volume(self) -> None:
        pod = unit("[Pod]\nVolume=/srv/shared:/shared\n", "stack.pod")
        assert where(rules.quadlet_selinux_labels([pod])) == [("stack.pod", 2, "stack.pod, Volume=/srv/shared:/shared")]

    def test_quadlet_clean(self) -> None:
        clean = unit("""\
        [Container]
        Image=docker.io/library/nginx:1.27
        Volume=%h/www:/www:Z
        Volume="/srv/data:/data:z"
        Volume=data:/data
        Mount=type=bind,src=/srv/conf,dst=/conf,relabel=shared
        """)
        assert rules.quadlet_selinux_labels([clean]) == []


class TestSystemContentIsNeverRelabelled:
    """Podman's docs: relabelling system content can break the host; a whole home needs label=disable."""

    @pytest.mark.parametrize(
        "source",
        [
            "/etc/localtime",
            "/proc/cpuinfo",
            "/lib/modules",
            "/var/run/docker.sock",
            "/run/user/1000/podman/podman.sock",
            "/usr/share/zoneinfo",
            "/sys/fs/cgroup",
            "/dev/dri",
            "%h",
            "/home/phoenix",
            "/root",
            "/",
            "/srv/app/api.sock",
        ],
    )
    def test_no_relabel_advice(self, source: str) -> None:
        assert rules.quadlet_selinux_labels([unit(f"[Container]\nImage=localhost/a:1\nVolume={source}:/x:ro\n")]) == []
        if source.startswith("%"):
            return  # a systemd specifier: in compose it would be a volume name, not a path
        assert (
            rules.compose_selinux_labels(compose(f"services:\n  a:\n    image: x\n    volumes: ['{source}:/x:ro']\n"))
            == []
        )

    def test_relabelling_it_is_the_finding(self) -> None:
        offences = rules.quadlet_selinux_labels([unit("[Container]\nImage=localhost/a:1\nVolume=/etc:/host-etc:Z\n")])
        assert len(offences) == 1
        assert "system content (/etc)" in offences[0].message and "drop the Z option" in offences[0].message
        assert "SecurityLabelDisable=true" in offences[0].message
        mount = unit("[Container]\nImage=localhost/a:1\nMount=type=bind,src=%h,dst=/h,relabel=shared\n")
        assert "a whole home directory" in rules.quadlet_selinux_labels([mount])[0].message

    def test_the_stacks_own_data_still_needs_it(self) -> None:
        offences = rules.quadlet_selinux_labels([unit("[Container]\nImage=localhost/a:1\nVolume=%h/data:/data\n")])
        assert [offence.line for offence in offences] == [3]

    def test_the_hosts_home_when_known(self) -> None:
        units = [unit("[Container]\nImage=localhost/a:1\nVolume=/srv/users/ada:/home/ada\n")]
        assert rules.quadlet_selinux_labels(units, home="/srv/users/ada") == []
        assert len(rules.quadlet_selinux_labels(units)) == 1


class TestLabellingTurnedOff:
    @pytest.mark.parametrize(
        "line",
        [
            "SecurityLabelDisable=true",
            "SecurityLabelType=spc_t",
            "PodmanArgs=--security-opt label=disable",
            "PodmanArgs=--security-opt=label:disable",
        ],
    )
    def test_quadlet_no_relabel_demanded_and_said_once(self, line: str) -> None:
        container = unit(f"[Container]\nImage=localhost/a:1\nVolume=/srv/data:/data\n{line}\n")
        assert rules.quadlet_selinux_labels([container]) == []
        offences = rules.quadlet_labelling_disabled([container])
        assert [(offence.rule, offence.line) for offence in offences] == [("SEC-NOLABEL", 4)]

    def test_false_keeps_labelling(self) -> None:
        container = unit("[Container]\nImage=localhost/a:1\nVolume=/srv/data:/data\nSecurityLabelDisable=false\n")
        assert len(rules.quadlet_selinux_labels([container])) == 1
        assert rules.quadlet_labelling_disabled([container]) == []

    @pytest.mark.parametrize("option", ["label=disable", "label:disable", "label=type:spc_t"])
    def test_compose(self, option: str) -> None:
        text = f"services:\n  a:\n    image: x\n    security_opt: ['{option}']\n    volumes: ['./data:/data']\n"
        assert rules.compose_selinux_labels(compose(text)) == []
        assert where(rules.compose_labelling_disabled(compose(text))) == [
            ("compose.yaml", 4, f"service a, security_opt {option}")
        ]

    def test_other_security_options_keep_labelling(self) -> None:
        text = "services:\n  a:\n    image: x\n    security_opt: [no-new-privileges]\n    volumes: ['./d:/d']\n"
        assert len(rules.compose_selinux_labels(compose(text))) == 1


class TestSpecifiersAndVariables:
    def test_a_variable_path_is_a_bind_mount(self) -> None:
        container = unit("[Container]\nImage=localhost/a:1\nVolume=${DATA_PATH}/x:/x\n")
        assert [offence.line for offence in rules.quadlet_selinux_labels([container])] == [3]

    def test_a_variable_set_by_the_unit_is_resolved(self) -> None:
        text = "[Container]\nImage=localhost/a:1\nVolume=${DATA}:/x\n[Service]\nEnvironment=DATA=/etc/ssl\n"
        # /etc/ssl is system content: no :Z advice once the variable is known.
        assert rules.quadlet_selinux_labels([unit(text)]) == []
        unknown = unit("[Container]\nImage=localhost/a:1\nVolume=${DATA}:/x\n")
        assert rules.quadlet_selinux_labels([unknown]) == []  # a volume name or a path: not judged

    def test_a_port_variable_set_by_the_unit(self) -> None:
        text = "[Container]\nImage=localhost/a:1\nPublishPort=${PORT}:80\n[Service]\nEnvironment=PORT=443\n"
        assert [offence.line for offence in rules.quadlet_unprivileged_ports([unit(text)])] == [3]

    def test_a_whole_home_by_specifier(self) -> None:
        assert rules.quadlet_selinux_labels([unit("[Container]\nImage=localhost/a:1\nVolume=%h:%h\n")]) == []


class TestRelabelAgreesWithTheLint:
    """The security rule SEC-LABEL and the lint's QL052 read a bind mount's relabel option through one grammar.

    Podman 5.4.2 and 5.8.2 take a bare Z or z in --mount as they take relabel=private or relabel=shared
    (pkg/specgenutil/volumes.go parseMountOptions()), and Quadlet passes Mount= fields on unchanged.
    """

    @pytest.mark.parametrize(
        ("line", "relabelled"),
        [
            ("Mount=type=bind,source=/srv/conf,destination=/conf,Z", True),
            ("Mount=type=bind,source=/srv/conf,destination=/conf,z", True),
            ("Mount=type=bind,source=/srv/conf,destination=/conf,relabel=private", True),
            ("Mount=type=bind,source=/srv/conf,destination=/conf,relabel=shared", True),
            ("Mount=Z,type=bind,src=/srv/conf,dst=/conf", True),
            ('Mount="type=bind,src=/srv/conf,dst=/conf,z"', True),
            ("Mount=type=bind,source=/srv/conf,destination=/conf", False),
            ("Mount=type=bind,source=/srv/conf,destination=/conf,ro", False),
            ("Mount=type=bind,source=/srv/conf,destination=/conf,relabel=none", False),
            ("Volume=/srv/conf:/conf:Z", True),
            ("Volume=/srv/conf:/conf:ro,z", True),
            ("Volume=/srv/conf:/conf", False),
            ("Volume=%h/conf:/conf:ro", False),
            ("Volume=${DATA_PATH}/x:/x", False),
            ("Volume=%h:%h", True),
            ("Volume=/etc/localtime:/etc/localtime:ro", True),
            ("Volume=/var/run/docker.sock:/var/run/docker.sock", True),
            ("Volume=/lib/modules:/lib/modules:ro", True),
            ("Volume=/etc:/host-etc:Z", False),
            ("Mount=type=bind,src=/proc/cpuinfo,dst=/proc/cpuinfo,relabel=private", False),
            ("Volume=/srv/conf:/conf\nSecurityLabelDisable=true", True),
            ("Volume=/srv/conf:/conf\nPodmanArgs=--security-opt label=disable", True),
        ],
    )
    def test_same_verdict(self, tmp_path: Path, line: str, relabelled: bool) -> None:
        path = tmp_path / "web.container"
        path.write_text(
            "[Unit]\nPartOf=phoenix.target\n\n[Container]\nImage=docker.io/library/nginx:1.27\n"
            f"{line}\n\n[Install]\nWantedBy=phoenix.target\n",
            encoding="utf-8",
        )
        security = rules.quadlet_selinux_labels([parse_file(path)])
        lint = [finding for finding in lint_paths([path], "5.4.2", StackRules()) if finding.rule_id == "QL052"]
        assert [o.line for o in security] == [f.line for f in lint] == ([] if relabelled else [6])
        # The same words: the offence is the lint's message and fix.
        assert [o.message for o in security] == [f"{f.message}; {f.fix}" for f in lint]


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
