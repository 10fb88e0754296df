"""SELinux labels of mounts: content that must never be relabelled, and labelling turned off.

Podman relabels a mount's source for :Z/:z (podman-run(1) --volume). Its docs
warn: "Do not relabel system files and directories. Relabeling system content
might cause other confined services on the machine to fail. For these types of
containers we recommend disabling SELinux separation" (--security-opt
label=disable), with a whole home directory as the example (volume.md, 5.4.2
to 5.8.2). So :Z is advice only for the stack's own data.

Labelling is off for a container with ``--security-opt label=disable``
(Quadlet SecurityLabelDisable=true, compose ``security_opt: [label=disable]``
or ``label:disable``), and the container runs as another SELinux type with
``label=type:T`` (SecurityLabelType=): then no :Z is needed, and what there is
to say is that separation is off.
"""

from __future__ import annotations

import re

# System trees of the host (and the API sockets under /run): relabelling them breaks the host.
_SYSTEM_TREES = (
    "/etc",
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/bin",
    "/sbin",
    "/boot",
    "/proc",
    "/sys",
    "/dev",
    "/run",
    "/var/run",
)
# Folders whose own label must stay, though content below them is the user's to relabel:
# go-selinux refuses to relabel several of them outright (/, /tmp, /home, /var, ...).
_SYSTEM_FOLDERS = ("/opt", "/srv", "/var", "/tmp", "/home", "/var/lib", "/var/log")
# A whole home: %h, ~, $HOME, /root, /home/NAME (and Fedora Atomic's /var/home/NAME).
_HOME_ROOT = re.compile(r"^(?:%h|~|\$HOME|\$\{HOME\}|/root|/home/[^/]+|/var/home/[^/]+)/*$")


def system_content(source: str, home: str | None = None) -> str | None:
    """Why a mount source is content Podman's docs say never to relabel, or None: a system tree,
    a socket, the root or a whole home (``home``: the user's, when known)."""
    path = re.sub(r"/+", "/", source.strip())
    trimmed = path.rstrip("/") or "/"
    if trimmed == "/":
        return "the host's root file system"
    if _HOME_ROOT.match(path) or (home is not None and trimmed == home.rstrip("/")):
        return "a whole home directory"
    if trimmed.endswith(".sock"):
        return "a socket"
    if trimmed in _SYSTEM_FOLDERS:
        return f"a whole system folder ({trimmed})"
    for tree in _SYSTEM_TREES:
        if trimmed == tree or trimmed.startswith(tree + "/"):
            return f"system content ({tree})"
    return None


def label_option(option: str) -> str | None:
    """What a --security-opt value does to SELinux labelling: 'disable', 'type' (another
    process type) or None (labelling as usual). Both spellings, label=... and label:...."""
    name, _sep, value = option.strip().replace("label:", "label=", 1).partition("=")
    if name != "label":
        return None
    if value == "disable":
        return "disable"
    if value.startswith(("type:", "type=")):
        return "type"
    return None
