"""Selftests for the SELinux labelling rules (SEC-LABEL and labelling turned off) of phoenix_compliance.security."""

from __future__ import annotations

from pathlib import Path

import pytest
from security_rules_cases import (
    compose,
    unit,
    where,
)

from phoenix_compliance import security as rules
from phoenix_compliance.quadlet.unitfile import parse_file
from phoenix_compliance.quadlet_lint import StackRules, lint_paths


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
