"""Security rules judged on the files: the compose file and the Quadlet units.

A plain module (no pytest). Each rule reads parsed files and returns
`Offence`s naming file, line, the service or unit and the mount, port or
variable, so a finding can be fixed before anything runs; the running stack is
judged elsewhere. Every rule has a `RuleInfo` with a stable id and a one-line
remediation, which checks print next to the offences.

One function per rule per source (`compose_*` takes a `ComposeFile`,
`quadlet_*` an iterable of `UnitFile`s), because the two formats spell the
same thing differently and a check usually has only one of them at hand.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

from phoenix_compliance.grammar.labels import label_option, system_content
from phoenix_compliance.grammar.specifiers import NOTHING_KNOWN, Known, expand, is_host_path
from phoenix_compliance.grammar.volumes import WINDOWS_PATH, parse_mount, split_volume, volume_relabel
from phoenix_compliance.parsers.compose import ComposeFile, ComposeService, port_spec
from phoenix_compliance.quadlet.readers import strip_matching_quotes, unit_environment
from phoenix_compliance.quadlet.unitfile import Entry, UnitFile


@dataclass(frozen=True)
class RuleInfo:
    id: str
    title: str
    remediation: str


@dataclass(frozen=True)
class Offence:
    """One breach: `subject` names the service/unit and the mount, port or variable."""

    rule: str
    path: str
    line: int
    subject: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule} {self.subject}: {self.message}"


SELINUX_LABELS = RuleInfo(
    id="SEC-LABEL",
    title="Bind mounts carry an SELinux relabel option (:Z or :z)",
    remediation="append :Z (private to the container) or :z (shared) to the bind mount; Mount= takes relabel=private",
)
UNPRIVILEGED_PORTS = RuleInfo(
    id="SEC-PORT",
    title="No published host port below net.ipv4.ip_unprivileged_port_start",
    remediation="publish on a host port of 1024 or more (e.g. 8080:80) and put a proxy or firewall redirect in front",
)
PRIVILEGES = RuleInfo(
    id="SEC-PRIV",
    title="No privileged mode, extra capabilities or host namespaces",
    remediation="drop privileged/--privileged, extra capabilities and host network/pid; grant one capability at a time",
)
SOCKET_MOUNTS = RuleInfo(
    id="SEC-SOCKET",
    title="No Podman or Docker API socket mounted into a container",
    remediation="remove the socket mount; a container that needs the API gets a narrowed proxy, not the socket",
)
SECRETS = RuleInfo(
    id="SEC-SECRET",
    title="No literal secret in an environment variable",
    remediation="podman secret create NAME - and pass it with Secret=NAME,type=env,target=VAR (compose: secrets:)",
)
LABELLING_OFF = RuleInfo(
    id="SEC-NOLABEL",
    title="SELinux separation is not turned off for a container",
    remediation="remove SecurityLabelDisable=/SecurityLabelType= (compose: security_opt label=...) and give the "
    "container's own data :Z; keep it only where host content must not be relabelled",
)
IMAGES = RuleInfo(
    id="SEC-IMAGE",
    title="Images are fully qualified and pinned",
    remediation="name the registry and a tag other than latest, or a digest: docker.io/library/nginx:1.27",
)

# Judged only where the manifest names the stack's registry (`registry:`).
REGISTRY = RuleInfo(
    id="SEC-REGISTRY",
    title="Images come from the stack's registry",
    remediation="build and push the image to the stack's registry and name it there: REGISTRY/NAME:TAG",
)

RULES: tuple[RuleInfo, ...] = (
    SELINUX_LABELS,
    UNPRIVILEGED_PORTS,
    PRIVILEGES,
    SOCKET_MOUNTS,
    SECRETS,
    IMAGES,
    LABELLING_OFF,
    REGISTRY,
)

# The sections whose mounts, ports and images reach a container or pod.
_MOUNT_SECTIONS = ("Container", "Pod")
_PORT_SECTIONS = ("Container", "Pod", "Kube")
_NETWORK_SECTIONS = ("Container", "Pod", "Kube")

# Mount types whose source is a host path; podman allows relabel= only on these.
_HOST_PATH_MOUNT_TYPES = frozenset({"bind", "glob"})


# -- SELinux labels ------------------------------------------------------------


@dataclass(frozen=True)
class LabelGap:
    """One mount whose SELinux label is wrong: `message` says why, `fix` what to write.

    The one judgement behind PHX-S.01 and the lint's QL052, so both say the same of a mount."""

    entry: Entry
    subject: str
    message: str
    fix: str


def _system_relabel(what: str, source: str, why: str, relabel: str, disable: str) -> tuple[str, str]:
    return (
        f"{what} {source} is {why} and :{relabel} relabels it on the host; Podman's docs warn that relabelling "
        "system content can make other confined services of the host fail",
        f"drop the {relabel} option; if SELinux then denies the container access, turn separation off for "
        f"this container instead ({disable})",
    )


def quadlet_label_gaps(
    unit: UnitFile, *, named_volumes_too: bool = False, known: Known = NOTHING_KNOWN, home: str | None = None
) -> list[LabelGap]:
    """Bind mounts (Volume= with a host path, Mount=type=bind|glob) of the stack's own data without
    :Z/:z or relabel=, and system content (/etc, /proc, a socket, a whole home) relabelled anyway.

    Sources are read as systemd will pass them (``known``: specifiers and variables whose value is
    known); a container with labelling turned off (SecurityLabelDisable=, SecurityLabelType=,
    --security-opt label=...) needs no relabel. Named volumes are labelled by podman when it creates
    them, so they are judged only with ``named_volumes_too``."""
    if quadlet_labelling_off(unit) is not None:
        return []
    known = known.with_environment(unit_environment(unit))
    disable = "SecurityLabelDisable=true under [Container]"
    gaps: list[LabelGap] = []
    for entry in _entries(unit, _MOUNT_SECTIONS, "Volume"):
        value = strip_matching_quotes(entry.value)
        source, target, options = split_volume(value)
        if not source or WINDOWS_PATH.match(value):
            continue  # a Windows drive is a volume named after the letter (QL040)
        is_bind = is_host_path(source, known)
        relabel = volume_relabel(options.split(","))
        subject = f"Volume={source}:{target}"
        system = system_content(expand(source, known), home) if is_bind else None
        if system is not None:
            if relabel is not None:
                gaps.append(LabelGap(entry, subject, *_system_relabel("bind mount", source, system, relabel, disable)))
            continue
        if not (is_bind or named_volumes_too) or relabel is not None:
            continue
        what = "bind mount" if is_bind else "named volume"
        gaps.append(
            LabelGap(
                entry,
                subject,
                f"{what} {source} has no :Z or :z, so on an SELinux host the container is denied access to it",
                f"append :Z (private) or :z (shared): Volume={source}:{target}:{options + ',' if options else ''}Z",
            )
        )
    for entry in _entries(unit, _MOUNT_SECTIONS, "Mount"):
        mount = parse_mount(strip_matching_quotes(entry.value))
        if mount is None:
            continue  # podman cannot read it; the Quadlet linter reports it (QL045)
        # No type= at all (Quadlet refuses it before 5.8, QL045) is judged as Docker would read it: a volume.
        kind = mount.type or "volume"
        source = mount.source or ""
        subject = f"Mount type={kind} source={source}"
        if kind in _HOST_PATH_MOUNT_TYPES:
            system = system_content(expand(source, known), home)
            if system is not None:
                if mount.relabel is not None:
                    gaps.append(
                        LabelGap(entry, subject, *_system_relabel(f"{kind} mount", source, system, "relabel", disable))
                    )
                continue
            if mount.relabel is not None:
                continue
            gaps.append(
                LabelGap(
                    entry,
                    subject,
                    f"{kind} mount {source} has no relabel option, so on an SELinux host the container is denied "
                    "access to it",
                    "add relabel=private (like :Z) or relabel=shared (like :z)",
                )
            )
        elif kind == "volume" and named_volumes_too:
            # podman accepts relabel= only on bind and glob mounts, so the label has to come
            # from the Volume= spelling instead.
            gaps.append(
                LabelGap(
                    entry,
                    subject,
                    f"named volume {source} cannot carry a relabel option as Mount=type=volume",
                    f"write it as Volume={source}:{mount.target or ''}:Z",
                )
            )
    return gaps


def compose_selinux_labels(compose: ComposeFile, *, named_volumes_too: bool = False) -> list[Offence]:
    """Bind mounts (short `:Z` or long `bind: {selinux: Z}`) of the stack's own data must carry a
    relabel option, and system content must not (as for Quadlet, quadlet_label_gaps()).

    Named volumes are labelled by podman when it creates them, so they are
    exempt unless `named_volumes_too`; anonymous volumes and tmpfs always are;
    a service with `security_opt: [label=disable]` needs no relabel.
    """
    offences = []
    for service in compose.services.values():
        if compose_labelling_off(service) is not None:
            continue
        for mount in service.volumes:
            judged = mount.kind == "bind" or (named_volumes_too and mount.kind == "volume")
            if not judged:
                continue
            subject = f"service {service.name}, volume {mount.source}:{mount.target}"
            system = system_content(mount.source or "") if mount.kind == "bind" else None
            if system is not None:
                if mount.selinux is not None:
                    message, fix = _system_relabel(
                        "bind mount", mount.source or "", system, mount.selinux, "security_opt: [label=disable]"
                    )
                    offences.append(
                        Offence(SELINUX_LABELS.id, *compose.locate(mount.line), subject, f"{message}; {fix}")
                    )
                continue
            if mount.selinux is not None:
                continue
            what = "bind mount" if mount.kind == "bind" else "named volume"
            fix = (
                f"{mount.source}:{mount.target}:{','.join((*mount.options, 'Z'))}"
                if mount.syntax == "short"
                else "bind: {selinux: Z} (honoured by podman-compose 1.2.0 and later)"
            )
            offences.append(
                Offence(
                    SELINUX_LABELS.id,
                    *compose.locate(mount.line),
                    subject,
                    f"{what} {mount.source} has no :Z or :z, so on an SELinux host the container "
                    f"is denied access to it; write {fix}",
                )
            )
    return offences


def quadlet_selinux_labels(
    units: Iterable[UnitFile], *, named_volumes_too: bool = False, known: Known = NOTHING_KNOWN, home: str | None = None
) -> list[Offence]:
    """quadlet_label_gaps() of every unit, as offences."""
    return [
        _unit_offence(SELINUX_LABELS, unit, gap.entry, gap.subject, f"{gap.message}; {gap.fix}")
        for unit in units
        for gap in quadlet_label_gaps(unit, named_volumes_too=named_volumes_too, known=known, home=home)
    ]


def quadlet_labelling_off(unit: UnitFile) -> tuple[Entry, str] | None:
    """Where a container turns SELinux labelling off or changes its type, and how it is written."""
    if unit.main_section_name != "Container":
        return None
    disable = unit.last("Container", "SecurityLabelDisable")
    if disable is not None and strip_matching_quotes(disable.value).lower() in ("true", "yes", "1", "on"):
        return disable, f"SecurityLabelDisable={disable.value}"
    label_type = unit.last("Container", "SecurityLabelType")
    if label_type is not None and strip_matching_quotes(label_type.value):
        return label_type, f"SecurityLabelType={label_type.value}"
    for entry in unit.entries_for("Container", "PodmanArgs"):
        for option, value in _options(entry.value):
            if option == "--security-opt" and value is not None and label_option(value) is not None:
                return entry, f"PodmanArgs --security-opt {value}"
    return None


def compose_labelling_off(service: ComposeService) -> str | None:
    """The `security_opt` entry of a service that turns SELinux labelling off or changes its type."""
    return next((option for option in service.security_opt if label_option(option) is not None), None)


def quadlet_labelling_disabled(units: Iterable[UnitFile]) -> list[Offence]:
    offences = []
    for unit in units:
        found = quadlet_labelling_off(unit)
        if found is not None:
            entry, how = found
            offences.append(_unit_offence(LABELLING_OFF, unit, entry, how, labelling_off_message(how)))
    return offences


def compose_labelling_disabled(compose: ComposeFile) -> list[Offence]:
    offences = []
    for service in compose.services.values():
        how = compose_labelling_off(service)
        if how is not None:
            subject = f"service {service.name}, security_opt {how}"
            line = service.line_of("security_opt")
            offences.append(Offence(LABELLING_OFF.id, *compose.locate(line), subject, labelling_off_message(how)))
    return offences


def labelling_off_message(how: str) -> str:
    changed = "runs as another SELinux type" if "type" in how.lower() else "is not separated by SELinux"
    return (
        f"the container {changed}, so SELinux does not keep it from the user's other files and "
        "containers; its mounts need no :Z. Keep it only for a container that needs host content that must "
        "not be relabelled (a whole home, /etc, a socket)"
    )


# -- unprivileged ports ----------------------------------------------------------


def compose_unprivileged_ports(compose: ComposeFile, *, unprivileged_start: int = 1024) -> list[Offence]:
    """Rootless podman binds published ports as the user, so the host's sysctl decides."""
    offences = []
    for service in compose.services.values():
        low: dict[int, list[int]] = {}
        for mapping in service.ports:
            if mapping.host_port is not None and mapping.host_port < unprivileged_start:
                low.setdefault(mapping.line, []).append(mapping.host_port)
        # A range such as 80-90:80-90 is one line and one offence, not eleven.
        for line, ports in low.items():
            offences.append(
                Offence(
                    UNPRIVILEGED_PORTS.id,
                    *compose.locate(line),
                    f"service {service.name}, port {_port_list(ports)}",
                    _port_message(ports, unprivileged_start) + compose.written(line),
                )
            )
    return offences


def quadlet_unprivileged_ports(units: Iterable[UnitFile], *, unprivileged_start: int = 1024) -> list[Offence]:
    """`PublishPort=` on .container, .pod (and .kube) units."""
    offences = []
    for unit in units:
        known = NOTHING_KNOWN.with_environment(unit_environment(unit))
        for entry in _entries(unit, _PORT_SECTIONS, "PublishPort"):
            # An unparseable spec yields no mappings; the Quadlet linter reports it. A ${PORT} the
            # unit's [Service] environment sets is judged as systemd passes it on.
            mappings, _problems = port_spec(expand(strip_matching_quotes(entry.value), known))
            ports = [m.host_port for m in mappings if m.host_port is not None and m.host_port < unprivileged_start]
            if ports:
                subject = f"PublishPort={entry.value}"
                message = _port_message(ports, unprivileged_start)
                offences.append(_unit_offence(UNPRIVILEGED_PORTS, unit, entry, subject, message))
    return offences


def _port_list(ports: list[int]) -> str:
    return str(ports[0]) if len(ports) == 1 else f"{ports[0]}-{ports[-1]}"


def _port_message(ports: list[int], start: int) -> str:
    return (
        f"host port {_port_list(ports)} is below net.ipv4.ip_unprivileged_port_start={start}, so rootless "
        f"podman cannot bind it ('cannot expose privileged port {ports[0]}'); publish {start} or above"
    )


# -- privileges, capabilities, host namespaces ---------------------------------------


def compose_privileges(compose: ComposeFile, *, allowed_caps: Collection[str] = ()) -> list[Offence]:
    """`privileged: true`, `cap_add` beyond `allowed_caps`, `network_mode: host`, `pid: host`."""
    allowed = {_cap(cap) for cap in allowed_caps}
    offences = []

    def add(service: ComposeService, key: str, subject: str, message: str) -> None:
        offences.append(
            Offence(PRIVILEGES.id, *compose.locate(service.line_of(key)), f"service {service.name}, {subject}", message)
        )

    for service in compose.services.values():
        if service.privileged:
            add(service, "privileged", "privileged: true", _PRIVILEGED_MESSAGE)
        for cap in service.cap_add:
            if _cap(cap) not in allowed:
                add(service, "cap_add", f"cap_add {_cap(cap)}", _cap_message(_cap(cap), allowed))
        if service.network_mode == "host":
            add(service, "network_mode", "network_mode: host", _HOST_NETWORK_MESSAGE)
        if service.pid == "host":
            add(service, "pid", "pid: host", _HOST_PID_MESSAGE)
    return offences


def quadlet_privileges(units: Iterable[UnitFile], *, allowed_caps: Collection[str] = ()) -> list[Offence]:
    """`AddCapability=`, `Network=host`, and the same asked for through `PodmanArgs=`."""
    allowed = {_cap(cap) for cap in allowed_caps}
    offences = []
    for unit in units:
        for entry in _entries(unit, ("Container",), "AddCapability"):
            for cap in strip_matching_quotes(entry.value).split():
                if _cap(cap) not in allowed:
                    subject = f"AddCapability {_cap(cap)}"
                    offences.append(_unit_offence(PRIVILEGES, unit, entry, subject, _cap_message(_cap(cap), allowed)))
        for entry in _entries(unit, _NETWORK_SECTIONS, "Network"):
            # Network= may carry options after a colon (`host:...` is still host).
            if strip_matching_quotes(entry.value).split(":", 1)[0] == "host":
                offences.append(_unit_offence(PRIVILEGES, unit, entry, "Network=host", _HOST_NETWORK_MESSAGE))
        for entry in _entries(unit, _PORT_SECTIONS, "PodmanArgs"):
            for option, value in _options(entry.value):
                for subject, message in _podman_arg_privileges(option, value, allowed):
                    offences.append(_unit_offence(PRIVILEGES, unit, entry, f"PodmanArgs {subject}", message))
    return offences


def _podman_arg_privileges(option: str, value: str | None, allowed: set[str]) -> list[tuple[str, str]]:
    """(subject, message) for one podman option that widens the container's privileges."""
    if option == "--privileged" and value in (None, "true"):
        return [("--privileged", _PRIVILEGED_MESSAGE)]
    if option == "--pid" and value == "host":
        return [("--pid=host", _HOST_PID_MESSAGE)]
    if option in ("--network", "--net") and value is not None and value.split(":")[0] == "host":
        return [(f"{option}=host", _HOST_NETWORK_MESSAGE)]
    if option == "--cap-add" and value is not None:
        # podman reads --cap-add as a string slice: commas separate capabilities.
        caps = [_cap(cap) for cap in value.split(",") if cap.strip()]
        return [(f"--cap-add {cap}", _cap_message(cap, allowed)) for cap in caps if cap not in allowed]
    return []


_PRIVILEGED_MESSAGE = (
    "privileged mode gives the container every capability, all host devices and no SELinux/seccomp "
    "confinement; grant the one capability or device it needs instead"
)
_HOST_NETWORK_MESSAGE = (
    "the host network namespace lets the container bind and sniff every host interface and reach "
    "services listening on localhost; publish the ports it serves instead"
)
_HOST_PID_MESSAGE = "the host PID namespace lets the container see and signal every process of the user; drop it"


def _cap(name: str) -> str:
    """`cap_net_admin` and `NET_ADMIN` are the same capability to podman."""
    name = name.strip().upper()
    return name.removeprefix("CAP_")


def _cap_message(cap: str, allowed: set[str]) -> str:
    permitted = ", ".join(sorted(allowed)) or "none"
    return f"capability {cap} is not in the allow-list ({permitted}); drop it or justify adding it to the list"


# Value-taking podman options whose value may follow as the next word.
_VALUE_OPTIONS = frozenset({"--pid", "--network", "--net", "--cap-add", "--env", "-e", "--security-opt"})


def _options(args: str) -> Iterator[tuple[str, str | None]]:
    """(option, value) pairs from a PodmanArgs= line, for `--opt=value` and `--opt value`."""
    words = _split_words(args)
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("-"):
            continue
        option, equals, value = word.partition("=")
        if equals:
            yield option, value
        elif option in _VALUE_OPTIONS and index < len(words):
            yield option, words[index]
            index += 1
        else:
            yield option, None


def _split_words(value: str) -> list[str]:
    # Quadlet splits with systemd's relaxed unquoting, which shlex matches for
    # the quoting a unit file uses; an unbalanced quote falls back to blanks.
    try:
        return shlex.split(value)
    except ValueError:
        return value.split()


# -- socket mounts -------------------------------------------------------------

# Every spelling of the user's runtime directory, so `%t/podman/podman.sock`,
# `$XDG_RUNTIME_DIR/...` and `/run/user/1000/...` compare equal.
_RUNTIME_DIR_RE = re.compile(r"^(?:%t|\$XDG_RUNTIME_DIR|\$\{XDG_RUNTIME_DIR\}|/run/user/[^/]+)(?=/|$)")
_RUNTIME = "<runtime>"
# The API sockets, and the directories holding them (mounting the directory
# hands over the socket all the same).
_SOCKETS = frozenset(
    {
        "/run/podman/podman.sock",
        "/run/podman",
        "/run/docker.sock",
        f"{_RUNTIME}/podman/podman.sock",
        f"{_RUNTIME}/podman",
        f"{_RUNTIME}/docker.sock",
    }
)


def is_api_socket(source: str) -> bool:
    """Whether a mount source is a Podman or Docker API socket (or its directory)."""
    path = re.sub(r"/+", "/", source.strip()).rstrip("/")
    # /var/run is a symlink to /run on every systemd host.
    if path == "/var/run" or path.startswith("/var/run/"):
        path = path.removeprefix("/var")
    path = _RUNTIME_DIR_RE.sub(_RUNTIME, path)
    return path in _SOCKETS


def compose_socket_mounts(compose: ComposeFile) -> list[Offence]:
    """Any mount whose source is an API socket, whatever kind the parser gave it.

    The kind is not trusted here: `${XDG_RUNTIME_DIR}/podman/podman.sock` reads
    as a named volume before podman-compose interpolates it into a path.
    """
    offences = []
    for service in compose.services.values():
        for mount in service.volumes:
            # As written too: an unset ${XDG_RUNTIME_DIR} empties the path that names the socket.
            written = [s.written.split(":", 1)[0] for s in compose.substitutions.get(mount.line, [])]
            if mount.source is not None and any(is_api_socket(source) for source in [mount.source, *written]):
                offences.append(
                    Offence(
                        SOCKET_MOUNTS.id,
                        *compose.locate(mount.line),
                        f"service {service.name}, volume {(written or [mount.source])[0]}:{mount.target}",
                        _socket_message(mount.source),
                    )
                )
    return offences


def quadlet_socket_mounts(units: Iterable[UnitFile]) -> list[Offence]:
    """`Volume=` and `Mount=` sources that are an API socket."""
    offences = []
    for unit in units:
        for entry in _entries(unit, _MOUNT_SECTIONS, "Volume"):
            source, target, _options = split_volume(strip_matching_quotes(entry.value))
            if source and is_api_socket(source):
                subject = f"Volume={source}:{target}"
                offences.append(_unit_offence(SOCKET_MOUNTS, unit, entry, subject, _socket_message(source)))
        for entry in _entries(unit, _MOUNT_SECTIONS, "Mount"):
            mount = parse_mount(strip_matching_quotes(entry.value))
            mount_source = mount.source if mount is not None else None
            if mount_source and is_api_socket(mount_source):
                subject = f"Mount source={mount_source}"
                offences.append(_unit_offence(SOCKET_MOUNTS, unit, entry, subject, _socket_message(mount_source)))
    return offences


def _socket_message(source: str) -> str:
    return (
        f"{source} is the container engine's API socket: whoever runs in the container can start "
        "privileged containers and mount any host path, i.e. take over the account that owns the socket"
    )


# -- secrets -------------------------------------------------------------------

# Words of a variable name that mark its value as secret (matched per word, so
# KEYBOARD_LAYOUT and PASSENGER_COUNT are not secrets).
_SECRET_WORDS = frozenset(
    {
        "PASSWORD",
        "PASSWD",
        "PASS",
        "PASSPHRASE",
        "SECRET",
        "SECRETS",
        "TOKEN",
        "TOKENS",
        "KEY",
        "KEYS",
        "APIKEY",
        "PRIVATE",
        "CREDENTIAL",
        "CREDENTIALS",
        "CREDS",
    }
)
# `POSTGRES_PASSWORD_FILE=/run/secrets/db` is the recommended way to pass a
# secret to many images: the value is where the secret is, not the secret.
_LOCATION_WORDS = frozenset({"FILE", "PATH", "DIR"})
_NAME_WORD_RE = re.compile(r"[^A-Za-z0-9]+")
# `$$` is compose's escaped dollar; what is left is an interpolated reference.
_REFERENCE_RE = re.compile(r"\$(?:\{[^}]+\}|[A-Za-z_][A-Za-z0-9_]*)")


def is_secret_name(name: str) -> bool:
    """Whether a variable name says its value is a secret (by its `_`-separated words)."""
    words = [word for word in _NAME_WORD_RE.split(name.upper()) if word]
    return bool(words) and words[-1] not in _LOCATION_WORDS and any(word in _SECRET_WORDS for word in words)


def _is_literal(value: str | None) -> bool:
    """A value written into the file, not taken from the environment or a reference."""
    if not value:
        return False
    return _REFERENCE_RE.search(value.replace("$$", "")) is None


# scheme://user:PASSWORD@host in a value: the password is a literal unless it is a reference.
_URL_PASSWORD_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*:([^\s/@]+)@")
# Values that are a credential whatever the name says: the formats of common issuers' tokens,
# and a private key pasted in.
_TOKEN_RE = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|glpat-[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}"
    r"|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,})\b|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
# Command-line options that take a secret as their value (`--password VALUE`, `--api-token=VALUE`).
# podman's own --secret NAME names a secret, it is not one; *-file/-path options name where it is.
_SECRET_OPTION_RE = re.compile(
    r"^--?[a-z0-9-]*(?:password|passwd|passphrase|token|api-?key|secret|credentials?)[a-z0-9-]*$", re.I
)
_NOT_SECRET_OPTIONS = frozenset({"--secret", "--secret-env"})


def secret_value_reason(name: str, value: str | None) -> str | None:
    """Why a NAME=value (a variable, a label) puts a secret in the file, or None; never the value."""
    if not value:
        return None
    # Phrased so that the name never stands next to a value: the redaction layer would mask the prose.
    if is_secret_name(name) and _is_literal(value):
        return "its value is a literal (withheld here)"
    password = _URL_PASSWORD_RE.search(value)
    if password is not None and _is_literal(password.group(1)):
        return "its value is a URL with a literal password (withheld here)"
    if _TOKEN_RE.search(value):
        return "its value looks like a token or private key (withheld here)"
    return None


def secret_options(words: Iterable[str]) -> list[str]:
    """The options among command-line words that are given a literal secret (their names only)."""
    found = []
    words = list(words)
    for index, word in enumerate(words):
        option, equals, value = word.partition("=")
        if not _SECRET_OPTION_RE.match(option) or option.lower() in _NOT_SECRET_OPTIONS:
            continue
        if option.lower().endswith(("-file", "-path", "-dir", "-env")):
            continue
        if not equals:
            if index + 1 >= len(words) or words[index + 1].startswith("-"):
                continue  # a flag alone (--no-password), or followed by the next option
            value = words[index + 1]
        if _is_literal(value):
            found.append(option)
    return found


def env_file_secrets(path: str, text: str) -> list[Offence]:
    """Literal secrets in an env file (`NAME=value` lines, `export` allowed) at their own line."""
    offences = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.removeprefix("export ").partition("=")
        name = name.strip()
        value = value.strip().strip("\"'")
        reason = secret_value_reason(name, value) if equals else None
        if reason is not None:
            offences.append(
                Offence(
                    SECRETS.id,
                    path,
                    number,
                    f"env file variable {name}",
                    f"{reason}: an env file next to the stack is as readable as the stack; keep the secret "
                    f"in `podman secret create {name.lower()} -` and pass it as a secret",
                )
            )
    return offences


def compose_secrets(compose: ComposeFile) -> list[Offence]:
    """`environment` entries and labels with a secret-looking name and a literal value, a URL
    with a password or a token; `command:`/`entrypoint:` options given a secret; and the same
    in the env_file files when they could be read (ComposeFile.env_file_texts).

    The value never enters an Offence: only the name, file and line do.
    """
    offences = []
    for service in compose.services.values():
        for var in service.environment:
            # Judged as written: `${DB_PASSWORD}` is no literal, whatever it resolves to.
            reason = secret_value_reason(var.name, compose.as_written(var.line, var.value))
            if reason is not None:
                secret = var.name.lower()
                offences.append(
                    Offence(
                        SECRETS.id,
                        *compose.locate(var.line),
                        f"service {service.name}, environment {var.name}",
                        f"{reason}, so the secret sits in the file, "
                        f"in version control and in podman inspect; run `podman secret create {secret} -`, declare "
                        f"it under top-level `secrets:` ({secret}: {{external: true}}) and list it in the "
                        f"service's `secrets:`, or interpolate ${{{var.name}}} from an uncommitted .env",
                    )
                )
        for label in service.labels:
            reason = secret_value_reason(label.name, compose.as_written(label.line, label.value))
            if reason is not None:
                offences.append(
                    Offence(
                        SECRETS.id,
                        *compose.locate(label.line),
                        f"service {service.name}, label {label.name}",
                        f"{reason}; labels are readable by anyone who can list containers: "
                        "drop the secret from the labels",
                    )
                )
        for key, words in service.commands:
            for option in secret_options(words):
                offences.append(
                    Offence(
                        SECRETS.id,
                        *compose.locate(service.line_of(key)),
                        f"service {service.name}, {key} {option}",
                        "the option's value is a literal secret (withheld here) on the command line, readable in "
                        "podman inspect and ps; pass it as a secret file or an environment variable from a secret",
                    )
                )
        for reference, _line in service.env_files:
            if reference in compose.env_file_texts:
                where, text = compose.env_file_texts[reference]
                offences.extend(env_file_secrets(where, text))
    return offences


def quadlet_secrets(units: Iterable[UnitFile]) -> list[Offence]:
    """`Environment=` (several `A=1 B="x y"` pairs a line), `PodmanArgs=--env` and `Label=` with a
    literal secret (by name, a URL with a password, a token); `Exec=`/`PodmanArgs=` options given a
    secret; and the EnvironmentFile= files when they could be read (UnitFile.environment_files).

    [Service] Environment= is judged too: its value is as readable in the file.
    The value never enters an Offence: only the name, file and line do.
    """
    offences = []
    for unit in units:
        # (entry, where it was set, NAME=value word): the value stays in here.
        assignments: list[tuple[Entry, str, str]] = []
        for entry in _entries(unit, ("Container", "Service"), "Environment"):
            assignments.extend((entry, "Environment", word) for word in _split_words(entry.value))
        for entry in _entries(unit, _PORT_SECTIONS, "PodmanArgs"):
            for option, arg in _options(entry.value):
                if option in ("--env", "-e") and arg is not None:
                    assignments.append((entry, "PodmanArgs --env", arg))
        for entry in _entries(unit, (*_PORT_SECTIONS, "Volume", "Network"), "Label"):
            assignments.extend((entry, "Label", word) for word in _split_words(entry.value))
        # Report in file order, whichever key the assignment came from.
        for entry, where, word in sorted(assignments, key=lambda found: found[0].line):
            name, equals, value = word.partition("=")
            reason = secret_value_reason(name, value) if equals else None
            if reason is None:
                continue
            secret = name.lower()
            fix = (
                f"run `podman secret create {secret} -` and replace the assignment with "
                f"Secret={secret},type=env,target={name} under [Container]"
                if where != "Label"
                else "drop the secret from the labels"
            )
            offences.append(
                _unit_offence(
                    SECRETS,
                    unit,
                    entry,
                    f"{where} {name}",
                    f"{reason}, so the secret sits in the unit file and in podman inspect; {fix}",
                )
            )
        for key in ("Exec", "PodmanArgs"):
            for entry in _entries(unit, _PORT_SECTIONS, key):
                for option in secret_options(_split_words(entry.value)):
                    offences.append(
                        _unit_offence(
                            SECRETS,
                            unit,
                            entry,
                            f"{key} {option}",
                            "the option's value is a literal secret (withheld here) on the command line, readable "
                            "in podman inspect and ps; pass it with Secret=NAME,type=mount and a --password-file",
                        )
                    )
        for reference, text in unit.environment_files.items():
            offences.extend(env_file_secrets(reference, text))
    return offences


# -- images ----------------------------------------------------------------------

_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


def image_problems(reference: str) -> list[str]:
    """What is wrong with an image reference: not fully qualified, not pinned (empty if fine)."""
    name, at, digest = reference.partition("@")
    first, slash, _rest = name.partition("/")
    problems = []
    # containers/image's rule: the first component is a registry if it has a
    # dot or a port, or is `localhost`; otherwise registries.conf decides.
    if not (slash and ("." in first or ":" in first or first == "localhost")):
        problems.append(
            f"{reference} is a short name, so the registry it is pulled from depends on the host's "
            "unqualified-search-registries (and podman auto-update refuses it)"
        )
    last = name.rsplit("/", 1)[-1]
    tag = last.partition(":")[2] if ":" in last else None
    if at:
        if not _DIGEST_RE.match(digest):
            problems.append(f"{reference} has a malformed digest (expected @sha256: and 64 hex digits)")
    elif tag is None:
        problems.append(f"{reference} has no tag, which means :latest, so a new pull can change what runs")
    elif tag == "latest":
        problems.append(f"{reference} uses :latest, so a new pull can change what runs")
    return problems


def compose_images(compose: ComposeFile) -> list[Offence]:
    """`image:` of every service that is pulled (a service with `build:` names its own result)."""
    offences = []
    for service in compose.services.values():
        image = service.image
        # `${TAG}` is only known after interpolation; judge what can be judged.
        if image is None or service.has_build or "$" in image:
            continue
        problems = image_problems(image)
        if problems:
            offences.append(
                Offence(
                    IMAGES.id,
                    *compose.locate(service.line_of("image")),
                    f"service {service.name}, image {image}",
                    "; ".join(problems),
                )
            )
    return offences


def quadlet_images(units: Iterable[UnitFile]) -> list[Offence]:
    """`Image=` of .container and .image units; `x.image`/`x.build` references are judged in those units."""
    offences = []
    for unit in units:
        for entry in _entries(unit, ("Container", "Image"), "Image"):
            image = strip_matching_quotes(entry.value)
            if not image or image.endswith((".image", ".build")):
                continue
            problems = image_problems(image)
            if problems:
                offences.append(_unit_offence(IMAGES, unit, entry, f"Image={image}", "; ".join(problems)))
    return offences


def from_registry(image: str, registry: str) -> bool:
    """The image is named under the registry (`registry.example.com/phoenix/core:1.2` under
    `registry.example.com/phoenix`)."""
    return image.startswith(registry.rstrip("/") + "/")


def compose_registry(compose: ComposeFile, registry: str) -> list[Offence]:
    """`image:` of every service (a built one too: what it is tagged as is what runs)."""
    return [
        Offence(
            REGISTRY.id,
            *compose.locate(service.line_of("image")),
            f"service {service.name}, image {service.image}",
            f"not from {registry}",
        )
        for service in compose.services.values()
        if service.image is not None and "$" not in service.image and not from_registry(service.image, registry)
    ]


def quadlet_registry(units: Iterable[UnitFile], registry: str) -> list[Offence]:
    """`Image=` of .container and .image units; `x.image`/`x.build` references are judged in those units."""
    offences = []
    for unit in units:
        for entry in _entries(unit, ("Container", "Image"), "Image"):
            image = strip_matching_quotes(entry.value)
            if image and not image.endswith((".image", ".build")) and not from_registry(image, registry):
                offences.append(_unit_offence(REGISTRY, unit, entry, f"Image={image}", f"not from {registry}"))
    return offences


# -- shared --------------------------------------------------------------------


def _unit_offence(rule: RuleInfo, unit: UnitFile, entry: Entry, subject: str, message: str) -> Offence:
    return Offence(rule.id, str(unit.path), entry.line, f"{unit.name}, {subject}", message)


def _entries(unit: UnitFile, sections: tuple[str, ...], key: str) -> list[Entry]:
    """Entries of `key` in the unit's own Quadlet section, if it is one of `sections`.

    Plain systemd sections are always included when asked for by name, so
    [Service] Environment= can be judged next to [Container].
    """
    found: list[Entry] = []
    for section in sections:
        if section == unit.main_section_name or section == "Service":
            found.extend(unit.entries_for(section, key))
    return sorted(found, key=lambda entry: entry.line)
