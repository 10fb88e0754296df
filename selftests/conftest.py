from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from suite_runner import Guest

REPO = Path(__file__).resolve().parent.parent
STACK = REPO / "fixtures" / "stacks" / "phoenix-hydra.yaml"
PLAIN_USER = "phx-plain"


# Every release the reference host is built from; the host-bound selftests run on each.
REFHOST_RELEASES = ("trixie", "forky", "podman6")


@pytest.fixture(scope="session", params=REFHOST_RELEASES)
def refhost_guest(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Guest:
    """The reference guest of a release, booted (and its base built) if it is not up, with
    an ssh config reaching it as ssh://refhost."""
    from phoenix_compliance import refhost
    from phoenix_compliance.refhost import paths

    release = str(request.param)
    name = paths.RELEASES[release].guest
    if not refhost.is_up(name):
        refhost.up(release_name=release)
    config = refhost.write_ssh_config(tmp_path_factory.mktemp(f"refhost-{release}") / "ssh_config", name, "refhost")
    return Guest(name, release, config)


@pytest.fixture(scope="session", params=REFHOST_RELEASES)
def refhost_guest_name(request: pytest.FixtureRequest) -> str:
    """The name of the reference guest of a release, booted (and its base built) if it is not
    up: for selftests that only run commands inside it (the Quadlet differential)."""
    from phoenix_compliance import refhost
    from phoenix_compliance.refhost import paths

    release = str(request.param)
    name = paths.RELEASES[release].guest
    if not refhost.is_up(name):
        refhost.up(release_name=release)
    return name


@pytest.fixture(scope="session")
def refhost_ssh_config(refhost_guest: Guest) -> Path:
    """An ssh config reaching the reference guest as ssh://refhost."""
    return refhost_guest.ssh_config


@pytest.fixture(scope="session")
def plain_user() -> str:
    """An ordinary account on this machine, which has stock Podman 4.3: an unmigrated host."""
    if subprocess.run(["id", PLAIN_USER], capture_output=True, check=False).returncode != 0:
        if os.geteuid() != 0:
            pytest.fail(f"create the account {PLAIN_USER} (useradd -m {PLAIN_USER}) or run as root")
        subprocess.run(["useradd", "-m", PLAIN_USER], check=True, timeout=30)
    if shutil.which("podman") is None:
        pytest.fail("podman is not installed on this machine: apt-get install -y podman")
    return PLAIN_USER
