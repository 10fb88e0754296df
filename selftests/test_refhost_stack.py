"""Phases 2, 3 and security against the reference host with the stand-in stack
deployed (podman-compose, then Quadlet), clean and then drifted one way at a time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from suite_runner import HOST, REFERENCE_STACK, REPO, Guest, run_suite, verdict

pytestmark = pytest.mark.refhost
PROJECT = "/home/phoenix/phoenix-hydra"
COMPOSE = f"{PROJECT}/infra/podman/compose.yaml"
UNITS = "/home/phoenix/.config/containers/systemd"
SOCKET = "/run/user/1000/podman/podman.sock"
# Podman as phoenix from a root shell in the guest (for drifts that also need root).
AS_PHOENIX = "cd /home/phoenix && HOME=/home/phoenix XDG_RUNTIME_DIR=/run/user/1000 podman"
IMAGE = "localhost/phoenix-standin:1.0"


@dataclass(frozen=True)
class Drift:
    apply: list[list[str]]
    revert: list[list[str]]
    failing: set[str]
    says: list[str] = field(default_factory=list)
    as_root: bool = False


def sh(command: str) -> list[str]:
    return ["sh", "-c", command]


def in_guest(guest: Guest, argv: list[str], as_root: bool = False) -> None:
    done = guest.run(argv, user=None if as_root else "phoenix", timeout=120)
    assert done.returncode == 0, f"{argv}: {done.stdout}{done.stderr}"


def check_drift(drift: Drift, phase: str, guest: Guest, reports: Path) -> None:
    try:
        # Inside the try: a drift applied halfway is reverted too (a lowered sysctl is
        # this machine's own, the guest sharing its network namespace).
        for argv in drift.apply:
            in_guest(guest, argv, drift.as_root)
        result = run_suite(
            reports,
            f"--hosts={HOST}",
            f"--ssh-config={guest.ssh_config}",
            f"--phase={phase}",
            f"--stack={REFERENCE_STACK}",
            "--health-wait=10",
        )
    finally:
        for argv in drift.revert:
            in_guest(guest, argv, drift.as_root)
    assert result.failed == drift.failing, result.output
    for words in drift.says:
        assert words in result.output, words
    assert "Traceback" not in result.output


def without_service(text: str, service: str) -> str:
    """The compose file with one service's block cut out."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {service}:"))
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].startswith("  ")
            and not lines[i].startswith("   ")
            and lines[i].strip()
            and not lines[i].lstrip().startswith("#")
        ),
        len(lines),
    )
    # Comments that introduce the next service stay with it.
    while end > start and lines[end - 1].lstrip().startswith("#"):
        end -= 1
    return "".join(lines[:start] + lines[end:])


COMPOSE_TEXT = (REPO / "fixtures" / "infra" / "podman" / "compose.yaml").read_text()
INDEX = f"{PROJECT}/data/phoenix-core/index.html"
RECREATE_CORE = sh(
    f"podman rm -f -t0 phoenix-core && cd {PROJECT}/infra/podman && podman-compose up -d >/dev/null 2>&1"
    " && for i in $(seq 30); do podman healthcheck run phoenix-core >/dev/null 2>&1 && exit 0; sleep 1;"
    " done; exit 1"
)
# Failures inside the start period do not count: run the check until it says unhealthy.
UNHEALTHY_CORE = sh(
    "for i in $(seq 60); do podman healthcheck run phoenix-core >/dev/null 2>&1;"
    " [ \"$(podman inspect -f '{{.State.Health.Status}}' phoenix-core)\" = unhealthy ] && exit 0;"
    " sleep 0.5; done; exit 1"
)
# A restarted container is "starting" until a check passes (compose start_period): wait
# for that, or a later drift's failing checks would not count yet.
HEALTHY_CORE = sh(
    "for i in $(seq 30); do podman healthcheck run phoenix-core >/dev/null 2>&1 && exit 0; sleep 1; done; exit 1"
)

PHASE2_DRIFTS = {
    "container-stopped": Drift(
        [["podman", "stop", "-t0", "phoenix-core"]],
        [["podman", "start", "phoenix-core"], HEALTHY_CORE],
        {
            f"test_container_running[phoenix-core-{HOST}]",
            f"test_endpoint_answers[phoenix-core-http://localhost:8080-{HOST}]",
        },
        ["expected phoenix-core running, got exited"],
    ),
    "compose-key-misspelt": Drift(
        [["true"]],
        [["true"]],
        {f"test_compose_file_valid[{HOST}]"},
        ["service phoenix-core: unknown key 'restrat' (did you mean 'restart'?)"],
    ),
    "service-removed-from-compose": Drift(
        [["true"]],
        [["true"]],
        {f"test_compose_declares_services[{HOST}]"},
        ["got windmill-phoenix missing"],
    ),
    "healthcheck-failing": Drift(
        [sh(f"mv {INDEX} {INDEX}.drift"), UNHEALTHY_CORE],
        [sh(f"mv {INDEX}.drift {INDEX}"), HEALTHY_CORE],
        {
            f"test_container_healthy[phoenix-core-{HOST}]",
            f"test_endpoint_answers[phoenix-core-http://localhost:8080-{HOST}]",
        },
        ["expected phoenix-core healthy, got unhealthy", "404"],
    ),
    "podman-compose-missing": Drift(
        [["mv", "/usr/bin/podman-compose", "/usr/bin/podman-compose.drift"]],
        [["mv", "/usr/bin/podman-compose.drift", "/usr/bin/podman-compose"]],
        {f"test_podman_compose_runs[{HOST}]"},
        ["expected podman-compose version to succeed, got command not found"],
        as_root=True,
    ),
    "container-outside-pod-and-project": Drift(
        [
            sh(
                "podman rm -f -t0 nca-toolkit >/dev/null && podman run -d --name nca-toolkit -p 8081:8081"
                f" -v {PROJECT}/data/nca-toolkit:/www:Z --health-cmd 'wget -q -O /dev/null http://localhost:8081/'"
                f" {IMAGE} httpd -f -p 8081 -h /www >/dev/null && for i in $(seq 30); do"
                " podman healthcheck run nca-toolkit >/dev/null 2>&1 && exit 0; sleep 0.5; done; exit 1"
            )
        ],
        [sh(f"podman rm -f -t0 nca-toolkit && cd {PROJECT}/infra/podman && podman-compose up -d >/dev/null 2>&1")],
        {f"test_container_grouped[nca-toolkit-{HOST}]"},
        ["for nca-toolkit, got pod none, compose project none"],
    ),
    "published-port-changed": Drift(
        [["true"], RECREATE_CORE],
        [["true"], RECREATE_CORE],
        {
            f"test_published_ports[phoenix-core-{HOST}]",
            f"test_endpoint_answers[phoenix-core-http://localhost:8080-{HOST}]",
        },
        ["expected phoenix-core to publish 8080:8080/tcp, got 8090:8080/tcp"],
    ),
}


@pytest.fixture(scope="class")
def compose_deployed(refhost_guest: Guest) -> Iterator[Guest]:
    refhost_guest.deploy("compose")
    yield refhost_guest


@pytest.fixture(scope="class")
def quadlet_deployed(refhost_guest: Guest) -> Iterator[Guest]:
    refhost_guest.deploy("quadlet")
    yield refhost_guest


class TestComposeDeployment:
    def test_phase2_and_security_pass_phase3_does_not(self, compose_deployed: Guest, tmp_path: Path) -> None:
        result = run_suite(
            tmp_path, f"--hosts={HOST}", f"--ssh-config={compose_deployed.ssh_config}", f"--stack={REFERENCE_STACK}"
        )
        assert not {name for name in result.failed if "phase3" not in name and "test_unit" not in name} - {
            n for n in result.failed if _phase3(n)
        }, result.output
        assert verdict(result.html) == [HOST, "READY", "READY", "NOT READY", "READY"]

    @pytest.mark.parametrize("name", sorted(PHASE2_DRIFTS))
    def test_a_drift_fails_exactly_its_checks(self, name: str, compose_deployed: Guest, tmp_path: Path) -> None:
        drift = PHASE2_DRIFTS[name]
        if name == "service-removed-from-compose":
            compose_deployed.write(COMPOSE, without_service(COMPOSE_TEXT, "windmill-phoenix"))
            drift = Drift([], [], drift.failing, drift.says)
        if name == "compose-key-misspelt":
            compose_deployed.write(COMPOSE, COMPOSE_TEXT.replace("    restart: always", "    restrat: always", 1))
            drift = Drift([], [], drift.failing, drift.says)
        if name == "published-port-changed":
            compose_deployed.write(COMPOSE, COMPOSE_TEXT.replace('ports: ["8080:8080"]', 'ports: ["8090:8080"]'))
            drift = Drift([RECREATE_CORE], [], drift.failing, drift.says)
        try:
            check_drift(drift, "2", compose_deployed, tmp_path)
        finally:
            if name in ("service-removed-from-compose", "published-port-changed", "compose-key-misspelt"):
                compose_deployed.write(COMPOSE, COMPOSE_TEXT)
            if name == "published-port-changed":
                in_guest(compose_deployed, RECREATE_CORE)


def _phase3(name: str) -> bool:
    return name.split("[", 1)[0] in {
        "test_unit_file_present",
        "test_unit_file_lint",
        "test_generator_dry_run",
        "test_target_enabled_active",
        "test_generated_service_active",
        "test_container_managed_by_systemd",
        "test_compose_quadlet_parity",
        "test_unit_reloaded",
    }


CORE_UNIT = f"{UNITS}/phoenix-core.container"
REFERENCE_UNITS = (
    "phoenix-core.container",
    "nca-toolkit.container",
    "n8n-phoenix.container",
    "windmill-phoenix.container",
    "revenue-db.container",
    "phoenix-hydra.pod",
)
PHASE3_DRIFTS = {
    "target-disabled": Drift(
        [["systemctl", "--user", "disable", "phoenix.target"]],
        [["systemctl", "--user", "enable", "phoenix.target"]],
        {f"test_target_enabled_active[{HOST}]"},
        ["expected enabled=enabled, active=active, got enabled=disabled"],
    ),
    # A unit edited and not reloaded: systemd runs the version it loaded before (PHX-3.10);
    # the revert reloads, or the edit would outlive the drift.
    "unknown-key": Drift(
        [sh(f"sed -i '/^\\[Container\\]/a Name=oops' {CORE_UNIT}")],
        [sh(f"sed -i '/^Name=oops$/d' {CORE_UNIT}"), ["systemctl", "--user", "daemon-reload"]],
        {
            f"test_generator_dry_run[{HOST}]",
            f"test_unit_file_lint[phoenix-core.container-{HOST}]",
            f"test_unit_reloaded[phoenix-core.service-{HOST}]",
        },
        ["unsupported key 'Name' in group 'Container'", "phoenix-core.container:9: QL013"],
    ),
    "container-started-by-hand": Drift(
        [
            ["systemctl", "--user", "stop", "phoenix-core.service"],
            [
                "podman",
                "run",
                "-d",
                "--name",
                "phoenix-core",
                "--pod",
                "phoenix-hydra",
                "-v",
                f"{PROJECT}/data/phoenix-core:/www:Z",
                IMAGE,
                "httpd",
                "-f",
                "-p",
                "8080",
                "-h",
                "/www",
            ],
        ],
        [["podman", "rm", "-f", "-t0", "phoenix-core"], ["systemctl", "--user", "start", "phoenix-core.service"]],
        {
            f"test_generated_service_active[phoenix-core.service-{HOST}]",
            f"test_container_managed_by_systemd[phoenix-core-{HOST}]",
        },
        ["got no PODMAN_SYSTEMD_UNIT label (started by hand?)"],
    ),
    "image-changed-in-one-unit": Drift(
        [sh(f"sed -i 's#^Image=.*#Image=localhost/phoenix-standin:2.0#' {CORE_UNIT}")],
        [sh(f"sed -i 's#^Image=.*#Image={IMAGE}#' {CORE_UNIT}"), ["systemctl", "--user", "daemon-reload"]],
        {f"test_compose_quadlet_parity[phoenix-core-{HOST}]", f"test_unit_reloaded[phoenix-core.service-{HOST}]"},
        [f"image: compose {IMAGE} vs quadlet localhost/phoenix-standin:2.0"],
    ),
}


class TestQuadletDeployment:
    def test_every_phase_passes(self, quadlet_deployed: Guest, tmp_path: Path) -> None:
        result = run_suite(
            tmp_path, f"--hosts={HOST}", f"--ssh-config={quadlet_deployed.ssh_config}", f"--stack={REFERENCE_STACK}"
        )
        assert result.returncode == 0, result.output
        assert not result.failed
        assert verdict(result.html) == [HOST, "READY", "READY", "READY", "READY"]
        text = result.html.get_text(" ")
        assert "not applicable" in text and "the host has no SELinux" in text
        # Every output, under one base name, and the report's digest holds.
        from phoenix_compliance.report.signing import verify_report

        written = sorted(p.suffix for p in tmp_path.glob("readiness-*"))
        assert written == [".html", ".json", ".prom", ".xml"]
        for report in (*tmp_path.glob("readiness-*.html"), *tmp_path.glob("readiness-*.json")):
            assert verify_report(report, None).intact

    @pytest.mark.parametrize("name", sorted(PHASE3_DRIFTS))
    def test_a_drift_fails_exactly_its_checks(self, name: str, quadlet_deployed: Guest, tmp_path: Path) -> None:
        check_drift(PHASE3_DRIFTS[name], "3", quadlet_deployed, tmp_path)

    def test_one_command_and_a_command_per_group_agree(self, quadlet_deployed: Guest, tmp_path: Path) -> None:
        """The light probes' guard on every release: all phases with every probe script run as one
        command over one login, and under -n 2 with each fact group a command of its own (each
        script alone, as before they were run together), give the same outcome check by check."""
        args = (f"--hosts={HOST}", f"--ssh-config={quadlet_deployed.ssh_config}", f"--stack={REFERENCE_STACK}")
        together = run_suite(tmp_path / "together", *args)
        apart = run_suite(tmp_path / "apart", *args, "-n", "2")
        assert together.returncode == 0, together.output

        def read(folder: Path) -> tuple[list[tuple[str, ...]], int]:
            document = json.loads(next(folder.glob("readiness-*.json")).read_text())
            outcomes = sorted(
                tuple(str(r.get(k)) for k in ("host", "id", "subject", "outcome")) for r in document["results"]
            )
            return outcomes, sum(int(host["commands_run"]) for host in document["hosts"].values())

        (one, commands), (other, separately) = read(tmp_path / "together"), read(tmp_path / "apart")
        assert len(one) > 100 and one == other, apart.output
        assert (commands, separately > 1) == (1, True)

    def test_a_unit_the_generator_drops_is_named(self, quadlet_deployed: Guest, tmp_path: Path) -> None:
        extra = f"{UNITS}/phx-extra.container"
        says = ["unsupported key 'BogusKey' in group 'Container'"]
        if quadlet_deployed.release != "trixie":  # podman quadlet list arrived in 5.6
            says.append("not loaded (podman quadlet list): phx-extra.container: unsupported key 'BogusKey'")
        drift = Drift(
            [
                sh(f"printf '[Container]\\nImage={IMAGE}\\nBogusKey=1\\n' > {extra}"),
                ["systemctl", "--user", "daemon-reload"],
            ],
            [sh(f"rm -f {extra}"), ["systemctl", "--user", "daemon-reload"]],
            {f"test_generator_dry_run[{HOST}]"},
            says,
        )
        check_drift(drift, "3", quadlet_deployed, tmp_path)

    def test_one_unparseable_file_drops_the_folder(self, quadlet_deployed: Guest, tmp_path: Path) -> None:
        """The generator then loads no unit of the folder: PHX-3.03 and the lint (QL006) name every one
        of them. No daemon-reload: the running stack stays as it is, the dry run reads the files."""
        broken = f"{UNITS}/notes.container"
        units = list(REFERENCE_UNITS)
        drift = Drift(
            [sh(f"printf -- '---\\n[Container]\\n' > {broken}")],
            [sh(f"rm -f {broken}")],
            {f"test_generator_dry_run[{HOST}]", *(f"test_unit_file_lint[{name}-{HOST}]" for name in units)},
            [
                f"not generated, since the generator cannot parse {broken} and then loads no file of {UNITS}: "
                + ", ".join(sorted(units)),
                "QL006 error: phoenix-core.container is not generated: the generator cannot parse notes.container",
            ],
        )
        check_drift(drift, "3", quadlet_deployed, tmp_path)

    def test_the_opt_in_restart_brings_every_endpoint_back(self, quadlet_deployed: Guest, tmp_path: Path) -> None:
        result = run_suite(
            tmp_path,
            f"--hosts={HOST}",
            f"--ssh-config={quadlet_deployed.ssh_config}",
            "--phase=3",
            f"--stack={REFERENCE_STACK}",
            "--allow-restart",
            "-k",
            "restart",
        )
        assert result.passed == {f"test_restart_recovers[{HOST}]"}, result.output
        assert "every endpoint answered" in result.html.get_text()


SECRET_VALUE = "hunter2-drift-value"

SECURITY_DRIFTS = {
    "secret-in-an-environment-file": Drift(
        [
            sh("printf 'API_TOKEN=hunter2-drift-value\\n' > ~/phoenix.env"),
            sh(f"sed -i '/^\\[Service\\]/a EnvironmentFile=-%h/phoenix.env' {CORE_UNIT}"),
        ],
        [sh(f"sed -i '/^EnvironmentFile=-%h\\/phoenix.env$/d' {CORE_UNIT}"), sh("rm -f ~/phoenix.env")],
        {f"test_files_secrets[{HOST}]"},
        ["~/phoenix.env:1: SEC-SECRET"],
    ),
    "labelling-turned-off": Drift(
        [sh(f"sed -i '/^\\[Container\\]/a SecurityLabelDisable=true' {CORE_UNIT}")],
        [sh(f"sed -i '/^SecurityLabelDisable=true$/d' {CORE_UNIT}"), ["systemctl", "--user", "daemon-reload"]],
        {f"test_files_selinux_separation[{HOST}]"},
        ["SEC-NOLABEL", "is not separated by SELinux"],
    ),
    # Quadlet merges a drop-in before it generates anything: its lines are the unit's (issue 24).
    "dropin-privileged-with-a-literal-secret": Drift(
        [
            sh(
                f"mkdir -p {CORE_UNIT}.d && printf '[Container]\\nPodmanArgs=--privileged\\n"
                f"Environment=DB_PASSWORD={SECRET_VALUE}\\n' > {CORE_UNIT}.d/override.conf"
            )
        ],
        [sh(f"rm -rf {CORE_UNIT}.d")],
        {f"test_files_privileges[{HOST}]", f"test_files_secrets[{HOST}]"},
        [f"{CORE_UNIT}.d/override.conf:2: SEC-PRIV", f"{CORE_UNIT}.d/override.conf:3: SEC-SECRET"],
    ),
    "docker-alias-removed": Drift(
        [sh("cp -p ~/.bashrc ~/.bashrc.drift && sed -i '/^alias docker=podman$/d' ~/.bashrc")],
        [sh("mv ~/.bashrc.drift ~/.bashrc")],
        {f"test_docker_alias[{HOST}]"},
        ["got no docker command and no alias"],
    ),
    "unlabelled-bind-mount": Drift(
        # The user's own data (the project folder), not a system folder such as /tmp, which
        # must never be relabelled and so is no longer asked for :Z.
        [["podman", "run", "-d", "--name", "phx-drift", "-v", f"{PROJECT}:/data", IMAGE, "sleep", "600"]],
        [["podman", "rm", "-f", "-t0", "phx-drift"]],
        {f"test_live_selinux_labels[{HOST}]"},
        [f"container phx-drift mount {PROJECT} -> /data"],
    ),
    "privileged-container": Drift(
        [["podman", "run", "-d", "--privileged", "--name", "phx-drift", IMAGE, "sleep", "600"]],
        [["podman", "rm", "-f", "-t0", "phx-drift"]],
        {f"test_live_privileges[{HOST}]"},
        ["container phx-drift is privileged"],
    ),
    "podman-socket-mounted": Drift(
        [
            [
                "podman",
                "run",
                "-d",
                "--name",
                "phx-drift",
                "-v",
                f"{SOCKET}:/var/run/docker.sock:Z",
                IMAGE,
                "sleep",
                "600",
            ]
        ],
        [["podman", "rm", "-f", "-t0", "phx-drift"]],
        {f"test_live_socket_mounts[{HOST}]"},
        [f"container phx-drift mounts {SOCKET} at /var/run/docker.sock"],
    ),
    "latest-image-running": Drift(
        [
            ["podman", "tag", IMAGE, "localhost/phoenix-standin:latest"],
            ["podman", "run", "-d", "--name", "phx-drift", "localhost/phoenix-standin", "sleep", "600"],
        ],
        [["podman", "rm", "-f", "-t0", "phx-drift"], ["podman", "rmi", "localhost/phoenix-standin:latest"]],
        {f"test_live_images[{HOST}]"},
        ["container phx-drift runs localhost/phoenix-standin:latest"],
    ),
    "docker-host-elsewhere": Drift(
        [sh("echo 'export DOCKER_HOST=tcp://127.0.0.1:2375' >> ~/.bashrc")],
        [sh("sed -i '$d' ~/.bashrc")],
        {f"test_docker_host[{HOST}]"},
        ["expected DOCKER_HOST=unix:///run/user/1000/podman/podman.sock, got tcp://127.0.0.1:2375"],
    ),
    "socket-world-writable": Drift(
        [["chmod", "666", SOCKET]],
        [["chmod", "660", SOCKET]],
        {f"test_socket_permissions[{HOST}]"},
        ["expected mode 0660 or stricter, owner phoenix, got mode 0666"],
    ),
}


def with_file_offences(text: str) -> str:
    """The compose file with one service breaking every file rule at once."""
    clean = (
        "    image: localhost/phoenix-standin:1.0\n"
        "    command: httpd -f -p 8080 -h /www\n"
        '    ports: ["8080:8080"]\n'
        '    volumes: ["../../data/phoenix-core:/www:Z"]\n'
    )
    offending = (
        "    image: busybox\n"
        "    command: httpd -f -p 8080 -h /www\n"
        '    ports: ["80:8080"]\n'
        f'    volumes: ["../../data/phoenix-core:/www", "{SOCKET}:/var/run/docker.sock:Z"]\n'
        "    privileged: true\n"
        "    environment:\n"
        f"      DB_PASSWORD: {SECRET_VALUE}\n"
    )
    assert clean in text
    return text.replace(clean, offending)


class TestSecurity:
    def test_the_compose_deployment_passes_or_is_not_applicable(self, compose_deployed: Guest, tmp_path: Path) -> None:
        result = run_suite(
            tmp_path,
            f"--hosts={HOST}",
            f"--ssh-config={compose_deployed.ssh_config}",
            "--phase=security",
            f"--stack={REFERENCE_STACK}",
        )
        assert result.returncode == 0 and not result.failed, result.output

    @pytest.mark.parametrize("name", sorted(SECURITY_DRIFTS))
    def test_a_drift_fails_exactly_its_check(self, name: str, quadlet_deployed: Guest, tmp_path: Path) -> None:
        check_drift(SECURITY_DRIFTS[name], "security", quadlet_deployed, tmp_path)

    def test_offending_files_fail_each_file_rule_and_never_show_the_secret(
        self, quadlet_deployed: Guest, tmp_path: Path
    ) -> None:
        failing = {
            f"test_files_{rule}[{HOST}]"
            for rule in ("selinux_labels", "unprivileged_ports", "privileges", "socket_mounts", "secrets", "images")
        }
        quadlet_deployed.write(COMPOSE, with_file_offences(COMPOSE_TEXT))
        try:
            check_drift(
                Drift([], [], failing, ["compose.yaml:21: SEC-SECRET service phoenix-core, environment"]),
                "security",
                quadlet_deployed,
                tmp_path,
            )
        finally:
            quadlet_deployed.write(COMPOSE, COMPOSE_TEXT)
        for output in tmp_path.iterdir():
            assert SECRET_VALUE not in output.read_text()

    def test_a_low_port_from_the_hosts_dotenv_is_judged_resolved(self, quadlet_deployed: Guest, tmp_path: Path) -> None:
        """The compose file publishes ${CORE_PORT:-8080}; the .env beside it on the host says 110."""
        assert 'ports: ["8080:8080"]' in COMPOSE_TEXT
        dotenv = f"{PROJECT}/infra/podman/.env"
        quadlet_deployed.write(
            COMPOSE, COMPOSE_TEXT.replace('ports: ["8080:8080"]', 'ports: ["${CORE_PORT:-8080}:8080"]', 1)
        )
        try:
            check_drift(
                Drift(
                    [sh(f"printf 'CORE_PORT=110\\n' > {dotenv}")],
                    [sh(f"rm -f {dotenv}")],
                    {f"test_files_unprivileged_ports[{HOST}]"},
                    ["(written '${CORE_PORT:-8080}:8080' -> '110:8080')"],
                ),
                "security",
                quadlet_deployed,
                tmp_path,
            )
        finally:
            quadlet_deployed.write(COMPOSE, COMPOSE_TEXT)

    @pytest.mark.parametrize(
        ("apply", "revert", "failing"),
        [
            ("touch /run/docker.sock", "rm -f /run/docker.sock", "test_docker_retired"),
            ("chmod 0755 /run/user/1000", "chmod 0700 /run/user/1000", "test_runtime_dir_private"),
        ],
        ids=["docker-socket-left", "runtime-dir-opened"],
    )
    def test_a_host_drift_fails_exactly_its_check(
        self, apply: str, revert: str, failing: str, quadlet_deployed: Guest, tmp_path: Path
    ) -> None:
        check_drift(
            Drift([sh(apply)], [sh(revert)], {f"{failing}[{HOST}]"}, as_root=True),
            "security",
            quadlet_deployed,
            tmp_path,
        )

    def test_a_low_port_left_published_after_the_sysctl_is_restored(
        self, quadlet_deployed: Guest, tmp_path: Path
    ) -> None:
        before = quadlet_deployed.run(["cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"]).stdout.strip()
        assert int(before) >= 1024, f"this machine's ip_unprivileged_port_start is already {before}"
        as_phoenix = ["runuser", "-u", "phoenix", "--", "sh", "-c"]
        drift = Drift(
            [
                ["sysctl", "-qw", "net.ipv4.ip_unprivileged_port_start=80"],
                [*as_phoenix, f"{AS_PHOENIX} run -d --name phx-drift -p 80:8080 {IMAGE} httpd -f -p 8080 -h /"],
                ["sysctl", "-qw", f"net.ipv4.ip_unprivileged_port_start={before}"],
            ],
            [
                [*as_phoenix, f"{AS_PHOENIX} rm -f -t0 phx-drift"],
                ["sysctl", "-qw", f"net.ipv4.ip_unprivileged_port_start={before}"],
            ],
            {f"test_live_unprivileged_ports[{HOST}]"},
            ["container phx-drift publishes 80->8080"],
            as_root=True,
        )
        check_drift(drift, "security", quadlet_deployed, tmp_path)

    def test_a_low_port_after_lowering_the_sysctl_is_reported(self, quadlet_deployed: Guest, tmp_path: Path) -> None:
        # A guest on this machine's network namespace (trixie's) shares its sysctl: restore it.
        before = quadlet_deployed.run(["cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"]).stdout.strip()
        assert int(before) >= 1024, f"this machine's ip_unprivileged_port_start is already {before}"
        drift = Drift(
            [
                ["sysctl", "-qw", "net.ipv4.ip_unprivileged_port_start=80"],
                [
                    "runuser",
                    "-u",
                    "phoenix",
                    "--",
                    "sh",
                    "-c",
                    f"{AS_PHOENIX} run -d --name phx-drift -p 80:8080 {IMAGE} httpd -f -p 8080 -h /",
                ],
            ],
            [
                ["runuser", "-u", "phoenix", "--", "sh", "-c", f"{AS_PHOENIX} rm -f -t0 phx-drift"],
                ["sysctl", "-qw", f"net.ipv4.ip_unprivileged_port_start={before}"],
            ],
            {f"test_unprivileged_port_start[{HOST}]"},
            ["expected >= 1024, got 80"],
            as_root=True,
        )
        check_drift(drift, "security", quadlet_deployed, tmp_path)
