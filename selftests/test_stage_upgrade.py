"""What the upgrade rehearsal stages (refhost.stage_upgrade), read without a guest by the same
readers the upgrade checks use: the user's containers.conf through grammar.containers_conf, the
drop-ins through the Quadlet parser; and the phoenix-refhost commands that drive it."""

from __future__ import annotations

import pytest

from phoenix_compliance.grammar import containers_conf
from phoenix_compliance.quadlet import unitfile
from phoenix_compliance.refhost import cli, stage_upgrade

USER_DIR = f"{stage_upgrade.HOME}/.config/containers"


def staged_conf() -> containers_conf.ContainersConf:
    text = stage_upgrade.USER_CONF_TEXT
    lines = "\n".join(f"@@L {line}" for line in text.split("\n"))
    probe = f"@@UID 1000\n@@USERDIR {USER_DIR}\n@@FILE {len(text)} {USER_DIR}/containers.conf\n{lines}\n"
    return containers_conf.parse_probe(probe)


class TestStagedSettings:
    @pytest.mark.parametrize(
        ("table", "key", "value"),
        [
            ("engine", "database_backend", "boltdb"),
            ("network", "default_rootless_network_cmd", "slirp4netns"),
            ("network", "firewall_driver", "iptables"),
        ],
    )
    @pytest.mark.parametrize("layout", [containers_conf.MERGED, containers_conf.LAYERED], ids=["podman5", "podman6"])
    def test_the_user_containers_conf_sets_what_podman6_removed(
        self, table: str, key: str, value: str, layout: containers_conf.Layout
    ) -> None:
        setting, problems = staged_conf().effective(table, key, layout)
        assert not problems
        assert setting is not None and setting.value == value
        assert setting.path == f"{USER_DIR}/containers.conf"
        assert stage_upgrade.USER_CONF == ".config/containers/containers.conf"

    @pytest.mark.parametrize("drop_in", stage_upgrade.DROP_INS, ids=lambda d: d.unit)
    def test_each_drop_in_carries_its_key_in_the_units_main_section(self, drop_in: stage_upgrade.DropIn) -> None:
        parsed = unitfile.parse_text(drop_in.text, f"{stage_upgrade.HOME}/{drop_in.path}", kind="container")
        assert not parsed.problems
        key, _, value = drop_in.line.partition("=")
        section = parsed.section(drop_in.section)
        assert section is not None and section.values(key) == [value]
        assert drop_in.path == f".config/containers/systemd/{drop_in.unit}.d/50-podman5.conf"

    def test_the_drop_ins_stage_both_unit_blockers(self) -> None:
        lines = {d.line for d in stage_upgrade.DROP_INS}
        assert "Network=slirp4netns" in lines
        assert any(line.startswith("GlobalArgs=--network-cmd-path=") for line in lines)


class TestCommands:
    @pytest.mark.parametrize(
        ("argv", "command"),
        [
            (["--name", "reh-trixie", "stage"], "stage"),
            (["--name", "reh-trixie", "move", "--to", "reh-p6"], "move"),
            (["reboot-user", "--name", "reh-p6"], "reboot-user"),
        ],
    )
    def test_the_rehearsal_commands_parse(self, argv: list[str], command: str) -> None:
        args = cli._parser().parse_args(argv)
        assert args.command == command
        assert args.name in ("reh-trixie", "reh-p6")

    def test_move_needs_a_target(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit):
            cli._parser().parse_args(["move"])
        assert "--to" in capsys.readouterr().err

    def test_up_takes_a_private_network(self) -> None:
        args = cli._parser().parse_args(["up", "--name", "reh-trixie", "--private-network"])
        assert args.private_network is True

    def test_a_fleet_refuses_private_network(self) -> None:
        assert cli.main(["up", "--count", "2", "--private-network"]) == 1
