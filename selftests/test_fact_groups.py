"""The probe group on its own: one run per host, its failure remembered, its
sections looked up by the names the script declares."""

from __future__ import annotations

import dataclasses
import re
import threading
import time
from importlib import resources
from typing import Any

import pytest

from phoenix_compliance.facts import probes
from phoenix_compliance.facts.groups import CouldNotCheck, ProbeGroup
from phoenix_compliance.transport.runner import HostRunner, HostUnreachable, Section

PROBE = probes.Probe(
    "probe_stack.sh",
    {"first": probes.ZERO, "second": probes.PATH, "third": probes.Expect(empty_ok=True)},
)


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
        assert probed.raw("second").rc == 127
        assert runner.runs == [("probe_stack.sh", {"PHX_X": "1"})]
        assert probed.probed

    def test_a_declared_section_the_script_did_not_print_could_not_be_checked(self) -> None:
        assert group(Runner()).raw("second") == Section("second", 127, "", "probe section missing")
        with pytest.raises(CouldNotCheck, match=r"second \(probe_stack.sh on ssh://web1\): the probe script did not"):
            group(Runner()).section("second")

    def test_an_undeclared_name_is_the_suites_bug(self) -> None:
        runner = Runner({"fourth": Section("fourth", 0, "", "")})
        with pytest.raises(
            KeyError, match=r"probe_stack.sh declares no section 'fourth' \(it declares first, second, third\)"
        ):
            group(runner).section("fourth")

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
        assert later.failure is base.failure is not None  # remembered by both

    def test_every_group_remembers_its_own_failure(self) -> None:
        runner = Runner({"first": Section("first", 0, "one", "")})
        base = group(runner)
        quadlet = ProbeGroup(runner, probes.Probe("probe_quadlet.sh", {"first": probes.ZERO}), {}, after=base)  # type: ignore[arg-type]
        base.section("first")
        runner.failure = "no answer within 30s (probe probe_quadlet.sh)"
        for _ in range(20):
            with pytest.raises(HostUnreachable):
                quadlet.section("first")
        assert [name for name, _ in runner.runs] == ["probe_stack.sh", "probe_quadlet.sh"]


def answered(name: str, rc: int, out: str = "", err: str = "") -> ProbeGroup:
    return group(Runner({name: Section(name, rc, out, err)}))


class TestExpectedAnswers:
    """A section is handed out only when it is an answer its declaration expects (run_expect)."""

    @pytest.mark.parametrize(
        ("rc", "err", "reason"),
        [
            (124, "", "timed out; expected exit 0"),
            (127, "timeout: failed to run command 'x': No such file", "command not found (timeout: failed to run"),
            (1, "boom", "exit 1: boom; expected exit 0"),
        ],
    )
    def test_an_exit_code_it_does_not_declare_could_not_be_checked(self, rc: int, err: str, reason: str) -> None:
        with pytest.raises(CouldNotCheck, match=re.escape(reason)):
            answered("first", rc, "", err).section("first")

    def test_an_exit_code_it_declares_is_an_answer(self) -> None:
        assert answered("second", 1, "", "stat: No such file").section("second").rc == 1

    def test_exit_0_without_output_could_not_be_checked_unless_declared(self) -> None:
        with pytest.raises(CouldNotCheck, match="exit 0 but no output"):
            answered("first", 0, "  \n").section("first")
        assert answered("third", 0, "").section("third").out == ""

    def test_a_timeout_is_never_an_answer(self) -> None:
        every = (probes.BASE, probes.STACK, probes.SECURITY, probes.QUADLET, probes.RESTART, probes.http(2))
        for probe in every:
            for name, expect in probe.expect.items():
                assert 124 not in expect.codes, f"{probe.script} {name}"


SCRIPTS = resources.files("phoenix_compliance.facts.probes")
# The ways a script prints a section (probe_common.sh; switch_sections prints two, probe_quadlet.sh).
PRINTS = re.compile(
    r"^\s*(?:section|shell_section|file_section|text_section|error_section) (\w+) |^\s*switch_sections (\w+) (\w+)",
    re.MULTILINE,
)


@pytest.mark.parametrize(
    "probe", [probes.BASE, probes.STACK, probes.SECURITY, probes.QUADLET, probes.RESTART], ids=lambda p: p.script
)
def test_each_script_prints_the_sections_it_declares(probe: probes.Probe) -> None:
    text = SCRIPTS.joinpath(probe.script).read_text("utf-8")
    printed = [name for found in PRINTS.findall(text) for name in found if name]
    assert tuple(dict.fromkeys(printed)) == probe.sections  # a section may sit in both arms of an if


def test_the_named_files_probe_declares_one_section_per_file() -> None:
    assert probes.files(2).sections == ("file_0", "file_1")
    assert 'section "file_$index"' in SCRIPTS.joinpath("probe_files.sh").read_text("utf-8")


def test_the_endpoint_probe_declares_one_section_per_url() -> None:
    assert probes.http(3).sections == ("http_0", "http_1", "http_2")
    assert 'section "http_$index"' in SCRIPTS.joinpath("probe_http.sh").read_text("utf-8")


class TestBoundedWait:
    """A transport that never answers (a frozen host keeps its connection open) costs one
    wait bound for the whole host, and its thread never holds up the process's exit."""

    def test_a_silent_host_is_unreachable_once_and_never_waited_for_again(self) -> None:
        released = threading.Event()

        class Frozen:
            backend = None
            calls = 0

            def run(self, command: str, *args: str, **kwargs: Any) -> Any:
                Frozen.calls += 1
                released.wait(30)
                raise RuntimeError("thawed")

        runner = HostRunner(Frozen(), "ssh://web1", None, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(HostUnreachable, match=r"no answer within 0.3s \(probe probe_base.sh\)"):
            runner.run_script("probe_base.sh", "", {})
        with pytest.raises(HostUnreachable, match=r"no answer within 0\.3s"):
            runner.run_script("probe_security.sh", "", {})
        assert time.monotonic() - started < 2
        assert Frozen.calls == 1 and runner.commands_run == 1
        waiting = [t for t in threading.enumerate() if t.name == "probe probe_base.sh on ssh://web1"]
        assert waiting and all(t.daemon for t in waiting)
        released.set()


class TestRunTogether:
    """The probe groups a run reads go to the host as ONE command (one channel, one shell), each
    script in a subshell with its own variables, and each group gets back its own sections."""

    class LocalShell:
        """Runs the command with this machine's sh, as testinfra's local backend would."""

        backend = None

        def __init__(self) -> None:
            self.commands: list[str] = []

        def run(self, command: str, *args: str, **kwargs: Any) -> Any:
            import subprocess

            self.commands.append(command)
            done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30, check=False)
            return type("Result", (), {"rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr})()

    def test_two_scripts_in_one_command_keep_their_variables_and_sections(self) -> None:
        from phoenix_compliance.facts.groups import run_together

        shell = self.LocalShell()
        runner = HostRunner(shell, "local://", None, timeout=10)
        one = probes.Probe("probe_one.sh", {"alpha": probes.ZERO, "empty": probes.Expect(empty_ok=True)})
        two = probes.Probe("probe_two.sh", {"beta": probes.ZERO})
        first = ProbeGroup(runner, one, {"PHX_V": "first value"})
        second = ProbeGroup(runner, two, {"PHX_V": "it's second"}, after=first)
        bodies = {
            "probe_one.sh": 'section alpha sh -c \'printf "%s" "$PHX_V"\'\nsection empty true\nmine=1\n',
            "probe_two.sh": 'section beta sh -c \'printf "%s|%s" "$PHX_V" "${mine:-unset}"\'\n',
        }
        for group in (first, second):
            group.probe = _Scripted(group.probe.script, group.probe.expect, bodies[group.probe.script])
        run_together([first, second])
        assert len(shell.commands) == 1 and runner.commands_run == 1
        assert first.section("alpha").out == "first value"
        assert first.section("empty") == Section("empty", 0, "", "")
        # The second script sees its own value, not the first's variables.
        assert second.section("beta").out == "it's second|unset"
        assert "beta" not in first.sections() and "alpha" not in second.sections()

    def test_an_unreachable_host_fails_every_group_of_the_command(self) -> None:
        from phoenix_compliance.facts.groups import run_together

        class Down:
            backend = None

            def run(self, command: str, *args: str, **kwargs: Any) -> Any:
                raise RuntimeError("ssh: connect to host web1 port 22: Connection refused")

        runner = HostRunner(Down(), "ssh://web1", None, timeout=5)
        groups = [ProbeGroup(runner, probes.BASE, {}), ProbeGroup(runner, probes.SECURITY, {})]
        with pytest.raises(HostUnreachable, match="Connection refused"):
            run_together(groups)
        for group in groups:
            with pytest.raises(HostUnreachable, match="Connection refused"):
                group.sections()
        assert runner.commands_run == 1

    def test_the_probes_a_run_batches_declare_distinct_sections(self) -> None:
        declared = [
            name
            for probe in (probes.BASE, probes.stack(2), probes.QUADLET, probes.SECURITY, probes.http(3))
            for name in probe.sections
        ]
        assert len(declared) == len(set(declared))


@dataclasses.dataclass(frozen=True)
class _Scripted(probes.Probe):
    """A probe whose body is given here rather than read from the package."""

    text: str = ""

    def body(self) -> str:
        return self.text
