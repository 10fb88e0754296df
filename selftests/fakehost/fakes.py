"""The fakes: a host that answers from memory (FakeHost), and what stands where the runner, the
Podman API and the transport's reach stand, so nothing leaves the process; reference_host() is
the reference host with the stack deployed as Quadlet units."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from fakehost.documents import (
    container_entry,
    group_container_entry,
    group_inspect_document,
    infra_document,
    infra_entry,
    inspect_document,
    pod_entry,
)
from fakehost.reference import (
    API_WHERE,
    COMPOSE_PATH,
    CONTAINERS_CONF,
    DRYRUN_ERR,
    DRYRUN_OUT,
    GROUP_COMPOSE_PATH,
    GROUP_UNITS,
    HOME,
    HOST_ID,
    INFRA,
    LOKI,
    OS_RELEASE,
    POD,
    PODMAN_INFO,
    PODMAN_VERSION,
    QUADLET_DIR,
    SERVICES,
    SOCKET,
    SYSTEMD_VERSION,
    TARGET_PATH,
    TOOLS,
    UID,
    USER,
    reference_api_facts,
    reference_quadlet_files,
    reference_stack,
    units_show,
    verify_output,
)
from fakehost.wire import PROGRAM_OF, encode_section, login_environment, ok, quadlet_tar, script_of
from phoenix_compliance.facts import HostFacts
from phoenix_compliance.parsers import manifest
from phoenix_compliance.transport import podman_api
from phoenix_compliance.transport.runner import HostUnreachable, Section, parse_sections

FAILURES = ("timeout", "missing", "empty")


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
            sections = [s for s in self.host.sections.values() if script_of(s.name) == name]
        return parse_sections("".join(encode_section(section) for section in sections))


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
        script_of(name)
        self.sections[name] = Section(name, rc, out, err)
        return self

    def fail(self, name: str, how: str) -> FakeHost:
        """A probed program that timed out (rc 124), was not found (rc 127) or printed nothing."""
        script_of(name)
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
        script_of(name)
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

    def verify_says(self, *said: str, rc: int = 1, files: dict[str, str] | None = None) -> FakeHost:
        """The Quadlet files as deployed (`files`, else the reference ones), generated at the last
        daemon-reload, and what systemd-analyze verify said of their services."""
        return self.set("systemd_verify", verify_output(files or reference_quadlet_files(), said), rc)

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
            self.set("units_show", units_show(with_group=True))
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
        ok("containers_conf", CONTAINERS_CONF),
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
        ok("units_show", units_show()),
        # Every unit runs: no journal line.
        ok("units_journal", ""),
        # The reference host does not enable automatic updates.
        Section("autoupdate_enabled", 1, "disabled", ""),
        Section("autoupdate_active", 3, "inactive", ""),
        ok("systemd_version", SYSTEMD_VERSION),
        # systemd reads every line of the generated services: verify says nothing.
        ok("systemd_verify", verify_output(reference_quadlet_files())),
        ok("restart", "restarted"),
    ]
    services = [name for name, _ in SERVICES]
    return FakeHost(
        sections={s.name: s for s in sections},
        containers=[infra_entry()] + [container_entry(s) for s in services],
        inspected={s: inspect_document(s) for s in services} | {f"{POD}-infra": infra_document()},
        pods=[pod_entry()],
        api_facts=reference_api_facts(),
    )
