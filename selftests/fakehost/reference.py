"""The reference host as the fakes serve it: who and where (user, paths, the stack's services and
pod), what its programs printed (captured/trixie/, read here), and the stack's files from fixtures/."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from phoenix_compliance.parsers import manifest
from phoenix_compliance.quadlet.names import default_service_name
from phoenix_compliance.quadlet.unitfile import parse_text
from phoenix_compliance.transport import podman_api

REPO = Path(__file__).resolve().parent.parent.parent
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

# What the trixie reference guest's programs print, kept as files (captured/trixie/), served as
# they are: its os-release, `podman version --format json` without a remote connection, a rootless
# user's `podman info --format json` trimmed to the parts the checks read and their neighbours, and
# the probe's tools loop (every name, found or not, then the helpers kept outside PATH).
CAPTURED = Path(__file__).resolve().parent / "captured" / "trixie"
OS_RELEASE = (CAPTURED / "os_release").read_text(encoding="utf-8")
PODMAN_VERSION: dict[str, Any] = json.loads((CAPTURED / "podman_version.json").read_text(encoding="utf-8"))
PODMAN_INFO: dict[str, Any] = json.loads((CAPTURED / "podman_info.json").read_text(encoding="utf-8"))
TOOLS = (CAPTURED / "tools").read_text(encoding="utf-8")
# The upgrade probe's containers_conf section as the trixie guest's user phoenix printed it.
CONTAINERS_CONF = (CAPTURED / "containers_conf").read_text(encoding="utf-8")

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
    return podman_api.ApiFacts(API_WHERE, "OK", None, True, None)


def units_show(with_group: bool = False) -> str:
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


# The user's generator folder and what systemd-analyze verify is given from it: the stack's
# generated services, modelled on what Podman 5.4.2's generator writes for the stack's files
# (its own [Unit] and [Service] lines around the file's [Unit], [Service] and [Install] lines,
# copied in order), and trixie's systemctl --version.
GENERATOR_DIR = f"/run/user/{UID}/systemd/generator"
SYSTEMD_VERSION = (
    "systemd 257 (257.9-1~deb13u1)\n+PAM +AUDIT +SELINUX +APPARMOR +IMA +IPE +SMACK +SECCOMP +GCRYPT -GNUTLS"
    " +OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN +IPTC +KMOD +LIBCRYPTSETUP +LIBCRYPTSETUP_PLUGINS"
    " +LIBFDISK +PCRE2 +PWQUALITY +P11KIT +QRENCODE +TPM2 +BZIP2 +LZ4 +XZ +ZLIB +ZSTD +BPF_FRAMEWORK"
    " +BTF -XKBCOMMON -UTMP +SYSVINIT +LIBARCHIVE"
)


# phoenix-core.service as the trixie guest's generator (Podman 5.4.2) wrote it for the reference
# phoenix-core.container; systemd-analyze verify (257) said nothing of it.
GENERATED_CORE = (CAPTURED / "generator" / "phoenix-core.service").read_text(encoding="utf-8").splitlines()


def generated_text(name: str, text: str) -> list[str]:
    """The service the generator writes for one Quadlet file, line by line: phoenix-core's as
    captured, with the file's own [Unit], [Service] and [Install] lines in place of the reference
    ones; the others modelled on it."""
    unit = parse_text(text, f"{QUADLET_DIR}/{name}")

    def copied(section: str) -> list[str]:
        found = unit.section(section)
        return [f"{entry.key}={entry.value}" for entry in found.entries] if found else []

    if name == "phoenix-core.container":
        return _with_lines_of(GENERATED_CORE, copied)

    stem = name.rsplit(".", 1)[0]
    return [
        "# Automatically generated by /usr/libexec/podman/quadlet",
        "#",
        "[Unit]",
        "Wants=podman-user-wait-network-online.service",
        "After=podman-user-wait-network-online.service",
        *copied("Unit"),
        f"SourcePath={QUADLET_DIR}/{name}",
        "RequiresMountsFor=%t/containers",
        "",
        "[Service]",
        *copied("Service"),
        "Environment=PODMAN_SYSTEMD_UNIT=%n",
        "KillMode=mixed",
        f"ExecStop=/usr/bin/podman rm -v -f -i {stem}",
        "Delegate=yes",
        "Type=notify",
        "NotifyAccess=all",
        "SyslogIdentifier=%N",
        f"ExecStart=/usr/bin/podman run --name {stem} --cidfile=%t/%N.cid --replace --rm -d {IMAGE}",
        "",
        "[Install]",
        *copied("Install"),
    ]


def _with_lines_of(captured: list[str], copied: Callable[[str], list[str]]) -> list[str]:
    """The captured service with each systemd section's copied lines (those the reference file
    wrote: after the generator's own first lines of [Unit], first in [Service], all of [Install])
    replaced by `copied(section)`."""
    unit_start = captured.index("After=podman-user-wait-network-online.service") + 1
    unit_end = next(i for i, line in enumerate(captured) if line.startswith("SourcePath="))
    service_start = captured.index("[Service]") + 1
    service_end = next(i for i, line in enumerate(captured) if line.startswith("Environment=PODMAN_SYSTEMD_UNIT="))
    install_start = captured.index("[Install]") + 1
    return [
        *captured[:unit_start],
        *copied("Unit"),
        *captured[unit_end:service_start],
        *copied("Service"),
        *captured[service_end:install_start],
        *copied("Install"),
    ]


def verify_output(files: dict[str, str], said: tuple[str, ...] = ()) -> str:
    """The systemd_verify section's output: the folder, each generated service's lines, then
    what systemd-analyze verify said (`said`, paths as it prints them: in the folder)."""
    out = [f"@@DIR {GENERATOR_DIR}"]
    for name, text in sorted(files.items()):
        service = default_service_name(name)
        if service is None or "/" in name:
            continue
        out.append(f"@@FILE {service}")
        out.extend(f"@@L {line}" for line in generated_text(name, text))
    out.extend(f"@@V {line}" for line in said)
    return "\n".join(out)
