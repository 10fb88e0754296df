"""Podman's own Quadlet test corpus (test/e2e/quadlet), one case per file, for the differential.

Two places it is read from, never copied into this repository:

- Debian's source package of the exact Podman a reference guest installs (its dpkg's
  ``${source:Package} ${source:Version}``), downloaded once with apt from the machine's mirror into
  the refhost state directory, verified against its .dsc, and streamed out of the orig tarball
  (phoenix_compliance.refhost.sources); the default, as CI has no GitHub;
- a Podman git directory in $PHOENIX_PODMAN_GIT (fetched or cloned), at the newest tag at or
  before the guest's release: the alternative where the mirror has no such source.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from quadlet_generator import Case, _case

from phoenix_compliance.quadlet.versions import FILE_TYPE_SINCE, Version
from phoenix_compliance.refhost.sources import (
    CORPUS_DIR,
    QUERY,
    SourcePackage,
    fetch_source,
    orig_tarball,
    read_corpus,
    read_installed,
)

# A Podman git directory (fetched or cloned; nothing is downloaded here): the corpus at a tag.
PODMAN_GIT_ENV = "PHOENIX_PODMAN_GIT"
_TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)(?:-rc(\d+))?$")


@dataclass(frozen=True)
class Corpus:
    """The corpus files by name, and where they were read (said in the test's summary)."""

    files: dict[str, str]
    where: str

    def cases(self) -> list[Case]:
        """One case per Quadlet file, alone in its folder (a file naming another is then refused by
        both sides, which is agreement too)."""
        return [
            _case({name: text}, f"corpus: {self.where} {name}")
            for name, text in sorted(self.files.items())
            if name.rpartition(".")[2] in FILE_TYPE_SINCE
        ]


def corpus_tag(git_dir: Path, version: Version) -> str | None:
    """The newest tag at or before the release (a release candidate counts as its release, after
    the final tags before it): the generator's own tag, or the nearest one at hand."""
    tags = subprocess.run(
        ["git", f"--git-dir={git_dir}", "tag", "--list", "v*"], capture_output=True, text=True, check=False
    ).stdout.split()
    ranked = []
    for tag in tags:
        m = _TAG.match(tag)
        if m and (release := (int(m[1]), int(m[2]), int(m[3]))) <= version:
            ranked.append((release, int(m[4]) if m[4] else 10_000, tag))
    return max(ranked)[2] if ranked else None


def git_corpus(git_dir: Path, tag: str) -> Corpus:
    """The corpus at a tag of a Podman git directory."""
    listing = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "--name-only", f"{tag}:{CORPUS_DIR}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    files = {}
    for name in listing:
        shown = subprocess.run(
            ["git", f"--git-dir={git_dir}", "show", f"{tag}:{CORPUS_DIR}/{name}"],
            capture_output=True,
            check=False,
        )
        if shown.returncode == 0:
            files[name] = shown.stdout.decode("utf-8", errors="replace")
    return Corpus(files, f"git {tag}")


def guest_source(guest: str) -> SourcePackage:
    """The source package of the Podman the guest installs, asked of its dpkg (read-only)."""
    from phoenix_compliance import refhost

    done = refhost.run_in_guest(QUERY, timeout=60, name=guest)
    if done.returncode != 0:
        raise refhost.RefhostError(f"dpkg-query in {guest}: exit {done.returncode}: {done.stderr.strip()}")
    return read_installed(done.stdout)


def debian_corpus(package: SourcePackage) -> Corpus:
    """The corpus of a Debian source package, downloaded and verified once (refhost.sources)."""
    return Corpus(read_corpus(orig_tarball(fetch_source(package), package)), f"Debian {package}")
