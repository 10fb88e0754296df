#!/usr/bin/env python3
"""Regenerate the lint's Quadlet key tables from Podman's own source, one run per new release.

Reads ``pkg/systemd/quadlet/quadlet.go`` (and where the file types were listed:
``cmd/quadlet/main.go``, later ``quadlet_common.go``) at every release tag of a Podman
git directory, and says in which release each key of each Quadlet section and each file
type first appeared: the data of QUADLET_KEYS and
FILE_TYPE_SINCE in phoenix_compliance/quadlet/versions.py. Nothing is fetched here:
clone or fetch the repository first (it moved to podman-container-tools/podman at 5.8.3).

    python tools/quadlet_tables.py --git-dir PODMAN.git               # print the tables
    python tools/quadlet_tables.py --git-dir PODMAN.git --check       # exit 1 if versions.py differs
    python tools/quadlet_tables.py --git-dir PODMAN.git --upto v6.0.0-rc1 --check

The release of a key is the first tag (X.Y.0, or a release candidate of X.Y.0 when no final
tag is at hand) whose tables list it, written as (X, Y). The tables of quadlet.go have had
two shapes: ``supportedContainerKeys = map[string]bool{KeyImage: true, ...}`` up to 5.x and
``ContainerGroup: {... SupportedKeys: map[string]bool{...}}`` later; both are read. A key
is written as a Go constant (``KeyImage = "Image"``), resolved through the file's consts.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from phoenix_compliance.quadlet.versions import (  # noqa: E402  (the repository's package, found above)
    FILE_TYPE_SINCE,
    QUADLET_KEYS,
    QUADLET_SINCE,
    Version,
    format_version,
)

SOURCE = "pkg/systemd/quadlet/quadlet.go"
# Where SupportedExtensions lived: cmd/quadlet/main.go up to 5.4, then the quadlet package.
EXTENSION_SOURCES = ("cmd/quadlet/main.go", "pkg/systemd/quadlet/quadlet_common.go", SOURCE)

_CONST = re.compile(r'^\s*(\w+)\s*=\s*"([^"]*)"')
_OLD_MAP = re.compile(r"^\s*supported(\w+)Keys\s*=\s*map\[string\]bool\{")
_GROUP_BLOCK = re.compile(r"^\s*(\w+Group):\s*\{")
_NEW_MAP = re.compile(r"^\s*SupportedKeys:\s*map\[string\]bool\{")
_ENTRY = re.compile(r"^\s*(\w+):\s*true,?")
_CLOSE = re.compile(r"^\s*\},?\s*$")
_EXTENSION = re.compile(r'^\s*"\.(\w+)":\s*\d+,?')
_TAG = re.compile(r"^v(\d+)\.(\d+)\.(\d+)(-rc\d+)?$")


def git(git_dir: Path, *args: str) -> str:
    done = subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def show(git_dir: Path, tag: str, path: str) -> str:
    done = subprocess.run(
        ["git", f"--git-dir={git_dir}", "show", f"{tag}:{path}"], capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else ""


def section_keys(source: str) -> dict[str, frozenset[str]]:
    """Section -> the keys quadlet.go's tables accept in it, at one tag."""
    consts = {m.group(1): m.group(2) for line in source.splitlines() if (m := _CONST.match(line))}
    tables: dict[str, set[str]] = {}
    group: str | None = None
    collecting = False
    for line in source.splitlines():
        if collecting:
            if _CLOSE.match(line):
                collecting = False
                continue
            if (entry := _ENTRY.match(line)) and group is not None:
                tables.setdefault(group, set()).add(consts.get(entry.group(1), entry.group(1)))
            continue
        if old := _OLD_MAP.match(line):
            group, collecting = old.group(1), True
        elif block := _GROUP_BLOCK.match(line):
            group = consts.get(block.group(1))
        elif _NEW_MAP.match(line):
            collecting = True
    return {name: frozenset(keys) for name, keys in tables.items() if name in QUADLET_KEYS}


def file_types(*sources: str) -> frozenset[str]:
    """The extensions of (s|S)upportedExtensions, a map from the extension."""
    found: set[str] = set()
    for source in sources:
        inside = False
        for line in source.splitlines():
            if "upportedExtensions" in line and "=" in line and "map[" in line:
                inside = True
                found.update(re.findall(r'"\.(\w+)"', line))
                continue
            if inside:
                if _CLOSE.match(line):
                    inside = False
                elif ext := _EXTENSION.match(line):
                    found.add(ext.group(1))
                else:
                    found.update(re.findall(r'"\.(\w+)"', line))
    return frozenset(found)


def release_tags(git_dir: Path, upto: str | None) -> list[tuple[Version, str]]:
    """One tag per X.Y release from QUADLET_SINCE on: X.Y.0, or its newest release candidate
    when there is no final tag yet (so a release being prepared is read too); ``upto`` ends
    the list at that tag's release, read at that tag."""
    by_release: dict[tuple[int, int], list[tuple[tuple[int, int], str]]] = {}
    for tag in git(git_dir, "tag", "--list", "v*").split():
        m = _TAG.match(tag)
        if not m:
            continue
        release, patch = (int(m.group(1)), int(m.group(2))), int(m.group(3))
        if release < QUADLET_SINCE:
            continue
        rc = int(m.group(4)[3:]) if m.group(4) else 10_000  # a final tag sorts after its candidates
        by_release.setdefault(release, []).append(((patch, rc), tag))
    tags: list[tuple[Version, str]] = []
    for release in sorted(by_release):
        ordered = sorted(by_release[release])
        first_patch = ordered[0][0][0]
        # The final X.Y.0 when there is one, else its newest candidate.
        tag = [tag for (patch, _rc), tag in ordered if patch == first_patch][-1]
        if upto is not None and any(t == upto for _, t in ordered):
            tags.append((release, upto))
            break
        tags.append((release, tag))
    return tags


def first_seen(
    git_dir: Path, tags: Iterable[tuple[Version, str]]
) -> tuple[dict[str, dict[str, Version]], dict[str, Version]]:
    keys: dict[str, dict[str, Version]] = {}
    types: dict[str, Version] = {}
    for release, tag in tags:
        source = show(git_dir, tag, SOURCE)
        if not source:
            continue
        for section, names in section_keys(source).items():
            for name in names:
                keys.setdefault(section, {}).setdefault(name, release)
        for kind in file_types(*(show(git_dir, tag, path) for path in EXTENSION_SOURCES)):
            types.setdefault(kind, release)
    return keys, types


def render(keys: dict[str, dict[str, Version]]) -> str:
    """QUADLET_KEYS as versions.py writes it: per section, release -> whitespace-separated keys."""
    lines = []
    for section in QUADLET_KEYS:
        by_release: dict[Version, list[str]] = {}
        for name, release in keys.get(section, {}).items():
            by_release.setdefault(release, []).append(name)
        lines.append(f'    "{section}": _since(')
        lines.append("        {")
        for release in sorted(by_release):
            lines.append(f'            {release}: "{" ".join(sorted(by_release[release]))}",')
        lines.append("        }")
        lines.append("    ),")
    return "\n".join(lines)


def differences(keys: dict[str, dict[str, Version]], types: dict[str, Version]) -> list[str]:
    """What versions.py says otherwise than the source (release compared as X.Y)."""
    said: list[str] = []
    for section, table in QUADLET_KEYS.items():
        source = keys.get(section, {})
        for name in sorted(set(table) | set(source)):
            ours, theirs = table.get(name), source.get(name)
            if ours is None or theirs is None or ours[:2] != theirs[:2]:
                said.append(
                    f"[{section}] {name}=: versions.py {format_version(ours) if ours else 'lacks it'}, "
                    f"quadlet.go {format_version(theirs) if theirs else 'lacks it'}"
                )
    for kind in sorted(set(FILE_TYPE_SINCE) | set(types)):
        ours, theirs = FILE_TYPE_SINCE.get(kind), types.get(kind)
        if ours is None or theirs is None or ours[:2] != theirs[:2]:
            said.append(
                f".{kind}: versions.py {format_version(ours) if ours else 'lacks it'}, "
                f"quadlet.go {format_version(theirs) if theirs else 'lacks it'}"
            )
    return said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--git-dir", required=True, type=Path, metavar="DIR", help="a Podman git directory")
    parser.add_argument("--upto", default=None, metavar="TAG", help="read tags up to this one (default: all)")
    parser.add_argument("--check", action="store_true", help="compare with versions.py; exit 1 when they differ")
    args = parser.parse_args(argv)
    tags = release_tags(args.git_dir, args.upto)
    keys, types = first_seen(args.git_dir, tags)
    print(f"# read {SOURCE} at {', '.join(tag for _, tag in tags)}", file=sys.stderr)
    if not args.check:
        print(render(keys))
        return 0
    said = differences(keys, types)
    for line in said:
        print(line)
    return 1 if said else 0


if __name__ == "__main__":
    sys.exit(main())
