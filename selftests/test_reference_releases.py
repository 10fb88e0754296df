"""The reference releases as data: what each base is built from, offline (no guest, no root)."""

from __future__ import annotations

import dataclasses

import pytest

from phoenix_compliance.refhost import paths, rootfs


class TestReleases:
    def test_each_release_has_its_own_guest_and_base(self) -> None:
        layout = paths.Layout(paths.DEFAULT_STATE)
        guests = [release.guest for release in paths.RELEASES.values()]
        bases = [layout.base(name).tree for name in paths.RELEASES]
        assert len(set(guests)) == len(guests) == len(set(bases)) == len(paths.RELEASES)

    def test_podman6_is_forky_with_podman_6_from_experimental(self) -> None:
        podman6 = paths.RELEASES["podman6"]
        assert (podman6.debian_suite, podman6.guest, podman6.private_network) == ("forky", "refhost-podman6", True)
        assert podman6.upgrade is not None and podman6.upgrade.target == "experimental"
        assert {"podman", "netavark", "containers-storage"} <= set(podman6.upgrade.packages)
        assert paths.RELEASES["forky"].debian_suite == "forky" and paths.RELEASES["forky"].upgrade is None


class TestFingerprint:
    def test_an_upgrade_changes_only_its_own_releases_fingerprint(self, monkeypatch: pytest.MonkeyPatch) -> None:
        before = {name: rootfs.fingerprint("key", name) for name in paths.RELEASES}
        podman6 = paths.RELEASES["podman6"]
        assert podman6.upgrade is not None
        other = dataclasses.replace(podman6.upgrade, packages=(*podman6.upgrade.packages, "crun"))
        monkeypatch.setitem(paths.RELEASES, "podman6", dataclasses.replace(podman6, upgrade=other))
        after = {name: rootfs.fingerprint("key", name) for name in paths.RELEASES}
        assert after["trixie"] == before["trixie"] and after["forky"] == before["forky"]
        assert after["podman6"] != before["podman6"]


class TestUpgradeSources:
    def test_the_suites_come_from_the_given_mirror(self) -> None:
        upgrade = paths.PODMAN6_UPGRADE
        text = rootfs.upgrade_sources("http://mirror.invalid/debian", upgrade, "/usr/share/keyrings/k.gpg")
        lines = text.splitlines()
        assert "URIs: http://mirror.invalid/debian" in lines
        assert "Suites: sid experimental" in lines and "Components: main" in lines
        assert "Signed-By: /usr/share/keyrings/k.gpg" in lines
        assert not any(line.startswith("Signed-By") for line in rootfs.upgrade_sources("m", upgrade, None).splitlines())

    def test_apt_is_told_not_to_refuse_expired_release_files(self) -> None:
        assert 'Acquire::Check-Valid-Until "false";' in rootfs.UPGRADE_APT_CONF_TEXT
