"""Build the cached base root file system: debootstrap trixie once, then provision it.

The base is only ever a read-only lower layer for booted guests, so it is built in
``base.new`` and renamed into place; the stamp, written last, is what says the base
is complete. A stamp whose fingerprint no longer matches (other packages, another
provision script or key) makes the next build start over.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from importlib import resources
from pathlib import Path

from . import paths
from ._util import RefhostError, is_mountpoint, locked, remove_tree, require_root, run, say, tail

DEBIAN_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SOURCES_LIST = Path("/etc/apt/sources.list")

# Clean environment for commands run inside the tree: the caller's PATH or locale
# (say a venv, or a locale the guest lacks) means nothing there.
GUEST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def apt_mirror(deb822: Path = DEBIAN_SOURCES, one_line: Path = SOURCES_LIST) -> str:
    """The Debian mirror this machine's apt uses, so no mirror name lives in the project.

    PHOENIX_REFHOST_MIRROR overrides it.
    """
    override = os.environ.get("PHOENIX_REFHOST_MIRROR")
    if override:
        return override
    if deb822.is_file():
        for stanza in _deb822_stanzas(deb822.read_text()):
            suites = stanza.get("suites", "").split()
            uris = stanza.get("uris", "").split()
            if (
                "deb" in stanza.get("types", "deb").split()
                and uris
                and not any(suite.endswith("-security") for suite in suites)
            ):
                return uris[0]
    if one_line.is_file():
        for line in one_line.read_text().splitlines():
            words = line.split("#", 1)[0].split()
            if not words or words[0] != "deb":
                continue
            if words[1].startswith("["):
                # Options like [arch=amd64 signed-by=...] may span several words.
                while words and not words[0].endswith("]"):
                    words.pop(0)
            if len(words) >= 3 and not words[2].endswith("-security"):
                return words[1]
    raise RefhostError(f"no Debian mirror found in {deb822} or {one_line}; set PHOENIX_REFHOST_MIRROR")


def _deb822_stanzas(text: str) -> list[dict[str, str]]:
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                stanzas.append(current)
            current, key = {}, ""
        elif line.startswith("#"):
            continue
        elif line[0].isspace() and key:
            current[key] += " " + line.strip()
        elif ":" in line:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            current[key] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def provision_script() -> bytes:
    return resources.files("phoenix_compliance.refhost").joinpath("resources/provision.sh").read_bytes()


def ensure_key(layout: paths.Layout) -> str:
    """The client key pair the suite logs in with; kept across rebuilds."""
    if not (layout.key.is_file() and layout.pubkey.is_file()):
        layout.root.mkdir(parents=True, exist_ok=True)
        for stale in (layout.key, layout.pubkey):
            stale.unlink(missing_ok=True)
        result = run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                paths.PROG_KEY_COMMENT,
                "-f",
                str(layout.key),
            ],
            timeout=30,
        )
        if result.returncode != 0:
            raise RefhostError(f"ssh-keygen failed: {result.stderr.strip()}")
        say(f"generated ssh key {layout.key}")
    return layout.pubkey.read_text().strip()


def fingerprint(pubkey: str) -> str:
    """What the base depends on; a change means the cached base is outdated."""
    inputs = {
        "suite": paths.SUITE,
        "packages": sorted(paths.PACKAGES),
        "provision": hashlib.sha256(provision_script()).hexdigest(),
        "pubkey": pubkey,
        "user": [paths.USER, paths.UID],
        "port": paths.DEFAULT_SSH_PORT,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def base_is_complete(layout: paths.Layout, want: str | None = None) -> bool:
    try:
        stamp = json.loads(layout.stamp.read_text())
    except (OSError, ValueError):
        return False
    if not (layout.base / "usr/lib/systemd/systemd").exists():
        return False
    return want is None or stamp.get("fingerprint") == want


def build(force: bool = False) -> Path:
    """Make sure a complete, provisioned base exists; return its path."""
    require_root("build")
    if shutil.which("debootstrap") is None:
        raise RefhostError("debootstrap not found; apt-get install debootstrap")
    layout = paths.layout()
    with locked(layout.build_lock):
        pubkey = ensure_key(layout)
        want = fingerprint(pubkey)
        if not force and base_is_complete(layout, want):
            say(f"base {layout.base} is complete, skipping build (build --force to redo it)")
            return layout.base
        if layout.stamp.exists() and not force:
            say("cached base was built from other inputs (packages, provision script or key); rebuilding it")
        elif layout.base.exists() and not force:
            say("cached base is incomplete (no stamp); rebuilding it")
        _refuse_if_in_use(layout)
        started = time.monotonic()
        _debootstrap(layout)
        _provision(layout, pubkey)
        # Swap in the new tree, then stamp: a crash in between leaves no stamp,
        # so the next build starts over instead of trusting a half-made base.
        layout.stamp.unlink(missing_ok=True)
        remove_tree(layout.base)
        layout.base_new.rename(layout.base)
        seconds = time.monotonic() - started
        layout.stamp.write_text(
            json.dumps(
                {
                    "fingerprint": want,
                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "seconds": round(seconds, 1),
                },
                indent=2,
            )
            + "\n"
        )
        say(f"base ready at {layout.base} ({seconds:.0f} s)")
        return layout.base


def _refuse_if_in_use(layout: paths.Layout) -> None:
    """A booted guest has the base as its lower layer; replacing it under the guest
    would corrupt what the guest sees."""
    if not layout.guests.is_dir():
        return
    busy = [g.name for g in layout.guests.iterdir() if is_mountpoint(g / "merged")]
    if busy:
        raise RefhostError(
            f"cannot rebuild the base while guests use it: {', '.join(busy)}; run `{paths.PROG} down` first"
        )


def _debootstrap(layout: paths.Layout) -> None:
    mirror = apt_mirror()
    remove_tree(layout.base_new)
    layout.deb_cache.mkdir(parents=True, exist_ok=True)
    say(f"debootstrap {paths.SUITE} into {layout.base_new} (about 1-3 min; log in {layout.build_log})")
    with open(layout.build_log, "w") as log:
        result = run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(paths.PACKAGES)}",
                f"--cache-dir={layout.deb_cache}",
                paths.SUITE,
                str(layout.base_new),
                mirror,
            ],
            timeout=1800,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
        raise RefhostError(
            f"debootstrap failed (exit {result.returncode}); last lines of "
            f"{layout.build_log}:\n{tail(layout.build_log)}"
        )


def _provision(layout: paths.Layout, pubkey: str) -> None:
    say("provisioning: user phoenix, linger, podman.socket, containers.conf, sshd")
    script = layout.base_new / "tmp/phoenix-provision.sh"
    script.write_bytes(provision_script())
    env = {
        "PATH": GUEST_PATH,
        "LANG": "C.UTF-8",
        "PHOENIX_USER": paths.USER,
        "PHOENIX_UID": str(paths.UID),
        "PHOENIX_SSH_PORT": str(paths.DEFAULT_SSH_PORT),
        "PHOENIX_PUBKEY": pubkey,
    }
    # A plain chroot is enough: the script only writes files and systemctl works
    # offline there; nothing needs a booted guest.
    with open(layout.build_log, "a") as log:
        result = run(
            ["chroot", str(layout.base_new), "/bin/sh", "-eu", "/tmp/phoenix-provision.sh"],
            timeout=300,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    script.unlink()
    if result.returncode != 0:
        raise RefhostError(
            f"provisioning failed (exit {result.returncode}); last lines of "
            f"{layout.build_log}:\n{tail(layout.build_log)}"
        )
