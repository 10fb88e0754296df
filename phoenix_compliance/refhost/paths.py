"""Where the reference host keeps its state, and the facts every part agrees on."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROG = "phoenix-refhost"
PROG_KEY_COMMENT = "phoenix-refhost"

DEFAULT_STATE = Path("/var/lib/phoenix-refhost")
DEFAULT_GUEST = "refhost"
DEFAULT_SSH_PORT = 2222
# Fleet guests have a network namespace each, so they all use sshd's usual port.
FLEET_PREFIX = "fleet"
FLEET_SSH_PORT = 22

USER = "phoenix"
UID = 1000
SUITE = "trixie"

# Seen needed in testhost.md; podman-compose on top, as the suite drives stacks with it.
PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "dbus-user-session", "libpam-systemd",
    "podman", "crun", "passt", "uidmap", "fuse-overlayfs", "catatonit",
    "nftables", "aardvark-dns", "openssh-server", "busybox-static", "curl",
    "python3", "iproute2", "sudo", "podman-compose",
)  # fmt: skip


def state_dir() -> Path:
    """The cache and state directory, outside the repository so builds survive checkouts."""
    return Path(os.environ.get("PHOENIX_REFHOST_HOME") or DEFAULT_STATE)


@dataclass(frozen=True)
class Layout:
    """The files under the state directory."""

    root: Path

    @property
    def base(self) -> Path:
        return self.root / "base"

    @property
    def base_new(self) -> Path:
        return self.root / "base.new"

    @property
    def stamp(self) -> Path:
        return self.root / "base.stamp"

    @property
    def build_log(self) -> Path:
        return self.root / "build.log"

    @property
    def build_lock(self) -> Path:
        return self.root / "build.lock"

    @property
    def deb_cache(self) -> Path:
        return self.root / "debs"

    @property
    def key(self) -> Path:
        return self.root / "id_ed25519"

    @property
    def pubkey(self) -> Path:
        return self.root / "id_ed25519.pub"

    @property
    def guests(self) -> Path:
        return self.root / "guests"

    def guest(self, name: str) -> GuestLayout:
        return GuestLayout(self, name)


@dataclass(frozen=True)
class GuestLayout:
    """The files of one booted guest: an overlay over the shared base."""

    layout: Layout
    name: str

    @property
    def dir(self) -> Path:
        return self.layout.guests / self.name

    @property
    def upper(self) -> Path:
        return self.dir / "upper"

    @property
    def work(self) -> Path:
        return self.dir / "work"

    @property
    def merged(self) -> Path:
        return self.dir / "merged"

    @property
    def state(self) -> Path:
        return self.dir / "state.json"

    @property
    def lock(self) -> Path:
        return self.dir / "lock"

    @property
    def log(self) -> Path:
        return self.layout.root / f"{self.name}.log"


def layout() -> Layout:
    return Layout(state_dir())
