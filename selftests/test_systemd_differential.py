"""The lint's "systemd ignores this line" against systemd's own verdict, per systemd release.

Each case is a Quadlet file whose [Unit], [Service] and [Install] carry lines
under test (hand-picked Docker-isms, typos, bad and good values, unknown
targets; every key of systemd's tables; lines drawn with a fixed seed). Inside
a reference guest (``refhost_guest_name``: systemd 257 on trixie, 262 on forky;
read-only, in a mktemp folder) the real generator writes the service, and
``systemd-analyze --user verify`` judges it. The generated services come back
and are verified again on this machine (systemd 252, Debian 12), with a
runtime folder of their own.

systemd's verdict of a case: the lines it ignores (its "Unknown key",
"Failed to parse", "Unknown section" lines, read back at the generated line
and kept when they come from the Quadlet file), whether the unit fails to load
(a fatal line), and the dependencies it cannot find. The lint's: the lines of
its ignoring rules (IGNORING_RULES), QL076, and QL074's hard dependencies, with
the systemd release judged set by ``judging_systemd()``. They must be equal
for every case the generator accepted; every disagreement is kept under
systemd_regressions/ with the verdict of each release, and replayed offline.

Not compared: [Install] targets (systemd-analyze verify does not resolve them;
the generator makes the .wants link whatever the name). A Requires= on a unit that
exists nowhere is compared, but verify said "Unit X not found" only once, in a unit
with other errors (257); in these cases it stays silent, so both sides say nothing and
QL074's hard dependencies rest on systemd's start job, not on this test.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from guest_batches import run_batches
from quadlet_generator import Case, _case

from phoenix_compliance.quadlet.systemd_values import (
    SYSTEMD_RELEASES,
    judging_systemd,
    keys_of,
    known_keys,
    system_units,
)
from phoenix_compliance.quadlet.systemd_verify import normal_line, parse_verify, source_line
from phoenix_compliance.quadlet_lint import Finding, Version, lint_paths, parse_version

REGRESSIONS = Path(__file__).resolve().parent / "systemd_regressions"
# The rules whose finding says systemd ignores the line (or, for a section, every line in it).
IGNORING_RULES = frozenset({"QL005", "QL011", "QL017", "QL029", "QL071", "QL072", "QL073"})
# Those of a key the release does not read where it is (QL073 is also a Restart= value: not in a probe).
UNKNOWN_KEY_RULES = frozenset({"QL017", "QL071"})
HARD_DEPENDENCIES = ("Requires", "Requisite", "BindsTo")
DRAWN_CASES = 400
# This machine's release, when its systemd-analyze is there to ask.
LOCAL_RELEASE = 252

_SCRIPT = r"""
for c in "$d"/cases/*/; do
  n=$(basename "$c")
  rm -rf "$d/out"; mkdir -p "$d/out"
  QUADLET_UNIT_DIRS="$c" timeout 20 /usr/libexec/podman/quadlet -user "$d/out" >/dev/null 2>"$d/err"
  code=$?
  echo "@@CASE $n $code"
  [ "$code" -eq 0 ] || continue
  for f in "$d"/out/*.service; do
    [ -e "$f" ] || continue
    echo "@@FILE $(basename "$f")"
    sed 's/^/@@L /' "$f"
  done
  (cd "$d/out" && timeout 60 systemd-analyze --user verify --man=no --recursive-errors=no ./*.service 2>&1) \
    | sed "s|$d/out/||g; s|\./||g; s/^/@@V /"
done
"""

BASE = (
    "[Unit]\nDescription=case\n{unit}\n[Container]\nImage=localhost/x:1\n\n[Service]\n{service}\n[Install]\n{install}\n"
)


@dataclass
class Verdict:
    """What one side says of a case: the lines systemd ignores, a fatal line, dependencies not found."""

    ignored: Counter[str] = field(default_factory=Counter)
    fatal: bool = False
    missing: set[str] = field(default_factory=set)

    def as_json(self) -> dict[str, object]:
        return {"ignored": sorted(self.ignored.elements()), "fatal": self.fatal, "missing": sorted(self.missing)}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Verdict:
        ignored = data.get("ignored", [])
        missing = data.get("missing", [])
        assert isinstance(ignored, list) and isinstance(missing, list)
        return cls(Counter(str(x) for x in ignored), bool(data.get("fatal")), {str(x) for x in missing})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verdict):
            return NotImplemented
        if self.fatal or other.fatal:
            return self.fatal == other.fatal  # systemd stops reading the unit at a fatal line
        return self.ignored == other.ignored and self.missing == other.missing


def unit_case(origin: str, unit: str = "", service: str = "", install: str = "WantedBy=default.target") -> Case:
    return _case({"web.container": BASE.format(unit=unit, service=service, install=install)}, origin)


# --------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------

HAND_UNIT = """WWantedBy=default.target|WantedBy=default.target|Requires=nothere.service|Requires=network-online.target
After=network-online.target|Wants=network-online.target|Requires=podman.socket|After=default.targe|Requires=db
After=db.service # comment|StartLimitIntervalSec=10|StartLimitBurst=3|StartLimitBurst=abc|Description=x # y
Documentation=nope|Documentation=https://example.org/doc|OnFailure=x.service|DefaultDependencies=no
DefaultDependencies=nah|JobTimeoutSec=5min|JobTimeoutSec=5 mins|StopWhenUnneeded=true|CollectMode=inactive-or-failed
ConditionPathExists=/srv|StartLimitInterval=10s|RequiresOverridable=x.service|requires=x.service
Restart=always|PartOf=phoenix.target|BindsTo=nothere.service|Requisite=nothere.service|After=nothere.service""".replace(
    "\n", "|"
).split("|")
HAND_SERVICE = """Restart=unless-stopped|Restart=on-failure:5|Restart=always|Restart=on-failure|restart=always
RESTART=always|Restart = always|Restart=always # docker|MemoryReservation=1g|MemoryMax=512m|MemoryMax=512M|MemoryMax=50%
MemoryHigh=1G|MemoryMax=1.5G|MemoryLow=infinity|TimeoutStartSec=900 # comment|TimeoutStartSec=900|TimeoutStartSec=5min
TimeoutStartSec=1h30m|TimeoutStartSec=infinity|TimeoutStopSec=10 s|TimeoutStopSec=abc|TimeoutStopSec=1.5s
RestartSec=5x|RestartSec=5s|RestartSec=100ms|RestartSec=-1|StartLimitBurst=5|StartLimitIntervalSec=60
RemainAfterExit=maybe|RemainAfterExit=yes|RemainAfterExit=On|ExecStartPre=bin/true|ExecStartPre=-bin/true
ExecStartPre=/bin/true|ExecStartPre=true|ExecStartPre=-/bin/true|ExecStartPre=@/bin/true x|ExecStartPre=+/bin/true
ExecStartPre=!!/bin/true|ExecStartPost=/bin/echo # note|ExecStopPost=|mem_limit=1g|cpus=1.5|MemorySwapMax=1G
CPUQuota=150%|cpu_shares=512|CPUShares=512|CPUWeight=100|PidsLimit=100|TasksMax=100|LimitNOFILE=65536
Ulimit=nofile=1024|WantedBy=default.target|Description=in service|WatchdogSec=30|RuntimeMaxSec=1d
TimeoutSec=2min|NotifyAccess=everything|SendSIGKILL=nope|Environment=A=1|StandardOutput=journal
StartLimitAction=none|SuccessExitStatus=143""".replace("\n", "|").split("|")
HAND_INSTALL = """WantedBy=default.targe|WantedBy=multi-user.target|Alias=web2.service|WantedBy=default.target # c
wantedby=default.target|Also=x.service|RequiredBy=default.target|UpheldBy=default.target""".replace("\n", "|").split(
    "|"
)


def hand_cases() -> list[Case]:
    cases = [unit_case(f"hand: [Unit] {line}", unit=line) for line in HAND_UNIT]
    cases += [unit_case(f"hand: [Service] {line}", service=line) for line in HAND_SERVICE]
    cases += [unit_case(f"hand: [Install] {line}", install=line) for line in HAND_INSTALL]
    for header in ("[Servce]", "[service]", "[Instal]", "[X-Notes]", "[Unit ]"):
        cases.append(_case({"web.container": BASE.format(unit="", service="", install="") + f"{header}\nA=1\n"},
                           f"hand: section {header}"))  # fmt: skip
    return cases


# The generator judges these itself (QL018, QL019): the generator differential owns them.
_GENERATOR_JUDGED = frozenset({"Type", "KillMode", "User", "Group", "DynamicUser", "RemainAfterExit"})


def probe_cases() -> list[Case]:
    """Every key any tabled release knows, set empty (systemd resets a setting with an empty value)."""
    cases = []
    for section in ("Unit", "Service", "Install"):
        keys = sorted(known_keys(section) - _GENERATOR_JUDGED)
        lines = "\n".join(f"{key}=" for key in keys)
        fill = {"unit": "", "service": "", "install": ""} | {section.lower(): lines}
        cases.append(unit_case(f"probe: every [{section}] key", **fill))
    return cases


_VALUES: dict[str, list[str]] = {
    "BOOLEAN": ["yes", "no", "true", "On", "0", "maybe", "yes # c", "", "2"],
    "SECONDS": ["5", "5s", "1min 30s", "2.5h", "infinity", "5 sec", "5x", "-1", "5s # c", "", "1y2M"],
    "UNSIGNED": ["5", "0", "-1", "abc", "5 # c", "", "4294967296"],
    "LIMIT": ["1G", "512m", "512M", "50%", "infinity", "1.5G", "10K", "", "1g # c"],
    "UNIT": ["x.service", "network-online.target", "default.target", "nothere.service", "x", "a.service b.target"],
    "SERVICERESTART": ["always", "unless-stopped", "on-failure:5", "on-failure", "no", "Always", ""],
    "PATH": ["/bin/true", "true", "bin/true", "-bin/true", "-/bin/true", "@/bin/true x", "/bin/echo a # c"],
}
_DOCKER = ["mem_limit", "MemoryReservation", "cpus", "restart", "stop_grace_period", "env_file", "PidsLimit"]


def drawn_cases(count: int = DRAWN_CASES, seed: int = 26) -> list[Case]:
    """Files of one to four lines over keys (right, mis-cased, misspelt, Docker's) and values of their kind."""
    rng = random.Random(seed)
    by_kind: dict[str, list[tuple[str, str]]] = {}
    for section in ("Unit", "Service"):
        for key, kind in keys_of(SYSTEMD_RELEASES[-1], section).items():
            if kind == "PATH" and not key.startswith("Exec"):
                continue  # other paths have grammars of their own, tried by hand
            if kind in _VALUES and key not in _GENERATOR_JUDGED:
                by_kind.setdefault(kind, []).append((section, key))
    cases = []
    for _ in range(count):
        parts: dict[str, list[str]] = {"unit": [], "service": [], "install": ["WantedBy=default.target"]}
        for _line in range(rng.randint(1, 4)):
            kind = rng.choice(sorted(by_kind))
            section, key = rng.choice(by_kind[kind])
            how = rng.random()
            if how < 0.1:
                key = key.lower()
            elif how < 0.17 and len(key) > 4:
                at = rng.randrange(len(key))
                key = key[:at] + key[at + 1 :]
            elif how < 0.22:
                key = rng.choice(_DOCKER)
            elif how < 0.27:
                section = "Service" if section == "Unit" else "Unit"
            parts[section.lower()].append(f"{key}={rng.choice(_VALUES[kind])}")
        cases.append(unit_case("drawn: " + "; ".join(parts["unit"] + parts["service"]),
                               **{name: "\n".join(lines) for name, lines in parts.items()}))  # fmt: skip
    return cases


# --------------------------------------------------------------------------
# Both sides
# --------------------------------------------------------------------------


@dataclass
class Said:
    """What the guest said of one case: the generator's exit code, the services, systemd's lines."""

    exit_code: int
    services: dict[str, list[str]] = field(default_factory=dict)
    verify: list[str] = field(default_factory=list)


def run_guest(cases: list[Case], guest: str) -> list[Said]:
    out = []
    for code, lines in run_batches(_SCRIPT, [case.files for case in cases], guest):
        said = Said(code)
        current: list[str] | None = None
        for line in lines:
            if line.startswith("@@FILE "):
                current = said.services.setdefault(line[7:], [])
            elif line.startswith("@@L ") and current is not None:
                current.append(line[4:])
            elif line.startswith("@@V "):
                said.verify.append(line[4:])
        out.append(said)
    return out


def systemd_verdict(case: Case, services: dict[str, list[str]], verify: list[str]) -> Verdict:
    """systemd's messages as a verdict, keeping the lines that came from the case's files."""
    source = case.files["web.container"].splitlines()
    verdict = Verdict()
    said: set[tuple[str, int]] = set()  # one per line: systemd names each bad word of a list
    for message in parse_verify("\n".join(verify)):
        verdict.fatal = verdict.fatal or message.fatal
        if message.not_found is not None:
            verdict.missing.add(message.not_found)
        # The probe asks which keys a release knows; its empty values are not the point.
        if not message.ignored or (case.origin.startswith("probe") and not message.unknown_key):
            continue
        number = source_line(services.get(message.unit, []), message.line, source)
        if number is not None and (message.unit, message.line) not in said:
            said.add((message.unit, message.line))
            verdict.ignored[normal_line(source[number - 1])] += 1
    return verdict


def lint_verdict(case: Case, directory: Path, podman: Version, release: int) -> tuple[Verdict, list[Finding]]:
    for name, text in case.files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
    with judging_systemd(release):
        findings = lint_paths([directory], podman, None)
    verdict = Verdict()
    # The probe compares the keys a release knows: the unknown-key findings only.
    rules = UNKNOWN_KEY_RULES if case.origin.startswith("probe") else IGNORING_RULES
    for finding in findings:
        lines = Path(finding.path).read_text(encoding="utf-8").splitlines()
        if finding.rule_id in rules:
            verdict.ignored[normal_line(lines[finding.line - 1])] += 1
        elif finding.rule_id == "QL076":
            verdict.fatal = True
        elif finding.rule_id == "QL074" and finding.key in HARD_DEPENDENCIES:
            name = finding.message.split("=", 1)[1].split(":", 1)[0]
            # verify loads a system unit a user unit requires as not found, without a word (seen on 257).
            if not any(name in system_units(number) for number in SYSTEMD_RELEASES):
                verdict.missing.add(name)
    return verdict, findings


def verify_here(services: dict[str, list[str]], directory: Path) -> list[str] | None:
    """This machine's systemd-analyze on the generated services (None: not there to ask)."""
    runtime = directory / "runtime"
    runtime.mkdir(parents=True, mode=0o700)
    for name, lines in services.items():
        (directory / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    try:
        done = subprocess.run(
            ["systemd-analyze", "--user", "verify", "--man=no", "--recursive-errors=no", *sorted(services)],
            cwd=directory, capture_output=True, text=True, timeout=60, env=env, check=False,
        )  # fmt: skip
    except FileNotFoundError:
        return None
    if "Failed to initialize manager" in done.stderr:
        return None
    return [line.replace(f"{directory}/", "") for line in (done.stdout + done.stderr).splitlines()]


@dataclass
class Tally:
    compared: int = 0
    agreed: int = 0
    refused_by_generator: int = 0
    disagreements: list[str] = field(default_factory=list)


def compare(
    cases: list[Case], said: list[Said], podman: Version, release: int, tmp_path: Path, local: bool = False
) -> Tally:
    tally = Tally()
    for number, (case, answer) in enumerate(zip(cases, said, strict=True)):
        if answer.exit_code != 0:
            tally.refused_by_generator += 1
            continue
        verify = answer.verify
        if local:
            here = verify_here(answer.services, tmp_path / f"here-{number:05d}")
            if here is None:
                pytest.skip("this machine's systemd-analyze cannot verify user units")
            verify = here
        theirs = systemd_verdict(case, answer.services, verify)
        ours, findings = lint_verdict(case, tmp_path / f"{number:05d}", podman, release)
        tally.compared += 1
        if theirs == ours:
            tally.agreed += 1
            continue
        save_regression(case, release, theirs)
        lint = [f"{f.line} {f.rule_id}" for f in findings]
        tally.disagreements.append(
            f"{case.name} ({case.origin}): systemd {release} {theirs.as_json()} / lint {ours.as_json()} {lint}"
        )
    return tally


def save_regression(case: Case, release: int, verdict: Verdict) -> None:
    REGRESSIONS.mkdir(exist_ok=True)
    path = REGRESSIONS / f"{case.name}.json"
    verdicts: dict[str, object] = {}
    if path.exists():
        verdicts = json.loads(path.read_text(encoding="utf-8"))["verdicts"]
    verdicts[str(release)] = verdict.as_json()
    record = {"origin": case.origin, "verdicts": dict(sorted(verdicts.items())), "files": case.files}
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def all_cases() -> list[Case]:
    return list({case.name: case for case in [*hand_cases(), *probe_cases(), *drawn_cases()]}.values())


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class GuestRun:
    guest: str
    podman: Version
    systemd: int
    cases: list[Case]
    said: list[Said]


@pytest.fixture(scope="module")
def guest_run(refhost_guest_name: str) -> GuestRun:
    """Every case through the guest's generator and systemd-analyze, once per guest."""
    from phoenix_compliance import refhost

    done = refhost.run_in_guest(
        ["sh", "-c", "podman --version; systemctl --version | head -1"], user="phoenix", timeout=60,
        name=refhost_guest_name,
    )  # fmt: skip
    assert done.returncode == 0, f"versions failed in {refhost_guest_name}: {done.stderr}"
    podman_line, systemd_line = done.stdout.splitlines()[:2]
    cases = all_cases()
    said = run_guest(cases, refhost_guest_name)
    return GuestRun(
        refhost_guest_name, parse_version(podman_line.split()[-1]), int(systemd_line.split()[1]), cases, said
    )


def _report(tally: Tally, where: str) -> str:
    return (
        f"{where}: {tally.agreed}/{tally.compared} cases agree "
        f"({tally.refused_by_generator} refused by the generator, not compared); " + "\n".join(tally.disagreements[:15])
    )


@pytest.mark.refhost
class TestAgainstSystemd:
    def test_the_guests_systemd(self, guest_run: GuestRun, tmp_path: Path) -> None:
        tally = compare(guest_run.cases, guest_run.said, guest_run.podman, guest_run.systemd, tmp_path)
        print(_report(tally, f"systemd {guest_run.systemd} in {guest_run.guest}"))
        assert tally.compared > 400
        assert not tally.disagreements, _report(tally, f"systemd {guest_run.systemd} in {guest_run.guest}")

    def test_this_machines_systemd(self, guest_run: GuestRun, tmp_path: Path) -> None:
        """The same generated services, verified by this machine's systemd (252 on Debian 12)."""
        tally = compare(guest_run.cases, guest_run.said, guest_run.podman, LOCAL_RELEASE, tmp_path, local=True)
        print(_report(tally, f"systemd {LOCAL_RELEASE} here, units of {guest_run.guest}"))
        assert tally.compared > 400
        assert not tally.disagreements, _report(tally, f"systemd {LOCAL_RELEASE} here")


def test_regressions_replay(tmp_path: Path) -> None:
    """Every kept disagreement, judged offline at each release systemd judged it at."""
    records = sorted(REGRESSIONS.glob("*.json")) if REGRESSIONS.is_dir() else []
    wrong = []
    for number, path in enumerate(records):
        record = json.loads(path.read_text(encoding="utf-8"))
        case = Case(path.stem, record["files"], record["origin"])
        for release, verdict in record["verdicts"].items():
            ours, _ = lint_verdict(case, tmp_path / f"{number:05d}-{release}", parse_version("5.4.2"), int(release))
            if ours != Verdict.from_json(verdict):
                wrong.append(f"{path.name} at systemd {release}: lint {ours.as_json()}, systemd {verdict}")
    assert not wrong, "\n".join(wrong)
