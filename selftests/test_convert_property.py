"""Drawn compose files through `convert`: refused, or held byte for byte (issues 23 and 24).

Hypothesis draws compose files whose names and values carry control characters, `..`, `/`,
`%`, `$`, quotes and backslashes. For every release in the lint's tables the units must pass
the lint at that release, and every drawn value is either refused (a gap or problem naming its
field, or a name refused as a file name) or reads back exactly: offline through the project's
own unit parser and the lint's readers (Quadlet's Lookup and word splitting, then systemd's
%% and $$), and, marked refhost, through the real generator of each reference guest, whose
generated `podman` command lines must hold each value as one argument.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from convert_cases import guest_generator
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from quadlet_generator import Generator

from phoenix_compliance import convert
from phoenix_compliance.grammar.names import PODMAN_NAME
from phoenix_compliance.quadlet.readers import SPLIT_ARGS, lookup_value, split_words
from phoenix_compliance.quadlet.unitfile import UnitFile, parse_text
from phoenix_compliance.quadlet.versions import FILE_TYPE_SINCE, MATCHED_QUOTES_SINCE, QUADLET_KEYS
from phoenix_compliance.quadlet_lint import StackRules, Version, format_version, lint_paths

# Every release the lint's tables name (a key or a file type arrived in it), and 5.8.2's quoting.
RELEASES: tuple[Version, ...] = tuple(
    sorted(
        {since for keys in QUADLET_KEYS.values() for since in keys.values()}
        | {since for since in FILE_TYPE_SINCE.values()}
        | {MATCHED_QUOTES_SINCE}
    )
)
DRAWN = 60
_PRINTABLE = "ab %$'\"\\/.=-_é;#[]"
_CONTROL = "\n\r\t\x00\x1b\x85\u2028"
# Mostly printable trouble (quotes, backslashes, % and $), some control characters.
_VALUE = st.one_of(
    st.text(alphabet=_PRINTABLE, max_size=10),
    st.text(alphabet=_PRINTABLE, max_size=10),
    st.text(alphabet=_PRINTABLE + _CONTROL, max_size=10),
).map(lambda meant: meant.replace("$", "$$"))  # compose's spelling of a literal `$`
_GOOD_NAME = st.sampled_from(["web", "db", "app.v2", "x_1"])
_BAD_NAME = st.text(alphabet="ab./%$\\\n-_", min_size=1, max_size=6)
# Scalar compose fields and the [Container] key each is written as (read whole, Lookup()).
SCALARS = {"working_dir": "WorkingDir", "user": "User", "container_name": "ContainerName", "stop_signal": "StopSignal"}
ENV_NAMES = ("MODE", "TZ")


@dataclass
class Drawn:
    document: dict[str, Any]

    @property
    def services(self) -> dict[str, dict[str, Any]]:
        services: dict[str, dict[str, Any]] = self.document["services"]
        return services


@st.composite
def drawn_compose(draw: st.DrawFn) -> Drawn:
    services: dict[str, Any] = {}
    names = draw(st.lists(_GOOD_NAME, min_size=1, max_size=2, unique=True))
    if draw(st.integers(0, 5)) == 0:
        names[-1] = draw(_BAD_NAME)  # now and then a name that must never become a file name
    for name in dict.fromkeys(names):
        service: dict[str, Any] = {"image": "localhost/app:" + draw(st.sampled_from(["1", "a%b", "x$$y"]))}
        for key in draw(st.lists(st.sampled_from(sorted(SCALARS)), max_size=3, unique=True)):
            service[key] = draw(_VALUE)
        if draw(st.booleans()):
            service["environment"] = {n: draw(_VALUE) for n in draw(st.lists(st.sampled_from(ENV_NAMES), unique=True))}
        if draw(st.booleans()):
            service["labels"] = {"tier": draw(_VALUE)}
        if draw(st.booleans()):
            service["command"] = draw(st.lists(_VALUE.filter(bool), min_size=1, max_size=3))
        if draw(st.booleans()):
            service["volumes"] = ["data:/srv/" + draw(_VALUE)]
        services[name] = service
    document: dict[str, Any] = {"services": services}
    if any("volumes" in s for s in services.values()):
        document["volumes"] = {"data": {"name": draw(st.sampled_from(["d", "d%n", "d$$x"]))}}
    if draw(st.booleans()):
        document["name"] = draw(st.sampled_from(["stack", "My App.v2", "../up", "%p"]))
    return Drawn(document)


def drawn_cases() -> list[Drawn]:
    cases: list[Drawn] = []

    # Fixed seed, no shrinking: the same files on every run.
    @settings(
        max_examples=DRAWN,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(drawn_compose())
    def collect(drawn: Drawn) -> None:
        cases.append(drawn)

    collect()
    return cases


def undone(value: str) -> str:
    """What systemd makes of %% and $$ (each pair one character)."""
    return re.sub(r"([%$])\1", r"\1", value)


def convert_drawn(drawn: Drawn, folder: Path, version: Version) -> convert.Conversion:
    path = folder / "compose.yaml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(drawn.document, allow_unicode=True), encoding="utf-8")
    return convert.convert(convert.read_compose([path]), convert.Options(version))


def refused_field(conversion: convert.Conversion, service: str, field: str) -> bool:
    """A gap or problem names the service's field (or the value's line: compose problems name lines only)."""
    if any(gap.service == service and gap.key.split(".")[0] == field for gap in conversion.gaps):
        return True
    return any(service in problem.message or field in problem.message for problem in conversion.problems)


def meant(value: str) -> str:
    """A drawn compose string as podman-compose hands it on: every `$` is drawn as compose's `$$`."""
    return value.replace("$$", "$")


def expectations(drawn: Drawn) -> list[tuple[str, str, str, Any]]:
    """(service, field, Quadlet key, the value podman must receive) for every drawn value."""
    wanted: list[tuple[str, str, str, Any]] = []
    for name, service in drawn.services.items():
        for key, quadlet in SCALARS.items():
            if key in service:
                wanted.append((name, key, quadlet, meant(service[key])))
        for env, value in (service.get("environment") or {}).items():
            wanted.append((name, "environment", "Environment", f"{env}={meant(value)}"))
        for label, value in (service.get("labels") or {}).items():
            wanted.append((name, "labels", "Label", f"{label}={meant(value)}"))
        if "command" in service:
            wanted.append((name, "command", "Exec", [meant(word) for word in service["command"]]))
        for volume in service.get("volumes") or []:
            wanted.append((name, "volumes", "Volume", meant(volume.split(":", 1)[1])))
    return wanted


def offline_value(unit: UnitFile, key: str, version: Version) -> Any:
    if key in SCALARS.values():
        return undone(lookup_value(unit, "Container", key, version))
    entries = unit.entries_for("Container", key)
    if key == "Volume":
        return [undone(entry.value).split(":", 1)[1] for entry in entries]
    words = [[undone(word) for word in split_words(entry.value, SPLIT_ARGS) or []] for entry in entries]
    return words[-1] if key == "Exec" and words else [word for group in words for word in group]


def held(expected: Any, found: Any, key: str) -> bool:
    if key in SCALARS.values() or key == "Exec":
        return bool(expected == found)
    return expected in found


def judge(drawn: Drawn, conversion: convert.Conversion, version: Version) -> list[str]:
    """What was neither refused nor held, as readable lines."""
    wrong: list[str] = []
    if conversion.refused:
        names = [*drawn.services, *([drawn.document["name"]] if "name" in drawn.document else [])]
        if all(PODMAN_NAME.match(str(n)) for n in drawn.services) and "name" not in drawn.document:
            wrong.append(f"refused without a reason: {conversion.refused} ({names})")
        return wrong
    for service, field, key, expected in expectations(drawn):
        if refused_field(conversion, service, field):
            continue
        unit = parse_text(conversion.units[f"{service}.container"].text(), kind="container")
        found = offline_value(unit, key, version)
        if not held(expected, found, key):
            wrong.append(f"{service}.{field}: wrote {found!r} for {expected!r}")
    return wrong


def lint_errors(texts: dict[str, str], folder: Path, version: Version) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    findings = lint_paths([folder], version, StackRules(target="phoenix.target"))
    return [str(f) for f in findings if f.severity == "error"]


class TestDrawnHostileValues:
    def test_refused_or_held_byte_for_byte_at_every_release(self, tmp_path: Path) -> None:
        cases = drawn_cases()
        assert len(cases) >= DRAWN // 2
        held_values = refused = 0
        for number, drawn in enumerate(cases):
            for version in RELEASES:
                folder = tmp_path / f"c{number}" / format_version(version)
                conversion = convert_drawn(drawn, folder / "compose", version)
                wrong = judge(drawn, conversion, version)
                assert wrong == [], (yaml.safe_dump(drawn.document, allow_unicode=True), wrong)
                if conversion.refused:
                    refused += 1
                    assert conversion.units == {} or all(n.count("/") == 0 for n in conversion.units)
                    continue
                errors = lint_errors(conversion.texts(), folder / "units", version)
                assert errors == [], (yaml.safe_dump(drawn.document, allow_unicode=True), errors)
                for text in conversion.texts().values():
                    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]", text)
                    assert not any(line.endswith("\\") for line in text.splitlines())
                held_values += sum(not refused_field(conversion, s, f) for s, f, _k, _e in expectations(drawn))
        print(
            f"drawn: {len(cases)} compose files x {len(RELEASES)} releases: {refused} sets refused (names), "
            f"{held_values} values held byte for byte, the rest refused with their field"
        )
        assert held_values and refused


# --------------------------------------------------------------------------
# The real generators
# --------------------------------------------------------------------------

_EXEC_SCRIPT = r"""
for c in "$d"/cases/*/; do
  n=$(basename "$c")
  QUADLET_UNIT_DIRS="$c" timeout 20 /usr/libexec/podman/quadlet -dryrun -user >"$d/out" 2>"$d/err"
  echo "@@CASE $n $?"
  grep -E '^(---|ExecStart=|ExecStartPre=)' "$d/out" | sed 's/^/@@O /'
done
"""


def podman_arguments(lines: list[str]) -> list[list[str]]:
    """Each generated ExecStart=/ExecStartPre= as systemd hands it to podman: words split and
    unescaped, then %% and $$ undone."""
    commands = []
    for line in lines:
        if not line.startswith("@@O Exec"):
            continue
        value = line[4:].split("=", 1)[1]
        commands.append([undone(word) for word in split_words(value, SPLIT_ARGS) or []])
    return commands


def generator_holds(expected: Any, key: str, commands: list[list[str]]) -> bool:
    flag = {
        "WorkingDir": "--workdir",
        "User": "--user",
        "ContainerName": "--name",
        "StopSignal": "--stop-signal",
        "Environment": "--env",
        "Label": "--label",
    }.get(key)
    for argv in commands:
        if key == "Exec" and argv[-len(expected) :] == expected:
            return True
        if key == "Volume" and any(arg.endswith(":" + expected) for arg in argv):
            return True
        pairs = list(itertools.pairwise(argv))
        if flag is not None and ((flag, expected) in pairs or f"{flag}={expected}" in argv):
            return True
    return False


@pytest.mark.refhost
class TestRealGenerators:
    def test_podman_receives_each_value_byte_for_byte(self, refhost_guest_name: str, tmp_path: Path) -> None:
        from guest_batches import run_batches

        generator: Generator = guest_generator(refhost_guest_name)
        cases: list[tuple[Drawn, convert.Conversion]] = []
        for number, drawn in enumerate(drawn_cases()):
            conversion = convert_drawn(drawn, tmp_path / f"c{number}", generator.version)
            if not conversion.refused:
                cases.append((drawn, conversion))
        answers = run_batches(_EXEC_SCRIPT, [c.texts() for _d, c in cases], generator.guest)
        checked = 0
        wrong: list[str] = []
        for (drawn, conversion), (code, lines) in zip(cases, answers, strict=True):
            assert code == 0, lines
            commands = podman_arguments(lines)
            for service, field, key, expected in expectations(drawn):
                if refused_field(conversion, service, field):
                    continue
                checked += 1
                if not generator_holds(expected, key, commands):
                    wrong.append(f"{service}.{field} {expected!r} not in {commands}")
        print(f"generator {generator.release}: {len(cases)} converted sets, {checked} values held, {len(wrong)} not")
        assert checked and wrong == [], wrong[:5]
