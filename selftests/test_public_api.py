"""The public API a site's own checks are written against (README, "A site's own checks").

Pinned here so that it stays stable: a name listed below may not disappear or change its
meaning without this test (and the README) changing too. New names may be added."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest

import phoenix_compliance
from phoenix_compliance import plugin
from phoenix_compliance.facts import HostFacts
from phoenix_compliance.facts.endpoints import EndpointProbe
from phoenix_compliance.facts.files import FileSources
from phoenix_compliance.facts.identity import HostIdentity
from phoenix_compliance.facts.podman import PodmanFacts
from phoenix_compliance.facts.security import SecurityFacts
from phoenix_compliance.facts.systemd import UserSystemd
from phoenix_compliance.parsers.manifest import Manifest

EXPORTS = ["HostFacts", "Manifest", "Observed", "Step", "check", "container_of", "not_applicable"]
FIXTURES = ["facts", "stack", "observed", "allow_restart", "health_wait"]
# What `facts` offers: its parts, and what each part offers (README lists the same).
FACT_PARTS: dict[str, tuple[type, list[str]]] = {
    "host": (
        HostIdentity,
        [
            *("user", "uid", "home", "os_name", "kernel", "podman_version", "podman_version_text"),
            *("podman_info", "info_value", "tools", "where", "section"),
        ],
    ),
    "podman": (PodmanFacts, ["containers", "pods", "inspect", "container_for", "where"]),
    "files": (FileSources, ["compose", "quadlet"]),
    "systemd": (UserSystemd, ["target", "generator", "unit_states"]),
    "security": (SecurityFacts, ["docker_command", "docker_host", "docker_sockets", "runtime_dir"]),
    "endpoints": (EndpointProbe, ["answer"]),
}


class TestPublicNames:
    def test_the_package_exports_exactly_these(self) -> None:
        assert sorted(phoenix_compliance.__all__) == sorted(EXPORTS)
        for name in EXPORTS:
            assert getattr(phoenix_compliance, name) is not None, name

    def test_they_are_the_objects_the_suite_uses(self) -> None:
        from phoenix_compliance import catalogue, checks

        assert phoenix_compliance.check is checks.check
        assert phoenix_compliance.not_applicable is checks.not_applicable
        assert phoenix_compliance.container_of is checks.container_of
        assert phoenix_compliance.HostFacts is HostFacts
        assert phoenix_compliance.Manifest is Manifest
        assert phoenix_compliance.Step is catalogue.Step
        assert phoenix_compliance.Observed == Callable[[str], None]

    def test_an_unknown_name_is_an_attribute_error(self) -> None:
        with pytest.raises(AttributeError, match="no attribute 'nothing'"):
            _ = phoenix_compliance.nothing

    def test_check_takes_these_keywords(self) -> None:
        parameters = inspect.signature(phoenix_compliance.check).parameters
        assert list(parameters) == ["id", "phase", "severity", "title", "remediation", "files", "fix"]

    @pytest.mark.parametrize("name", FIXTURES)
    def test_the_fixtures_a_check_may_use(self, name: str) -> None:
        assert callable(getattr(plugin, name)), name


class TestWhatFactsOffers:
    @pytest.mark.parametrize("part", sorted(FACT_PARTS))
    def test_each_part_keeps_its_members(self, part: str) -> None:
        kind, members = FACT_PARTS[part]
        source = inspect.getsource(HostFacts.__init__)
        assert f"self.{part} = {kind.__name__}(" in source, part
        for member in members:
            assert hasattr(kind, member), f"facts.{part}.{member}"

    def test_the_host_id_and_manifest_are_kept(self) -> None:
        source = inspect.getsource(HostFacts.__init__)
        assert "self.host_id =" in source and "self.manifest =" in source
