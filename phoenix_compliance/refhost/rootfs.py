"""Build a cached base root file system per Debian release: debootstrap once, then provision it.

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
from dataclasses import asdict
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


def release(name: str) -> paths.Release:
    """A release a base can be built from, or an error naming those there are."""
    known = paths.RELEASES.get(name)
    if known is None:
        raise RefhostError(f"unknown release {name!r}; use one of {', '.join(paths.RELEASES)}")
    return known


def fingerprint(pubkey: str, release_name: str = paths.DEFAULT_RELEASE) -> str:
    """What the base depends on; a change means the cached base is outdated."""
    inputs = {
        "suite": release_name,
        "packages": sorted(paths.PACKAGES),
        "provision": hashlib.sha256(provision_script()).hexdigest(),
        "pubkey": pubkey,
        "user": [paths.USER, paths.UID],
        "port": paths.DEFAULT_SSH_PORT,
    }
    chosen = paths.RELEASES.get(release_name)
    if chosen is not None and chosen.upgrade is not None:
        # Only releases with an upgrade carry these inputs, so the fingerprints of the
        # others (and the bases built with them) stay as they were.
        inputs["debian_suite"] = chosen.debian_suite
        inputs["upgrade"] = asdict(chosen.upgrade)
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def base_is_complete(base: paths.BaseLayout, want: str | None = None) -> bool:
    try:
        stamp = json.loads(base.stamp.read_text())
    except (OSError, ValueError):
        return False
    if not (base.tree / "usr/lib/systemd/systemd").exists():
        return False
    return want is None or stamp.get("fingerprint") == want


def package_version(release_name: str, package: str) -> str | None:
    """The version of a package in a release's base, read from its dpkg database
    (no guest needed); None when the base or the package is not there."""
    status = paths.layout().base(release_name).tree / "var/lib/dpkg/status"
    try:
        text = status.read_text(errors="replace")
    except OSError:
        return None
    for stanza in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
        if fields.get("Package") == package and "installed" in fields.get("Status", ""):
            return fields.get("Version")
    return None


def build(force: bool = False, release_name: str = paths.DEFAULT_RELEASE) -> Path:
    """Make sure a complete, provisioned base of the release exists; return its path."""
    require_root("build")
    chosen = release(release_name)
    if shutil.which("debootstrap") is None:
        raise RefhostError("debootstrap not found; apt-get install debootstrap")
    if chosen.script is not None and not Path(chosen.script).is_file():
        raise RefhostError(f"debootstrap has no script {chosen.script} for {chosen.name}")
    layout = paths.layout()
    base = layout.base(chosen.name)
    with locked(layout.build_lock):
        pubkey = ensure_key(layout)
        want = fingerprint(pubkey, chosen.name)
        if not force and base_is_complete(base, want):
            say(f"base {base.tree} is complete, skipping build (build --force to redo it)")
            return base.tree
        if base.stamp.exists() and not force:
            say("cached base was built from other inputs (packages, provision script or key); rebuilding it")
        elif base.tree.exists() and not force:
            say("cached base is incomplete (no stamp); rebuilding it")
        _refuse_if_in_use(base)
        started = time.monotonic()
        _debootstrap(base, chosen)
        if chosen.upgrade is not None:
            _upgrade(base, chosen.debian_suite, chosen.upgrade)
        _provision(base, pubkey)
        # Swap in the new tree, then stamp: a crash in between leaves no stamp,
        # so the next build starts over instead of trusting a half-made base.
        base.stamp.unlink(missing_ok=True)
        remove_tree(base.tree)
        base.tree_new.rename(base.tree)
        seconds = time.monotonic() - started
        base.stamp.write_text(
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
        say(f"base ready at {base.tree} ({seconds:.0f} s)")
        return base.tree


def _refuse_if_in_use(base: paths.BaseLayout) -> None:
    """A booted guest has the base as its lower layer; replacing it under the guest
    would corrupt what the guest sees."""
    guests = base.layout.guests
    if not guests.is_dir():
        return
    busy = [
        g.name
        for g in guests.iterdir()
        if is_mountpoint(g / "merged") and _release_of(g / "state.json") == base.release
    ]
    if busy:
        raise RefhostError(
            f"cannot rebuild the base while guests use it: {', '.join(busy)}; run `{paths.PROG} down` first"
        )


def _release_of(state_file: Path) -> str:
    """The release a guest was booted from; state files from before releases mean trixie."""
    try:
        return str(json.loads(state_file.read_text()).get("release", paths.DEFAULT_RELEASE))
    except (OSError, ValueError, AttributeError):
        return paths.DEFAULT_RELEASE


def _debootstrap(base: paths.BaseLayout, chosen: paths.Release) -> None:
    mirror = apt_mirror()
    remove_tree(base.tree_new)
    base.deb_cache.mkdir(parents=True, exist_ok=True)
    say(f"debootstrap {chosen.debian_suite} into {base.tree_new} (about 1-3 min; log in {base.build_log})")
    with open(base.build_log, "w") as log:
        result = run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(paths.PACKAGES)}",
                f"--cache-dir={base.deb_cache}",
                chosen.debian_suite,
                str(base.tree_new),
                mirror,
                *([chosen.script] if chosen.script else []),
            ],
            timeout=1800,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if result.returncode != 0:
        raise RefhostError(
            f"debootstrap failed (exit {result.returncode}); last lines of {base.build_log}:\n{tail(base.build_log)}"
        )


# Written into a base that takes packages from sid or experimental: their Release files are
# short-lived, and apt refuses them as expired on a machine whose clock is past Valid-Until.
UPGRADE_SOURCES = "etc/apt/sources.list.d/phoenix-refhost-upgrade.sources"
UPGRADE_APT_CONF = "etc/apt/apt.conf.d/50phoenix-refhost-upgrade"
UPGRADE_APT_CONF_TEXT = """// Written by phoenix-refhost: sid's and experimental's Release files expire within days.
Acquire::Check-Valid-Until "false";
"""
# invoke-rc.d in a chroot would otherwise try to start what the packages install.
POLICY_RC_D = "usr/sbin/policy-rc.d"


def upgrade_sources(mirror: str, upgrade: paths.Upgrade, keyring: str | None) -> str:
    """The deb822 stanza adding the upgrade's suites from the same mirror as the base."""
    lines = ["Types: deb", f"URIs: {mirror}", f"Suites: {' '.join(upgrade.suites)}", "Components: main"]
    if keyring is not None:
        lines.append(f"Signed-By: {keyring}")
    return "# Written by phoenix-refhost: the suites the release's Podman comes from.\n" + "\n".join(lines) + "\n"


def _upgrade(base: paths.BaseLayout, suite: str, upgrade: paths.Upgrade) -> None:
    """Install the release's packages from newer suites over the debootstrapped tree."""
    say(f"installing {', '.join(upgrade.packages)} from {upgrade.target} over {suite} (log in {base.build_log})")
    tree = base.tree_new
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    (tree / UPGRADE_SOURCES).write_text(
        upgrade_sources(apt_mirror(), upgrade, keyring if (tree / keyring.lstrip("/")).is_file() else None)
    )
    (tree / UPGRADE_APT_CONF).write_text(UPGRADE_APT_CONF_TEXT)
    policy = tree / POLICY_RC_D
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    env = {"PATH": GUEST_PATH, "LANG": "C.UTF-8", "DEBIAN_FRONTEND": "noninteractive"}
    steps = (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "-t", upgrade.target, *upgrade.packages],
        ["apt-get", "clean"],
    )
    try:
        with open(base.build_log, "a") as log:
            for argv in steps:
                result = run(["chroot", str(tree), *argv], timeout=1200, env=env, stdout=log, stderr=subprocess.STDOUT)
                if result.returncode != 0:
                    raise RefhostError(
                        f"{' '.join(argv)} failed in the {suite} base (exit {result.returncode}); "
                        f"last lines of {base.build_log}:\n{tail(base.build_log)}"
                    )
    finally:
        policy.unlink(missing_ok=True)


def _provision(base: paths.BaseLayout, pubkey: str) -> None:
    say("provisioning: user phoenix, linger, podman.socket, containers.conf, sshd")
    script = base.tree_new / "tmp/phoenix-provision.sh"
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
    with open(base.build_log, "a") as log:
        result = run(
            ["chroot", str(base.tree_new), "/bin/sh", "-eu", "/tmp/phoenix-provision.sh"],
            timeout=300,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    script.unlink()
    if result.returncode != 0:
        raise RefhostError(
            f"provisioning failed (exit {result.returncode}); last lines of {base.build_log}:\n{tail(base.build_log)}"
        )
