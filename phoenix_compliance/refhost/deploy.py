"""Put the stand-in Phoenix Hydra stack on the guest the guide's two ways, or take it off.

``compose`` runs ``podman-compose up -d`` in the project folder (guide, section 4),
``quadlet`` installs the units and enables phoenix.target (section 5), ``none``
leaves no stack container. Each mode first takes the other deployment down, since
both publish the same ports and name their containers alike. What the stack is
comes from the repository's fixtures: the files synced to the guest and the stack
manifest fixtures/stacks/reference.yaml (services, container names, endpoints).

The manifest's optional groups (the observability stack: grafana-loki) are deployed
too with ``with_groups`` (``--with-observability``): their compose file beside the
stack's, their units beside its units. Without it every trace of them is taken off
(containers, units, compose file), so the default state is the stack alone.
"""

from __future__ import annotations

import http.client
import io
import json
import subprocess
import tarfile
import tempfile
import time
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from phoenix_compliance import bundled
from phoenix_compliance.parsers import manifest

from . import paths
from ._util import RefhostError, locked, require_root, say
from .exec import guest_run, run_in_guest
from .guest_state import GuestState, state, up_hint

MODES = ("compose", "quadlet", "none")
FIXTURES = bundled.fixtures_dir()
STACK_MANIFEST = FIXTURES / "stacks" / "reference.yaml"
UNITS = FIXTURES / "infra" / "podman" / "systemd"
IMAGE = "localhost/phoenix-standin:1.0"

# In the guest, relative to the user's home (commands start there).
PROJECT_DIR = "phoenix-hydra"
COMPOSE_DIR = f"{PROJECT_DIR}/infra/podman"
QUADLET_DIR = ".config/containers/systemd"
USER_UNIT_DIR = ".config/systemd/user"

# The labels that say who made a container.
COMPOSE_LABEL = "io.podman.compose.project"
QUADLET_LABEL = "PODMAN_SYSTEMD_UNIT"
# The compose project of the optional groups' files (their `name:`): one of their own,
# so that a group comes and goes without touching the stack's project.
GROUP_PROJECT = "phoenix-observability"

POLL = 0.5
COMMAND_TIMEOUT = 120

# A tar of busybox and its applet links is the whole image: no registry is reachable.
# STOPSIGNAL: httpd runs as PID 1 of its container, where SIGTERM is ignored without a
# handler, so every stop waited the 10 s grace period, and Podman stops the containers
# of one pod one after the other (seen: 50 s for the five of the Quadlet stack).
# SIGKILL comes from outside the container's PID namespace and cannot be ignored.
BUILD_IMAGE = """set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/bin" "$work/root/tmp"
chmod 1777 "$work/root/tmp"
cp /bin/busybox "$work/root/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$work/root/bin/$applet"
done
tar -C "$work/root" -cf "$work/image.tar" .
podman import --quiet --change "ENV PATH=/bin" --change 'CMD ["sh"]' --change "STOPSIGNAL SIGKILL" \
    "$work/image.tar" "$1"
"""


@dataclass(frozen=True)
class Stack:
    """What deploy waits for, read from the stack manifest."""

    project: str  # the compose project (name: in compose.yaml)
    pod: str  # PodName= of the Quadlet .pod
    target: str
    containers: tuple[str, ...]  # ContainerName= / container_name: are the service names
    endpoints: tuple[tuple[str, int], ...]  # (service, port on 127.0.0.1)
    units: tuple[str, ...]  # Quadlet files, .pod and .container
    generated: tuple[str, ...]  # the services Quadlet generates from them
    # The optional groups', deployed only when asked for.
    group_containers: tuple[str, ...] = ()
    group_endpoints: tuple[tuple[str, int], ...] = ()
    group_units: tuple[str, ...] = ()
    group_generated: tuple[str, ...] = ()
    group_compose_files: tuple[str, ...] = ()  # relative to the project folder

    @property
    def pods(self) -> tuple[str, ...]:
        """The pod Quadlet creates, the one podman-compose creates (pod_PROJECT), and the groups' compose pod."""
        return self.pod, f"pod_{self.project}", f"pod_{GROUP_PROJECT}"

    @property
    def every_unit(self) -> tuple[str, ...]:
        return self.units + self.group_units

    @property
    def every_generated(self) -> tuple[str, ...]:
        return self.generated + self.group_generated

    def group_files(self) -> set[str]:
        """The groups' files in the project folder: their compose files and unit sources."""
        return {*self.group_compose_files, *(f"infra/podman/systemd/{unit}" for unit in self.group_units)}

    def containers_of(self, with_groups: bool) -> tuple[str, ...]:
        return self.containers + (self.group_containers if with_groups else ())

    def endpoints_of(self, with_groups: bool) -> tuple[tuple[str, int], ...]:
        return self.endpoints + (self.group_endpoints if with_groups else ())


def load_stack() -> Stack:
    try:
        found = manifest.load(STACK_MANIFEST)
    except manifest.ManifestError as exc:
        raise RefhostError(f"the stand-in stack's manifest is unusable: {exc}") from None
    group_units = tuple(unit for group in found.groups for unit in group.units)
    units = sorted(p.name for p in UNITS.iterdir() if p.suffix in (".pod", ".container") and p.name not in group_units)
    if not units:
        raise RefhostError(f"no Quadlet units in {UNITS}")
    return Stack(
        project=found.name,
        pod=found.pod or found.name,
        target=found.target,
        containers=tuple(found.service_names()),
        endpoints=_ports(found.endpoints),
        units=tuple(units),
        generated=tuple(manifest.generated_service(unit) for unit in units),
        group_containers=tuple(s for group in found.groups for s in group.service_names()),
        group_endpoints=_ports([e for group in found.groups for e in group.endpoints]),
        group_units=group_units,
        group_generated=tuple(manifest.generated_service(unit) for unit in group_units),
        group_compose_files=tuple(group.compose_file for group in found.groups),
    )


def _ports(endpoints: Iterable[manifest.Endpoint]) -> tuple[tuple[str, int], ...]:
    """(service, port) of each endpoint, the port read from its URL (http://localhost:3100/ready)."""
    found: list[tuple[str, int]] = []
    for endpoint in endpoints:
        port = urllib.parse.urlsplit(endpoint.url).port
        if port is None:
            raise RefhostError(f"{STACK_MANIFEST}: endpoint {endpoint.url} names no port")
        found.append((endpoint.service, port))
    return tuple(found)


def deploy(mode: str, name: str = paths.DEFAULT_GUEST, *, timeout: float = 120, with_groups: bool = False) -> float:
    """Deploy the stand-in stack in mode (compose, quadlet, none) and return the seconds it took;
    with_groups: its optional groups too (else none of their traces is left).

    Returns only once the deployment is in place: every container running and every
    endpoint answering, or for none no stack container left.
    """
    if mode not in MODES:
        raise RefhostError(f"unknown deploy mode {mode!r} (choose from {', '.join(MODES)})")
    if with_groups and mode == "none":
        raise RefhostError("--with-observability deploys the group beside the stack: choose compose or quadlet")
    require_root("deploy")
    stack = load_stack()
    # state() also rejects a bad guest name before it becomes a path.
    if state(name) is None:
        raise RefhostError(f"{name} is down; run `{up_hint(name)}` first")
    # Two deploys at once would race on the same containers and ports.
    with locked(paths.layout().guest(name).dir / "deploy.lock"):
        st = state(name)
        if st is None:  # went down while we waited for the lock
            raise RefhostError(f"{name} is down; run `{up_hint(name)}` first")
        started = time.monotonic()
        deadline = started + timeout
        notes = ""
        if not (mode == "compose" and with_groups):
            # Before the sync, which removes the groups' compose files when they are not asked for.
            _group_compose_down(name, stack)
        _sync_project(st, stack, with_groups)
        _ensure_image(name)
        if mode != "quadlet":
            _quadlet_down(name, stack)
        elif not with_groups:
            _group_quadlet_down(name, stack)
        if mode != "compose":
            _compose_down(name, stack)
        _remove_strays(name, stack, keep=mode, with_groups=with_groups)
        if mode == "compose":
            files = [["-f", f.rpartition("/")[2]] for f in stack.group_compose_files] if with_groups else []
            for extra in [[], *files]:
                what = " ".join(["podman-compose", *extra, "up", "-d"])
                say(what)
                # podman-compose exits 0 even when a container fails to start; its
                # output then explains what the wait below reports as missing.
                result = _user(name, ["env", "-C", COMPOSE_DIR, "podman-compose", *extra, "up", "-d"], what)
                notes += f"{what} said:\n" + _tail(result.stderr or result.stdout, 8) + "\n"
        elif mode == "quadlet":
            _quadlet_up(name, stack, with_groups)
        _wait(name, stack, mode, deadline, timeout, notes.rstrip("\n"), inside=st.private, with_groups=with_groups)
        seconds = time.monotonic() - started
        say(f"deployed {mode}{' with the optional groups' if with_groups else ''} on {name} in {seconds:.1f} s")
        return seconds


# --- steps ---------------------------------------------------------------------------


def _user(name: str, argv: list[str], what: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = run_in_guest(argv, user=paths.USER, timeout=COMMAND_TIMEOUT, name=name)
    if check and result.returncode != 0:
        raise RefhostError(f"{what} failed (exit {result.returncode}): {_last_lines(result)}")
    return result


def _last_lines(result: subprocess.CompletedProcess[str], lines: int = 5) -> str:
    text = (result.stderr or "") + (result.stdout or "")
    return " | ".join(text.strip().splitlines()[-lines:]) or "no output"


def _sync_project(st: GuestState, stack: Stack, with_groups: bool) -> None:
    """Mirror fixtures/infra and fixtures/data into ~/phoenix-hydra, owned by the user
    (the optional groups' files only with_groups: a compose file is a trace of its group).

    Files are replaced, directories kept: data/<service> may be bind-mounted into a
    running container, which would keep seeing a replaced directory's old inode.
    """
    expected: set[str] = set()
    left_out = set() if with_groups else stack.group_files()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for top in ("infra", "data"):
            for path in sorted((FIXTURES / top).rglob("*")):
                relative = path.relative_to(FIXTURES).as_posix()
                if relative in left_out:
                    continue
                if path.is_file():
                    expected.add(relative)
                elif not path.is_dir():
                    continue
                tar.add(path, arcname=relative, recursive=False, filter=_owned_by_user)
    with tempfile.TemporaryFile() as handle:
        handle.write(archive.getvalue())
        handle.seek(0)
        result = guest_run(
            st,
            ["sh", "-c", f"mkdir -p {PROJECT_DIR} && exec tar -x -C {PROJECT_DIR} -f -"],
            user=paths.USER,
            timeout=COMMAND_TIMEOUT,
            stdin=handle.fileno(),
        )
    if result.returncode != 0:
        raise RefhostError(f"copying the project folder into the guest failed: {_last_lines(result)}")
    listed = _user(
        st.name, ["env", "-C", PROJECT_DIR, "find", "infra", "data", "!", "-type", "d"], "listing the project folder"
    )
    stale = sorted(set(listed.stdout.splitlines()) - expected)
    if stale:
        _user(st.name, ["env", "-C", PROJECT_DIR, "rm", "-f", "--", *stale], "removing stale project files")
    say(f"synced ~{paths.USER}/{PROJECT_DIR} ({len(expected)} files, {len(stale)} stale removed)")


def _owned_by_user(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = paths.UID
    info.uname = info.gname = paths.USER
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def _ensure_image(name: str) -> None:
    if _user(name, ["podman", "image", "exists", IMAGE], "podman image exists", check=False).returncode == 0:
        return
    started = time.monotonic()
    _user(name, ["sh", "-c", BUILD_IMAGE, "sh", IMAGE], f"building {IMAGE}")
    say(f"built {IMAGE} in {time.monotonic() - started:.1f} s")


def _quadlet_installed(name: str, units: tuple[str, ...], generated: tuple[str, ...], extra: list[str]) -> bool:
    files = [f"{QUADLET_DIR}/{unit}" for unit in units] + extra
    script = 'for f; do [ -e "$f" ] && exit 0; done; exit 1'
    if _user(name, ["sh", "-c", script, "sh", *files], "", check=False).returncode == 0:
        return True
    # Units may be gone while their services still run (deleted by hand, no reload).
    active = _user(name, ["systemctl", "--user", "is-active", *generated], "", check=False)
    return "active" in active.stdout.split() or "activating" in active.stdout.split()


def _quadlet_down(name: str, stack: Stack) -> None:
    target_file = f"{USER_UNIT_DIR}/{stack.target}"
    if not _quadlet_installed(name, stack.every_unit, stack.every_generated, [target_file]):
        return
    started = time.monotonic()
    # A unit file that is already gone makes disable fail; the stop below still runs.
    _user(name, ["systemctl", "--user", "disable", "--now", stack.target], "", check=False)
    _remove_units(name, stack.every_unit, stack.every_generated, [target_file], [stack.target])
    say(f"took the Quadlet deployment down in {time.monotonic() - started:.1f} s")


def _group_quadlet_down(name: str, stack: Stack) -> None:
    """Take the optional groups' units off, the stack's own left running."""
    if not stack.group_units or not _quadlet_installed(name, stack.group_units, stack.group_generated, []):
        return
    _remove_units(name, stack.group_units, stack.group_generated, [], [])
    say(f"took the optional groups' units down: {', '.join(stack.group_units)}")


def _remove_units(
    name: str, units: tuple[str, ...], generated: tuple[str, ...], extra_files: list[str], extra_units: list[str]
) -> None:
    # Generated units cannot be disabled; stopping them is what takes them down.
    _user(name, ["systemctl", "--user", "stop", *generated], "", check=False)
    files = [f"{QUADLET_DIR}/{unit}" for unit in units] + extra_files
    _user(name, ["rm", "-f", "--", *files], "removing the Quadlet units")
    _user(name, ["systemctl", "--user", "daemon-reload"], "systemctl --user daemon-reload")
    # A failed unit stays listed (and counted as failed) until reset.
    _user(name, ["systemctl", "--user", "reset-failed", *generated, *extra_units], "", check=False)


def _quadlet_up(name: str, stack: Stack, with_groups: bool) -> None:
    sources = [f"{PROJECT_DIR}/infra/podman/systemd/{unit}" for unit in stack.units]
    group_sources = [f"{PROJECT_DIR}/infra/podman/systemd/{unit}" for unit in stack.group_units]
    target = f"{PROJECT_DIR}/infra/podman/systemd/{stack.target}"
    # cmp says whether a reinstall changed anything a running stack must restart for.
    script = (
        "changed=0; dest=$1; shift\n"
        'for f; do cmp -s "$f" "$dest/${f##*/}" || { changed=1; cp "$f" "$dest/"; }; done\n'
        'echo "$changed"'
    )
    changed = _user(name, ["sh", "-c", script, "sh", QUADLET_DIR, *sources], "installing the Quadlet units")
    changed_target = _user(name, ["sh", "-c", script, "sh", USER_UNIT_DIR, target], "installing phoenix.target")
    group_changed = "0"
    if with_groups and group_sources:
        installed = _user(name, ["sh", "-c", script, "sh", QUADLET_DIR, *group_sources], "installing the groups' units")
        group_changed = installed.stdout.strip()
    _user(name, ["systemctl", "--user", "daemon-reload"], "systemctl --user daemon-reload")
    units = [stack.target, *stack.generated]
    states = _user(name, ["systemctl", "--user", "is-active", *units], "", check=False).stdout.split()
    all_up = states == ["active"] * len(units)
    # A unit that failed to start too often is refused until reset (start limit).
    _user(name, ["systemctl", "--user", "reset-failed", *units, *stack.group_generated], "", check=False)
    if states[:1] == ["active"] and not all_up:
        # Starting a target that is already active does not start what it wants
        # again: stop what is left of a partial deployment first.
        say(f"partial deployment: stopping {stack.target} first")
        _user(name, ["systemctl", "--user", "stop", stack.target], f"stopping {stack.target}")
    # The generated services cannot be enabled (they are transient to `enable`);
    # the target can, and its [Install] WantedBy=default.target brings the stack
    # back at boot. The services' WantedBy=phoenix.target become .wants links that
    # the generator writes.
    say(f"systemctl --user enable --now {stack.target}")
    _user(name, ["systemctl", "--user", "enable", "--now", stack.target], f"enabling {stack.target}")
    # A running stack keeps the units it started with until restarted; restarting
    # the target restarts every unit that is PartOf= it.
    if "1" in (changed.stdout.strip(), changed_target.stdout.strip()) and all_up:
        say(f"units changed: restarting {stack.target}")
        _user(name, ["systemctl", "--user", "restart", stack.target], f"restarting {stack.target}")
    if with_groups and stack.group_generated:
        # The groups come and go beside a running stack: started (or restarted, when their
        # units changed) on their own, the stack's services left as they are.
        verb = "restart" if group_changed == "1" else "start"
        say(f"systemctl --user {verb} {' '.join(stack.group_generated)}")
        _user(name, ["systemctl", "--user", verb, *stack.group_generated], f"starting {', '.join(stack.group_units)}")


def _group_compose_down(name: str, stack: Stack) -> None:
    """Take the optional groups' compose deployment down, while their files are still there
    (a file already gone leaves its containers to _remove_strays)."""
    if not any(c.labels.get(COMPOSE_LABEL) == GROUP_PROJECT for c in _containers(name)):
        return
    for compose_file in stack.group_compose_files:
        base = compose_file.rpartition("/")[2]
        what = f"podman-compose -f {base} down"
        _user(name, ["env", "-C", COMPOSE_DIR, "podman-compose", "-f", base, "down"], what, check=False)
        say(what)


def _compose_down(name: str, stack: Stack) -> None:
    if not any(c.labels.get(COMPOSE_LABEL) == stack.project for c in _containers(name)):
        return
    started = time.monotonic()
    _user(
        name,
        ["env", "-C", COMPOSE_DIR, "podman-compose", "down"],
        "podman-compose down",
    )
    say(f"took the compose deployment down in {time.monotonic() - started:.1f} s")


def _remove_strays(name: str, stack: Stack, keep: str, with_groups: bool) -> None:
    """Remove stack containers and pods that the mode being deployed did not make.

    podman-compose fails on a name already in use (Quadlet replaces it), and none
    means none: a container left by hand, or by a deployment whose files are gone,
    would otherwise survive.
    """
    strays = []
    for container in _containers(name):
        labels = container.labels
        # podman-compose 1.3 also sets PODMAN_SYSTEMD_UNIT (podman-compose@PROJECT.service):
        # only its value tells a Quadlet-run container apart.
        projects = (stack.project, GROUP_PROJECT) if with_groups else (stack.project,)
        generated = stack.every_generated if with_groups else stack.generated
        ours = (keep == "compose" and labels.get(COMPOSE_LABEL) in projects) or (
            keep == "quadlet" and labels.get(QUADLET_LABEL) in generated and COMPOSE_LABEL not in labels
        )
        if not ours and container.in_stack(stack):
            strays.append(container.name)
    if strays:
        say(f"removing stray containers: {', '.join(strays)}")
        _user(name, ["podman", "rm", "--force", "--time", "0", "--", *strays], "podman rm")
    kept_pods = {"compose": stack.pods[1:] if with_groups else stack.pods[1:2], "quadlet": stack.pods[:1]}.get(keep, ())
    listed = _user(name, ["podman", "pod", "ls", "--format", "{{.Name}}"], "podman pod ls")
    pods = [pod for pod in listed.stdout.split() if pod in stack.pods and pod not in kept_pods]
    if pods:
        say(f"removing stray pods: {', '.join(pods)}")
        _user(name, ["podman", "pod", "rm", "--force", "--time", "0", "--", *pods], "podman pod rm")


@dataclass(frozen=True)
class Container:
    """The part of `podman ps -a --format json` deploy looks at."""

    name: str
    state: str
    pod: str
    labels: dict[str, str]

    def in_stack(self, stack: Stack) -> bool:
        return self.name in stack.containers_of(with_groups=True) or self.pod in stack.pods


def _containers(name: str) -> list[Container]:
    result = _user(name, ["podman", "ps", "-a", "--format", "json"], "podman ps -a")
    try:
        found = json.loads(result.stdout or "[]")
    except ValueError:
        raise RefhostError(f"podman ps -a printed no JSON: {result.stdout[:200]!r}") from None
    containers = []
    # Fields podman leaves empty come as null (Labels of an unlabelled container).
    for entry in found if isinstance(found, list) else []:
        if not isinstance(entry, dict):
            continue
        names = entry.get("Names") or [str(entry.get("Id", "?"))[:12]]
        containers.append(
            Container(
                name=str(names[0]),
                state=str(entry.get("State") or "unknown"),
                pod=str(entry.get("PodName") or ""),
                labels={str(k): str(v) for k, v in (entry.get("Labels") or {}).items()},
            )
        )
    return containers


# --- waiting -------------------------------------------------------------------------


def _wait(
    name: str, stack: Stack, mode: str, deadline: float, timeout: float, notes: str, inside: bool, with_groups: bool
) -> None:
    while True:
        missing = _missing(name, stack, mode, inside, with_groups)
        if not missing:
            return
        if time.monotonic() >= deadline:
            what = "no stack container left" if mode == "none" else "every container running, every endpoint"
            raise RefhostError(
                f"deploy {mode}: not in place after {timeout:g} s (waited for {what}); missing: "
                f"{'; '.join(missing)}\n{_diagnostics(name, stack, mode, notes)}"
            )
        time.sleep(POLL)


def _missing(name: str, stack: Stack, mode: str, inside: bool, with_groups: bool) -> list[str]:
    containers = _containers(name)
    if mode == "none":
        return [f"container {c.name} still exists" for c in containers if c.in_stack(stack)]
    states = {c.name: c.state for c in containers}
    wanted = stack.containers_of(with_groups)
    missing = [f"{n} {states.get(n, 'absent')}" for n in wanted if states.get(n) != "running"]
    # Without the groups, none of their containers may be left behind either.
    missing += [f"{n} still exists" for n in stack.group_containers if n not in wanted and n in states]
    check = (lambda service, port: _endpoint_inside(name, service, port)) if inside else _endpoint
    missing += [problem for service, port in stack.endpoints_of(with_groups) if (problem := check(service, port))]
    return missing


def _endpoint(service: str, port: int) -> str | None:
    """None if 127.0.0.1:port serves the service's page, else what is wrong.

    The guest shares this machine's network, so the published port answers here;
    the page must name the service, lest another listener on the port pass for it.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        body = response.read(4096).decode(errors="replace")
    except (OSError, http.client.HTTPException) as exc:
        return f"http://127.0.0.1:{port}/ ({service}): {str(exc) or type(exc).__name__}"
    finally:
        conn.close()
    if response.status != 200 or service not in body:
        return f"http://127.0.0.1:{port}/ ({service}): HTTP {response.status}, not {service}'s page"
    return None


def _endpoint_inside(name: str, service: str, port: int) -> str | None:
    """_endpoint for a guest with its own network namespace, where the published port
    answers only inside: curl there. The last line curl writes is the HTTP status."""
    url = f"http://127.0.0.1:{port}/"
    result = run_in_guest(
        ["curl", "-sS", "--max-time", "2", "--output", "-", "--write-out", "\\n%{http_code}", url],
        timeout=10,
        name=name,
    )
    body, _, status = result.stdout.rpartition("\n")
    if result.returncode != 0:
        return f"{url} in {name} ({service}): {result.stderr.strip() or f'curl exit {result.returncode}'}"
    if status != "200" or service not in body:
        return f"{url} in {name} ({service}): HTTP {status}, not {service}'s page"
    return None


def _diagnostics(name: str, stack: Stack, mode: str, notes: str) -> str:
    parts = [notes] if notes else []
    ps = _user(name, ["podman", "ps", "-a", "--format", "{{.Names}}\t{{.Status}}\t{{.Ports}}"], "", check=False)
    parts.append("podman ps -a:\n" + _tail(ps.stdout + ps.stderr))
    if mode == "quadlet":
        units = [stack.target, *stack.generated]
        states = _user(name, ["systemctl", "--user", "is-active", *units], "", check=False).stdout.split()
        parts.append(
            "systemctl --user is-active: " + ", ".join(f"{u} {s}" for u, s in zip(units, states, strict=False))
        )
        # The full status, with its journal lines, only of the failed units (the others
        # mostly failed as their dependency): that is where the reason is.
        failed = [u for u, s in zip(units, states, strict=False) if s == "failed"]
        down = failed or [u for u, s in zip(units, states, strict=False) if s != "active"]
        if down:
            status = _user(name, ["systemctl", "--user", "status", "--no-pager", "--lines=10", *down], "", check=False)
            parts.append("systemctl --user status:\n" + _tail(status.stdout + status.stderr, 25))
    return "\n".join(parts)


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:]) or "(no output)"
