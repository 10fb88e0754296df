"""grammar/containers_conf.py on its own: the files in Podman 5's and Podman 6's order, the value a
key ends with and its file:line, and what it does with bad TOML, huge files and control characters."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phoenix_compliance.grammar import containers_conf as cc

HOME = "/home/ops/.config/containers"
CAPTURED = Path(__file__).resolve().parent / "fakehost" / "captured" / "trixie" / "containers_conf"


def probe(*files: tuple[str, str], uid: int = 1000, conf: str = "", override: str = "", size: int = 0) -> str:
    """The upgrade probe's section for these (path, text) files."""
    out = [f"@@UID {uid}", f"@@ENV CONTAINERS_CONF={conf}", f"@@ENV CONTAINERS_CONF_OVERRIDE={override}"]
    out.append(f"@@USERDIR {HOME}")
    for path, text in files:
        out.append(f"@@FILE {size or len(text.encode())} {path}")
        out += [f"@@L {line}" for line in text.split("\n")]
        out.append("")
    return "\n".join(out)


def driver(value: str) -> str:
    return f'[network]\nfirewall_driver = "{value}"'


SHARE, ETC = "/usr/share/containers/containers.conf", "/etc/containers/containers.conf"


class TestOrder:
    def test_podman5_merges_every_main_file_then_drop_ins(self) -> None:
        conf = cc.parse_probe(
            probe(
                (f"{HOME}/containers.conf", driver("nftables")),
                (SHARE, driver("iptables")),
                (f"{ETC}.d/10-a.conf", driver("iptables")),
                (ETC, ""),
                (f"{HOME}/containers.conf.d/01-z.conf", driver("none")),
                # Podman 5 does not read /usr/share's drop-ins nor the rootless folders.
                ("/usr/share/containers/containers.conf.d/99.conf", driver("iptables")),
                ("/etc/containers/containers.rootless.conf.d/99.conf", driver("iptables")),
            )
        )
        assert conf.order(cc.MERGED) == [
            SHARE,
            ETC,
            f"{ETC}.d/10-a.conf",
            f"{HOME}/containers.conf",
            f"{HOME}/containers.conf.d/01-z.conf",
        ]
        found, problems = conf.effective("network", "firewall_driver", cc.MERGED)
        assert found is not None and (found.value, found.where, problems) == (
            "none",
            f"{HOME}/containers.conf.d/01-z.conf:2",
            [],
        )

    def test_podman6_reads_the_first_main_file_and_drop_ins_by_name(self) -> None:
        conf = cc.parse_probe(
            probe(
                (SHARE, driver("iptables")),
                (ETC, driver("nftables")),
                ("/usr/share/containers/containers.conf.d/50-x.conf", driver("iptables")),
                # The same name in a later folder replaces the earlier file.
                ("/etc/containers/containers.conf.d/50-x.conf", "# nothing"),
                ("/etc/containers/containers.rootless.conf.d/1000/60-u.conf", driver("iptables")),
                ("/etc/containers/containers.rootless.conf.d/1001/70-other.conf", driver("nftables")),
                ("/etc/containers/containers.rootful.conf.d/80-root.conf", driver("nftables")),
                (f"{HOME}/containers.conf.d/10-first.conf", driver("nftables")),
            )
        )
        assert conf.order(cc.LAYERED) == [
            ETC,
            f"{HOME}/containers.conf.d/10-first.conf",
            "/etc/containers/containers.conf.d/50-x.conf",
            "/etc/containers/containers.rootless.conf.d/1000/60-u.conf",
        ]
        found, _ = conf.effective("network", "firewall_driver", cc.LAYERED)
        assert found is not None and found.where == "/etc/containers/containers.rootless.conf.d/1000/60-u.conf:2"

    def test_root_reads_the_rootful_folder(self) -> None:
        conf = cc.parse_probe(probe(("/etc/containers/containers.rootful.conf.d/80-root.conf", driver("x")), uid=0))
        assert conf.order(cc.LAYERED) == ["/etc/containers/containers.rootful.conf.d/80-root.conf"]

    @pytest.mark.parametrize("layout", [cc.MERGED, cc.LAYERED])
    def test_containers_conf_alone_then_the_override(self, layout: cc.Layout) -> None:
        conf = cc.parse_probe(
            probe(
                (ETC, driver("iptables")),
                ("/srv/only.conf", driver("nftables")),
                ("/srv/last.conf", "[engine]\nx = 1"),
                conf="/srv/only.conf",
                override="/srv/last.conf",
            )
        )
        assert conf.order(layout) == ["/srv/only.conf", "/srv/last.conf"]

    def test_the_layout_follows_the_release(self) -> None:
        assert cc.layout_of((5, 8, 6)) == cc.MERGED
        assert cc.layout_of((6, 0, 0)) == cc.LAYERED
        assert cc.layout_of(None) == cc.MERGED

    def test_the_captured_trixie_files(self) -> None:
        conf = cc.parse_probe(CAPTURED.read_text(encoding="utf-8"))
        found, problems = conf.effective("containers", "pids_limit", cc.MERGED)
        assert found is not None and found.where.endswith("50-reference-host.conf:8") and problems == []


class TestLines:
    def test_dotted_and_quoted_keys_are_found(self) -> None:
        conf = cc.parse_probe(probe((ETC, '# a\nnetwork.firewall_driver = "iptables"\n[engine]\n"x" = 1')))
        found, _ = conf.effective("network", "firewall_driver", cc.MERGED)
        assert found is not None and found.line == 2
        assert conf.settings("engine", "x", cc.MERGED)[0].line == 4


class TestHostileFiles:
    def test_bad_toml_names_the_file_and_line(self) -> None:
        conf = cc.parse_probe(probe((ETC, "[network]\n\nfirewall_driver = iptables")))
        found, problems = conf.effective("network", "firewall_driver", cc.MERGED)
        assert found is None and [(p.path, p.line, p.fatal) for p in problems] == [(ETC, 3, True)]
        assert str(problems[0]).startswith(f"{ETC}:3: not valid TOML (Invalid value)")

    def test_a_huge_file_is_not_judged(self) -> None:
        conf = cc.parse_probe(probe((ETC, driver("iptables")), size=cc.MAX_BYTES + 1))
        found, problems = conf.effective("network", "firewall_driver", cc.MERGED)
        assert found is None and [p.fatal for p in problems] == [False]

    def test_too_many_files_is_said(self) -> None:
        conf = cc.parse_probe(probe((ETC, driver("nftables"))) + "\n@@MORE")
        _found, problems = conf.effective("network", "firewall_driver", cc.MERGED)
        assert [p.fatal for p in problems] == [False]

    def test_an_unreadable_file_is_a_problem(self) -> None:
        conf = cc.parse_probe(probe() + f"\n@@UNREADABLE {ETC}")
        _found, problems = conf.effective("network", "firewall_driver", cc.MERGED)
        assert [(p.path, p.fatal) for p in problems] == [(ETC, True)]

    def test_control_characters_are_a_bad_line_and_shown_escaped(self) -> None:
        conf = cc.parse_probe(probe((ETC, '[network]\nfirewall_driver = "ipt\x1bables"')))
        found, problems = conf.effective("network", "firewall_driver", cc.MERGED)
        assert found is None and problems[0].line == 2
        assert "\x1b" not in str(problems[0])
        assert cc.shown("a\x1b[31mb\x00") == "a\\x1b[31mb\\x00"

    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=400))
    def test_any_probe_output_parses_without_raising(self, text: str) -> None:
        conf = cc.parse_probe("@@UID 1\n@@FILE 10 /etc/containers/containers.conf\n" + text)
        for layout in (cc.MERGED, cc.LAYERED):
            conf.effective("network", "firewall_driver", layout)
