"""Debian's source package of a reference release's Podman: Podman's own Quadlet test corpus.

The differential selftest (selftests/test_quadlet_differential.py) judges the files of Podman's
``test/e2e/quadlet`` with the real generator of each reference release and with the lint at that
release. The files come from the source package of the exact Podman version a release installs
(``dpkg-query`` of the base or the guest: its ``${source:Package} ${source:Version}``), fetched with
apt from the machine's own mirror (``rootfs.apt_mirror()``: no mirror is named here) and kept
outside the repository, under the state directory's ``sources/NAME_VERSION/``:

- apt runs with a configuration of its own (``sources/apt/``: deb-src of the releases' suites, its
  own lists and cache), so the machine's apt is left as it is; apt checks each file against the
  signed Sources index as it downloads it;
- the ``.dsc``'s ``Checksums-Sha256`` is checked again here, file by file, before the folder is
  kept (``verified.json`` records it), and on every later use;
- the corpus is streamed out of the orig tarball (``read_corpus()``): nothing is unpacked.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from . import paths
from ._util import RefhostError, locked, run, say, tail
from .rootfs import apt_mirror

# Where Podman keeps the Quadlet files its e2e tests run the generator on.
CORPUS_DIR = "test/e2e/quadlet"
APT_TIMEOUT = 600.0
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
# sid's and experimental's Release files expire within days (testhost.md): the signature is still checked.
_APT_OPTIONS = ("Acquire::Check-Valid-Until=false",)


@dataclass(frozen=True)
class SourcePackage:
    """A Debian source package at one version (with its Debian revision, maybe an epoch)."""

    name: str
    version: str

    @property
    def upstream(self) -> str:
        """The version without epoch and Debian revision: 5.4.2+ds1 of 5.4.2+ds1-2."""
        return self.version.split(":", 1)[-1].rpartition("-")[0] or self.version.split(":", 1)[-1]

    @property
    def dsc(self) -> str:
        return f"{self.name}_{self.version.split(':', 1)[-1]}.dsc"

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


def read_installed(text: str) -> SourcePackage:
    """``dpkg-query -W -f '${source:Package} ${source:Version}' podman`` as printed."""
    words = text.split()
    if len(words) != 2:
        raise RefhostError(f"unreadable as a source package and version: {text.strip()!r}")
    return SourcePackage(words[0], words[1])


QUERY = ["dpkg-query", "-W", "-f=${source:Package} ${source:Version}", "podman"]


def base_source(release: str) -> SourcePackage:
    """The source package of the Podman a release's cached base installs."""
    tree = paths.layout().base(release).tree
    done = run([*QUERY[:1], f"--admindir={tree / 'var/lib/dpkg'}", *QUERY[1:]], timeout=30)
    if done.returncode != 0:
        raise RefhostError(f"no podman in the {release} base ({tree}): {done.stderr.strip()}; build it first")
    return read_installed(done.stdout)


@dataclass(frozen=True)
class DscFile:
    name: str
    size: int
    sha256: str


_ARMOUR_END = re.compile(r"^-----BEGIN PGP SIGNATURE-----$", re.MULTILINE)


def read_dsc(text: str) -> tuple[SourcePackage, list[DscFile]]:
    """The source package a .dsc describes and its files (Checksums-Sha256); a clearsigned
    .dsc is read inside its armour (the signature itself is apt's to check, against the index)."""
    if text.startswith("-----BEGIN PGP SIGNED MESSAGE-----"):
        body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
        end = _ARMOUR_END.search(body)
        text = body[: end.start()] if end else body
    fields: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            fields[key] = value.strip()
    if "source" not in fields or "version" not in fields or "checksums-sha256" not in fields:
        raise RefhostError("a .dsc without Source:, Version: or Checksums-Sha256:")
    files = []
    for line in fields["checksums-sha256"].splitlines():
        words = line.split()
        if len(words) == 3:
            files.append(DscFile(words[2], int(words[1]), words[0].lower()))
    if not files:
        raise RefhostError("a .dsc whose Checksums-Sha256: lists no file")
    return SourcePackage(fields["source"], fields["version"]), files


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(folder: Path, package: SourcePackage) -> list[DscFile]:
    """The files of the package's .dsc in the folder, each checked against the .dsc's sha256."""
    dsc = folder / package.dsc
    if not dsc.is_file():
        raise RefhostError(f"no {package.dsc} in {folder}")
    described, files = read_dsc(dsc.read_text(encoding="utf-8", errors="replace"))
    if described != package:
        raise RefhostError(f"{dsc} describes {described}, not {package}")
    for item in files:
        path = folder / item.name
        if not path.is_file():
            raise RefhostError(f"{item.name} of {package.dsc} is missing from {folder}")
        if path.stat().st_size != item.size or _sha256(path) != item.sha256:
            raise RefhostError(f"{item.name} does not match the sha256 and size of {package.dsc} ({folder})")
    return files


def orig_tarball(folder: Path, package: SourcePackage) -> Path:
    """The upstream tarball of a verified source package (the corpus is upstream's)."""
    for item in verify(folder, package):
        if re.fullmatch(rf"{re.escape(package.name)}_{re.escape(package.upstream)}\.orig\.tar\.\w+", item.name):
            return folder / item.name
    raise RefhostError(f"{package.dsc} names no {package.name}_{package.upstream}.orig.tar.*")


def _apt_options(root: Path, suites: tuple[str, ...]) -> list[str]:
    """apt's configuration of its own under root: deb-src of the suites from the machine's mirror."""
    parts = root / "sources.list.d"
    parts.mkdir(parents=True, exist_ok=True)
    (root / "lists/partial").mkdir(parents=True, exist_ok=True)
    (root / "cache").mkdir(parents=True, exist_ok=True)
    empty = root / "sources.list"
    empty.write_text("")
    stanza = ["Types: deb-src", f"URIs: {apt_mirror()}", f"Suites: {' '.join(suites)}", "Components: main"]
    if KEYRING.is_file():
        stanza.append(f"Signed-By: {KEYRING}")
    (parts / "phoenix-refhost-sources.sources").write_text("\n".join(stanza) + "\n")
    options = [
        f"Dir::Etc::SourceList={empty}",
        f"Dir::Etc::SourceParts={parts}",
        f"Dir::State::Lists={root / 'lists'}",
        f"Dir::Cache={root / 'cache'}",
        # apt's own lock files live in the machine's /var/lib/apt: this apt touches none of its state.
        "Debug::NoLocking=1",
        # The download folder is root's (the state directory): apt's _apt user could not write there.
        "APT::Sandbox::User=root",
        *_APT_OPTIONS,
    ]
    return [word for option in options for word in ("-o", option)]


def release_suites() -> tuple[str, ...]:
    """Every suite a reference release installs Podman from (the base's suite, an upgrade's suites)."""
    suites: list[str] = []
    for release in paths.RELEASES.values():
        for suite in (release.debian_suite, *(release.upgrade.suites if release.upgrade else ())):
            if suite not in suites:
                suites.append(suite)
    return tuple(suites)


def sources_root() -> Path:
    return paths.state_dir() / "sources"


def fetch_source(package: SourcePackage, timeout: float = APT_TIMEOUT) -> Path:
    """The folder holding the package's .dsc and files, verified; downloaded once (apt-get source
    --download-only from the machine's mirror), then read from the cache."""
    root = sources_root()
    folder = root / f"{package.name}_{package.version.split(':', 1)[-1]}"
    record = folder / "verified.json"
    with locked(root / "sources.lock"):
        if record.is_file():
            verify(folder, package)
            return folder
        fresh = folder.with_name(folder.name + ".new")
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        options = _apt_options(root / "apt", release_suites())
        log = root / "apt.log"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        say(f"downloading the source of {package} with apt (log in {log})")
        with open(log, "w") as out:
            # --only-source: a binary podman of the machine's own may come from a source of another
            # name (Debian 12's from libpod), which apt would pick for the name podman.
            wanted = f"{package.name}={package.version}"
            for step in (["update"], ["source", "--only-source", "--download-only", wanted]):
                done = run(["apt-get", *options, *step], timeout=timeout, env=env, stdout=out, stderr=out, cwd=fresh)
                if done.returncode != 0:
                    shutil.rmtree(fresh, ignore_errors=True)
                    said = [line for line in tail(log, 40).splitlines() if line.startswith("E: ")]
                    raise RefhostError(
                        f"could not download the source of {package} from the machine's mirror "
                        f"(apt-get {' '.join(step)}: exit {done.returncode}; {said[0] if said else 'no E: line'}; "
                        f"log in {log})"
                    )
        try:
            files = verify(fresh, package)
        except RefhostError:
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        (fresh / "verified.json").write_text(
            json.dumps(
                {"source": package.name, "version": package.version, "sha256": {f.name: f.sha256 for f in files}}
            )
        )
        shutil.rmtree(folder, ignore_errors=True)
        fresh.rename(folder)
        return folder


def read_corpus(tarball: Path, directory: str = CORPUS_DIR) -> dict[str, str]:
    """The regular files directly in ``directory`` of an upstream tarball (whose members sit under
    one top folder, podman-5.4.2/), by name, streamed: nothing is unpacked."""
    found: dict[str, str] = {}
    prefix = directory.strip("/") + "/"
    with tarfile.open(tarball, mode="r|*") as archive:
        for member in archive:
            _top, _, inside = member.name.removeprefix("./").partition("/")
            if not inside.startswith(prefix) or not member.isfile():
                continue
            name = inside[len(prefix) :]
            if not name or "/" in name:
                continue
            handle = archive.extractfile(member)
            if handle is not None:
                found[name] = handle.read().decode("utf-8", errors="replace")
    return found
