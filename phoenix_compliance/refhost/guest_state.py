"""A guest's recorded state and where it lives: state.json, its layout and cgroup, whether it is up,
its systemd; the guests there are, in order. Reading only: booting and stopping are beside this."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from . import paths
from ._util import RefhostError, alive, cgroup2_root, children, is_mountpoint

# How often a wait (boot, readiness, power-off, a port let go) looks again.
POLL = 0.5

# How a guest is networked: "host" shares the machine's network namespace, "private"
# has its own (systemd-nspawn --private-network) and is reached through nsenter.
NETWORK_HOST = "host"
NETWORK_PRIVATE = "private"


@dataclass
class GuestState:
    """What state.json records about a booted guest."""

    name: str
    pid: int  # systemd-nspawn
    starttime: int  # of pid, in clock ticks: tells a recycled PID apart
    port: int
    root: str
    log: str
    started_at: str
    systemd_pid: int | None = None
    systemd_starttime: int | None = None
    # The defaults keep state.json files written before fleets and releases existed readable.
    network: str = NETWORK_HOST
    release: str = paths.DEFAULT_RELEASE

    @classmethod
    def load(cls, path: Path) -> GuestState | None:
        try:
            data = json.loads(path.read_text())
            return cls(**data)
        except (OSError, ValueError, TypeError):
            return None

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        tmp.rename(path)

    @property
    def running(self) -> bool:
        return alive(self.pid, self.starttime) and b"systemd-nspawn" in _cmdline(self.pid)

    @property
    def private(self) -> bool:
        return self.network == NETWORK_PRIVATE


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def guest_layout(name: str) -> paths.GuestLayout:
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", name):
        # The name becomes a directory, a hostname and an ssh Host alias.
        raise RefhostError(f"invalid guest name {name!r}: use lowercase letters, digits and -")
    return paths.layout().guest(name)


def state(name: str = paths.DEFAULT_GUEST) -> GuestState | None:
    """The recorded state of a running guest, or None when it is down."""
    recorded = GuestState.load(guest_layout(name).state)
    return recorded if recorded is not None and recorded.running else None


def up_hint(name: str) -> str:
    """The command that boots this guest, for error messages."""
    if name == paths.DEFAULT_GUEST:
        return f"{paths.PROG} up"
    for known in paths.RELEASES.values():
        if name == known.guest:
            return f"{paths.PROG} up --release {known.name}"
    fleet = re.fullmatch(r"(.+)-(\d+)", name)
    if fleet:
        prefix = "" if fleet[1] == paths.FLEET_PREFIX else f" --prefix {fleet[1]}"
        return f"{paths.PROG} up --count {fleet[2]}{prefix}"
    return f"{paths.PROG} --name {name} up"


def is_up(name: str = paths.DEFAULT_GUEST) -> bool:
    return state(name) is not None


def guest_systemd(st: GuestState) -> int | None:
    """PID (on the machine) of the guest's systemd: the child of systemd-nspawn."""
    if st.systemd_pid is not None and alive(st.systemd_pid, st.systemd_starttime):
        return st.systemd_pid
    for pid, comm in children(st.pid):
        if comm == "systemd":
            return pid
    return None


def guest_cgroup(name: str) -> Path | None:
    root = cgroup2_root()
    return None if root is None else root / f"{paths.PROG}-{name}"


def guest_order(name: str) -> tuple[int, str, int]:
    """The default guest first, then by name with fleet-2 before fleet-10."""
    stem, _, number = name.rpartition("-")
    if name == paths.DEFAULT_GUEST:
        return (0, "", 0)
    if stem and number.isdigit():
        return (1, stem, int(number))
    return (1, name, -1)


def list_guests() -> list[GuestState]:
    """Every guest with a state file, up or not (check ``.running``): a guest that was
    killed, or whose machine command died, still has one until `down` cleans it up."""
    root = paths.layout().guests
    found: list[GuestState] = []
    if root.is_dir():
        for entry in root.iterdir():
            recorded = GuestState.load(entry / "state.json")
            if recorded is not None and recorded.name == entry.name:
                found.append(recorded)
    return sorted(found, key=lambda st: guest_order(st.name))


def known_guests() -> Iterator[str]:
    """Guests with something to clean up: a state file, a mounted overlay or an upper layer."""
    root = paths.layout().guests
    if not root.is_dir():
        return
    for entry in sorted(root.iterdir(), key=lambda p: guest_order(p.name)):
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,30}", entry.name):
            continue
        guest = paths.layout().guest(entry.name)
        if guest.state.exists() or guest.upper.exists() or is_mountpoint(guest.merged):
            yield entry.name


def guests_text(count: int) -> str:
    return f"{count} guest" if count == 1 else f"{count} guests"
