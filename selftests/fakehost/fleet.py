"""A simulated fleet at the transport boundary: hosts that answer the real probes with probe
output recorded from the reference guests (tools/record_probes.py, captured/<release>/wire.json).

Only what a host answers is simulated. The suite's plugin, probing pool, runner, checks, outputs,
merge and trend run unchanged: a simulated host is a testinfra backend (`sim://NAME`) whose
commands are answered from the recording, by the SECTION names the probe script asks for (read
from the script text, so a restructured script still finds its sections), after the host's
latency; its Podman API is a real unix socket per host, served by a process of its own
(fleet_api.py) from the recorded answers by request path, so the client side (requests,
podman-py) costs the suite what it costs against a real host.

Load it as a pytest plugin, with a fleet file that `write_fleet` makes:

    pytest -p fakehost.fleet --sim-fleet=FLEET.json --hosts=sim://fleet ...   (selftests/ on sys.path)

`sim://fleet` names every host of the file (one URL, whatever the fleet's size); `sim://NAME`
one of them. Each host has a release (trixie, forky, podman6: whichever was recorded), a
latency per command drawn from the seed, and a fate: answers as recorded, unreachable (the
connection is refused), frozen (never answers: the suite's own bounds end the wait) or drifted
(a few recorded facts changed, named in the fleet file, so some checks fail).

This is benchmark and selftest input, not part of the wheel, and nothing here can make a report
look like a real host's: every simulated host is named sim://..., and the reports say so
(the backend is marked `simulated`, which the suite's reports show on every page).
"""

from __future__ import annotations

import base64
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import testinfra.backend
from testinfra.backend import base

CAPTURED = Path(__file__).resolve().parent / "captured"
SCHEME = "sim"
FATES = ("ok", "unreachable", "frozen", "drifted")


@dataclass(frozen=True)
class Drift:
    """Recorded facts changed on a drifted host: section name -> (rc, out, err)."""

    name: str
    what: str
    sections: dict[str, tuple[int, str, str]]


# Drifts a real host goes through after a migration: each changes a few recorded answers so that
# the checks reading them fail and name what changed.
DRIFTS: dict[str, Drift] = {
    "linger": Drift(
        "linger",
        "linger switched off (loginctl disable-linger)",
        {
            "linger_file": (1, "", "stat: cannot statx '/var/lib/systemd/linger/phoenix': No such file or directory"),
            "linger_loginctl": (0, "Linger=no", ""),
        },
    ),
    "docker": Drift(
        "docker",
        "Docker reinstalled and running",
        {
            "docker_active": (0, "active\nactive", ""),
            "docker_sock": (0, "/var/run/docker.sock -> /run/docker.sock\n/run/docker.sock -> /run/docker.sock", ""),
        },
    ),
    "socket": Drift(
        "socket",
        "podman.socket disabled and stopped",
        {"socket_enabled": (1, "disabled", ""), "socket_active": (3, "inactive", "")},
    ),
}


@dataclass(frozen=True)
class SimHost:
    name: str
    release: str
    latency_ms: int
    fate: str = "ok"
    drift: str = ""

    @property
    def url(self) -> str:
        return f"{SCHEME}://{self.name}"


def recorded_releases() -> list[str]:
    return sorted(p.parent.name for p in CAPTURED.glob("*/wire.json"))


def make_fleet(
    count: int,
    *,
    seed: int = 0,
    releases: list[str] | None = None,
    unreachable: float = 0.0,
    frozen: float = 0.0,
    drifted: float = 0.0,
    latency_ms: tuple[int, int] = (20, 200),
) -> list[SimHost]:
    """`count` hosts, releases dealt in turn, latencies and fates drawn from `seed`; the fractions
    are rounded to whole hosts (at least one when the fraction is above zero)."""
    chosen = releases or recorded_releases()
    rng = random.Random(seed)
    width = len(str(count))
    fates = ["ok"] * count

    def whole(fraction: float) -> int:
        return 0 if fraction <= 0 else max(1, round(fraction * count))

    order = list(range(count))
    rng.shuffle(order)
    taken = 0
    for fate, fraction in (("unreachable", unreachable), ("frozen", frozen), ("drifted", drifted)):
        for index in order[taken : taken + whole(fraction)]:
            fates[index] = fate
        taken += whole(fraction)
    drifts = sorted(DRIFTS)
    hosts = []
    drifted_seen = 0
    for index in range(count):
        release = chosen[index % len(chosen)]
        drift = ""
        if fates[index] == "drifted":
            drift = drifts[drifted_seen % len(drifts)]
            drifted_seen += 1
        hosts.append(
            SimHost(f"h{index + 1:0{width}d}-{release}", release, rng.randint(*latency_ms), fates[index], drift)
        )
    return hosts


def write_fleet(path: Path, hosts: list[SimHost], seed: int = 0) -> Path:
    path.write_text(json.dumps({"seed": seed, "hosts": [asdict(h) for h in hosts]}, indent=0) + "\n", "utf-8")
    return path


def read_fleet(path: Path) -> dict[str, SimHost]:
    data = json.loads(path.read_text("utf-8"))
    return {entry["name"]: SimHost(**entry) for entry in data["hosts"]}


@cache
def recording(release: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CAPTURED / release / "wire.json").read_text("utf-8"))
    return data


def _encoded(name: str, rc: int, out: str, err: str) -> str:
    return f"@@PHX {name} {rc} {base64.b64encode(out.encode()).decode()} {base64.b64encode(err.encode()).decode()}\n"


@cache
def wire_lines(release: str, drift: str) -> dict[str, str]:
    """Each recorded section of the release as the probe prints it, with the drift applied."""
    sections = {name: (s["rc"], s["out"], s["err"]) for name, s in recording(release)["sections"].items()}
    if drift:
        sections.update(DRIFTS[drift].sections)
    return {name: _encoded(name, *answer) for name, answer in sections.items()}


# `section NAME program ...` and `section "NAME_$index" ...` lines of a probe script (and the
# other ways probe_common.sh prints one: shell_section, file_section, text_section, error_section);
# `switch_sections ENABLED ACTIVE` prints two.
_SECTION = re.compile(
    r"""(?:^|[\s;])(?:section|shell_section|file_section|text_section|error_section)\s+"""
    r""""?([A-Za-z_][A-Za-z0-9_]*?)(_\$\{?[A-Za-z_]\w*\}?)?"?\s""",
    re.M,
)
_SWITCHES = re.compile(r"(?:^|[\s;])switch_sections\s+(\w+)\s+(\w+)", re.M)


@cache
def asked_sections(command: str) -> tuple[tuple[str, bool], ...]:
    """The sections a probe command prints: (name, False) for a literal name, (prefix, True) for
    a numbered family such as file_$index."""
    found = [(m.start(), m.group(1), bool(m.group(2))) for m in _SECTION.finditer(command)]
    found += [(m.start(), name, False) for m in _SWITCHES.finditer(command) for name in m.groups()]
    return tuple(dict.fromkeys((name, family) for _, name, family in sorted(found)))


def answer(release: str, drift: str, command: str) -> str:
    lines = wire_lines(release, drift)
    out: list[str] = []
    for name, family in asked_sections(command):
        if family:
            pattern = re.compile(re.escape(name) + r"_\d+")
            out.extend(line for key, line in lines.items() if pattern.fullmatch(key))
        elif name in lines:
            out.append(lines[name])
    return "".join(out)


class _Fleet:
    """The fleet of the run (--sim-fleet) and its API server, started on the first API use."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.hosts: dict[str, SimHost] = {}
        self._lock = threading.Lock()
        self._server: subprocess.Popen[str] | None = None
        self._sockets: Path | None = None

    def load(self, path: Path) -> None:
        self.path = path
        self.hosts = read_fleet(path)

    def host(self, name: str) -> SimHost:
        if name not in self.hosts:
            raise RuntimeError(f"{SCHEME}://{name}: no such host in the fleet file {self.path}")
        return self.hosts[name]

    def socket_of(self, name: str, wait: float) -> Path:
        given = os.environ.get("PHX_SIM_SOCKETS")
        if given:  # a server the caller runs (the benchmark, so that its CPU is not the suite's)
            return Path(given) / f"{name}.sock"
        with self._lock:
            if self._server is None:
                self._start(wait)
            assert self._sockets is not None
            return self._sockets / f"{name}.sock"

    def _start(self, wait: float) -> None:
        assert self.path is not None
        self._sockets = Path(tempfile.mkdtemp(prefix="phx-sim-"))
        server = Path(__file__).with_name("fleet_api.py")
        self._server = subprocess.Popen(
            [sys.executable, str(server), str(self.path), str(self._sockets)],
            stdout=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self._server.stdout is not None
        ready = self._server.stdout.readline()  # the server says "ready" once every socket listens
        if ready.strip() != "ready":
            raise RuntimeError(f"the simulated fleet's API server did not start: {ready!r}")

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.terminate()
                try:
                    self._server.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._server.kill()
                self._server = None


FLEET = _Fleet()


class SimReach:
    """The simulated host's API socket: a real unix socket of the fleet's API server."""

    def __init__(self, name: str) -> None:
        self.name = name

    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> Any:
        from phoenix_compliance.transport import podman_api

        local = FLEET.socket_of(self.name, wait)
        return podman_api.PodmanApi(local, f"API socket {socket} on {host_id}", timeout)

    def close(self) -> None:
        pass


class SimBackend(base.BaseBackend):  # type: ignore[misc]  # testinfra is untyped here
    """A simulated host: answers each probe command from its release's recording."""

    NAME = SCHEME
    # Read by the suite's reports: this host's answers are a recording, not a host's.
    simulated = True

    def __init__(self, hostname: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(hostname, *args, **kwargs)
        self.spec = FLEET.host(hostname)
        self._encoding = "utf-8"

    @classmethod
    def get_hosts(cls, host: str, **kwargs: Any) -> list[str]:
        if host == "fleet":
            return sorted(FLEET.hosts)
        return [host]

    def phoenix_reach(self) -> SimReach:
        return SimReach(self.hostname)

    def run(self, command: str, *args: str, **kwargs: Any) -> base.CommandResult:
        spec = self.spec
        if spec.fate == "frozen":
            threading.Event().wait()  # never answers: the runner's bound ends the wait
        time.sleep(spec.latency_ms / 1000)
        if spec.fate == "unreachable":
            refused = f"ssh: connect to host {spec.name} port 22: Connection refused"
            raise RuntimeError(self.result(255, command.encode(), "", refused))
        return self.result(0, command.encode(), answer(spec.release, spec.drift, command), "")


testinfra.backend.BACKENDS[SCHEME] = f"{__name__}.SimBackend"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--sim-fleet",
        dest="sim_fleet",
        metavar="FILE",
        help="the simulated fleet (fakehost.fleet.write_fleet) that sim:// hosts are taken from",
    )


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("sim_fleet")
    if path:
        FLEET.load(Path(path))
    elif os.environ.get("PHX_SIM_FLEET"):
        FLEET.load(Path(os.environ["PHX_SIM_FLEET"]))


def pytest_unconfigure(config: pytest.Config) -> None:
    FLEET.stop()
