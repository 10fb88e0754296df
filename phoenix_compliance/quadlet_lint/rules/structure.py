"""Structure: file type, sections and keys each Podman version accepts, [Install], repeated keys.

QL010 to QL017: what the generator of the judged version reads at all, and
where a setting is written that systemd or Quadlet would not look for it.
"""

from __future__ import annotations

import difflib

from phoenix_compliance.quadlet.unitfile import QUADLET_MAIN_SECTIONS, Entry, UnitFile
from phoenix_compliance.quadlet.versions import (
    FILE_TYPE_SINCE,
    NEWEST_KNOWN_VERSION,
    PLAIN_UNIT_SECTIONS,
    QUADLET_INSTALL_KEYS,
    QUADLET_KEYS,
    RESOURCE_CONTROL_KEYS,
    SYSTEMD_KEYS,
    SYSTEMD_PASSTHROUGH_SECTIONS,
    UNJUDGED_SECTIONS,
    Version,
    beyond_tables,
    format_version,
    single_valued_keys,
)
from phoenix_compliance.quadlet_lint.context import UnitContext, unit_rule


def _reads_file_type(out: UnitContext) -> bool:
    """Whether this version reads the file's type (a plain systemd unit counts as read)."""
    since = FILE_TYPE_SINCE.get(out.unit.kind)
    return since is None or since <= out.version


@unit_rule(20, quadlet_only=False)
def file_type(out: UnitContext) -> None:
    """Report a Quadlet file type this version ignores."""
    if _reads_file_type(out):
        return
    since, version = FILE_TYPE_SINCE[out.unit.kind], out.version
    out.add(
        "QL010",
        1,
        None,
        f".{out.unit.kind} files are read by Quadlet from Podman {format_version(since)}; "
        f"Podman {format_version(version)} skips this file, so no service is generated",
        f"upgrade Podman to {format_version(since)} or later, or express the unit in a file type this version supports",
    )


def _allowed_sections(unit: UnitFile) -> frozenset[str]:
    main = unit.main_section_name
    if main is not None:
        return SYSTEMD_PASSTHROUGH_SECTIONS | {main, "Quadlet"}
    return PLAIN_UNIT_SECTIONS.get(unit.kind, SYSTEMD_PASSTHROUGH_SECTIONS)


@unit_rule(30, quadlet_only=False)
def sections(out: UnitContext) -> None:
    unit = out.unit
    allowed = _allowed_sections(unit)
    for section in unit.sections:
        if section.name in allowed or section.name.startswith("X-"):
            continue
        owner = next((kind for kind, name in QUADLET_MAIN_SECTIONS.items() if name == section.name), None)
        if owner is not None:
            why = (
                f"[{section.name}] configures .{owner} files; in a .{unit.kind} file it is "
                "passed to systemd, which ignores it with every setting in it"
            )
            fix = f"move these settings into the matching .{owner} file, or rename the section"
            out.add("QL029", section, None, why, fix)
            continue
        close = difflib.get_close_matches(section.name, sorted(allowed), n=1)
        hint = f" (did you mean [{close[0]}]?)" if close else ""
        why = f"[{section.name}] is not a section of a .{unit.kind} unit{hint}; systemd ignores it and its settings"
        choices = ", ".join(f"[{name}]" for name in sorted(allowed))
        fix = f"rename it to [{close[0]}]" if close else f"use one of {choices}, or prefix it with X-"
        out.add("QL011", section, None, why, fix)


def _home_of(key: str, unit: UnitFile, exclude: str) -> str | None:
    """The section a stray key belongs in, judged by systemd's and Quadlet's key lists."""
    for name in ("Unit", "Service", "Install"):
        if name != exclude and key in SYSTEMD_KEYS[name]:
            return name
    main = unit.main_section_name
    if main is not None and main != exclude and key in QUADLET_KEYS.get(main, {}):
        return main
    return None


@unit_rule(40, quadlet_only=False)
def keys(out: UnitContext) -> None:
    unit = out.unit
    # Keys are judged against the version only where it reads the file at all (QL010 says so otherwise).
    judge_versions = _reads_file_type(out)
    main = unit.main_section_name
    for section in unit.sections:
        name = section.name
        if name in UNJUDGED_SECTIONS or name.startswith("X-"):
            continue
        is_quadlet_section = name == main or (main is not None and name == "Quadlet")
        if is_quadlet_section:
            _quadlet_section_keys(out, section.entries, name, out.version, judge_versions)
        elif name in SYSTEMD_KEYS and name in _allowed_sections(unit):
            for entry in section.entries:
                if entry.key in SYSTEMD_KEYS[name]:
                    continue
                home = _home_of(entry.key, unit, exclude=name)
                if home is not None:
                    _misplaced(out, entry, home)


def _misplaced(out: UnitContext, entry: Entry, home: str) -> None:
    if entry.section in QUADLET_KEYS:
        # The generator checks its own sections ([Container], ..., [Quadlet]) key by key.
        owner = "systemd " if home in SYSTEMD_KEYS else ""
        if entry.key in RESOURCE_CONTROL_KEYS:
            owner = "systemd resource-control (cgroup) "
        why = f"{entry.key}= is a {owner}[{home}] setting; under [{entry.section}] Quadlet rejects the file"
        out.add("QL014", entry, entry.key, why, f"move {entry.key}= to [{home}]")
        return
    if home in SYSTEMD_KEYS:
        why = f"{entry.key}= is a systemd [{home}] setting; under [{entry.section}] systemd ignores it"
    else:
        why = f"{entry.key}= is a Quadlet [{home}] key; under [{entry.section}] systemd ignores it"
    out.add("QL017", entry, entry.key, why, f"move {entry.key}= to [{home}]")


def _quadlet_section_keys(
    out: UnitContext, entries: list[Entry], section: str, version: Version, judge_versions: bool
) -> None:
    table = QUADLET_KEYS.get(section, {})
    for entry in entries:
        since = table.get(entry.key)
        if since is not None:
            if judge_versions and since > version:
                out.add(
                    "QL012",
                    entry,
                    entry.key,
                    f"{entry.key}= in [{section}] needs Podman {format_version(since)}; "
                    f"Podman {format_version(version)} rejects the file "
                    f"(\"unsupported key '{entry.key}' in group '{section}'\")",
                    f"upgrade Podman to {format_version(since)} or later, or pass the "
                    "equivalent podman flag through PodmanArgs=",
                )
            continue
        home = _home_of(entry.key, out.unit, exclude=section)
        if home is not None:
            _misplaced(out, entry, home)
            continue
        known = sorted(table)
        exact_case = [k for k in known if k.lower() == entry.key.lower()]
        close = exact_case or difflib.get_close_matches(entry.key, known, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}=?" if close else ""
        if beyond_tables(version) and not exact_case:
            # The release may have added the key: the tables cannot say it refuses the file.
            _maybe_newer_key(out, entry, section, version, hint)
            continue
        out.add(
            "QL013",
            entry,
            entry.key,
            f"{entry.key}= is not a [{section}] key in any Podman release{hint} "
            f"(Quadlet: \"unsupported key '{entry.key}' in group '{section}'\")",
            f"rename it to {close[0]}=" if close else "remove it, or pass the podman flag through PodmanArgs=",
        )


def _maybe_newer_key(out: UnitContext, entry: Entry, section: str, version: Version, hint: str) -> None:
    newest = format_version(NEWEST_KNOWN_VERSION)
    out.add(
        "QL009",
        entry,
        entry.key,
        f"{entry.key}= is not a [{section}] key in any Podman release up to {newest}, the newest the lint's "
        f"tables know{hint}; Podman {format_version(version)} may have added it, or refuses the file "
        f"(\"unsupported key '{entry.key}' in group '{section}'\")",
        "check the release's podman-systemd.unit(5), or run the generator: /usr/libexec/podman/quadlet -dryrun -user",
    )


@unit_rule(50)
def install(out: UnitContext) -> None:
    section = out.unit.section("Install")
    if section is None:
        return
    for entry in section.entries:
        if entry.key in QUADLET_INSTALL_KEYS or entry.key not in SYSTEMD_KEYS["Install"]:
            continue
        out.add(
            "QL015",
            entry,
            entry.key,
            f"Quadlet only creates links for Alias=, WantedBy=, RequiredBy= and UpheldBy=; "
            f"{entry.key}= is ignored because generated units cannot be 'systemctl enable'd",
            f"remove {entry.key}= and use WantedBy=/RequiredBy= instead",
        )


@unit_rule(60)
def single_valued(out: UnitContext) -> None:
    main = out.unit.main_section_name
    section = out.unit.section(main) if main else None
    if section is None:
        return
    seen: dict[str, Entry] = {}
    single = single_valued_keys(section.name, out.version)
    for entry in section.entries:
        if entry.key not in single:
            continue
        first = seen.setdefault(entry.key, entry)
        if first is not entry:
            out.add(
                "QL016",
                entry,
                entry.key,
                f"{entry.key}= is set again (first on line {first.line}); Quadlet uses only the last value",
                f"keep a single {entry.key}= line",
            )
