"""Security and compatibility (guide section 6), judged where each rule applies:
the compose file, the Quadlet files and the live containers."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from phoenix_compliance import security as rules
from phoenix_compliance.checks import check, could_not_check, not_applicable
from phoenix_compliance.facts import HostFacts, containers
from phoenix_compliance.grammar.labels import label_option, system_content
from phoenix_compliance.parsers.compose import ComposeFile
from phoenix_compliance.parsers.manifest import Manifest
from phoenix_compliance.quadlet.unitfile import UnitFile
from phoenix_compliance.quadlet.versions import DEFAULT_PODMAN_VERSION

Observed = Callable[[str], None]
DEFAULT_UNPRIVILEGED_START = 1024


def _files(facts: HostFacts) -> tuple[list[ComposeFile], list[UnitFile], str]:
    """The stack's compose files (its own and those of the optional groups the host has) and
    Quadlet files, whichever exist."""
    sources = [facts.files.compose, *facts.files.present_group_composes()]
    for source in sources:
        if source.parsed is not None and not source.parsed.services and source.parsed.problems:
            could_not_check(f"the compose file {source.where}", "it cannot be parsed, see PHX-2.01")
    parsed = [s.parsed for s in sources if s.parsed is not None and s.parsed.services]
    folder = facts.files.quadlet
    # Judged as the generator reads them: each unit merged with its drop-ins, whose lines keep
    # their own file (as PHX-3.07 compares them: the verdict does not depend on the host's Podman).
    units = list(folder.merged_units(DEFAULT_PODMAN_VERSION).values())
    where = f"{'; '.join(s.where for s in sources)}; {folder.where}"
    if not parsed and not units:
        not_applicable(f"no compose file and no Quadlet file to judge ({where})")
    return parsed, units, where


def _judge(offences: Iterable[rules.Offence], rule: rules.RuleInfo, where: str, observed: Observed) -> None:
    found = sorted(offences, key=lambda o: (o.path, o.line))
    assert not found, f"{rule.title}: expected no offence, got {len(found)}:\n" + "\n".join(
        f"  {offence}" for offence in found
    )
    observed(f"no offence ({where})")


def _judge_files(
    facts: HostFacts,
    rule: rules.RuleInfo,
    on_compose: Callable[[ComposeFile], list[rules.Offence]],
    on_units: Callable[[list[UnitFile]], list[rules.Offence]],
    observed: Observed,
    context: str = "",
) -> None:
    """One rule over the stack's compose file (when there is one) and its Quadlet files."""
    composes, units, where = _files(facts)
    offences = [offence for compose in composes for offence in on_compose(compose)] + on_units(units)
    _judge(offences, rule, f"{context}{where}", observed)


def _expect_none(offenders: list[str], expected: str, where: str) -> None:
    """Fail listing every offender, one a line, and where they were seen."""
    assert not offenders, f"expected {expected}, got:\n" + "\n".join(f"  {o}" for o in offenders) + f"\n  ({where})"


def _containers(facts: HostFacts) -> tuple[list[dict[str, Any]], str]:
    documents = facts.podman.inspect_all()
    where = facts.podman.where
    if not documents:
        not_applicable(f"no container to judge ({where})")
    return documents, where


def _unprivileged_start(facts: HostFacts) -> int:
    if facts.quadlet_override is not None or facts.compose_override is not None:
        return DEFAULT_UNPRIVILEGED_START
    return facts.security.unprivileged_port_start


# -- SELinux labels --------------------------------------------------------------------


@check(
    "PHX-S.01",
    phase="security",
    severity="high",
    files=True,
    title="Bind mounts in the compose and Quadlet files carry :Z or :z",
    remediation=rules.SELINUX_LABELS.remediation,
)
def test_files_selinux_labels(facts: HostFacts, observed: Observed) -> None:
    known, home = facts.unit_values(files_are_local=facts.quadlet_override is not None)
    _judge_files(
        facts,
        rules.SELINUX_LABELS,
        rules.compose_selinux_labels,
        lambda units: rules.quadlet_selinux_labels(units, known=known, home=home),
        observed,
    )


@check(
    "PHX-S.20",
    phase="security",
    severity="medium",
    files=True,
    title="SELinux separation is not turned off in the compose and Quadlet files",
    remediation=rules.LABELLING_OFF.remediation,
)
def test_files_selinux_separation(facts: HostFacts, observed: Observed) -> None:
    _judge_files(
        facts, rules.LABELLING_OFF, rules.compose_labelling_disabled, rules.quadlet_labelling_disabled, observed
    )


@check(
    "PHX-S.02",
    phase="security",
    severity="high",
    title="Bind mounts of the running containers carry :Z or :z",
    remediation="Recreate the container with -v SRC:DST:Z (compose: ./src:/dst:Z; Quadlet: Volume=SRC:DST:Z)",
)
def test_live_selinux_labels(facts: HostFacts, observed: Observed) -> None:
    documents, where = _containers(facts)
    _known, home = facts.unit_values(files_are_local=False)
    # System content is never relabelled (Podman's docs), and a container with labelling off needs no label.
    offenders = [
        f"container {containers.name_of(d)} mount {m.get('Source')} -> {m.get('Destination')}"
        " (no z/Z in Mounts[].Mode nor in the create command)"
        for d in documents
        if not any(label_option(str(o)) for o in (d.get("HostConfig") or {}).get("SecurityOpt") or [])
        for m in d.get("Mounts") or []
        if m.get("Type") == "bind"
        and not containers.mount_label(d, m)
        and system_content(str(m.get("Source") or ""), home) is None
    ]
    _expect_none(offenders, "every bind mount relabelled", where)
    observed(f"{len(documents)} containers, every bind mount of the stack's data labelled ({where})")


@check(
    "PHX-S.03",
    phase="security",
    severity="medium",
    title="SELinux is enforcing where the host has SELinux",
    remediation="sudo setenforce 1 && sudo sed -i 's/^SELINUX=.*/SELINUX=enforcing/' /etc/selinux/config",
)
def test_selinux_enforcing(facts: HostFacts, observed: Observed) -> None:
    section = facts.security.section("selinux_enforce")
    where = f"/sys/fs/selinux/enforce on {facts.host_id}"
    if not section.ok:
        not_applicable(
            f"the host has no SELinux ({where}: {section.describe_failure()});"
            " the :Z/:z label rules still apply to the files"
        )
    mode = section.out.strip()
    assert mode == "1", f"expected enforcing (1), got {'permissive (0)' if mode == '0' else mode} ({where})"
    observed(f"enforcing ({where})")


# -- Ports -----------------------------------------------------------------------------


@check(
    "PHX-S.04",
    phase="security",
    severity="high",
    files=True,
    title="No port below the unprivileged start is published in the files",
    remediation=rules.UNPRIVILEGED_PORTS.remediation,
)
def test_files_unprivileged_ports(facts: HostFacts, observed: Observed) -> None:
    start = _unprivileged_start(facts)
    _judge_files(
        facts,
        rules.UNPRIVILEGED_PORTS,
        lambda compose: rules.compose_unprivileged_ports(compose, unprivileged_start=start),
        lambda units: rules.quadlet_unprivileged_ports(units, unprivileged_start=start),
        observed,
        f"unprivileged start {start}; ",
    )


@check(
    "PHX-S.05",
    phase="security",
    severity="high",
    title="No running container publishes a port below the unprivileged start",
    remediation="Publish a port of 1024 or above and forward the low port to it (nftables or a proxy)",
)
def test_live_unprivileged_ports(facts: HostFacts, observed: Observed) -> None:
    start = _unprivileged_start(facts)
    listed = facts.podman.containers
    where = facts.podman.where
    offenders = sorted(
        {
            f"container {(c.get('Names') or ['?'])[0]} publishes {p.host_port}->{p.container_port}"
            for c in listed
            for p in containers.host_ports(c)
            if 0 < p.number < start
        }
    )
    _expect_none(offenders, f"no host port below {start}", where)
    observed(f"no host port below {start} among {len(listed)} containers ({where})")


@check(
    "PHX-S.06",
    phase="security",
    severity="medium",
    title="net.ipv4.ip_unprivileged_port_start is not lowered",
    remediation="sudo sysctl -w net.ipv4.ip_unprivileged_port_start=1024 and drop it from /etc/sysctl.d;"
    " forward low ports instead (nftables), as the guide says",
)
def test_unprivileged_port_start(facts: HostFacts, observed: Observed) -> None:
    where = f"/proc/sys/net/ipv4/ip_unprivileged_port_start on {facts.host_id}"
    value = facts.security.unprivileged_port_start
    assert value >= DEFAULT_UNPRIVILEGED_START, f"expected >= 1024, got {value} ({where})"
    observed(f"{value} ({where})")


# -- Rootless only, Docker retired -----------------------------------------------------


@check(
    "PHX-S.07",
    phase="security",
    severity="high",
    title="No stack container runs under rootful Podman",
    remediation="sudo podman rm -f CONTAINER  # and run the stack as the rootless user",
)
def test_no_rootful_stack_container(facts: HostFacts, stack: Manifest, observed: Observed) -> None:
    where = f"root's podman ps on {facts.host_id}"
    if facts.security.root_access == "none":
        not_applicable(
            f"root's containers are not readable by {facts.host.user} (neither root nor a passwordless sudoer;"
            " run as root or give passwordless sudo to check them)"
        )
    names = facts.security.rootful_container_names()
    rootful = sorted(names & {service.name for service in stack.every_service()})
    assert not rootful, f"expected no stack container under root, got {', '.join(rootful)} ({where})"
    observed(f"{len(names)} rootful containers, none of the stack ({where})")


@check(
    "PHX-S.08",
    phase="security",
    severity="high",
    title="Docker no longer serves the stack",
    remediation="sudo systemctl disable --now docker.service docker.socket && sudo rm -f /var/run/docker.sock"
    "  # or let podman-docker own it",
)
def test_docker_retired(facts: HostFacts, observed: Observed) -> None:
    states = facts.security.docker_states
    sockets = facts.security.docker_sockets
    foreign = facts.security.foreign_docker_sockets
    got = f"docker.service/docker.socket {'/'.join(states) or 'absent'}; sockets: {'; '.join(sockets) or 'none'}"
    where = f"systemctl is-active and /var/run/docker.sock on {facts.host_id}"
    assert "active" not in states and not foreign, f"expected Docker inactive and no Docker socket, got {got} ({where})"
    observed(f"{got} ({where})")


@check(
    "PHX-S.09",
    phase="security",
    severity="medium",
    title="The docker command resolves to Podman",
    remediation="echo 'alias docker=podman' >> ~/.bashrc  # or: sudo dnf install -y podman-docker",
)
def test_docker_alias(facts: HostFacts, observed: Observed) -> None:
    cli = facts.security.docker_command
    where = f"command -v docker, ~/.bashrc and ~/.zshrc on {facts.host_id}"
    if cli.is_podman:
        observed(f"docker is Podman's: {cli.text} ({where})")
        return
    aliases = facts.security.podman_aliases
    assert aliases, (
        f"expected the podman-docker command or alias docker=podman, got"
        f" {'docker: ' + cli.text if cli.found else 'no docker command'} and no alias ({where})"
    )
    observed(f"alias: {'; '.join(aliases)} ({where})")


@check(
    "PHX-S.10",
    phase="security",
    severity="medium",
    title="DOCKER_HOST points at the user's Podman socket, which answers",
    remediation="echo 'export DOCKER_HOST=\"unix:///run/user/$(id -u)/podman/podman.sock\"' >> ~/.bashrc",
)
def test_docker_host(facts: HostFacts, observed: Observed) -> None:
    expected = f"unix://{facts.host.api_socket_path}"
    got = facts.security.docker_host
    lines = facts.security.docker_host_lines
    where = f"a login shell of {facts.host.user} on {facts.host_id}; set at {lines or 'no rc file line'}"
    assert got == expected, f"expected DOCKER_HOST={expected}, got {got or 'unset'} ({where})"
    api = facts.podman.api
    assert api.ping == "OK", f"expected the socket to answer _ping, got {api.ping_error} ({api.where})"
    observed(f"DOCKER_HOST={got}, _ping OK ({where})")


# -- Hardening -------------------------------------------------------------------------


@check(
    "PHX-S.11",
    phase="security",
    severity="high",
    files=True,
    title="No privileged container, added capability or host namespace in the files",
    remediation=rules.PRIVILEGES.remediation,
)
def test_files_privileges(facts: HostFacts, stack: Manifest, observed: Observed) -> None:
    _judge_files(
        facts,
        rules.PRIVILEGES,
        lambda compose: rules.compose_privileges(compose, allowed_caps=stack.cap_allow),
        lambda units: rules.quadlet_privileges(units, allowed_caps=stack.cap_allow),
        observed,
    )


@check(
    "PHX-S.12",
    phase="security",
    severity="high",
    title="No running container is privileged, has added capabilities or shares a host namespace",
    remediation="Recreate the container without --privileged, --cap-add, --network=host or --pid=host",
)
def test_live_privileges(facts: HostFacts, stack: Manifest, observed: Observed) -> None:
    documents, where = _containers(facts)
    allowed = {cap.upper().removeprefix("CAP_") for cap in stack.cap_allow}
    offenders = []
    for document in documents:
        host_config = document.get("HostConfig") or {}
        name = containers.name_of(document)
        if host_config.get("Privileged"):
            offenders.append(f"container {name} is privileged")
        added = {str(c).upper().removeprefix("CAP_") for c in host_config.get("CapAdd") or []} - allowed
        if added:
            offenders.append(f"container {name} adds {', '.join(sorted(added))}")
        for key, label in (("NetworkMode", "network"), ("PidMode", "PID")):
            if host_config.get(key) == "host":
                offenders.append(f"container {name} shares the host {label} namespace")
    _expect_none(offenders, "no privileged container, added capability or host namespace", where)
    observed(f"{len(documents)} containers unprivileged ({where})")


@check(
    "PHX-S.13",
    phase="security",
    severity="high",
    files=True,
    title="No Podman or Docker socket is mounted, per the files",
    remediation=rules.SOCKET_MOUNTS.remediation,
)
def test_files_socket_mounts(facts: HostFacts, observed: Observed) -> None:
    _judge_files(facts, rules.SOCKET_MOUNTS, rules.compose_socket_mounts, rules.quadlet_socket_mounts, observed)


@check(
    "PHX-S.14",
    phase="security",
    severity="high",
    title="No running container mounts a Podman or Docker socket",
    remediation="Recreate the container without the socket mount; give it only the API it needs",
)
def test_live_socket_mounts(facts: HostFacts, observed: Observed) -> None:
    documents, where = _containers(facts)
    offenders = [
        f"container {containers.name_of(d)} mounts {m.get('Source')} at {m.get('Destination')}"
        for d in documents
        for m in d.get("Mounts") or []
        if rules.is_api_socket(str(m.get("Source") or ""))
    ]
    _expect_none(offenders, "no Podman or Docker socket mounted", where)
    observed(f"{len(documents)} containers, no socket mounted ({where})")


@check(
    "PHX-S.15",
    phase="security",
    severity="medium",
    title="The user's Podman socket is mode 0660 or stricter and owned by the user",
    remediation="systemctl --user restart podman.socket  # recreates it 0660; never chmod it wider",
)
def test_socket_permissions(facts: HostFacts, observed: Observed) -> None:
    stat = facts.host.stat("api_socket")
    where = f"{facts.host.api_socket_path} on {facts.host_id}"
    assert stat is not None, f"expected the socket, got {facts.host.section('api_socket').describe_failure()} ({where})"
    got = f"mode {stat.mode:04o}, owner {stat.owner}"
    assert stat.mode & ~0o660 == 0 and stat.uid == facts.host.uid, (
        f"expected mode 0660 or stricter, owner {facts.host.user}, got {got} ({where})"
    )
    observed(f"{got} ({where})")


@check(
    "PHX-S.16",
    phase="security",
    severity="medium",
    title="XDG_RUNTIME_DIR is private (0700)",
    remediation="chmod 0700 /run/user/$(id -u)  # systemd-logind creates it so; find what widened it",
)
def test_runtime_dir_private(facts: HostFacts, observed: Observed) -> None:
    stat = facts.security.runtime_dir
    where = f"XDG_RUNTIME_DIR on {facts.host_id}"
    assert stat is not None, (
        f"expected the directory, got {facts.security.section('runtime_dir').describe_failure()} ({where})"
    )
    got = f"{stat.path} mode {stat.mode:04o}, owner {stat.owner}"
    assert stat.mode == 0o700 and stat.uid == facts.host.uid, (
        f"expected mode 0700, owner {facts.host.user}, got {got} ({where})"
    )
    observed(f"{got} ({where})")


# -- Secrets and images ----------------------------------------------------------------


@check(
    "PHX-S.17",
    phase="security",
    severity="high",
    files=True,
    title="No literal secret in the compose or Quadlet environment",
    remediation=rules.SECRETS.remediation,
)
def test_files_secrets(facts: HostFacts, observed: Observed) -> None:
    _judge_files(facts, rules.SECRETS, rules.compose_secrets, rules.quadlet_secrets, observed)


@check(
    "PHX-S.18",
    phase="security",
    severity="medium",
    files=True,
    title="Images in the files are fully qualified and pinned",
    remediation=rules.IMAGES.remediation,
)
def test_files_images(facts: HostFacts, observed: Observed) -> None:
    _judge_files(facts, rules.IMAGES, rules.compose_images, rules.quadlet_images, observed)


@check(
    "PHX-S.19",
    phase="security",
    severity="medium",
    title="Images of the running containers are fully qualified and pinned",
    remediation=rules.IMAGES.remediation,
)
def test_live_images(facts: HostFacts, observed: Observed) -> None:
    documents, where = _containers(facts)
    offenders = [
        f"container {containers.name_of(d)} runs {d.get('ImageName')}: {'; '.join(problems)}"
        for d in documents
        if not containers.is_infra(d) and (problems := rules.image_problems(str(d.get("ImageName") or "")))
    ]
    _expect_none(offenders, "fully qualified, pinned images", where)
    observed(f"{len(documents)} containers, images qualified and pinned ({where})")


# -- the stack's registry (guide section 6: images are built and pushed to a private registry) --


def _registry(stack: Manifest) -> str:
    if stack.registry is None:
        not_applicable(f"the stack manifest names no registry (no registry:, {stack.path})")
    return str(stack.registry)


@check(
    "PHX-S.21",
    phase="security",
    severity="medium",
    files=True,
    title="Images in the files come from the stack's registry",
    remediation=rules.REGISTRY.remediation,
)
def test_files_images_from_registry(facts: HostFacts, stack: Manifest, observed: Observed) -> None:
    registry = _registry(stack)
    _judge_files(
        facts,
        rules.REGISTRY,
        lambda compose: rules.compose_registry(compose, registry),
        lambda units: rules.quadlet_registry(units, registry),
        observed,
        f"every image from {registry}; ",
    )


@check(
    "PHX-S.22",
    phase="security",
    severity="medium",
    title="Images of the running containers come from the stack's registry",
    remediation=rules.REGISTRY.remediation,
)
def test_live_images_from_registry(facts: HostFacts, stack: Manifest, observed: Observed) -> None:
    registry = _registry(stack)
    documents, where = _containers(facts)
    offenders = [
        f"container {containers.name_of(d)} runs {d.get('ImageName')}"
        for d in documents
        if not containers.is_infra(d) and not rules.from_registry(str(d.get("ImageName") or ""), registry)
    ]
    _expect_none(offenders, f"every image from {registry}", where)
    observed(f"{len(documents)} containers, every image from {registry} ({where})")
