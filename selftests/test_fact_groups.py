"""The probe group on its own: one run per host, its failure remembered, its
sections looked up by the names the script declares."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from phoenix_compliance.facts import probes
from phoenix_compliance.facts.groups import ProbeGroup
from phoenix_compliance.transport.runner import HostUnreachable, Section

PROBE = probes.Probe("probe_stack.sh", ("first", "second"))


class Runner:
    """Answers run_script with fixed sections, or raises the failure it was given."""

    def __init__(self, sections: dict[str, Section] | None = None, failure: str | None = None) -> None:
        self.sections = sections or {}
        self.failure = failure
        self.host_id = "ssh://web1"
        self.timeout = 30.0
        self.commands_run = 0
        self.runs: list[tuple[str, dict[str, str]]] = []

    def run_script(self, name: str, body: str, env: dict[str, str]) -> dict[str, Section]:
        self.commands_run += 1
        self.runs.append((name, env))
        if self.failure is not None:
            raise HostUnreachable(self.host_id, self.failure)
        return dict(self.sections)


def group(runner: Runner, after: ProbeGroup | None = None) -> ProbeGroup:
    return ProbeGroup(runner, PROBE, {"PHX_X": "1"}, after)  # type: ignore[arg-type]


class TestProbeGroup:
    def test_the_script_runs_once_for_every_lookup(self) -> None:
        runner = Runner({"first": Section("first", 0, "one", "")})
        probed = group(runner)
        assert not probed.probed
        assert probed.section("first").out == "one"
        assert probed.section("first").out == "one"
        assert probed.section("second").rc == 127
        assert runner.runs == [("probe_stack.sh", {"PHX_X": "1"})]
        assert probed.probed

    def test_a_declared_section_the_script_did_not_print_reads_as_missing(self) -> None:
        assert group(Runner()).section("second") == Section("second", 127, "", "probe section missing")

    def test_an_undeclared_name_is_the_suites_bug(self) -> None:
        runner = Runner({"third": Section("third", 0, "", "")})
        with pytest.raises(KeyError, match=r"probe_stack.sh declares no section 'third' \(it declares first, second\)"):
            group(runner).section("third")

    def test_an_unreachable_host_is_remembered_not_probed_again(self) -> None:
        runner = Runner(failure="Connection refused")
        probed = group(runner)
        for _ in range(3):
            with pytest.raises(HostUnreachable, match="ssh://web1 unreachable: Connection refused"):
                probed.section("first")
        assert runner.commands_run == 1
        assert probed.failure is not None and probed.failure.reason == "Connection refused"
        assert not probed.probed

    def test_a_group_runs_after_the_one_it_depends_on_and_shares_its_failure(self) -> None:
        runner = Runner(failure="no answer within 30s (probe probe_base.sh)")
        base = group(runner)
        later = group(runner, after=base)
        for _ in range(2):
            with pytest.raises(HostUnreachable):
                later.section("first")
        assert runner.commands_run == 1  # the base probe, once; the later one never ran
        assert later.failure is None and base.failure is not None


SCRIPTS = resources.files("phoenix_compliance.facts.probes")


@pytest.mark.parametrize(
    "probe", [probes.BASE, probes.STACK, probes.SECURITY, probes.QUADLET, probes.RESTART], ids=lambda p: p.script
)
def test_each_script_prints_the_sections_it_declares(probe: probes.Probe) -> None:
    text = SCRIPTS.joinpath(probe.script).read_text("utf-8")
    printed = re.findall(r"^\s*section (\w+) ", text, re.MULTILINE)
    assert tuple(dict.fromkeys(printed)) == probe.sections  # a section may sit in both arms of an if


def test_the_endpoint_probe_declares_one_section_per_url() -> None:
    assert probes.http(3).sections == ("http_0", "http_1", "http_2")
    assert 'section "http_$index"' in SCRIPTS.joinpath("probe_http.sh").read_text("utf-8")
