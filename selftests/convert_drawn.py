"""Compose files drawn by hypothesis for the convert selftests (fixed seed, bounded count), and their units."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from convert_cases import (
    DRAWN_CASES,
    GUIDE,
    STAND_IN,
    convert_file,
    stand_in_options,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from phoenix_compliance.quadlet_lint import Version

# --------------------------------------------------------------------------
# Drawn compose files
# --------------------------------------------------------------------------

_WORD = st.text(alphabet="ab %$'\"\\:/=-_.1", min_size=1, max_size=8)
_SAFE = st.text(alphabet="abc-_./:=1", min_size=1, max_size=10)
_NAMES = ["web", "db", "cache", "worker"]
_ENV_NAMES = ["LOG_LEVEL", "DB_PASSWORD", "API_TOKEN", "TZ", "MODE"]
_IMAGES = ["busybox", "busybox:1.36", "library/redis:7", "quay.io/org/app:1.2", "localhost/app@sha256:" + "a" * 64]
_BINDS = ["./data", "../shared", "/srv/app", "/etc/localtime", "/run/podman/podman.sock", "~/files"]


@st.composite
def compose_document(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(_NAMES), min_size=1, max_size=4, unique=True))
    volumes = {"data": None} if draw(st.booleans()) else {}
    network_choices: list[dict[str, Any]] = [
        {},
        {"backend": None},
        {"backend": {"internal": True}, "front": {"driver": "bridge"}},
    ]
    networks = draw(st.sampled_from(network_choices))
    port = iter(range(8000, 8100))
    services: dict[str, Any] = {}
    for index, name in enumerate(names):
        service: dict[str, Any] = {"image": draw(st.sampled_from(_IMAGES))}
        if draw(st.booleans()):
            service["command"] = draw(st.lists(_WORD, min_size=1, max_size=4))
        if draw(st.integers(0, 4)) == 0:
            service["entrypoint"] = draw(st.lists(_SAFE, min_size=1, max_size=2))
        if draw(st.booleans()):
            service["environment"] = {n: draw(_WORD) for n in draw(st.lists(st.sampled_from(_ENV_NAMES), max_size=3))}
        if draw(st.booleans()):
            service["ports"] = [f"{next(port)}:{draw(st.integers(1, 65535))}" for _ in range(draw(st.integers(1, 2)))]
        mounts: list[str] = []
        for _ in range(draw(st.integers(0, 3))):
            source = draw(st.sampled_from([*_BINDS, *volumes]))
            option = draw(st.sampled_from(["", ":ro", ":Z", ":z", ":ro,Z"]))
            mounts.append(f"{source}:/mnt/{len(mounts)}{option}")
        if mounts:
            service["volumes"] = mounts
        if draw(st.booleans()):
            test = draw(
                st.sampled_from(
                    [["CMD", "true"], ["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"], "true", ["NONE"]]
                )
            )
            service["healthcheck"] = {"test": test, "interval": draw(st.sampled_from(["5s", "1m30s"])), "retries": 3}
        if draw(st.booleans()):
            service["restart"] = draw(st.sampled_from(["no", "always", "on-failure", "unless-stopped"]))
        if index and draw(st.booleans()):
            condition = draw(st.sampled_from(["service_started", "service_healthy"]))
            service["depends_on"] = {names[0]: {"condition": condition}}
        extras = draw(
            st.lists(
                st.sampled_from(
                    [
                        "labels",
                        "cap_add",
                        "mem_limit",
                        "cpus",
                        "user",
                        "working_dir",
                        "read_only",
                        "init",
                        "stop_grace_period",
                        "shm_size",
                        "tmpfs",
                        "ipc",
                        "stdin_open",
                        "pids_limit",
                        "stop_signal",
                        "hostname",
                        "dns",
                        "extra_hosts",
                        "network_mode",
                    ]
                ),
                max_size=4,
                unique=True,
            )
        )
        values = {
            "labels": {"tier": draw(_WORD)},
            "cap_add": ["NET_ADMIN"],
            "mem_limit": "256m",
            "cpus": 0.5,
            "user": "1000:1000",
            "working_dir": "/app",
            "read_only": True,
            "init": True,
            "stop_grace_period": "1m30s",
            "shm_size": "64m",
            "tmpfs": ["/run/x"],
            "ipc": "host",
            "stdin_open": True,
            "pids_limit": 100,
            "stop_signal": "SIGINT",
            "hostname": "app",
            "dns": ["192.0.2.53"],
            "extra_hosts": ["db.local:192.0.2.7"],
            "network_mode": "host",
        }
        service.update({key: values[key] for key in extras})
        services[name] = service
    for service in services.values():
        if networks and draw(st.booleans()):
            service["networks"] = sorted(networks)[: draw(st.integers(1, len(networks)))]
    document: dict[str, Any] = {"name": "drawn", "services": services}
    if volumes:
        document["volumes"] = volumes
    if networks:
        document["networks"] = networks
    return document


def drawn_documents() -> list[dict[str, Any]]:
    drawn: list[dict[str, Any]] = []

    # Fixed seed, no shrinking: the same files on every run, judged in one batch.
    @settings(
        max_examples=DRAWN_CASES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(compose_document())
    def collect(document: dict[str, Any]) -> None:
        drawn.append(document)

    collect()
    return drawn


def _literal_exec(words: list[str]) -> list[str]:
    """The words podman receives once systemd has undone the converter's %% and $$."""
    return [word.replace("%%", "%").replace("$$", "$") for word in words]


def _plain(value: str) -> bool:
    # A compose reference ($X, ${X}) is the parser's to substitute (test_compose.py); not compared here.
    return re.search(r"\$(?!\$)[{A-Za-z_]", value.replace("$$", "")) is None


def drawn_units(version: Version) -> list[dict[str, str]]:
    """The units of every drawn compose file, the stand-in's and the guide's, for one release."""
    import tempfile

    cases = [convert_file(STAND_IN, version, stand_in_options(version)).texts(), convert_file(GUIDE, version).texts()]
    with tempfile.TemporaryDirectory() as folder:
        for number, document in enumerate(drawn_documents()):
            path = Path(folder) / f"c{number}" / "compose.yaml"
            path.parent.mkdir()
            path.write_text(yaml.safe_dump(document))
            cases.append(convert_file(path, version).texts())
    return cases
