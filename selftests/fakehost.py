"""A host that answers from memory: canned probe sections and a fake Podman API.

The checks receive real HostFacts built on a FakeRunner, so the real fact parsing
runs on what a reference host (Debian trixie, Podman 5.4.2, the rootless user
``phoenix`` with the stand-in stack deployed as Quadlet units) prints. Each
section is served in the probe scripts' own ``@@PHX`` wire format, and only a
section the script really prints can be canned.

A test starts from `reference_host()`, changes what it is about (`set`,
`timeout`, `missing`, `empty`, `api_down`, `compose_text`, ...) and asks
`facts()` for the HostFacts a check is given.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from phoenix_compliance.facts import HostFacts
from phoenix_compliance.parsers import manifest
from phoenix_compliance.report import model
from phoenix_compliance.run.outcome import classify
from phoenix_compliance.transport import podman_api
from phoenix_compliance.transport.runner import HostUnreachable, Section, parse_sections

REPO = Path(__file__).resolve().parent.parent
REFERENCE_STACK = REPO / "fixtures" / "stacks" / "reference.yaml"
INFRA = REPO / "fixtures" / "infra" / "podman"
HOST_ID = "ssh://refhost"
USER, UID, HOME = "phoenix", 1000, "/home/phoenix"
SOCKET = f"/run/user/{UID}/podman/podman.sock"
API_WHERE = f"API socket {SOCKET} on {HOST_ID}, through an ssh-forwarded socket"
QUADLET_DIR = f"{HOME}/.config/containers/systemd"
TARGET_PATH = f"{HOME}/.config/systemd/user/phoenix.target"
COMPOSE_PATH = f"{HOME}/phoenix-hydra/infra/podman/compose.yaml"
IMAGE = "localhost/phoenix-standin:1.0"
IMAGE_ID = "3f57d9401f8d42f986df300f0c69192fc41da28ccc8d797829467780db3dd741"
INFRA_IMAGE = "localhost/podman-pause:5.4.2-1741651200"
POD = "phoenix-hydra"
POD_ID = "b1c9e3f0d2a84c7e9f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e"
INFRA_ID = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1"
# (service, port) of the reference stack, in the manifest's order.
SERVICES = (
    ("phoenix-core", 8080),
    ("nca-toolkit", 8081),
    ("n8n-phoenix", 5678),
    ("windmill-phoenix", 8000),
    ("revenue-db", 5432),
)
# The reference stack's optional observability group: (service, port), its compose file and unit.
LOKI = "grafana-loki"
GROUP_SERVICES = ((LOKI, 3100),)
GROUP_COMPOSE_PATH = f"{HOME}/phoenix-hydra/infra/podman/observability.compose.yaml"
GROUP_UNITS = ("grafana-loki.container",)

OS_RELEASE = """PRETTY_NAME="Debian GNU/Linux 13 (trixie)"
NAME="Debian GNU/Linux"
VERSION_ID="13"
VERSION="13 (trixie)"
VERSION_CODENAME=trixie
DEBIAN_VERSION_FULL=13.1
ID=debian
HOME_URL="https://www.debian.org/"
SUPPORT_URL="https://www.debian.org/support"
BUG_REPORT_URL="https://bugs.debian.org/\""""

# What `podman version --format json` prints without a remote connection.
PODMAN_VERSION = {
    "Client": {
        "APIVersion": "5.4.2",
        "Version": "5.4.2",
        "GoVersion": "go1.24.4",
        "GitCommit": "",
        "BuiltTime": "Sat Jul 12 18:51:49 2025",
        "Built": 1752339109,
        "BuildOrigin": "Debian",
        "OsArch": "linux/amd64",
        "Os": "linux",
    }
}

# `podman info --format json` of a rootless 5.4 user, the parts the checks read and their neighbours.
PODMAN_INFO: dict[str, Any] = {
    "host": {
        "arch": "amd64",
        "buildahVersion": "1.39.3",
        "cgroupManager": "systemd",
        "cgroupVersion": "v2",
        "cgroupControllers": ["cpu", "memory", "pids"],
        "conmon": {"package": "conmon_2.1.12-4_amd64", "path": "/usr/bin/conmon", "version": "conmon version 2.1.12"},
        "databaseBackend": "sqlite",
        "distribution": {"codename": "trixie", "distribution": "debian", "version": "13"},
        "hostname": "refhost",
        "idMappings": {
            "gidmap": [
                {"container_id": 0, "host_id": 1000, "size": 1},
                {"container_id": 1, "host_id": 100000, "size": 65536},
            ],
            "uidmap": [
                {"container_id": 0, "host_id": 1000, "size": 1},
                {"container_id": 1, "host_id": 100000, "size": 65536},
            ],
        },
        "kernel": "6.1.0-37-amd64",
        "networkBackend": "netavark",
        "ociRuntime": {"name": "crun", "package": "crun_1.21-1_amd64", "path": "/usr/bin/crun", "version": "crun 1.21"},
        "os": "linux",
        "pasta": {"executable": "/usr/bin/pasta", "package": "passt_0.0~git20250503.587980c-2_amd64", "version": ""},
        "remoteSocket": {"exists": True, "path": SOCKET},
        "rootlessNetworkCmd": "pasta",
        "security": {
            "apparmorEnabled": False,
            "capabilities": "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_NET_BIND_SERVICE,"
            "CAP_SETFCAP,CAP_SETGID,CAP_SETPCAP,CAP_SETUID,CAP_SYS_CHROOT",
            "rootless": True,
            "seccompEnabled": True,
            "seccompProfilePath": "/usr/share/containers/seccomp.json",
            "selinuxEnabled": False,
        },
        "serviceIsRemote": False,
        "slirp4netns": {"executable": "", "package": "", "version": ""},
    },
    "store": {
        "configFile": f"{HOME}/.config/containers/storage.conf",
        "graphDriverName": "overlay",
        "graphOptions": {},
        "graphRoot": f"{HOME}/.local/share/containers/storage",
        "graphStatus": {"Backing Filesystem": "extfs", "Native Overlay Diff": "true", "Supports d_type": "true"},
        "runRoot": f"/run/user/{UID}/containers",
        "transientStore": False,
        "volumePath": f"{HOME}/.local/share/containers/storage/volumes",
    },
    "registries": {"search": ["docker.io"]},
    "plugins": {"network": ["bridge", "macvlan", "ipvlan"], "volume": ["local"]},
    "version": {
        "APIVersion": "5.4.2",
        "Version": "5.4.2",
        "GoVersion": "go1.24.4",
        "Built": 1752339109,
        "OsArch": "linux/amd64",
        "Os": "linux",
    },
}

# The probe's tools loop prints every name, found or not, then the helpers kept outside PATH.
TOOLS = """podman=/usr/bin/podman
podman-compose=/usr/bin/podman-compose
slirp4netns=
pasta=/usr/bin/pasta
fuse-overlayfs=
newuidmap=/usr/bin/newuidmap
newgidmap=/usr/bin/newgidmap"""

DRYRUN_OUT = (
    "".join(
        f"---{name}.service---\n[X-Container]\nImage={IMAGE}\n\n[Service]\nRestart=always\n" for name, _ in SERVICES
    )
    + "---phoenix-hydra-pod.service---\n[X-Pod]\nPodName=phoenix-hydra\n"
)
DRYRUN_ERR = "\n".join(
    f"quadlet-generator[412]: Loading source unit file {QUADLET_DIR}/{name}"
    for name in ("n8n-phoenix.container", "nca-toolkit.container", "phoenix-core.container", "phoenix-hydra.pod")
)

FAILURES = ("timeout", "missing", "empty")


def _script_sections() -> tuple[dict[str, str], dict[str, str]]:
    """Which script prints each section, and the program it runs, read from the scripts themselves."""
    folder = resources.files("phoenix_compliance.facts.probes")
    owners: dict[str, str] = {}
    programs: dict[str, str] = {}
    for script in ("probe_base.sh", "probe_stack.sh", "probe_security.sh", "probe_quadlet.sh", "act_restart.sh"):
        text = folder.joinpath(script).read_text("utf-8")
        for name, program in re.findall(r"^\s*section (\w+) (\S+)", text, re.MULTILINE):
            owners[name] = script
            programs[name] = program.strip('"')
    return owners, programs


SCRIPT_OF, PROGRAM_OF = _script_sections()


def _script_of(name: str) -> str:
    if re.fullmatch(r"http_\d+", name):
        return "probe_http.sh"
    if re.fullmatch(r"file_\d+", name):
        return "probe_files.sh"
    if re.fullmatch(r"group_compose(_path)?_\d+", name):
        return "probe_stack.sh"
    if name not in SCRIPT_OF:
        raise KeyError(f"no probe script prints a section {name!r}")
    return SCRIPT_OF[name]


def ok(name: str, out: str, err: str = "") -> Section:
    return Section(name, 0, out, err)


def login_environment(environ: dict[str, str]) -> str:
    """The compose_env section's output: an rc file's chatter, the marker, `env -0 | base64 -w0`."""
    data = "".join(f"{name}={value}\0" for name, value in environ.items()).encode()
    return "welcome\n@@ENV@@\n" + base64.b64encode(data).decode()


def quadlet_tar(files: dict[str, str]) -> str:
    """The quadlet_tar section's output: the folder as a tar, base64 without line breaks."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as archive:
        directory = tarfile.TarInfo(".")
        directory.type = tarfile.DIRTYPE
        archive.addfile(directory)
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return base64.b64encode(buffer.getvalue()).decode()


def container_entry(service: str, *, state: str = "running", status: str = "healthy") -> dict[str, Any]:
    """One element of GET /libpod/containers/json?all=true for a Quadlet-run pod member."""
    return {
        "AutoRemove": True,
        "Command": ["httpd", "-f", "-p", str(dict(SERVICES + GROUP_SERVICES)[service]), "-h", "/www"],
        "Created": "2025-11-03T10:12:44.123456789Z",
        "CreatedAt": "",
        "CIDFile": f"/run/user/{UID}/{service}.cid",
        "Exited": state != "running",
        "ExitedAt": -62135596800,
        "ExitCode": 0,
        "Id": hashlib.sha256(service.encode()).hexdigest(),
        "Image": IMAGE,
        "ImageID": IMAGE_ID,
        "IsInfra": False,
        "Labels": {"PODMAN_SYSTEMD_UNIT": f"{service}.service"},
        "Mounts": ["/www"],
        "Names": [service],
        "Namespaces": {},
        "Networks": [],
        "Pid": 2345,
        "Pod": POD_ID,
        "PodName": POD,
        # A pod member reports the infra container's ports: every port the pod publishes.
        "Ports": [
            {"host_ip": "", "container_port": port, "host_port": port, "range": 1, "protocol": "tcp"}
            for _, port in SERVICES
        ],
        "Restarts": 0,
        "Size": None,
        "StartedAt": 1762164765,
        "State": state,
        "Status": status,
    }


def infra_entry() -> dict[str, Any]:
    entry = container_entry("phoenix-core")
    entry.update(
        Command=None,
        Id=INFRA_ID,
        Image=INFRA_IMAGE,
        IsInfra=True,
        Labels={},
        Mounts=[],
        Names=[f"{POD}-infra"],
        Status="",
    )
    return entry


def inspect_document(service: str, *, health: str = "healthy") -> dict[str, Any]:
    """GET /v4.0.0/libpod/containers/NAME/json of a Quadlet-run pod member (Podman 5.4,
    no SELinux: the :Z survives only in Config.CreateCommand)."""
    port = dict(SERVICES + GROUP_SERVICES)[service]
    probe = f"wget -q -O /dev/null http://localhost:{port}/"
    source = f"{HOME}/phoenix-hydra/data/{service}"
    return {
        "Id": container_entry(service)["Id"],
        "Created": "2025-11-03T10:12:44.123456789Z",
        "Path": "httpd",
        "Args": ["-f", "-p", str(port), "-h", "/www"],
        "State": {
            "OciVersion": "1.2.0",
            "Status": "running",
            "Running": True,
            "Paused": False,
            "Restarting": False,
            "OOMKilled": False,
            "Dead": False,
            "Pid": 2345,
            "ExitCode": 0,
            "Error": "",
            "StartedAt": "2025-11-03T10:12:45.2Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
            "Health": {
                "Status": health,
                "FailingStreak": 0 if health == "healthy" else 3,
                "Log": [
                    {
                        "Start": "2025-11-03T10:13:15.4Z",
                        "End": "2025-11-03T10:13:15.5Z",
                        "ExitCode": 0 if health == "healthy" else 1,
                        "Output": ""
                        if health == "healthy"
                        else "wget: can't connect to remote host: Connection refused",
                    }
                ],
            },
            "CheckpointedAt": "0001-01-01T00:00:00Z",
            "RestoredAt": "0001-01-01T00:00:00Z",
        },
        "Image": IMAGE_ID,
        "ImageDigest": "sha256:" + IMAGE_ID,
        "ImageName": IMAGE,
        "Rootfs": "",
        "Pod": POD_ID,
        "Name": service,
        "RestartCount": 0,
        "Driver": "overlay",
        "MountLabel": "",
        "ProcessLabel": "",
        "EffectiveCaps": ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
        "Mounts": [
            {
                "Type": "bind",
                "Source": source,
                "Destination": "/www",
                "Driver": "",
                "Mode": "",
                "Options": ["rbind"],
                "RW": True,
                "Propagation": "rprivate",
            }
        ],
        "IsInfra": False,
        "IsService": False,
        "Config": {
            "Hostname": POD,
            "User": "",
            "Env": ["container=podman", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["httpd", "-f", "-p", str(port), "-h", "/www"],
            "Image": IMAGE,
            "Labels": {"PODMAN_SYSTEMD_UNIT": f"{service}.service"},
            "StopSignal": "SIGTERM",
            "HealthcheckOnFailureAction": "none",
            "CreateCommand": [
                "/usr/bin/podman",
                "run",
                "--name",
                service,
                f"--cidfile=/run/user/{UID}/{service}.cid",
                "--replace",
                "--rm",
                "--cgroups=split",
                "--sdnotify=conmon",
                "-d",
                "--pod-id-file",
                f"/run/user/{UID}/phoenix-hydra-pod.pod-id",
                "-v",
                f"{source}:/www:Z",
                "--health-cmd",
                probe,
                "--health-interval",
                "30s",
                IMAGE,
                "httpd",
                "-f",
                "-p",
                str(port),
                "-h",
                "/www",
            ],
            "Healthcheck": {"Test": ["CMD-SHELL", probe], "Interval": 30000000000},
        },
        "HostConfig": {
            "Binds": [f"{source}:/www:rw,rprivate,rbind"],
            "CgroupManager": "systemd",
            "NetworkMode": "bridge",
            "PortBindings": {},
            "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
            "AutoRemove": True,
            "CapAdd": [],
            "CapDrop": ["CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"],
            "Privileged": False,
            "PidMode": "private",
            "UsernsMode": "",
        },
    }


def group_container_entry(service: str) -> dict[str, Any]:
    """A Quadlet-run container of the optional group: no pod, its own published port."""
    port = dict(GROUP_SERVICES)[service]
    entry = container_entry(service)
    entry.update(
        Pod="",
        PodName="",
        Ports=[{"host_ip": "", "container_port": port, "host_port": port, "range": 1, "protocol": "tcp"}],
    )
    return entry


def group_inspect_document(service: str) -> dict[str, Any]:
    document = inspect_document(service)
    document.update(Pod="")
    port = dict(GROUP_SERVICES)[service]
    probe = f"wget -q -O /dev/null http://localhost:{port}/ready"
    document["Config"]["Healthcheck"] = {"Test": ["CMD-SHELL", probe], "Interval": 30000000000}
    return document


def pod_entry() -> dict[str, Any]:
    """GET /libpod/pods/json of the stack's pod."""
    return {
        "Cgroup": f"user.slice/user-{UID}.slice/user@{UID}.service/user.slice",
        "Containers": [{"Id": INFRA_ID, "Names": f"{POD}-infra", "Status": "running"}]
        + [{"Id": container_entry(s)["Id"], "Names": s, "Status": "running"} for s, _ in SERVICES],
        "Created": "2025-11-03T10:12:40.0Z",
        "Id": POD_ID,
        "InfraId": INFRA_ID,
        "Name": POD,
        "Namespace": "",
        "Networks": ["podman"],
        "Status": "Running",
        "Labels": {},
    }


class FakeApi:
    """Stands where podman_api.PodmanApi stands: the same calls, answered from memory."""

    def __init__(self, host: FakeHost) -> None:
        self.host = host
        self.where = API_WHERE
        self.calls: list[str] = []

    def probe(self) -> podman_api.ApiFacts:
        self.calls.append("probe")
        return self.host.api_facts

    def containers(self) -> list[dict[str, Any]]:
        self.calls.append("containers")
        return copy.deepcopy(self.host.containers)

    def inspect(self, name: str) -> dict[str, Any] | None:
        self.calls.append(f"inspect {name}")
        document = self.host.inspected.get(name)
        return copy.deepcopy(document) if document is not None else None

    def pods(self) -> list[dict[str, Any]]:
        self.calls.append("pods")
        return copy.deepcopy(self.host.pods)

    def close(self) -> None:
        self.calls.append("close")


class FakeRunner:
    """Stands where probe.HostRunner stands: serves the host's sections in the @@PHX wire format."""

    def __init__(self, host: FakeHost, timeout: float = 30.0) -> None:
        self.host = host
        self.host_id = HOST_ID
        self.timeout = timeout
        self.commands_run = 0
        self.scripts: list[tuple[str, dict[str, str]]] = []
        self.unreachable: HostUnreachable | None = None

    def run_script(self, name: str, body: str, env: dict[str, str]) -> dict[str, Section]:
        self.commands_run += 1
        self.scripts.append((name, dict(env)))
        if self.host.unreachable is not None:
            self.unreachable = HostUnreachable(self.host_id, self.host.unreachable)
            raise self.unreachable
        if name == "probe_files.sh":
            paths = [line for line in env["PHX_FILES"].splitlines() if line]
            absent = Section("", 1, "", "head: cannot open: No such file or directory")
            served = [self.host.files.get(path, absent) for path in paths]
            sections = [Section(f"file_{i}", s.rc, s.out, s.err) for i, s in enumerate(served)]
        elif name == "probe_http.sh":
            urls = env["PHX_URLS"].split()
            served = [self.host.http.get(url, ok("", "200")) for url in urls]
            sections = [Section(f"http_{i}", s.rc, s.out, s.err) for i, s in enumerate(served)]
        else:
            sections = [s for s in self.host.sections.values() if _script_of(s.name) == name]
        return parse_sections("".join(_wire(section) for section in sections))


def _wire(section: Section) -> str:
    """A section as probe_common.sh prints it."""
    out = base64.b64encode(section.out.encode()).decode()
    err = base64.b64encode(section.err.encode()).decode()
    return f"@@PHX {section.name} {section.rc} {out} {err}\n"


@dataclass
class FakeHost:
    """What a host would print and answer; change it, then ask for facts()."""

    sections: dict[str, Section]
    containers: list[dict[str, Any]]
    inspected: dict[str, dict[str, Any]]
    pods: list[dict[str, Any]]
    api_facts: podman_api.ApiFacts
    http: dict[str, Section] = field(default_factory=dict)
    # Files the stack's files name, by the path probe_files.sh is asked for.
    files: dict[str, Section] = field(default_factory=dict)
    api_error: str | None = None
    unreachable: str | None = None
    runner: FakeRunner | None = None
    api: FakeApi | None = None

    # -- probe sections ---------------------------------------------------------

    def set(self, name: str, out: str, rc: int = 0, err: str = "") -> FakeHost:
        _script_of(name)
        self.sections[name] = Section(name, rc, out, err)
        return self

    def fail(self, name: str, how: str) -> FakeHost:
        """A probed program that timed out (rc 124), was not found (rc 127) or printed nothing."""
        _script_of(name)
        program = {
            "timeout": Section(name, 124, "", ""),
            "missing": Section(
                name,
                127,
                "",
                f"timeout: failed to run command '{PROGRAM_OF.get(name, 'cat')}': No such file or directory",
            ),
            "empty": Section(name, 0, "", ""),
        }[how]
        self.sections[name] = program
        return self

    def drop(self, name: str) -> FakeHost:
        """A section the script did not print at all."""
        _script_of(name)
        self.sections.pop(name, None)
        return self

    def answer(self, url: str, out: str, rc: int = 0, err: str = "") -> FakeHost:
        """What probe_http.sh prints for one URL asked from the host."""
        self.http[url] = Section("", rc, out, err)
        return self

    def http_fail(self, url: str, how: str) -> FakeHost:
        failure = {
            "timeout": Section("", 124, "", ""),
            "missing": Section("", 127, "", "timeout: failed to run command 'sh': No such file or directory"),
            "empty": Section("", 0, "", ""),
        }[how]
        self.http[url] = failure
        return self

    # -- files ------------------------------------------------------------------

    def named_file(self, path: str, text: str) -> FakeHost:
        """A file on the host that the stack's files name (read by probe_files.sh)."""
        self.files[path] = Section("", 0, text, "")
        return self

    def compose_text(self, text: str) -> FakeHost:
        return self.set("compose_file", text)

    def compose_environment(self, environ: dict[str, str], dotenv: str | None = None) -> FakeHost:
        """The login environment and the .env beside the compose file podman-compose would read."""
        self.set("compose_env", login_environment(environ))
        if dotenv is not None:
            self.set("compose_dotenv", dotenv)
        return self

    def quadlet_files(self, files: dict[str, str]) -> FakeHost:
        return self.set("quadlet_tar", quadlet_tar(files))

    def edit_quadlet(self, name: str, change: Callable[[str], str]) -> FakeHost:
        files = reference_quadlet_files()
        files[name] = change(files[name])
        return self.quadlet_files(files)

    # -- the optional observability group ------------------------------------------

    def observability(self, *, compose: bool = True, unit: bool = True, container: bool = True) -> FakeHost:
        """Deploy the reference stack's optional group, whole or the parts asked for, as
        `phoenix-refhost deploy quadlet --with-observability` leaves it."""
        if compose:
            self.set("group_compose_0", (INFRA / "observability.compose.yaml").read_text().rstrip("\n"))
        if unit:
            files = reference_quadlet_files()
            files.update({name: (INFRA / "systemd" / name).read_text() for name in GROUP_UNITS})
            self.quadlet_files(files)
            self.set("units_show", _units_show(with_group=True))
        if container:
            self.containers.append(group_container_entry(LOKI))
            self.inspected[LOKI] = group_inspect_document(LOKI)
        return self

    # -- the API ----------------------------------------------------------------

    def api_down(self, reason: str = "ssh forward to " + SOCKET + " failed: Connection refused") -> FakeHost:
        self.api_error = reason
        return self

    def container(self, service: str) -> dict[str, Any]:
        return next(c for c in self.containers if service in c["Names"])

    def facts(
        self,
        stack: manifest.Manifest | None = None,
        compose_override: Path | None = None,
        quadlet_override: Path | None = None,
        source_dir: Path | None = None,
    ) -> HostFacts:
        self.runner = FakeRunner(self)
        self.api = FakeApi(self)
        # The one seam: HostFacts asks reach_for() how to reach the backend's host.
        with mock.patch("phoenix_compliance.facts.host.reach_for", return_value=FakeReach(self)):
            return HostFacts(
                self.runner,  # type: ignore[arg-type]  # a stand-in with HostRunner's calls
                stack or reference_stack(),
                object(),
                compose_override,
                quadlet_override,
                source_dir,
            )


class FakeReach:
    """Stands where transport.reach's choice stands: the fake API, so nothing leaves the process."""

    def __init__(self, host: FakeHost) -> None:
        self.host = host
        self.closed = False

    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> Any:
        assert self.host.api is not None
        return podman_api.ApiUnavailable(self.host.api_error) if self.host.api_error is not None else self.host.api

    def close(self) -> None:
        self.closed = True


def reference_stack() -> manifest.Manifest:
    return manifest.load(REFERENCE_STACK)


def reference_quadlet_files() -> dict[str, str]:
    """The stack's Quadlet files as deployed (the optional group's unit left out)."""
    return {
        path.name: path.read_text()
        for path in sorted((INFRA / "systemd").iterdir())
        if path.suffix != ".target" and path.name not in GROUP_UNITS
    }


def reference_api_facts() -> podman_api.ApiFacts:
    return podman_api.ApiFacts(API_WHERE, "OK", None, True, None, copy.deepcopy(PODMAN_INFO), None)


def _units_show(with_group: bool = False) -> str:
    # systemctl show prints the properties in its own order, one block per unit.
    names = [(f"{s}.service", f"{s}.container") for s, _ in SERVICES] + [
        ("phoenix-hydra-pod.service", "phoenix-hydra.pod")
    ]
    names += [(f"{s}.service", f"{s}.container") for s, _ in GROUP_SERVICES] if with_group else []
    return "\n\n".join(
        f"Restart={'always' if n != 'phoenix-hydra-pod.service' else 'on-failure'}\nId={n}\n"
        f"LoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=generated\n"
        f"SourcePath={QUADLET_DIR}/{source}\nNeedDaemonReload=no"
        for n, source in names
    )


def reference_host() -> FakeHost:
    """The reference host with the stack deployed as Quadlet units: every section as it prints them."""
    sections = [
        ok("whoami", f"{USER}\n{UID}\n{HOME}"),
        ok("os_release", OS_RELEASE),
        ok("kernel", "6.1.0-37-amd64"),
        ok("hostname", "refhost"),
        ok("podman_version", json.dumps(PODMAN_VERSION, indent=2)),
        ok("podman_info", json.dumps(PODMAN_INFO, indent=4)),
        ok("tools", TOOLS),
        ok("subuid", f"{USER}:100000:65536"),
        ok("subgid", f"{USER}:100000:65536"),
        ok("socket_enabled", "enabled"),
        ok("socket_active", "active"),
        ok("quadlet_dir", f"{USER}|{UID}|755|directory|{QUADLET_DIR}"),
        ok("linger_file", f"/var/lib/systemd/linger/{USER}"),
        ok("linger_loginctl", "Linger=yes"),
        ok("cgroup_fs", "cgroup2fs"),
        ok("api_socket", f"{USER}|{UID}|660|socket|{SOCKET}"),
        ok("compose_version", "podman-compose version 1.3.0\npodman version 5.4.2"),
        ok("compose_path", COMPOSE_PATH),
        ok("compose_file", (INFRA / "compose.yaml").read_text().rstrip("\n")),
        # The optional observability group is not deployed: its compose file is absent.
        ok("group_compose_path_0", GROUP_COMPOSE_PATH),
        Section("group_compose_0", 1, "", f"cat: {GROUP_COMPOSE_PATH}: No such file or directory"),
        ok("compose_env", login_environment({"HOME": HOME, "USER": USER, "XDG_RUNTIME_DIR": f"/run/user/{UID}"})),
        Section("compose_dotenv", 1, "", f"cat: {COMPOSE_PATH.rsplit('/', 1)[0]}/.env: No such file or directory"),
        ok("unprivileged_port_start", "1024"),
        Section("selinux_enforce", 1, "", "cat: /sys/fs/selinux/enforce: No such file or directory"),
        ok("runtime_dir", f"{USER}|{UID}|700|directory|/run/user/{UID}"),
        # No passwordless sudo: the probe does not ask for root's containers.
        ok("root_access", "none"),
        Section("docker_active", 3, "inactive\ninactive", ""),
        ok("docker_sock", "/var/run/docker.sock absent\n/run/docker.sock absent"),
        Section("docker_cli", 1, "", ""),
        ok("docker_alias", f"{HOME}/.bashrc:118:alias docker=podman"),
        ok("docker_host_lines", f"{HOME}/.bashrc:119:export DOCKER_HOST=unix://{SOCKET}"),
        ok("docker_host_login", f"\nDOCKER_HOST=unix://{SOCKET}"),
        ok("quadlet_dir_path", QUADLET_DIR),
        ok("quadlet_tar", quadlet_tar(reference_quadlet_files())),
        ok("target_path", TARGET_PATH),
        ok("target_file", (INFRA / "systemd" / "phoenix.target").read_text().rstrip("\n")),
        ok("generator_path", "/usr/libexec/podman/quadlet"),
        ok("generator_dryrun", DRYRUN_OUT, DRYRUN_ERR),
        # Podman 5.4 has no `podman quadlet list` (5.6 and later have).
        Section("quadlet_list", 125, "", "Error: unknown flag: --format\nSee 'podman --help'"),
        ok("target_enabled", "enabled"),
        ok("target_active", "active"),
        ok("units_show", _units_show()),
        # The reference host does not enable automatic updates.
        Section("autoupdate_enabled", 1, "disabled", ""),
        Section("autoupdate_active", 3, "inactive", ""),
        ok("restart", "restarted"),
    ]
    services = [name for name, _ in SERVICES]
    return FakeHost(
        sections={s.name: s for s in sections},
        containers=[infra_entry()] + [container_entry(s) for s in services],
        inspected={s: inspect_document(s) for s in services} | {f"{POD}-infra": _infra_document()},
        pods=[pod_entry()],
        api_facts=reference_api_facts(),
    )


def _infra_document() -> dict[str, Any]:
    document = inspect_document("phoenix-core")
    document.update(Id=INFRA_ID, Name=f"{POD}-infra", ImageName=INFRA_IMAGE, Mounts=[], IsInfra=True, Path="/catatonit")
    document["State"].pop("Health")
    document["Config"].update(CreateCommand=None, Healthcheck=None, Labels={})
    return document


# -- running a check as the plugin would judge it ------------------------------------

# The plugin's outcome words; UNREACHABLE is "could not check" because the host was out of reach.
PASSED, FAILED, NOT_APPLICABLE, SKIPPED = model.PASSED, model.FAILED, model.NOT_APPLICABLE, model.SKIPPED
COULD_NOT_CHECK, ERROR = model.COULD_NOT_CHECK, model.ERROR
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Outcome:
    kind: str
    message: str
    observed: tuple[str, ...]

    @property
    def text(self) -> str:
        """The evidence the report would show: what was observed on a pass, the message otherwise."""
        return "\n".join(self.observed) if self.kind == PASSED else self.message


def run_check(check: Callable[..., None], **arguments: Any) -> Outcome:
    """Call a check function with its fixtures and classify the outcome as the plugin does
    (run.outcome.classify); a host out of reach is told apart as UNREACHABLE."""
    notes: list[str] = []
    try:
        check(observed=notes.append, **arguments)
    except HostUnreachable as exc:
        return Outcome(UNREACHABLE, str(exc), tuple(notes))
    except (Exception, pytest.skip.Exception, pytest.fail.Exception) as exc:
        kind, message = classify(exc)
        return Outcome(kind, message, tuple(notes))
    return Outcome(PASSED, "", tuple(notes))
