"""Phase 1 of the guide (section 3): Podman installed and running rootless,
the user's API socket, the Quadlet folder, linger and cgroup v2."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from phoenix_compliance.catalogue import (
    ORDER_LINGER,
    ORDER_PACKAGES,
    ORDER_QUADLET_DIR,
    ORDER_SOCKET,
    ORDER_SUBIDS,
    ORDER_USER_STORAGE,
    ROOT,
    USER,
    Step,
)
from phoenix_compliance.checks import check
from phoenix_compliance.facts import HostFacts
from phoenix_compliance.parsers.manifest import Manifest
from phoenix_compliance.quadlet.versions import SLIRP4NETNS_REMOVED_IN

Observed = Callable[[str], None]
INSTALL = (
    "sudo dnf install -y podman podman-docker podman-compose fuse-overlayfs slirp4netns"
    "  # Debian/Ubuntu: sudo apt-get install -y podman podman-compose passt uidmap"
)
MIN_SUBIDS = 65536


def _install(programs: str, apt: str, dnf: str) -> Step:
    """Install the packages of programs not found (install_packages picks apt-get or dnf)."""
    found = " && ".join(f"command -v {program} >/dev/null 2>&1" for program in programs.split())
    return Step(ORDER_PACKAGES, ROOT, f"install {apt} / {dnf}", found, f"install_packages '{apt}' '{dnf}'")


# Both files in one usermod (PHX-1.06 judges each); the user's storage is then migrated to them.
SUBIDS_FIX = (
    Step(
        ORDER_SUBIDS,
        ROOT,
        "give the user 65,536 subordinate uids and gids",
        'has_ids {user} "$(id -u)" /etc/subuid && has_ids {user} "$(id -u)" /etc/subgid',
        "$SUDO usermod --add-subuids 100000-165535 --add-subgids 100000-165535 {user}; subids_added=1",
    ),
    Step(
        ORDER_USER_STORAGE,
        USER,
        "move the user's Podman storage onto the new subordinate ids",
        '[ "$subids_added" = 0 ]',
        "podman system migrate; subids_added=0",
    ),
)
SOCKET_FIX = (
    Step(
        ORDER_SOCKET,
        USER,
        "enable and start the user's podman.socket",
        "systemctl --user is-enabled -q podman.socket && systemctl --user is-active -q podman.socket",
        "systemctl --user enable --now podman.socket",
    ),
)
LINGER_FIX = (
    Step(
        ORDER_LINGER,
        ROOT,
        "enable linger: the user's systemd runs from boot, without a login",
        "[ -e /var/lib/systemd/linger/{user} ]"
        " && loginctl show-user {user} -p Linger 2>/dev/null | grep -qx Linger=yes",
        "$SUDO loginctl enable-linger {user}",
    ),
)
# The release that removed slirp4netns: its only rootless network is pasta.
PODMAN6 = SLIRP4NETNS_REMOVED_IN


@check(
    "PHX-1.01",
    phase="1",
    severity="critical",
    title="Podman is installed and new enough for Quadlet",
    remediation=INSTALL + "  # Quadlet needs Podman 4.4 or later, .pod units need 5.0",
)
def test_podman_version(facts: HostFacts, stack: Manifest, observed: Observed) -> None:
    required = ".".join(map(str, stack.min_podman_version))
    why = f"for {stack.pod_unit}" if stack.pod_unit else "for Quadlet"
    where = facts.host.where("podman version")
    version = facts.host.podman_version
    assert version is not None, (
        f"expected podman >= {required}, got {facts.host.section('podman_version').describe_failure()} ({where})"
    )
    observed(f"podman {facts.host.podman_version_text} ({where})")
    assert version[:2] >= stack.min_podman_version, (
        f"expected podman >= {required} {why}, got {facts.host.podman_version_text} ({where})"
    )


@check(
    "PHX-1.02",
    phase="1",
    severity="high",
    title="podman-compose is installed",
    remediation="sudo dnf install -y podman-compose  # or: pip install --user podman-compose",
    fix=(_install("podman-compose", "podman-compose", "podman-compose"),),
)
def test_podman_compose_installed(facts: HostFacts, observed: Observed) -> None:
    path = facts.host.tools.get("podman-compose")
    where = facts.host.where("command -v podman-compose")
    assert path, f"expected podman-compose on PATH, got none ({where})"
    observed(f"{path} ({where})")


@check(
    "PHX-1.03",
    phase="1",
    severity="critical",
    title="A rootless network helper (pasta, or slirp4netns before Podman 6) is installed",
    remediation=(
        "sudo dnf install -y passt  # Debian/Ubuntu: sudo apt-get install -y passt; Podman 4 without pasta:"
        ' slirp4netns; Podman 6 has pasta only: remove any default_rootless_network_cmd = "slirp4netns" line named'
    ),
)
def test_rootless_network_helper(facts: HostFacts, observed: Observed) -> None:
    # The release as podman info names it (the info this check reads anyway).
    version = facts.upgrade.podman_release
    if version is not None and version[:2] >= PODMAN6:
        # Podman 6 runs pasta only: slirp4netns installed does not help, a setting asking for it breaks
        # every default-network container and the stack's pod ("invalid default_rootless_network_cmd").
        setting, _problems = facts.upgrade.setting("network", "default_rootless_network_cmd")
        assert setting is None or setting.value != "slirp4netns", (
            f"expected pasta, the only rootless network of Podman {'.'.join(map(str, version))}, got {setting}:"
            f' remove that line (Podman 6 refuses it: invalid default_rootless_network_cmd option "slirp4netns")'
            f" ({facts.upgrade.config_where()})"
        )
        wanted = ["pasta"]
    else:
        # Podman 5.1+ says which helper it uses; older ones default to slirp4netns (4.x) or pasta (5.0).
        configured = facts.host.info_value("host", "rootlessNetworkCmd")
        wanted = [configured] if isinstance(configured, str) and configured else ["pasta", "slirp4netns"]
    found = {tool: facts.host.tools[tool] for tool in wanted if tool in facts.host.tools}
    where = facts.host.where("command -v " + " ".join(wanted))
    assert found, f"expected {' or '.join(wanted)} installed, got none ({where})"
    observed(", ".join(f"{tool}: {path}" for tool, path in found.items()) + f" ({where})")


@check(
    "PHX-1.04",
    phase="1",
    severity="critical",
    title="newuidmap and newgidmap are installed",
    remediation="sudo dnf install -y shadow-utils  # Debian/Ubuntu: sudo apt-get install -y uidmap",
    fix=(_install("newuidmap newgidmap", "uidmap", "shadow-utils"),),
)
def test_idmap_helpers(facts: HostFacts, observed: Observed) -> None:
    missing = [tool for tool in ("newuidmap", "newgidmap") if tool not in facts.host.tools]
    where = facts.host.where("command -v newuidmap newgidmap")
    assert not missing, f"expected newuidmap and newgidmap, got {', '.join(missing)} missing ({where})"
    observed(f"{facts.host.tools['newuidmap']}, {facts.host.tools['newgidmap']} ({where})")


@check(
    "PHX-1.05",
    phase="1",
    severity="medium",
    title="fuse-overlayfs is installed where the storage driver needs it",
    remediation="sudo dnf install -y fuse-overlayfs  # Debian/Ubuntu: sudo apt-get install -y fuse-overlayfs",
    fix=(_install("fuse-overlayfs", "fuse-overlayfs", "fuse-overlayfs"),),
)
def test_fuse_overlayfs_when_needed(facts: HostFacts, observed: Observed) -> None:
    where = facts.host.where("podman info (store)")
    driver = facts.host.info_value("store", "graphDriverName")
    assert driver is not None, f"expected podman info to name the storage driver, got none ({where})"
    mount_program = facts.host.info_value("store", "graphOptions", "overlay.mount_program")
    if driver != "overlay" or not mount_program:
        observed(f"not needed: storage driver {driver} without a mount program ({where})")
        return
    executable = mount_program.get("Executable", "") if isinstance(mount_program, dict) else ""
    found = facts.host.tools.get("fuse-overlayfs")
    assert found, f"expected fuse-overlayfs, the overlay mount program {executable or ''}, got none installed ({where})"
    observed(f"overlay with mount program {executable or found} ({where})")


@pytest.mark.parametrize("id_file", ["subuid", "subgid"])
@check(
    "PHX-1.06",
    phase="1",
    severity="critical",
    title="The user has at least 65,536 subordinate ids",
    remediation="sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER && podman system migrate",
    fix=SUBIDS_FIX,
)
def test_subordinate_ids(facts: HostFacts, id_file: str, observed: Observed) -> None:
    ranges = facts.host.id_ranges(id_file)
    total = sum(entry.count for entry in ranges)
    where = f"/etc/{id_file} on {facts.host_id}"
    lines = ", ".join(f"line {r.line}: {r.owner}:{r.start}:{r.count}" for r in ranges)
    assert total >= MIN_SUBIDS, (
        f"expected at least {MIN_SUBIDS} ids for {facts.host.user}, got {total}"
        f" ({lines or 'no line for the user'}; {where})"
    )
    observed(f"{total} ids ({lines}; {where})")


@check(
    "PHX-1.07",
    phase="1",
    severity="critical",
    title="Podman runs rootless",
    remediation="Run Podman as the unprivileged user, not with sudo or as root:"
    " podman info --format '{{.Host.Security.Rootless}}' must print true",
)
def test_rootless(facts: HostFacts, observed: Observed) -> None:
    """Podman info of the checked user says rootless. The API the other checks read is that
    user's own socket, whose owner PHX-S.15 holds to the user: libpod info would compute the
    same document a second time on the host, so it is not asked."""
    where = facts.host.where("podman info")
    rootless = facts.host.info_value("host", "security", "rootless")
    assert rootless is True, f"expected rootless=true, got {str(rootless).lower()} ({where})"
    observed(f"rootless=true ({where})")


@check(
    "PHX-1.08",
    phase="1",
    severity="high",
    title="podman.socket is enabled and active in the user's systemd",
    remediation="systemctl --user enable --now podman.socket",
    fix=SOCKET_FIX,
)
def test_podman_socket_unit(facts: HostFacts, observed: Observed) -> None:
    socket = facts.host.podman_socket
    where = facts.host.where(f"systemctl --user is-enabled/is-active {socket.unit}")
    assert socket.up, f"expected enabled=enabled, active=active, got {socket.said} ({where})"
    observed(f"{socket.said} ({where})")


@check(
    "PHX-1.09",
    phase="1",
    severity="high",
    title="The user's Podman API socket answers _ping",
    remediation="systemctl --user enable --now podman.socket"
    " && curl --unix-socket $XDG_RUNTIME_DIR/podman/podman.sock http://localhost/_ping",
    fix=SOCKET_FIX,
)
def test_api_ping(facts: HostFacts, observed: Observed) -> None:
    api = facts.podman.api
    got = api.ping if api.ping_error is None else f"error: {api.ping_error}"
    assert api.ping == "OK" and api.ping_error is None, (
        f"expected _ping=OK via requests-unixsocket, got {got} ({api.where})"
    )
    assert api.podman_py_ping is True, (
        f"expected podman-py ping()=True to agree, got {api.podman_py_error or api.podman_py_ping} ({api.where})"
    )
    observed(f"_ping=OK (requests-unixsocket), ping()=True (podman-py) ({api.where})")


@check(
    "PHX-1.10",
    phase="1",
    severity="high",
    title="The Quadlet folder exists and belongs to the user",
    remediation="mkdir -p ~/.config/containers/systemd",
    fix=(
        Step(
            ORDER_QUADLET_DIR,
            USER,
            "create the Quadlet folder",
            '[ -d {quadlet_dir} ] && [ "$(stat -c %u {quadlet_dir})" = "$(id -u)" ]',
            "mkdir -p {quadlet_dir}",
        ),
    ),
)
def test_quadlet_dir(facts: HostFacts, observed: Observed) -> None:
    where = f"{facts.host.quadlet_dir} on {facts.host_id}"
    stat = facts.host.stat("quadlet_dir")
    assert stat is not None, (
        f"expected a directory owned by {facts.host.user},"
        f" got {facts.host.section('quadlet_dir').describe_failure()} ({where})"
    )
    assert stat.kind == "directory" and stat.uid == facts.host.uid, (
        f"expected a directory owned by {facts.host.user}, got a {stat.kind} owned by {stat.owner} ({where})"
    )
    observed(f"directory owned by {stat.owner}, mode {stat.mode:o} ({where})")


@check(
    "PHX-1.11",
    phase="1",
    severity="high",
    title="Linger is enabled so the stack survives logout and starts at boot",
    remediation="loginctl enable-linger $USER",
    fix=LINGER_FIX,
)
def test_linger(facts: HostFacts, observed: Observed) -> None:
    linger_file = f"/var/lib/systemd/linger/{facts.host.user}"
    linger = facts.host.linger
    where = f"{linger_file} and loginctl show-user on {facts.host_id}"
    got = f"file {'present' if linger.file_present else 'absent'}, loginctl {linger.loginctl}"
    assert linger.file_present and linger.loginctl == "Linger=yes", (
        f"expected file present, Linger=yes, got {got} ({where})"
    )
    observed(f"{got} ({where})")


@check(
    "PHX-1.12",
    phase="1",
    severity="high",
    title="cgroup v2 with the systemd cgroup manager (Quadlet needs it)",
    remediation="Boot with the unified cgroup hierarchy (systemd.unified_cgroup_hierarchy=1)"
    " and run Podman in a systemd user session: loginctl enable-linger $USER;"
    ' cgroup_manager = "systemd" in ~/.config/containers/containers.conf',
)
def test_cgroup_v2_systemd(facts: HostFacts, observed: Observed) -> None:
    where = facts.host.where("podman info")
    version = facts.host.info_value("host", "cgroupVersion")
    manager = facts.host.info_value("host", "cgroupManager")
    got = f"cgroupVersion={version}, cgroupManager={manager}"
    assert version == "v2" and manager == "systemd", (
        f"expected cgroupVersion=v2, cgroupManager=systemd, got {got} ({where})"
    )
    observed(f"{got} ({where})")
