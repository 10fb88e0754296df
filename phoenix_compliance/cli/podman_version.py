"""The Podman release lint and convert write for: given (--podman-version), else the installed
podman's if it has Quadlet, else the newest release the tables know."""

from __future__ import annotations

import argparse
import re
import subprocess

from phoenix_compliance.quadlet_lint import NEWEST_KNOWN_VERSION, QUADLET_SINCE, Version, format_version, parse_version

# `podman version` talks to nothing, but a wedged storage lock can still hang it.
PODMAN_VERSION_TIMEOUT = 15.0


def version_argument(text: str) -> Version:
    if not re.fullmatch(r"\d+\.\d+(\.\d+)?", text):
        raise argparse.ArgumentTypeError(f"expected X.Y or X.Y.Z, got {text!r}")
    return parse_version(text)


def installed_podman_version(timeout: float = PODMAN_VERSION_TIMEOUT) -> Version | None:
    """The local podman's client version, or None when there is no usable podman."""
    try:
        done = subprocess.run(
            ["podman", "version", "--format", "{{.Client.Version}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    try:
        return parse_version(done.stdout.strip())
    except ValueError:
        return None


def default_podman_version() -> tuple[Version, str]:
    """The version to judge against when none is given, and where it came from."""
    installed = installed_podman_version()
    newest = format_version(NEWEST_KNOWN_VERSION)
    if installed is None:
        return NEWEST_KNOWN_VERSION, f"the newest known release {newest} (no usable podman here)"
    if installed < QUADLET_SINCE:
        return NEWEST_KNOWN_VERSION, (
            f"the newest known release {newest} (the installed podman {format_version(installed)} has no Quadlet)"
        )
    return installed, "the installed podman"
