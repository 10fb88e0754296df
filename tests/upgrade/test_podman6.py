"""The upgrade gate: is this host ready for Podman 6? One check per setting 6.0 removed (BoltDB,
slirp4netns, --network-cmd-path, iptables, CNI, cgroups v1) and the network helpers' versions.

On a 5.x host each check says what would break after the upgrade; on a 6.x host, what still
carries the old setting (the config line, the unit, the compose key). Where podman itself refuses
to run (a BoltDB store on 6.x), its own message is the evidence."""

from __future__ import annotations

from collections.abc import Callable

from phoenix_compliance.checks import check, could_not_check, not_applicable
from phoenix_compliance.facts import HostFacts
from phoenix_compliance.grammar.containers_conf import Problem, Setting
from phoenix_compliance.grammar.versions import find_version
from phoenix_compliance.parsers.manifest import Manifest
from phoenix_compliance.quadlet.versions import SLIRP4NETNS_REMOVED_IN

Observed = Callable[[str], None]
PODMAN6 = SLIRP4NETNS_REMOVED_IN
# `podman system migrate --migrate-db` arrived in Podman 5.8 (cmd/podman/system/migrate.go; 5.4.2
# to 5.7 have no such flag, seen on a trixie guest: "unknown flag").
MIGRATE_DB_SINCE = (5, 8)
# Podman 6.0's release notes (podman-container-tools/podman v6.0.0-rc1 RELEASE_NOTES.md): "must be
# used with ... Netavark and Aardvark v2.0.0". Debian's podman 6.1.1+ds1-1 names netavark in its
# Depends without a version; experimental ships netavark 2.0.0 but keeps aardvark-dns 1.17.1,
# which was seen resolving compose names under 6.1.1: an older aardvark-dns is said, not failed.
NETAVARK_FOR_6 = (2, 0, 0)
AARDVARK_FOR_6 = (2, 0, 0)


def _text(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def _config_line(facts: HostFacts, table: str, key: str) -> tuple[Setting | None, str]:
    """The containers.conf line that sets [table] key (the last one read), and evidence words
    for the files that could not be read on the way."""
    setting, problems = facts.upgrade.setting(table, key)
    unread = "".join(f"; not read: {problem}" for problem in problems)
    return setting, unread


def _podman_refuses(facts: HostFacts) -> str | None:
    """podman's own message when it refuses every command over a BoltDB store (6.x)."""
    return facts.upgrade.podman_refusal()


def _info_or_refusal(facts: HostFacts, *path: str) -> object:
    """A podman info value; could not check quoting podman's own refusal where it gave one."""
    refusal = _podman_refuses(facts)
    if refusal is not None:
        could_not_check("podman info", f'podman refuses to run: "{refusal}" (see PHX-U.01)')
    return facts.host.info_value(*path)


@check(
    "PHX-U.01",
    phase="upgrade",
    severity="critical",
    title="The container store is SQLite, not BoltDB (removed in Podman 6.0)",
    remediation=(
        "Comment out the database_backend line the evidence names, then: podman system migrate --migrate-db"
        "  # Podman 5.8 and later; 5.4-5.7 have no --migrate-db: upgrade first, then run it"
        " (on 6.x a reboot does it: the first podman command migrates the store)"
    ),
)
def test_database_not_boltdb(facts: HostFacts, observed: Observed) -> None:
    setting, unread = _config_line(facts, "engine", "database_backend")
    named = f"; set at {setting}" if setting is not None else ""
    refusal = _podman_refuses(facts)
    where = facts.host.where("podman info (host.databaseBackend)")
    assert refusal is None, f'expected a SQLite store, got podman refusing every command: "{refusal}"{named} ({where})'
    backend = facts.host.info_value("host", "databaseBackend")
    if not isinstance(backend, str) or not backend:
        could_not_check("host.databaseBackend", f"podman info does not name the database backend ({where})")
    version = facts.upgrade.podman_release or ()
    if backend == "boltdb":
        source = named or (
            "; no containers.conf line sets it: the store predates SQLite (podman keeps BoltDB for an existing"
            f" bolt_state.db) ({facts.upgrade.config_where()})"
        )
        step = (
            "then podman system migrate --migrate-db"
            if version[:2] >= MIGRATE_DB_SINCE
            else f"Podman {_text(version)} has no --migrate-db (5.8 added it): upgrade, then migrate"
        )
        raise AssertionError(f"expected databaseBackend sqlite, got boltdb ({where}){source}{unread}; {step}")
    assert backend == "sqlite", f"expected databaseBackend sqlite, got {backend} ({where}){named}{unread}"
    observed(f"databaseBackend sqlite ({where}){named}{unread}")


@check(
    "PHX-U.02",
    phase="upgrade",
    severity="critical",
    title="The rootless default network is not slirp4netns (removed in Podman 6.0)",
    remediation=(
        'Remove the default_rootless_network_cmd = "slirp4netns" line the evidence names (pasta is the default),'
        " then: systemctl --user restart phoenix.target  # Quadlet recreates the containers with pasta"
    ),
)
def test_rootless_network_not_slirp4netns(facts: HostFacts, observed: Observed) -> None:
    setting, unread = _config_line(facts, "network", "default_rootless_network_cmd")
    conf_where = facts.upgrade.config_where()
    assert setting is None or setting.value != "slirp4netns", (
        f"expected no default_rootless_network_cmd = slirp4netns, got {setting} ({conf_where})"
    )
    where = facts.host.where("podman info (host.rootlessNetworkCmd)")
    command = _info_or_refusal(facts, "host", "rootlessNetworkCmd")
    version = facts.upgrade.podman_release or ()
    if command is None and version[:1] == (4,):
        command = "slirp4netns"  # Podman 4 names no helper and uses slirp4netns
    if not isinstance(command, str) or not command:
        could_not_check("host.rootlessNetworkCmd", f"podman info does not name the rootless network ({where})")
    assert command != "slirp4netns", f"expected rootlessNetworkCmd pasta, got slirp4netns ({where}){unread}"
    set_by = f"; set at {setting}" if setting is not None else ""
    observed(f"rootlessNetworkCmd {command} ({where}){set_by}{unread}")


@check(
    "PHX-U.03",
    phase="upgrade",
    severity="high",
    title="No container runs with the slirp4netns network (Podman 6 cannot start it again)",
    remediation=(
        "Recreate each container named without slirp4netns: systemctl --user restart UNIT (Quadlet units)"
        " or podman-compose down && podman-compose up -d, after removing the slirp4netns setting"
    ),
)
def test_containers_not_on_slirp4netns(facts: HostFacts, observed: Observed) -> None:
    where = facts.podman.where
    documents = facts.podman.inspect_all()
    if not documents:
        not_applicable(f"no container to judge ({where})")
    offenders = []
    for document in documents:
        mode = str((document.get("HostConfig") or {}).get("NetworkMode") or "")
        if mode.partition(":")[0] == "slirp4netns":
            offenders.append(f"{str(document.get('Name', '?')).lstrip('/')}: HostConfig.NetworkMode {mode}")
    assert not offenders, (
        f"expected no container on slirp4netns, got {len(offenders)}:\n"
        + "\n".join(f"  {o}" for o in offenders)
        + f"\n  ({where})"
    )
    observed(f"{len(documents)} containers, none on slirp4netns ({where})")


@check(
    "PHX-U.04",
    phase="upgrade",
    severity="critical",
    files=True,
    title="No Quadlet unit asks for slirp4netns or --network-cmd-path (Podman 6 refuses to start it)",
    remediation=(
        "In each unit named: remove Network=slirp4netns (or write Network=pasta) and --network-cmd-path"
        " from GlobalArgs=/PodmanArgs=, then: systemctl --user daemon-reload"
    ),
)
def test_units_without_slirp4netns(facts: HostFacts, stack: Manifest, observed: Observed) -> None:
    folder = facts.files.quadlet
    if folder.error is not None:
        could_not_check(f"the Quadlet folder {folder.where}", folder.error)
    if not folder.units:
        not_applicable(f"no Quadlet unit to judge ({folder.where})")
    known, _home = facts.unit_values(files_are_local=facts.quadlet_override is not None)
    # QL048, the lint's own judgement at 6.0: one reading of what Podman 6 refuses.
    found = [f for f in folder.lint(PODMAN6, stack.target, known) if f.rule_id == "QL048"]
    assert not found, (
        f"expected no unit setting Podman 6 refuses, got {len(found)}:\n"
        + "\n".join(f"  {f.location}: {f.message} Fix: {f.fix}" for f in found)
        + f"\n  ({folder.where})"
    )
    observed(f"{len(folder.units)} units, none with slirp4netns or --network-cmd-path ({folder.where})")


@check(
    "PHX-U.05",
    phase="upgrade",
    severity="high",
    files=True,
    title="No compose service asks for network_mode slirp4netns (Podman 6 refuses it)",
    remediation=(
        "Remove network_mode: slirp4netns... from each service named (pasta is the rootless default),"
        " then: podman-compose down && podman-compose up -d"
    ),
)
def test_compose_without_slirp4netns(facts: HostFacts, observed: Observed) -> None:
    sources = [facts.files.compose, *facts.files.present_group_composes()]
    for source in sources:
        if source.parsed is not None and not source.parsed.services and source.parsed.problems:
            could_not_check(f"the compose file {source.where}", "it cannot be parsed, see PHX-2.01")
    parsed = [s.parsed for s in sources if s.parsed is not None and s.parsed.services]
    where = "; ".join(s.where for s in sources)
    if not parsed:
        not_applicable(f"no compose file to judge ({where})")
    offenders = []
    for compose in parsed:
        for service in compose.services.values():
            mode = service.network_mode or ""
            if mode.partition(":")[0] == "slirp4netns":
                path, line = compose.locate(service.line_of("network_mode"))
                offenders.append(f"{path}:{line}: service {service.name}: network_mode: {mode}")
    assert not offenders, (
        f"expected no network_mode slirp4netns, got {len(offenders)}:\n"
        + "\n".join(f"  {o}" for o in offenders)
        + f"\n  ({where})"
    )
    observed(f"no network_mode slirp4netns ({where})")


def _conf_problems(problems: list[Problem], where: str) -> None:
    """Podman refuses a containers.conf it cannot read: a bad file fails; one this reader did not
    read whole (too large, too many files) could not be checked."""
    fatal = [p for p in problems if p.fatal]
    assert not fatal, "expected readable containers.conf files, got:\n" + "\n".join(f"  {p}" for p in fatal)
    if problems:
        could_not_check(where, "; ".join(str(p) for p in problems))


@check(
    "PHX-U.06",
    phase="upgrade",
    severity="critical",
    title='No containers.conf sets firewall_driver = "iptables" (removed in Podman 6.0)',
    remediation=(
        "Remove the firewall_driver line the evidence names (nftables is the default; install nftables),"
        " then: podman network reload --all"
    ),
)
def test_firewall_driver_not_iptables(facts: HostFacts, observed: Observed) -> None:
    where = facts.upgrade.config_where()
    setting, problems = facts.upgrade.setting("network", "firewall_driver")
    assert setting is None or str(setting.value).lower() not in ("iptables", "firewalld"), (
        f"expected no firewall_driver iptables, got {setting} (the last line read; {where})"
    )
    _conf_problems(problems, where)
    shown = f"firewall_driver set at {setting}" if setting is not None else "no firewall_driver line (nftables)"
    observed(f"{shown} ({where})")


@check(
    "PHX-U.07",
    phase="upgrade",
    severity="critical",
    title="The network backend is netavark, not CNI (removed in Podman 6.0)",
    remediation=(
        'Set network_backend = "netavark" under [network] in containers.conf, then: podman system reset'
        "  # CNI networks and containers are not carried over: export what you need first"
    ),
)
def test_network_backend_not_cni(facts: HostFacts, observed: Observed) -> None:
    where = facts.host.where("podman info (host.networkBackend)")
    backend = _info_or_refusal(facts, "host", "networkBackend")
    if not isinstance(backend, str) or not backend:
        could_not_check("host.networkBackend", f"podman info does not name the network backend ({where})")
    setting, _unread = _config_line(facts, "network", "network_backend")
    named = f"; set at {setting}" if setting is not None else ""
    assert backend != "cni", f"expected networkBackend netavark, got cni ({where}){named}"
    observed(f"networkBackend {backend} ({where})")


@check(
    "PHX-U.08",
    phase="upgrade",
    severity="critical",
    title="The host runs cgroups v2 (Podman 6.0 removed cgroups v1)",
    remediation=(
        "Boot with the unified hierarchy: sudo grubby --update-kernel=ALL --args=systemd.unified_cgroup_hierarchy=1"
        "  # Debian/Ubuntu: add it to GRUB_CMDLINE_LINUX in /etc/default/grub, sudo update-grub, reboot"
    ),
)
def test_cgroups_v2(facts: HostFacts, observed: Observed) -> None:
    where = facts.host.where("podman info (host.cgroupVersion)")
    version = _info_or_refusal(facts, "host", "cgroupVersion")
    if not isinstance(version, str) or not version:
        could_not_check("host.cgroupVersion", f"podman info does not name the cgroup version ({where})")
    assert version == "v2", f"expected cgroupVersion v2, got {version} ({where})"
    observed(f"cgroupVersion v2 ({where})")


@check(
    "PHX-U.09",
    phase="upgrade",
    severity="high",
    title="netavark and aardvark-dns are new enough for Podman 6 (netavark 2.0)",
    remediation=(
        "Upgrade them with Podman: sudo dnf upgrade podman netavark aardvark-dns"
        "  # Debian: sudo apt-get install -t experimental podman netavark aardvark-dns"
    ),
)
def test_network_helpers_for_podman6(facts: HostFacts, observed: Observed) -> None:
    where = facts.host.where("podman info (host.networkBackendInfo)")
    info = _info_or_refusal(facts, "host", "networkBackendInfo")
    if not isinstance(info, dict):
        backend = facts.host.info_value("host", "networkBackend")
        if backend == "cni":
            not_applicable(f"the network backend is CNI, see PHX-U.07 ({where})")
        could_not_check("host.networkBackendInfo", f"podman info does not name netavark's version ({where})")
    dns = info.get("dns") if isinstance(info.get("dns"), dict) else {}
    netavark = find_version(str(info.get("version") or ""))
    aardvark = find_version(str((dns or {}).get("version") or ""))
    if netavark is None:
        could_not_check("host.networkBackendInfo.version", f"unreadable: {info.get('version')!r} ({where})")
    podman = facts.upgrade.podman_release
    if podman is None:
        could_not_check("version.Version", f"podman info does not name its release ({where})")
    seen = f"netavark {_text(netavark)}, aardvark-dns {_text(aardvark) if aardvark else 'not installed'}"
    if podman[:2] < PODMAN6:
        # On 5.x the package manager brings both along with Podman 6: said, not failed.
        observed(
            f"{seen} for Podman {_text(podman)}; Podman 6 needs netavark {_text(NETAVARK_FOR_6)} and"
            f" aardvark-dns {_text(AARDVARK_FOR_6)}: upgrade them together ({where})"
        )
        return
    assert netavark >= NETAVARK_FOR_6, (
        f"expected netavark >= {_text(NETAVARK_FOR_6)} for Podman {_text(podman)}, got {_text(netavark)} ({where})"
    )
    note = (
        f"; aardvark-dns below the {_text(AARDVARK_FOR_6)} the release notes ask (seen working with 6.1.1)"
        if aardvark is not None and aardvark < AARDVARK_FOR_6
        else ""
    )
    observed(f"{seen} for Podman {_text(podman)}{note} ({where})")
