"""systemd: the [Unit], [Service] and [Install] lines systemd ignores (QL071 to QL076).

Quadlet copies these sections into the generated service unchecked; systemd then
drops each line it cannot parse with one journal line and starts the unit anyway,
so the unit runs without what its author wrote. The keys are systemd's own, per
release (``quadlet.systemd_values``, tabled from each release's binary), judged at
the release set with ``judging_systemd()`` (otherwise: ignored by every tabled
release). A line another rule already calls ignored (QL005, QL011, QL017, QL029) is
left to it.

Severity: a warning (the unit loads); in the stack profile an error where the guide
is defeated: the unit is not restarted (QL073), not started with its target or at
boot, or not started at all (QL073, QL074, QL076).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from phoenix_compliance.quadlet.names import service_name
from phoenix_compliance.quadlet.systemd_values import (
    DOCKER_RESTART,
    RELEASE_HOSTS,
    SYSTEMD_RELEASES,
    SYSTEMD_SECTIONS,
    exec_problem,
    fatal_path_problem,
    inline_comment,
    judged_release,
    key_kind,
    key_releases,
    known_keys,
    path_problem,
    system_units,
    unit_name_problem,
    user_units,
    value_problem,
)
from phoenix_compliance.quadlet.unitfile import QUADLET_MAIN_SECTIONS, Entry
from phoenix_compliance.quadlet.versions import PLAIN_UNIT_SECTIONS, QUADLET_KEYS, SYSTEMD_KEYS
from phoenix_compliance.quadlet_lint.context import UnitContext, unit_rule

# Keys whose loss defeats the guide: the unit is not restarted, or not started with its target.
_GUIDE_KEYS = frozenset({"Restart", "WantedBy", "RequiredBy"})

# Docker and compose names written as systemd keys, normalised (lower case, no '_' or '-').
_DOCKER_NAMES: dict[str, str] = {
    "memoryreservation": "MemoryLow= (a soft floor) or MemoryHigh= (a soft ceiling) in [Service]",
    "memreservation": "MemoryLow= or MemoryHigh= in [Service]",
    "memlimit": "MemoryMax= in [Service] (or Memory= in [Container])",
    "memory": "MemoryMax= in [Service] (or Memory= in [Container])",
    "memswaplimit": "MemorySwapMax= in [Service]",
    "cpus": "CPUQuota= in [Service] (cpus: 1.5 is CPUQuota=150%)",
    "cpushares": "CPUWeight= in [Service]",
    "pidslimit": "TasksMax= in [Service] (or PidsLimit= in [Container])",
    "stopgraceperiod": "TimeoutStopSec= in [Service]",
    "stoptimeout": "TimeoutStopSec= in [Service]",
    "restartpolicy": "Restart= in [Service]",
    "envfile": "EnvironmentFile= in [Service] (or EnvironmentFile= in [Container])",
    "dependson": "Requires= and After= in [Unit]",
    "ulimits": "LimitNOFILE= and friends in [Service] (or Ulimit= in [Container])",
}

_HARD_DEPENDENCIES = ("Requires", "Requisite", "BindsTo")
_SOFT_DEPENDENCIES = ("Wants", "After", "Before", "PartOf", "Upholds", "OnFailure", "OnSuccess")


def _checked() -> str:
    release = judged_release()
    if release is not None:
        return f"systemd {release}"
    return "systemd " + ", ".join(str(number) for number in SYSTEMD_RELEASES)


def _sections(out: UnitContext) -> list[str]:
    if out.unit.main_section_name is not None:
        return list(SYSTEMD_SECTIONS)
    allowed = PLAIN_UNIT_SECTIONS.get(out.unit.kind, frozenset())
    return [name for name in SYSTEMD_SECTIONS if name in allowed]


def _taken(out: UnitContext, entry: Entry) -> bool:
    """Whether another rule already reported this line (one judgement per line)."""
    path = str(entry.source or out.unit.path)
    return any(f.line == entry.line and f.path == path for f in out.findings)


def _misplaced(out: UnitContext, key: str, section: str) -> bool:
    """Whether structure.keys (QL014/QL017) already says where this key belongs."""
    if key in SYSTEMD_KEYS[section]:
        return False  # a key of this section in some release: structure.keys leaves it alone
    main = out.unit.main_section_name
    homes = [name for name in SYSTEMD_SECTIONS if name != section and key in SYSTEMD_KEYS[name]]
    return bool(homes) or (main is not None and key in QUADLET_KEYS.get(main, {}))


def _meant(key: str, section: str) -> tuple[str, str] | None:
    """(key, section) its author most likely meant: the same name in another case, or a close typo."""
    for name in (section, *SYSTEMD_SECTIONS):
        same = [known for known in known_keys(name) if known.lower() == key.lower()]
        if same:
            return same[0], name
    for name in (section, *SYSTEMD_SECTIONS):
        close = difflib.get_close_matches(key, sorted(known_keys(name)), n=1, cutoff=0.85)
        if close:
            return close[0], name
    return None


@unit_rule(270, quadlet_only=False)
def systemd_keys(out: UnitContext) -> None:
    """QL071/QL073: a key the judged systemd does not know in its section."""
    release = judged_release()
    for section_name, entry in _judged_entries(out):
        if key_kind(section_name, entry.key, release) is not None or _misplaced(out, entry.key, section_name):
            continue
        _unknown_key(out, entry, section_name)


def _judged_entries(out: UnitContext) -> Iterator[tuple[str, Entry]]:
    """Every line of the systemd sections judged here that no earlier rule has taken."""
    for section_name in _sections(out):
        section = out.unit.section(section_name)
        if section is None:
            continue
        for entry in section.entries:
            if not _taken(out, entry):
                yield section_name, entry


def _unknown_key(out: UnitContext, entry: Entry, section: str) -> None:
    known_in = key_releases(section, entry.key)
    if known_in:
        newer = known_in[0] > (judged_release() or 0)
        why = (
            f"{entry.key}= is read by systemd {', '.join(map(str, known_in))} of the tabled releases; "
            f"{_checked()} ignores it ('{'Unknown key' if newer else 'Support for option ... has been removed'}')"
        )
        fix = f"require systemd {known_in[0]} on the host, or drop {entry.key}=" if newer else f"drop {entry.key}="
        out.add("QL073" if entry.key in _GUIDE_KEYS else "QL071", entry, entry.key, why, fix)
        return
    normal = entry.key.lower().replace("_", "").replace("-", "")
    meant = _meant(entry.key, section)
    why = f"{entry.key}= is not a [{section}] key of {_checked()}; systemd ignores the line"
    if normal in _DOCKER_NAMES:
        why += " (a Docker/compose name)"
        fix = f"use {_DOCKER_NAMES[normal]}"
    elif meant is not None:
        key, home = meant
        why += f" (did you mean {key}=" + (f" in [{home}]" if home != section else "") + "?)"
        fix = f"write {key}=" + (f" under [{home}]" if home != section else "")
    else:
        fix = "remove it, or prefix it with X- to keep it as a note"
    rule = "QL073" if meant is not None and meant[0] in _GUIDE_KEYS else "QL071"
    out.add(rule, entry, entry.key, why, fix)


@unit_rule(272, quadlet_only=False)
def systemd_values(out: UnitContext) -> None:
    """QL072/QL073/QL076: values systemd cannot parse, and Exec lines that stop the unit loading."""
    release = judged_release()
    for section_name, entry in _judged_entries(out):
        if key_kind(section_name, entry.key, release) is None:
            continue
        if section_name == "Service" and entry.key in _COMMANDS:
            _exec_line(out, entry)
            continue
        fatal = fatal_path_problem(entry.key, entry.value)
        if fatal is not None:
            why = f"{entry.key}={entry.value}: {fatal}; systemd refuses to load the unit ('bad-setting')"
            out.add("QL076", entry, entry.key, why, f"give {entry.key}= an absolute path")
            continue
        problem = value_problem(section_name, entry.key, entry.value, release) or path_problem(entry.key, entry.value)
        if problem is None:
            continue
        why = f"{entry.key}={entry.value}: {problem}; {_checked()} ignores the line"
        fix = f"write a value {entry.key}= takes"
        if inline_comment(entry.value):
            why += " (systemd has no comments after a value: the '#' and what follows are part of it)"
            fix = "move the comment onto a line of its own"
        elif entry.key == "Restart":
            docker = next((how for name, how in DOCKER_RESTART.items() if entry.value.startswith(name)), None)
            if docker is not None:
                why += " (a Docker restart policy)"
                fix = f"use {docker}"
        out.add("QL073" if entry.key in _GUIDE_KEYS else "QL072", entry, entry.key, why, fix)


_COMMANDS = frozenset(
    [
        "ExecStart",
        "ExecStartPre",
        "ExecStartPost",
        "ExecCondition",
        "ExecReload",
        "ExecReloadPost",
        "ExecStop",
        "ExecStopPost",
    ]
)
# The generated service of these has its own ExecStart= and is not Type=oneshot: a second one is fatal.
_OWN_EXEC_START = frozenset({"container", "kube", "pod"})


def _exec_line(out: UnitContext, entry: Entry) -> None:
    if entry.key == "ExecStart" and entry.value.strip() and out.unit.kind in _OWN_EXEC_START:
        why = (
            f"ExecStart= in a .{out.unit.kind} file: Quadlet writes the service's own ExecStart=, and systemd "
            "refuses a second one outside Type=oneshot ('bad-setting'), so the unit does not load"
        )
        out.add("QL076", entry, entry.key, why, "run the command with ExecStartPre=/ExecStartPost=, or in the image")
        return
    found = exec_problem(entry.value)
    if found is None:
        return
    problem, fatal = found
    if fatal:
        why = f"{entry.key}={entry.value}: {problem}; systemd refuses to load the unit ('bad-setting')"
        out.add("QL076", entry, entry.key, why, "give the command as an absolute path")
    else:
        why = f"{entry.key}={entry.value}: {problem}; systemd ignores the line"
        out.add("QL072", entry, entry.key, why, "give the command as an absolute path")


def _provided(out: UnitContext) -> set[str]:
    """The units the user's manager will have: its own, the folder's plain units, the generated services."""
    release = judged_release()
    names: set[str] = set(user_units(release if release is not None else SYSTEMD_RELEASES[-1]))
    names |= set(out.present)
    if out.stack is not None:
        names.add(out.stack.target)
    names |= {path.name for path in out.unit.path.parent.iterdir()} if out.unit.path.parent.is_dir() else set()
    for unit in (*out.others.values(), out.unit):
        generated = service_name(unit, out.version)
        if generated is not None:
            names.add(generated)
    return names


def _exists(name: str, provided: set[str]) -> bool:
    if name in provided:
        return True
    if "@" in name:
        # An instance is provided by its template (web@1.service by web@.service).
        prefix, rest = name.split("@", 1)
        return f"{prefix}@{rest[rest.rfind('.') :]}" in provided
    return False


@unit_rule(274, quadlet_only=False)
def systemd_references(out: UnitContext) -> None:
    """QL074/QL075: dependencies and [Install] targets no unit of the user's manager provides."""
    checks = [("Unit", key) for key in (*_HARD_DEPENDENCIES, *_SOFT_DEPENDENCIES)]
    checks += [("Install", key) for key in ("WantedBy", "RequiredBy", "UpheldBy")]
    provided: set[str] | None = None
    for section_name, key in checks:
        for entry in out.unit.entries_for(section_name, key):
            if _taken(out, entry):
                continue
            for name in entry.value.split():
                if _taken(out, entry):
                    break  # one finding per line
                if "." in name and name.rsplit(".", 1)[1] in QUADLET_MAIN_SECTIONS:
                    continue  # a Quadlet file: QL035 judges it
                problem = unit_name_problem(name)
                if problem is not None:
                    _not_a_name(out, entry, name, problem)
                    continue
                provided = provided if provided is not None else _provided(out)
                if _exists(name, provided):
                    continue
                _missing(out, entry, name, provided)


def _not_a_name(out: UnitContext, entry: Entry, name: str, problem: str) -> None:
    if entry.section == "Install":
        why = f"{entry.key}={name}: {problem}, so nothing starts this unit with it (not at boot either)"
        close = difflib.get_close_matches(name, sorted(_provided(out)), n=1, cutoff=0.8)
        fix = f"did you mean {close[0]}?" if close else "name a target the user's manager has, such as default.target"
        out.add("QL074", entry, entry.key, why, fix)
    else:
        # systemd drops the word ("Failed to add dependency", said at debug level only: verify is silent).
        comment = " (systemd has no comments after a value)" if name.startswith(("#", ";")) else ""
        why = f"{entry.key}={name}: {problem}{comment}; systemd drops it, so this dependency does nothing"
        out.add("QL075", entry, entry.key, why, f"name the unit with its suffix ({name}.service, {name}.target)")


def _missing(out: UnitContext, entry: Entry, name: str, provided: set[str]) -> None:
    """A name no unit of the folder or of the user's manager provides: judged when it is a system
    unit (the user's manager never has it) or a near miss of one provided; any other name may be
    a unit of ~/.config/systemd/user, which the lint does not see."""
    release = judged_release()
    releases = (release,) if release is not None else SYSTEMD_RELEASES
    close = difflib.get_close_matches(name, sorted(provided), n=1, cutoff=0.85)
    if any(name in system_units(number) for number in releases):
        where = f"{name} is a system unit; the user's manager of systemd {_numbers(releases)} has no such unit"
        fix = "default.target for boot, or drop it: " if entry.section == "Install" else ""
    elif close:
        where = f"no unit {name} in the folder or the user's manager of systemd {_numbers(releases)}"
        fix = f"did you mean {close[0]}? "
    else:
        return
    if entry.key in ("WantedBy", "RequiredBy", "UpheldBy"):
        why = f"{entry.key}={name}: {where}, so nothing starts this unit with it (not at boot either)"
        out.add("QL074", entry, entry.key, why, fix + "name a target the user's manager has, such as default.target")
    elif entry.key in _HARD_DEPENDENCIES:
        why = f"{entry.key}={name}: {where}; systemd refuses to start this unit ('Unit {name} not found')"
        out.add("QL074", entry, entry.key, why, fix + f"drop {name}, or add it beside the unit")
    else:
        why = f"{entry.key}={name}: {where}; the line does nothing"
        out.add("QL075", entry, entry.key, why, fix + f"drop {name}, or add it beside the unit")


def _numbers(releases: tuple[int, ...]) -> str:
    return ", ".join(
        f"{number} ({RELEASE_HOSTS[number]})" if number in RELEASE_HOSTS else str(number) for number in releases
    )
