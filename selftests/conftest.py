from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STACK = REPO / "fixtures" / "stacks" / "phoenix-hydra.yaml"
PLAIN_USER = "phx-plain"


@pytest.fixture(scope="session")
def refhost_ssh_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The reference host, booted if it is not up, and an ssh config reaching it."""
    from phoenix_compliance import refhost

    if not refhost.is_up():
        refhost.up()
    path = refhost.write_ssh_config(tmp_path_factory.mktemp("refhost") / "ssh_config")
    yield path


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
