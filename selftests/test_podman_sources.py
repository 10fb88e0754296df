"""refhost.sources offline: Debian's source package of a release's Podman, read and verified.

apt is a stub on PATH here (it copies prepared files where apt-get source would write them), so
the download, the cache keyed by version, the .dsc's checksums and the corpus streamed out of the
orig tarball are all exercised without a mirror; the real download runs in the differential
(test_quadlet_differential.py, test_podmans_own_corpus).
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from phoenix_compliance.refhost import RefhostError
from phoenix_compliance.refhost.sources import (
    SourcePackage,
    fetch_source,
    orig_tarball,
    read_corpus,
    read_dsc,
    read_installed,
    release_suites,
    verify,
)

PACKAGE = SourcePackage("podman", "6.1.1+ds1-1")
TOP = "podman-6.1.1+ds1"
CORPUS = {
    "basic.container": "[Container]\nImage=localhost/imagename\n",
    "uid.volume": "[Volume]\nUID=1000\nGID=1000\n",
    "README.md": "not a unit\n",
}


def _tarball(path: Path, members: dict[str, str]) -> Path:
    with tarfile.open(path, "w:xz") as archive:
        for name, text in members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _dsc(files: dict[str, bytes], package: SourcePackage = PACKAGE, signed: bool = False) -> str:
    lines = [f"Format: 3.0 (quilt)\nSource: {package.name}\nVersion: {package.version}\nChecksums-Sha256:"]
    lines += [f" {hashlib.sha256(data).hexdigest()} {len(data)} {name}" for name, data in files.items()]
    body = "\n".join(lines) + "\n"
    if signed:
        return (
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"
            + body
            + "\n-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n"
        )
    return body


def _source_files(folder: Path, corpus: dict[str, str] = CORPUS) -> dict[str, bytes]:
    """The files of a source package as apt-get source writes them, with the corpus in the orig tarball."""
    folder.mkdir(parents=True, exist_ok=True)
    members = {f"{TOP}/test/e2e/quadlet/{name}": text for name, text in corpus.items()}
    members[f"{TOP}/test/e2e/quadlet/sub/nested.container"] = "[Container]\nImage=x\n"
    members[f"{TOP}/pkg/systemd/quadlet/quadlet.go"] = "package quadlet\n"
    orig = _tarball(folder / "podman_6.1.1+ds1.orig.tar.xz", members)
    debian = _tarball(folder / "podman_6.1.1+ds1-1.debian.tar.xz", {"debian/control": "Source: podman\n"})
    files = {orig.name: orig.read_bytes(), debian.name: debian.read_bytes()}
    (folder / PACKAGE.dsc).write_text(_dsc(files))
    return files


class TestDsc:
    @pytest.mark.parametrize("signed", [False, True], ids=["plain", "clearsigned"])
    def test_read(self, signed: bool) -> None:
        package, files = read_dsc(_dsc({"a.orig.tar.xz": b"x", "b.debian.tar.xz": b"yy"}, signed=signed))
        assert package == PACKAGE
        assert [(f.name, f.size) for f in files] == [("a.orig.tar.xz", 1), ("b.debian.tar.xz", 2)]
        assert files[0].sha256 == hashlib.sha256(b"x").hexdigest()

    def test_without_checksums_it_is_refused(self) -> None:
        with pytest.raises(RefhostError, match="Checksums-Sha256"):
            read_dsc("Source: podman\nVersion: 1-1\n")

    def test_the_installed_version_as_dpkg_query_prints_it(self) -> None:
        assert read_installed("podman 5.4.2+ds1-2") == SourcePackage("podman", "5.4.2+ds1-2")
        assert SourcePackage("podman", "5.4.2+ds1-2").upstream == "5.4.2+ds1"
        assert SourcePackage("podman", "1:5.4.2+ds1-2").dsc == "podman_5.4.2+ds1-2.dsc"
        with pytest.raises(RefhostError):
            read_installed("dpkg-query: no packages found matching podman")


class TestVerify:
    def test_the_files_of_the_dsc_match(self, tmp_path: Path) -> None:
        _source_files(tmp_path)
        assert orig_tarball(tmp_path, PACKAGE).name == "podman_6.1.1+ds1.orig.tar.xz"

    def test_a_changed_file_is_refused(self, tmp_path: Path) -> None:
        _source_files(tmp_path)
        with open(tmp_path / "podman_6.1.1+ds1.orig.tar.xz", "ab") as handle:
            handle.write(b"\0")
        with pytest.raises(RefhostError, match="does not match the sha256"):
            verify(tmp_path, PACKAGE)

    def test_a_missing_file_is_refused(self, tmp_path: Path) -> None:
        _source_files(tmp_path)
        (tmp_path / "podman_6.1.1+ds1-1.debian.tar.xz").unlink()
        with pytest.raises(RefhostError, match="missing"):
            verify(tmp_path, PACKAGE)

    def test_a_dsc_of_another_version_is_refused(self, tmp_path: Path) -> None:
        _source_files(tmp_path)
        with pytest.raises(RefhostError, match=r"no podman_6\.1\.1\+ds1-2\.dsc in"):
            verify(tmp_path, SourcePackage("podman", "6.1.1+ds1-2"))
        (tmp_path / "podman_6.1.1+ds1-2.dsc").write_text((tmp_path / PACKAGE.dsc).read_text())
        with pytest.raises(RefhostError, match=r"describes podman 6\.1\.1\+ds1-1, not podman 6\.1\.1\+ds1-2"):
            verify(tmp_path, SourcePackage("podman", "6.1.1+ds1-2"))


class TestCorpus:
    def test_streamed_out_of_the_orig_tarball(self, tmp_path: Path) -> None:
        _source_files(tmp_path)
        corpus = read_corpus(orig_tarball(tmp_path, PACKAGE))
        # The files directly in test/e2e/quadlet, as `git ls-tree` lists them; not a subfolder's.
        assert corpus == CORPUS


@pytest.fixture
def stub_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """apt-get on PATH: 'update' succeeds, 'source' copies the prepared files into the working folder (or fails,
    with a 404 as the mirror says it, once tmp_path/fail exists); every
    call is logged. PHOENIX_REFHOST_HOME and the mirror point into tmp_path."""
    bin_dir, files = tmp_path / "bin", tmp_path / "files"
    bin_dir.mkdir()
    _source_files(files)
    script = bin_dir / "apt-get"
    script.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {tmp_path / "calls"}\n'
        'for word in "$@"; do last=$word; done\n'
        f'case " $* " in *" source "*) [ -e {tmp_path / "fail"} ] && {{ echo "E: 404  Not Found"; exit 100; }}\n'
        f"  cp {files}/* . ;; esac\n"
        "exit 0\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.setenv("PHOENIX_REFHOST_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("PHOENIX_REFHOST_MIRROR", "http://mirror.invalid/debian")
    return tmp_path


class TestFetch:
    def test_downloaded_once_verified_and_cached_by_version(self, stub_apt: Path) -> None:
        folder = fetch_source(PACKAGE)
        assert folder == stub_apt / "state/sources/podman_6.1.1+ds1-1"
        assert (folder / "verified.json").is_file()
        calls = (stub_apt / "calls").read_text().splitlines()
        assert [call.split()[-1] for call in calls] == ["update", "podman=6.1.1+ds1-1"]
        assert "--only-source --download-only podman=6.1.1+ds1-1" in calls[1]
        # apt's own configuration: deb-src of every release's suites from the machine's mirror.
        sources = (stub_apt / "state/sources/apt/sources.list.d/phoenix-refhost-sources.sources").read_text()
        assert "Types: deb-src\nURIs: http://mirror.invalid/debian\n" in sources
        assert f"Suites: {' '.join(release_suites())}\n" in sources
        assert fetch_source(PACKAGE) == folder
        assert len((stub_apt / "calls").read_text().splitlines()) == 2, "the cached source is downloaded again"
        assert read_corpus(orig_tarball(folder, PACKAGE)) == CORPUS

    def test_a_cached_source_changed_since_is_refused(self, stub_apt: Path) -> None:
        folder = fetch_source(PACKAGE)
        (folder / "podman_6.1.1+ds1-1.debian.tar.xz").write_bytes(b"changed")
        with pytest.raises(RefhostError, match="does not match the sha256"):
            fetch_source(PACKAGE)

    def test_a_mirror_without_the_source_says_so_and_keeps_nothing(self, stub_apt: Path) -> None:
        (stub_apt / "fail").touch()
        with pytest.raises(RefhostError, match=r"could not download the source of podman 6.1.1\+ds1-1"):
            fetch_source(PACKAGE)
        assert not list((stub_apt / "state/sources").glob("podman_*"))

    def test_a_download_unlike_its_dsc_is_not_kept(self, stub_apt: Path) -> None:
        with open(stub_apt / "files/podman_6.1.1+ds1.orig.tar.xz", "ab") as handle:
            handle.write(b"\0")
        with pytest.raises(RefhostError, match="does not match the sha256"):
            fetch_source(PACKAGE)
        assert not list((stub_apt / "state/sources").glob("podman_*"))

    def test_the_suites_are_the_releases_own(self) -> None:
        assert release_suites() == ("trixie", "forky", "sid", "experimental")
