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


@dataclass(frozen=True)
class Upgrade:
    """Packages installed over a debootstrapped base from newer suites of the same mirror:
    a Podman a Debian release does not ship yet."""

    # Suites added to the base's apt sources (with the debootstrapped suite's components).
    suites: tuple[str, ...]
    # apt's target release: its packages win over the base's; the other suites only
    # fill in what it lacks (containers-storage comes from sid).
    target: str
    packages: tuple[str, ...]


@dataclass(frozen=True)
class Release:
    """A reference release: the Debian suite a base is built from, and the Podman it brings."""

    name: str
    # Debian 12's debootstrap has no script for releases after trixie; sid's fits them.
    script: str | None
    # The guest `up --release NAME` boots when no --name is given.
    guest: str
    # Whether that guest gets a network namespace of its own (sshd on FLEET_SSH_PORT inside,
    # reached through nsenter) rather than the machine's network. Forky's user manager fails
    # on the machine's network (pam_systemd: "Varlink call io.systemd.Login.CreateSession
    # failed: InvalidParameter", seen with systemd 262) and starts in a namespace of its own.
    private_network: bool
    # The Debian suite debootstrap installs; None: the release's own name.
    suite: str | None = None
    upgrade: Upgrade | None = None

    @property
    def debian_suite(self) -> str:
        return self.suite or self.name


# Podman 6 from Debian's experimental suite over a forky base (testhost.md, "A third release"):
# podman Breaks containers-storage << 1.64 and recommends buildah >= 1.45, so both come along;
# no libc or systemd upgrade is needed from forky.
PODMAN6_UPGRADE = Upgrade(
    suites=("sid", "experimental"),
    target="experimental",
    packages=(
        "podman", "netavark", "buildah", "containers-storage",
        "golang-github-containers-common", "golang-github-containers-image",
    ),
)  # fmt: skip

RELEASES: dict[str, Release] = {
    "trixie": Release("trixie", None, DEFAULT_GUEST, private_network=False),
    "forky": Release("forky", "/usr/share/debootstrap/scripts/sid", "refhost-forky", private_network=True),
    # Forky's user manager needs a network of its own (above); so does this forky-based guest.
    "podman6": Release(
        "podman6",
        "/usr/share/debootstrap/scripts/sid",
        "refhost-podman6",
        private_network=True,
        suite="forky",
        upgrade=PODMAN6_UPGRADE,
    ),
}
DEFAULT_RELEASE = "trixie"

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

    def base(self, release: str = DEFAULT_RELEASE) -> BaseLayout:
        return BaseLayout(self, release)

    @property
    def build_lock(self) -> Path:
        return self.root / "build.lock"

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
class BaseLayout:
    """The files of one release's cached base. The default release keeps the names it had
    before there were several, so a base built then is still found."""

    layout: Layout
    release: str

    @property
    def _stem(self) -> str:
        return "base" if self.release == DEFAULT_RELEASE else f"base-{self.release}"

    @property
    def tree(self) -> Path:
        return self.layout.root / self._stem

    @property
    def tree_new(self) -> Path:
        return self.layout.root / f"{self._stem}.new"

    @property
    def stamp(self) -> Path:
        return self.layout.root / f"{self._stem}.stamp"

    @property
    def build_log(self) -> Path:
        suffix = "" if self.release == DEFAULT_RELEASE else f"-{self.release}"
        return self.layout.root / f"build{suffix}.log"

    @property
    def deb_cache(self) -> Path:
        suffix = "" if self.release == DEFAULT_RELEASE else f"-{self.release}"
        return self.layout.root / f"debs{suffix}"


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
