"""Selftests for grammar/: each value is read once, and every reader of it agrees (issue 23)."""

from __future__ import annotations

import pytest

from phoenix_compliance import security
from phoenix_compliance.grammar.ports import Publish, publish_port_problem, read_publish
from phoenix_compliance.parsers.compose import PortMapping, parse
from phoenix_compliance.parsers.quadlet import parse_text


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
