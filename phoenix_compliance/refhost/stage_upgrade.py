"""The Podman 6 upgrade rehearsal on reference guests: stage on a Podman 5 guest every setting
Podman 6.0 removed, move the rootless user's store and configuration to a Podman 6 guest as an
upgrade would leave them, and stand in for the reboot that follows.

What is staged (podman-facts.md section 12), each on the rootless user's side:

- a BoltDB store: ``[engine] database_backend = "boltdb"`` in ~/.config/containers/containers.conf
  and ``CI_DESIRED_DATABASE=boltdb`` on the first podman command of an *empty* store (5.4.2
  refuses to create a new BoltDB store otherwise);
- ``[network] default_rootless_network_cmd = "slirp4netns"`` and ``firewall_driver = "iptables"``
  in the same file (both programs installed first: they are not in the base packages);
- Quadlet drop-ins beside the stand-in stack's units: ``Network=slirp4netns`` on the optional
  group's standalone container (a container in a pod cannot choose its network) and
  ``GlobalArgs=--network-cmd-path=...`` on one of the pod's containers; the pod itself keeps the
  default network, which is where ``default_rootless_network_cmd`` shows.

slirp4netns and iptables are installed in the guest when it is staged, not added to the base
packages: apt runs in the guest's mount namespace with the machine's network (a guest with a
network of its own reaches no mirror), from the mirror its base was built from, in a few seconds;
the bases, and what every other test sees, stay as they are.

A reboot is stood in for by stopping the user's manager and runtime directory
(user@UID.service, user-runtime-dir@UID.service: every container and conmon goes, /run/user/UID
is unmounted), removing the user's lock files in /dev/shm, and starting the manager again, which
brings default.target (and phoenix.target) up as at boot with linger. The container store lives
on a tmpfs of the guest (boot.py) that a real reboot of the guest would drop: this keeps it.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass

from . import paths
from ._util import RefhostError, run, say
from .deploy import deploy
from .exec import HOST_PATH, SHELL_TIMEOUT, checked, guest_run, guest_shell, staged, user_shell
from .guest_state import guest_systemd

# The packages of what Podman 6 removed that a Podman 5 host may still use.
LEGACY_PACKAGES = ("slirp4netns", "iptables")
SLIRP4NETNS = "/usr/bin/slirp4netns"

HOME = f"/home/{paths.USER}"
USER_CONF = ".config/containers/containers.conf"
QUADLET_DIR = ".config/containers/systemd"
STORE = ".local/share/containers"
RUNTIME = f"/run/user/{paths.UID}"

USER_CONF_TEXT = """# Written by phoenix-refhost stage: the settings Podman 6.0 removed.
[engine]
database_backend = "boltdb"

[network]
default_rootless_network_cmd = "slirp4netns"
firewall_driver = "iptables"
"""


@dataclass(frozen=True)
class DropIn:
    """A Quadlet drop-in written beside a unit of the stand-in stack."""

    unit: str
    section: str
    line: str

    @property
    def path(self) -> str:
        """Relative to the user's home."""
        return f"{QUADLET_DIR}/{self.unit}.d/50-podman5.conf"

    @property
    def text(self) -> str:
        return f"# Written by phoenix-refhost stage: a key Podman 6.0 refuses.\n[{self.section}]\n{self.line}\n"


DROP_INS = (
    DropIn("grafana-loki.container", "Container", "Network=slirp4netns"),
    DropIn("phoenix-core.container", "Container", f"GlobalArgs=--network-cmd-path={SLIRP4NETNS}"),
)

APT_TIMEOUT = 600
MOVE_TIMEOUT = 600


def install_packages(name: str, packages: tuple[str, ...] = LEGACY_PACKAGES) -> float:
    """Install packages in the guest from the mirror in its own apt sources; return the seconds.

    apt runs in the guest's mount, UTS, IPC and PID namespaces but the machine's network, so a
    guest with a network namespace of its own installs them too; the files land in the guest's
    upper layer, never in the base.
    """
    st = staged(name)
    sd = guest_systemd(st)
    if sd is None:
        raise RefhostError(f"{name}: guest systemd not found")
    started = time.monotonic()
    env = ["env", "-i", f"PATH={HOST_PATH}", "LANG=C.UTF-8", "DEBIAN_FRONTEND=noninteractive"]
    enter = ["nsenter", "-t", str(sd), "-m", "-u", "-i", "-p", "--", *env]
    # A testing suite's Release file expires within weeks; the guest's clock is the machine's
    # (podman-facts.md section 12), so its validity date is not held against it here.
    fresh = ["-o", "Acquire::Check-Valid-Until=false"]
    for argv in (
        ["apt-get", "update", "-q", *fresh],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages],
    ):
        checked(run([*enter, *argv], timeout=APT_TIMEOUT), f"{' '.join(argv[:2])} in {name}")
    seconds = time.monotonic() - started
    say(f"installed {', '.join(packages)} in {name} in {seconds:.1f} s")
    return seconds


def stop_user(name: str) -> None:
    """The first half of the reboot stand-in: the user's manager and runtime directory stopped
    (every container with them), the user's lock files in /dev/shm removed."""
    st = staged(name)
    guest_shell(
        st,
        f"systemctl stop user@{paths.UID}.service user-runtime-dir@{paths.UID}.service && "
        f"find /dev/shm -maxdepth 1 -user {paths.UID} -delete",
        f"stopping {paths.USER}'s manager in {name}",
    )


def start_user(name: str, timeout: float = 60) -> None:
    """The second half: the manager started again, as logind does at boot for a lingering user;
    return once it runs (its default.target reached or failed)."""
    st = staged(name)
    guest_shell(st, f"systemctl start user@{paths.UID}.service", f"starting {paths.USER}'s manager in {name}")
    deadline = time.monotonic() + timeout
    while True:
        states = user_shell(st, "systemctl --user is-system-running", "", check=False).stdout.strip()
        if states in ("running", "degraded"):
            return
        if time.monotonic() >= deadline:
            raise RefhostError(f"{paths.USER}'s manager in {name} still {states or 'unknown'} after {timeout:g} s")
        time.sleep(0.5)


def reboot_user(name: str) -> None:
    """Stand in for a reboot of the guest, as far as the rootless user sees it."""
    stop_user(name)
    start_user(name)
    say(f"{name}: {paths.USER}'s manager restarted (reboot stand-in)")


def empty_store(name: str) -> None:
    """Remove the user's container store (the readiness check's podman socket made one)."""
    st = staged(name)
    stop_user(name)
    guest_shell(st, f"find {HOME}/{STORE} -mindepth 1 -delete", f"emptying {STORE} in {name}")
    start_user(name)


def stage(name: str, *, timeout: float = 120) -> float:
    """Stage every blocker on a Podman 5 guest (an empty store first) and deploy the stand-in
    stack with its optional group by Quadlet over them; return the seconds it took."""
    st = staged(name)
    started = time.monotonic()
    install_packages(name)
    # The socket's first request would create a SQLite store before the BoltDB one.
    user_shell(st, "systemctl --user stop podman.socket podman.service", "stopping podman.socket")
    empty_store(name)
    user_shell(st, "systemctl --user stop podman.socket podman.service", "stopping podman.socket")
    write_file(name, USER_CONF, USER_CONF_TEXT)
    backend = user_shell(
        st,
        "CI_DESIRED_DATABASE=boltdb podman info --format '{{.Host.DatabaseBackend}}'",
        "creating the BoltDB store",
    ).stdout.strip()
    if backend != "boltdb":
        raise RefhostError(f"{name}: the new store's database backend is {backend!r}, not boltdb")
    user_shell(st, "systemctl --user start podman.socket", "starting podman.socket")
    for drop_in in DROP_INS:
        write_file(name, drop_in.path, drop_in.text)
    deploy("quadlet", name, timeout=timeout, with_groups=True)
    seconds = time.monotonic() - started
    say(f"staged the Podman 6 blockers on {name} in {seconds:.1f} s")
    return seconds


def write_file(name: str, relative: str, text: str) -> None:
    """Write a file of the user's, relative to the home, creating its folder."""
    st = staged(name)
    folder = relative.rpartition("/")[0]
    with tempfile.TemporaryFile("w+") as handle:
        handle.write(text)
        handle.flush()
        handle.seek(0)
        result = guest_run(
            st,
            ["sh", "-c", f'mkdir -p "{folder}" && cat > "{relative}"'],
            user=paths.USER,
            timeout=SHELL_TIMEOUT,
            stdin=handle.fileno(),
        )
    checked(result, f"writing ~{paths.USER}/{relative} in {name}")


def accounts(name: str) -> str:
    """The user's passwd entry and subordinate id ranges, which the moved store's files and
    layers are owned by: they must be the same on both sides of a move."""
    st = staged(name)
    result = guest_shell(
        st,
        f"getent passwd {paths.USER}; grep '^{paths.USER}:' /etc/subuid /etc/subgid",
        f"reading {paths.USER}'s ids in {name}",
    )
    return result.stdout


def installed(name: str, packages: tuple[str, ...] = LEGACY_PACKAGES) -> tuple[str, ...]:
    """Those of packages installed in the guest."""
    st = staged(name)
    query = f"dpkg-query -W -f '${{Package}} ${{Status}}\\n' {' '.join(packages)} 2>/dev/null; true"
    listed = guest_shell(st, query, "dpkg-query")
    found = {line.split()[0] for line in listed.stdout.splitlines() if line.endswith(" installed")}
    return tuple(package for package in packages if package in found)


def move(source: str, target: str) -> float:
    """Move the user's home (container store, ~/.config/containers with the Quadlet folder,
    ~/.config/systemd, the project folder) and linger state from source to target, as an
    upgrade to target's Podman would leave them; then reboot target (the stand-in). Those of
    LEGACY_PACKAGES installed on source are installed on target too, as an upgrade in place
    keeps them. Returns the seconds."""
    src, dst = staged(source), staged(target)
    started = time.monotonic()
    if accounts(source) != accounts(target):
        raise RefhostError(
            f"{paths.USER}'s ids differ between {source} and {target}:\n{accounts(source)}---\n{accounts(target)}"
        )
    packages = installed(source)
    if packages:
        install_packages(target, packages)
    # Stopped, as a shutdown leaves them: no container running, the database closed.
    stop_user(source)
    stop_user(target)
    tar = ["tar", "--xattrs", "--xattrs-include=*", "--acls", "--numeric-owner"]
    with tempfile.TemporaryFile() as archive:
        packed = guest_run(
            src,
            [*tar, "-C", "/", "-cf", "-", HOME.lstrip("/"), "var/lib/systemd/linger"],
            timeout=MOVE_TIMEOUT,
            stdout=archive.fileno(),
        )
        checked(packed, f"packing {HOME} in {source}")
        size = archive.tell()
        archive.seek(0)
        # The target's home goes first, its store (a tmpfs mount point) emptied, not removed.
        guest_shell(
            dst,
            f"find {HOME} -mindepth 1 -maxdepth 1 ! -name .local -exec rm -rf {{}} + && "
            f"find {HOME}/{STORE} -mindepth 1 -delete && rm -f /var/lib/systemd/linger/*",
            f"clearing {HOME} in {target}",
        )
        unpacked = guest_run(dst, [*tar, "-p", "-C", "/", "-xf", "-"], timeout=MOVE_TIMEOUT, stdin=archive.fileno())
        checked(unpacked, f"unpacking {HOME} in {target}")
    start_user(target)
    seconds = time.monotonic() - started
    say(f"moved {HOME} ({size / 1e6:.1f} MB) from {source} to {target} in {seconds:.1f} s")
    return seconds
