"""phoenix-compliance plan: a verified NOT READY result becomes, per host, one POSIX script whose
steps are taken once, root's apart, each guarded and re-checked, in the guide's order; what the
suite cannot fix is a comment; a result that fails verify is refused; hostile values stay data;
and the script run twice against stubs changes nothing the second time."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoenix_compliance.cli import main
from phoenix_compliance.report.model import COULD_NOT_CHECK, FAILED, PASSED, CheckResult, RunReport
from phoenix_compliance.report.outputs import canonical_digest, json_text, to_document
from phoenix_compliance.report.results import EXIT_INPUT_ALTERED
from phoenix_compliance.report.signing import sign_digest

REPO = Path(__file__).resolve().parent.parent
STACK = REPO / "fixtures" / "stacks" / "reference.yaml"
SOURCE = REPO / "fixtures" / "infra" / "podman"
HOST = "ssh://refhost"
OTHER = "ssh://web2"
USER = "phoenix"
P1 = "tests/phase1/test_base_install.py"
P3 = "tests/phase3/test_quadlet_units.py"

# (id, phase, severity, test, subject, outcome): the drifted guest of issue 28 (no linger, socket
# off, no Quadlet folder, no units, stack down) with subordinate ids missing and cgroup v1 besides.
DRIFTED = [
    ("PHX-1.04", "1", "critical", "test_idmap_helpers", "", PASSED),
    ("PHX-1.06", "1", "critical", "test_subordinate_ids[subuid]", "subuid", FAILED),
    ("PHX-1.06", "1", "critical", "test_subordinate_ids[subgid]", "subgid", FAILED),
    ("PHX-1.08", "1", "high", "test_podman_socket_unit", "", FAILED),
    ("PHX-1.09", "1", "high", "test_api_ping", "", FAILED),
    ("PHX-1.10", "1", "high", "test_quadlet_dir", "", FAILED),
    ("PHX-1.11", "1", "high", "test_linger", "", FAILED),
    ("PHX-1.12", "1", "high", "test_cgroup_v2_systemd", "", FAILED),
    ("PHX-3.01", "3", "high", "test_unit_file_present[phoenix-core.container]", "phoenix-core.container", FAILED),
    ("PHX-3.01", "3", "high", "test_unit_file_present[revenue-db.container]", "revenue-db.container", FAILED),
    ("PHX-3.01", "3", "high", "test_unit_file_present[phoenix-hydra.pod]", "phoenix-hydra.pod", FAILED),
    ("PHX-3.01", "3", "high", "test_unit_file_present[phoenix.target]", "phoenix.target", FAILED),
    ("PHX-3.03", "3", "critical", "test_generator_dry_run", "", COULD_NOT_CHECK),
    ("PHX-3.04", "3", "high", "test_target_enabled_active", "", FAILED),
    ("PHX-3.05", "3", "high", "test_generated_service_active[phoenix-core.service]", "phoenix-core.service", FAILED),
    ("PHX-3.05", "3", "high", "test_generated_service_active[revenue-db.service]", "revenue-db.service", FAILED),
]


def result(host: str, check_id: str, phase: str, severity: str, test: str, subject: str, outcome: str) -> CheckResult:
    module = P1 if phase == "1" else P3
    return CheckResult(
        host=host,
        check_id=check_id,
        phase=phase,
        severity=severity,
        title=f"the title of {check_id}",
        outcome=outcome,
        evidence=f"expected it in place, got not ({subject or 'the host'})",
        remediation=f"the remediation of {check_id}",
        nodeid=f"{module}::{test}",
        subject=subject,
    )


def canned_run(rows: list[tuple[str, str, str, str, str, str]], hosts: tuple[str, ...] = (HOST,)) -> RunReport:
    run = RunReport(
        started="2026-12-07T03:00:00+00:00",
        phases=("1", "3"),
        stack=str(STACK),
        suite_version="0.9.0 (git canned)",
        stack_digest=hashlib.sha256(STACK.read_bytes()).hexdigest(),
        finished="2026-12-07T03:01:00+00:00",
    )
    for host_id in hosts:
        host = run.host(host_id)
        host.facts = {"OS": "Debian GNU/Linux 13", "Podman": "5.4.2", "User": f"{USER} (uid 1000)"}
        host.results = [result(host_id, *row) for row in rows]
        host.expected = {"1": len([r for r in rows if r[1] == "1"]), "3": len([r for r in rows if r[1] == "3"])}
    return run


def write_result(run: RunReport, path: Path) -> Path:
    document = to_document(run)
    document["digest"] = canonical_digest(document)
    path.write_text(json_text(document), encoding="utf-8")
    return path


def plan_of(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["plan", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def drifted(tmp_path: Path) -> Path:
    return write_result(canned_run(DRIFTED), tmp_path / "drifted.json")


@pytest.fixture
def drifted_plan(drifted: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = plan_of(capsys, str(drifted), f"--source-dir={SOURCE}")
    assert code == 0, err
    return out


def code_lines(script: str) -> list[str]:
    return [line for line in script.splitlines() if line.strip() and not line.lstrip().startswith("#")]


class TestPlanScript:
    def test_parses_as_posix_shell(self, drifted_plan: str, tmp_path: Path) -> None:
        script = tmp_path / "plan.sh"
        script.write_text(drifted_plan)
        for shell in ("sh", "dash", "bash"):
            if subprocess.run(["sh", "-c", f"command -v {shell}"], capture_output=True, check=False).returncode:
                continue
            done = subprocess.run([shell, "-n", str(script)], capture_output=True, text=True, timeout=30, check=False)
            assert done.returncode == 0, f"{shell}: {done.stderr}"

    def test_header_names_the_run_and_host(self, drifted_plan: str, drifted: Path) -> None:
        digest = json.loads(drifted.read_text())["digest"]
        head = drifted_plan.split("set -eu", 1)[0]
        assert digest in head and HOST in head and "0.9.0 (git canned)" in head and "2026-12-07T03:00:00" in head
        assert "Nothing was run by the suite" in head
        assert drifted_plan.startswith("#!/bin/sh\n")

    def test_each_step_once(self, drifted_plan: str) -> None:
        lines = code_lines(drifted_plan)
        # PHX-1.06 for subuid and subgid: one usermod; the socket of PHX-1.08 and 1.09: one enable.
        assert sum("usermod" in line for line in lines) == 1
        assert sum("enable --now podman.socket" in line for line in lines) == 1
        assert sum(line.strip() == "systemctl --user daemon-reload" for line in lines) == 1
        assert sum("enable --now phoenix.target" in line for line in lines) == 1
        assert sum("loginctl enable-linger" in line for line in lines) == 1
        for unit in ("phoenix-core.container", "revenue-db.container", "phoenix-hydra.pod", "phoenix.target"):
            assert sum(line.strip().startswith("put_file") and unit in line for line in lines) == 1
        assert "for PHX-1.06 (subuid, subgid)" in drifted_plan
        assert "for PHX-1.08, PHX-1.09" in drifted_plan

    def test_root_steps_apart_and_first_in_the_guides_order(self, drifted_plan: str) -> None:
        root_part, user_part = drifted_plan.split("'s steps (as the user", 1)
        assert "Root's steps" in root_part
        assert "$SUDO" not in code_lines(user_part.split("What this plan cannot do")[0]).__str__()
        order = [
            "$SUDO usermod",
            "$SUDO loginctl enable-linger",
            "podman system migrate",
            "systemctl --user enable --now podman.socket",
            'mkdir -p "$HOME"/.config/containers/systemd',
            "put_file",
            "systemctl --user daemon-reload",
            "systemctl --user enable --now phoenix.target",
            "systemctl --user start",
        ]
        where = [drifted_plan.index(f"\n  {command}") for command in order]
        assert where == sorted(where), list(zip(order, where, strict=True))

    def test_guarded_and_rechecked(self, drifted_plan: str) -> None:
        steps = re.findall(r"^step_(\d+)_done\(\) \{$", drifted_plan, flags=re.M)
        assert steps == [str(n) for n in range(1, len(steps) + 1)] and len(steps) >= 9
        for number in steps:
            assert f"if step_{number}_done; then" in drifted_plan
            assert re.search(rf"^settle \d+ step_{number}_done \|\| fail ", drifted_plan, flags=re.M)
        assert "loginctl show-user phoenix -p Linger" in drifted_plan
        assert "systemctl --user is-enabled -q podman.socket" in drifted_plan
        assert "has_ids phoenix" in drifted_plan
        assert "re-check with the suite: phoenix-compliance check --phase=1 -k test_linger" in drifted_plan

    def test_what_it_cannot_fix_is_a_comment(self, drifted_plan: str) -> None:
        notes = drifted_plan.split("# ---- What this plan cannot do", 1)[1].split("\n", 1)[1]
        assert "# PHX-1.12 [high]" in notes and "#   remediation: the remediation of PHX-1.12" in notes
        # Could not check: a comment, never a step.
        assert "# PHX-3.03 [critical]" in notes and "could not check" in notes
        assert not code_lines(notes.replace("echo 'plan: done; run the check again to confirm'", ""))

    def test_units_come_from_the_source_dir(self, drifted_plan: str) -> None:
        assert f"Units come from the repository: {SOURCE}/systemd" in drifted_plan
        assert (SOURCE / "systemd" / "phoenix.target").read_text().splitlines()[0] in drifted_plan
        # Each unit's text once, in a variable the step's test and its command both read.
        for unit, folder in (("phoenix.target", "systemd/user"), ("phoenix-core.container", "containers/systemd")):
            where = re.escape(f'  put_file "$HOME"/.config/{folder}/{unit} ')
            found = re.search(rf'^{where}"\$(unit_\d+)"$', drifted_plan, re.M)
            assert found, unit
            text = (SOURCE / "systemd" / unit).read_text()
            assert f"\n{found.group(1)}={shlex.quote(text)}\n" in drifted_plan
            assert drifted_plan.count(text.splitlines()[0]) == 1

    def test_without_source_dir_units_are_comments(self, drifted: Path, capsys: pytest.CaptureFixture[str]) -> None:
        code, out, _ = plan_of(capsys, str(drifted))
        assert code == 0
        assert not any(line.startswith("  put_file ") for line in code_lines(out))
        assert (
            "# PHX-3.01 [high] the title of PHX-3.01 (phoenix.target): not planned: needs the repository's unit" in out
        )

    def test_a_unit_holding_a_secret_value_is_never_printed(
        self, drifted: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        source = tmp_path / "infra"
        shutil.copytree(SOURCE, source)
        unit = source / "systemd" / "phoenix-core.container"
        unit.write_text(
            unit.read_text().replace("[Container]\n", "[Container]\nEnvironment=DB_PASSWORD=hunter2-literal\n")
        )
        code, out, err = plan_of(capsys, str(drifted), f"--source-dir={source}")
        assert code == 0, err
        assert "hunter2-literal" not in out + err
        assert not re.search(r"put_file .*phoenix-core\.container", out)
        assert (
            "(phoenix-core.container): not planned: needs the repository's phoenix-core.container, which holds" in out
        )
        # The other units are still written.
        assert re.search(r"put_file .*revenue-db\.container", out)


class TestPlanInputs:
    def test_altered_result_refused(self, drifted: Path, capsys: pytest.CaptureFixture[str]) -> None:
        drifted.write_text(drifted.read_text().replace("PHX-1.11", "PHX-1.12"))
        code, out, err = plan_of(capsys, str(drifted))
        assert code == EXIT_INPUT_ALTERED and not out
        assert str(drifted) in err and "no plan is made from it" in err

    def test_signer_is_required_when_named(self, drifted: Path, capsys: pytest.CaptureFixture[str]) -> None:
        keys = drifted.parent
        for name in ("ci", "other"):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(keys / name)], check=True, timeout=30
            )
        document = json.loads(drifted.read_text())
        document["signature"] = sign_digest(document["digest"], keys / "ci")
        drifted.write_text(json_text(document))
        code, out, _ = plan_of(capsys, str(drifted), f"--signer={keys / 'ci.pub'}")
        assert code == 0 and "step_1_done" in out
        code, out, err = plan_of(capsys, str(drifted), f"--signer={keys / 'other.pub'}")
        assert code == EXIT_INPUT_ALTERED and not out and str(drifted) in err

    def test_two_hosts_one_file_name(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write_result(canned_run(DRIFTED, hosts=("ssh://a_", "ssh://a?")), tmp_path / "two.json")
        code, _, err = plan_of(capsys, str(path), f"--out={tmp_path / 'plans'}")
        assert code == 0, err
        assert sorted(p.name for p in (tmp_path / "plans").iterdir()) == ["plan-ssh___a_-2.sh", "plan-ssh___a_.sh"]

    def test_host_selects(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write_result(canned_run(DRIFTED, hosts=(HOST, OTHER)), tmp_path / "two.json")
        code, _, err = plan_of(capsys, str(path))
        assert code == 2 and "--host" in err
        code, out, _ = plan_of(capsys, str(path), f"--host={OTHER}")
        assert code == 0 and f"Plan for host {OTHER}," in out and HOST + "," not in out
        code, _, err = plan_of(capsys, str(path), "--host=ssh://nowhere")
        assert code == 2 and "not a host" in err

    def test_out_writes_each_host_never_over_a_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write_result(canned_run(DRIFTED, hosts=(HOST, OTHER)), tmp_path / "two.json")
        out = tmp_path / "plans"
        code, _, err = plan_of(capsys, str(path), f"--out={out}")
        assert code == 0, err
        assert sorted(p.name for p in out.iterdir()) == ["plan-ssh___refhost.sh", "plan-ssh___web2.sh"]
        before = (out / "plan-ssh___web2.sh").read_bytes()
        code, _, err = plan_of(capsys, str(path), f"--out={out}")
        assert code == 2 and "exists already" in err
        assert (out / "plan-ssh___web2.sh").read_bytes() == before

    def test_stack_changed_since_the_run(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        run = canned_run(DRIFTED)
        run.stack_digest = "0" * 64
        path = write_result(run, tmp_path / "other-stack.json")
        code, _, err = plan_of(capsys, str(path))
        assert code == 2 and "--stack" in err

    def test_no_user_in_the_facts_no_steps(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        # An unreachable host (or one whose identity could not be read) has no User fact.
        run = canned_run(DRIFTED)
        del run.hosts[HOST].facts["User"]
        code, out, _ = plan_of(capsys, str(write_result(run, tmp_path / "nouser.json")))
        assert code == 0 and "step_1_done" not in out
        assert "# PHX-1.11 [high] the title of PHX-1.11: the run's facts do not name the host's user" in out

    def test_a_step_names_root_or_user(self) -> None:
        from phoenix_compliance.catalogue import Step
        from phoenix_compliance.checks import check

        with pytest.raises(ValueError, match=r"T-9\.01: a fix step's who 'admin' is not root or user"):
            check(
                "T-9.01",
                phase="1",
                severity="high",
                title="t",
                remediation="r",
                fix=(Step(10, "admin", "w", "true", "true"),),
            )

    def test_nothing_failed(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = write_result(canned_run([("PHX-1.11", "1", "high", "test_linger", "", PASSED)]), tmp_path / "ok.json")
        code, out, _ = plan_of(capsys, str(path))
        assert (
            code == 0
            and "Nothing failed on this host" in out
            and not code_lines(out.split("units_loaded() {")[1].split("\n}\n", 1)[1])
        )


# -- hostile values ------------------------------------------------------------------

# Pieces of shell a result could carry, among any characters (names that pass as names too).
PIECES = ["$(id)", "`id`", "\n", "'", '"', ";", "\r", "\x1b", "\u2028", "-rf", " ", "phoenix", "web.service", "../"]
HOSTILE = st.lists(st.sampled_from(PIECES) | st.characters(codec="utf-8"), min_size=1, max_size=12).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=HOSTILE, user=HOSTILE, evidence=HOSTILE, host=HOSTILE)
def test_hostile_values_never_become_code(
    subject: str, user: str, evidence: str, host: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [
        ("PHX-1.11", "1", "high", "test_linger", "", FAILED),
        ("PHX-3.05", "3", "high", "test_generated_service_active[x]", subject, FAILED),
        ("PHX-1.12", "1", "high", "test_cgroup_v2_systemd", subject, FAILED),
    ]
    run = canned_run(rows, hosts=(host,))
    run.hosts[host].facts["User"] = f"{user} (uid 1000)"
    for each in run.hosts[host].results:
        each.evidence = evidence
        each.remediation = evidence
    path = write_result(run, tmp_path / f"hostile-{abs(hash((subject, user, evidence, host)))}.json")
    code, out, err = plan_of(capsys, str(path))
    assert code == 0, err
    # What the script does is only the plan's own code: its code lines are those of a plan made
    # with tame values, each hostile value either quoted as one word or refused into a comment.
    tame_rows = [(*row[:4], "tame.service" if row[4] else "", row[5]) for row in rows]
    tame = canned_run(tame_rows, hosts=("ssh://tame",))
    tame_path = write_result(tame, tmp_path / f"tame-{abs(hash((subject, user, evidence, host)))}.json")
    _, tame_out, _ = plan_of(capsys, str(tame_path))
    assert_only_quoted_differences(out, tame_out, [subject, user])
    done = subprocess.run(["sh", "-n"], input=out, capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr


def assert_only_quoted_differences(script: str, tame: str, values: list[str]) -> None:
    """Every code line of the script is a line of the tame plan, or one where the values stand
    quoted as single words (shlex.quote) where the tame plan has its names."""
    for line in code_lines(script):
        if line in code_lines(tame):
            continue
        # A comment line may only be a comment: no line of the script starts with anything a
        # hostile value brought; the lines that differ must hold a value quoted by shlex.
        assert any(_quoted(value) in line for value in values), line


def _quoted(value: str) -> str:
    import shlex

    return shlex.quote(value)


# -- run twice against stubs -----------------------------------------------------------

STUB = r"""#!/bin/sh
# A stub of {name}: records its call, keeps state in $STATE.
printf '%s\n' "{name} $*" >>"$STATE/calls.log"
{body}
"""

STUBS = {
    "sudo": 'exec "$@"',
    "env": 'while [ "${1#*=}" != "$1" ]; do shift; done; exec "$@"',
    "id": 'case "$1" in -un) echo phoenix ;; -u) echo 1000 ;; *) echo "uid=1000(phoenix)" ;; esac',
    "usermod": 'echo "phoenix:100000:65536" >>"$STATE/etc/subuid"; echo "phoenix:100000:65536" >>"$STATE/etc/subgid"',
    "loginctl": r"""case "$1" in
  enable-linger) : >"$STATE/linger/$2" ;;
  show-user) [ -e "$STATE/linger/$2" ] && echo Linger=yes || echo Linger=no ;;
esac""",
    "podman": ': >>"$STATE/migrated"',
    "apt-get": "exit 0",
    "stat": "echo 1000",
    "systemctl": r"""[ "$1" = --user ] && shift
case "$1" in
  enable) shift; [ "$1" = --now ] && shift; : >"$STATE/enabled-$1"; : >"$STATE/active-$1" ;;
  start) : >"$STATE/active-$2" ;;
  daemon-reload) : >"$STATE/reloaded" ;;
  is-enabled) [ -e "$STATE/enabled-$3" ] ;;
  is-active) [ -e "$STATE/active-$3" ] ;;
  show) if [ -e "$STATE/reloaded" ]; then
          [ "$3" = LoadState ] && echo loaded || echo no
        else
          [ "$3" = LoadState ] && echo not-found || echo no
        fi ;;
esac""",
}
# The calls that change a host; a second run makes none of them.
CHANGING = re.compile(
    r"^(usermod|loginctl enable-linger|podman system migrate|apt-get|dnf|systemctl --user (enable|start|daemon-reload))"
)


@dataclass
class Sandbox:
    root: Path
    env: dict[str, str]

    def run(self, script: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(script)], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )

    def calls(self) -> list[str]:
        log = self.root / "state" / "calls.log"
        return log.read_text().splitlines() if log.exists() else []

    def tree(self) -> dict[str, bytes]:
        files = {}
        for path in sorted((self.root / "home").rglob("*")):
            if path.is_file():
                files[str(path.relative_to(self.root))] = path.read_bytes()
        for path in sorted((self.root / "state").rglob("*")):
            if path.is_file() and path.name != "calls.log":
                files[str(path.relative_to(self.root))] = path.read_bytes()
        return files


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    bin_dir, state, home, runtime = (tmp_path / name for name in ("bin", "state", "home", "runtime"))
    for folder in (bin_dir, state / "etc", state / "linger", home, runtime):
        folder.mkdir(parents=True)
    (state / "etc" / "subuid").write_text("")
    (state / "etc" / "subgid").write_text("")
    for name, body in STUBS.items():
        stub = bin_dir / name
        stub.write_text(STUB.format(name=name, body=body))
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    bus = socket.socket(socket.AF_UNIX)
    bus.bind(str(runtime / "bus"))
    env = {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "HOME": str(home),
        "STATE": str(state),
        "XDG_RUNTIME_DIR": str(runtime),
        "LC_ALL": "C",
    }
    try:
        yield Sandbox(tmp_path, env)
    finally:
        bus.close()


def test_second_run_changes_nothing(drifted_plan: str, sandbox: Sandbox) -> None:
    state = sandbox.root / "state"
    # The host's own paths point into the sandbox (the stubs' state); nothing else is changed.
    script_text = (
        drifted_plan.replace("/etc/subuid", f"{state}/etc/subuid")
        .replace("/etc/subgid", f"{state}/etc/subgid")
        .replace("/var/lib/systemd/linger/", f"{state}/linger/")
    )
    script = sandbox.root / "plan.sh"
    script.write_text(script_text)
    first = sandbox.run(script)
    assert first.returncode == 0, first.stdout + first.stderr
    changed = [call for call in sandbox.calls() if CHANGING.match(call)]
    assert any(call.startswith("usermod") for call in changed), changed
    assert "systemctl --user daemon-reload" in changed and "systemctl --user enable --now phoenix.target" in changed
    assert (sandbox.root / "home/.config/systemd/user/phoenix.target").read_bytes() == (
        SOURCE / "systemd" / "phoenix.target"
    ).read_bytes()
    tree = sandbox.tree()
    (state / "calls.log").unlink()
    second = sandbox.run(script)
    assert second.returncode == 0, second.stdout + second.stderr
    assert [call for call in sandbox.calls() if CHANGING.match(call)] == []
    assert sandbox.tree() == tree
    assert second.stdout.count("already in place") == first.stdout.count("plan: step")
