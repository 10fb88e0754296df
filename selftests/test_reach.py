"""How a host is reached besides its commands, chosen once from its testinfra backend."""

from __future__ import annotations

import os
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


FAKE_SSH = """#!/bin/sh
# A stand-in ssh: a master (-N with ControlMaster=yes) makes its control socket and waits;
# -O forward makes the local socket; a host named down refuses like a closed port.
printf '%s\\n' "$*" >>"$FAKE_SSH_LOG"
control= local= op= master=
while [ $# -gt 0 ]; do
  case "$1" in
    -o) case "$2" in ControlPath=*) control=${2#ControlPath=} ;; ControlMaster=yes) master=1 ;; esac; shift ;;
    -O) op=$2; shift ;;
    -L) local=${2%%:*}; shift ;;
    down) echo "ssh: connect to host down port 22: Connection refused" >&2; exit 255 ;;
  esac
  shift
done
if [ -n "$op" ]; then [ "$op" = forward ] && : >"$local"; exit 0; fi
if [ -n "$master" ]; then : >"$control"; exec sleep 30; fi
exit 1
"""


class TestOneConnection:
    """An ssh host costs one login per run: a master of the run's own, which testinfra's
    commands (its ControlPath pointed at it) and the API socket's forward share."""

    def fake_ssh(self, tmp_path: Path, monkeypatch: Any) -> Path:
        tool = tmp_path / "bin" / "ssh"
        tool.parent.mkdir()
        tool.write_text(FAKE_SSH)
        tool.chmod(0o755)
        log = tmp_path / "ssh.log"
        monkeypatch.setenv("PATH", f"{tool.parent}:{os.environ['PATH']}")
        monkeypatch.setenv("FAKE_SSH_LOG", str(log))
        return log

    def ssh_backend(self, host: str = "web1", **extra: Any) -> SimpleNamespace:
        settings: dict[str, Any] = {
            "controlpersist": 60,
            "controlpath": None,
            "ssh_extra_args": None,
            "ssh_identity_file": None,
        }
        settings.update(extra)
        found = backend("ssh", host, None, **settings)
        found.host.user, found.host.port, found.host.password = "ops", None, None
        return found

    def test_the_commands_and_the_api_share_the_run_s_master(self, tmp_path: Path, monkeypatch: Any) -> None:
        log = self.fake_ssh(tmp_path, monkeypatch)
        host = self.ssh_backend()
        reach = SshReach(host)
        assert reach.connect(10) is None
        control = Path(host.controlpath)
        assert control.exists()
        client = reach.open_api(SOCKET, "ssh://web1", timeout=1, wait=5)
        assert isinstance(client, podman_api.PodmanApi)
        assert client.socket_path.parent == control.parent
        assert client.where == f"API socket {SOCKET} on ssh://web1, through an ssh-forwarded socket"
        master, forward = log.read_text().splitlines()
        assert "-N" in master.split() and "ControlPersist=no" in master
        assert f"-O forward -L {client.socket_path}:{SOCKET} web1" in forward and f"ControlPath={control}" in forward
        client.close()
        reach.close()
        assert host.controlpath is None and not control.parent.exists()

    def test_a_host_that_refuses_the_connection_is_unreachable_before_any_command(
        self, tmp_path: Path, monkeypatch: Any
    ) -> None:
        from phoenix_compliance.transport.runner import HostRunner, HostUnreachable

        self.fake_ssh(tmp_path, monkeypatch)
        reach = SshReach(self.ssh_backend("down"))
        ran: list[str] = []
        host = SimpleNamespace(backend=None, run=lambda command, *a, **k: ran.append(command))
        runner = HostRunner(host, "ssh://down", None, timeout=5)
        runner.connect = lambda: reach.connect(5)
        try:
            runner.run_script("probe_base.sh", "", {})
        except HostUnreachable as exc:
            assert exc.reason == "ssh: connect to host down port 22: Connection refused"
        else:
            raise AssertionError("expected HostUnreachable")
        # Tried once (counted), nothing sent.
        assert ran == [] and runner.commands_run == 1

    def test_without_testinfra_s_sharing_the_forward_is_a_connection_of_its_own(self) -> None:
        # Turned off, taken over by --ssh-extra-args, or a password login: no master of the run's.
        for settings in (
            {"controlpersist": 0},
            {"ssh_extra_args": "-o ControlMaster=no"},
            {"ssh_extra_args": "-o ControlPath=/tmp/mine"},
        ):
            reach = SshReach(self.ssh_backend(**settings))
            assert reach.connect(10) is None and reach.backend.controlpath is None
        with_password = self.ssh_backend()
        with_password.host.password = "secret"
        assert SshReach(with_password).connect(10) is None and with_password.controlpath is None
