"""How a host is reached besides its commands, chosen once from its testinfra backend."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from phoenix_compliance.transport import podman_api
from phoenix_compliance.transport.reach import CommandsOnlyReach, LocalReach, SshReach, reach_for

SOCKET = "/run/user/1000/podman/podman.sock"


def backend(name: str, host: str = "web1", ssh_config: str | None = None, **extra: Any) -> SimpleNamespace:
    return SimpleNamespace(NAME=name, host=SimpleNamespace(name=host), ssh_config=ssh_config, **extra)


class TestReachFor:
    def test_a_local_host_is_reached_directly(self) -> None:
        reach = reach_for(backend("local"))
        assert isinstance(reach, LocalReach)
        client = reach.open_api(SOCKET, "local://", timeout=1, wait=1)
        assert isinstance(client, podman_api.PodmanApi)
        assert (client.socket_path, client.where) == (Path(SOCKET), f"API socket {SOCKET} on local://")
        client.close()

    def test_ssh_and_safe_ssh_hosts_through_ssh(self) -> None:
        assert isinstance(reach_for(backend("ssh")), SshReach)
        assert isinstance(reach_for(backend("safe-ssh")), SshReach)

    def test_any_other_backend_runs_commands_only(self) -> None:
        reach = reach_for(backend("paramiko"))
        assert isinstance(reach, CommandsOnlyReach)
        unavailable = reach.open_api(SOCKET, "paramiko://web1", timeout=1, wait=1)
        assert str(unavailable) == "the paramiko backend cannot forward a unix socket; use ssh://"

    def test_an_ansible_host_is_reached_by_the_backend_its_inventory_names(self) -> None:
        inner = backend("ssh")
        runner = SimpleNamespace(get_host=lambda host, **_: SimpleNamespace(backend=inner))
        outer = backend("ansible", ansible_runner=runner, force_ansible=False, ssh_identity_file=None)
        reach = reach_for(outer)
        assert isinstance(reach, SshReach) and reach.backend is inner

    def test_a_forced_ansible_host_stays_commands_only(self) -> None:
        reach = reach_for(backend("ansible", force_ansible=True))
        assert isinstance(reach, CommandsOnlyReach)
