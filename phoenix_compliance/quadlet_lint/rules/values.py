"""Values: what podman or Quadlet refuses or warns about in a value (QL018 to QL022, QL027, QL028, QL047, QL06x).

[Service] KillMode=/Type= Quadlet will not run and User=/Group=/DynamicUser=
it warns about, ReloadCmd= with ReloadSignal=, User=/Group= and the user
namespace mappings, KEY=VALUE words, Secret=, UserNS= and AutoUpdate=, values
written in quotes Quadlet hands on with the quotes, and escapes it cannot read.
"""

from __future__ import annotations

from phoenix_compliance.quadlet.readers import SPLIT_ARGS, all_words, lookup, lookup_all, lookup_value, split_words
from phoenix_compliance.quadlet.unitfile import Entry
from phoenix_compliance.quadlet.versions import (
    EXEC_ESCAPE_WARNING_SINCE,
    SERVICE_KEY_WARNING_SINCE,
    UNSUPPORTED_SERVICE_KEYS,
    format_version,
)
from phoenix_compliance.quadlet_lint.context import UnitContext, unit_rule


def is_quoted(value: str) -> bool:
    return len(value) >= 2 and value[0] == value[-1] == '"'


def report_quoted(out: UnitContext, entry: Entry) -> bool:
    """Report a value Quadlet reads raw and hands to podman with its quotes; True if so."""
    if not is_quoted(entry.value):
        return False
    out.add(
        "QL047",
        entry,
        entry.key,
        f"{entry.key}={entry.value}: Quadlet does not unquote {entry.key}=, so podman receives the "
        "quotes as part of the value",
        f"drop the quotes: {entry.key}={entry.value[1:-1]}",
    )
    return True


# [Service] keys Quadlet sets itself for containers and kube units: the values it lets through
# (the first is its own), and how its error message calls the key.
_SERVICE_OVERRIDES = (
    ("KillMode", ("mixed", "control-group"), "KillMode"),
    ("Type", ("notify", "oneshot"), "service Type"),
)


@unit_rule(80)
def service_overrides(out: UnitContext) -> None:
    """Quadlet runs containers and kube units its own way and refuses [Service] settings against it."""
    unit = out.unit
    if unit.kind not in ("container", "kube") or not out.converted:
        return
    for key, allowed, called in _SERVICE_OVERRIDES:
        found = lookup(unit, "Service", key, out.version)
        if found is None or found[1] in allowed:
            continue
        entry, value = found
        out.add(
            "QL018",
            entry,
            key,
            f"{key}={value}: Quadlet only allows {allowed[0]} or {allowed[1]} (\"invalid {called} '{value}'\")",
            f"remove {key}= (Quadlet sets {allowed[0]}) or use {allowed[1]}",
        )


@unit_rule(82)
def unsupported_service_keys(out: UnitContext) -> None:
    """warnIfUnsupportedServiceKeys(): the generator (5.6+) warns about these in any Quadlet file."""
    if not out.converted:
        return
    for key in UNSUPPORTED_SERVICE_KEYS:
        entry = out.unit.last("Service", key)
        if entry is None:
            continue
        said = (
            'Quadlet warns ("using key {key} in the Service group is not supported - use at your own risk")'
            if out.version >= SERVICE_KEY_WARNING_SINCE
            else f"Quadlet warns about it from {format_version(SERVICE_KEY_WARNING_SINCE)}"
        ).format(key=key)
        out.add(
            "QL019",
            entry,
            key,
            f"[Service] {key}= makes systemd start podman itself as another user, which breaks rootless "
            f"Podman's runtime and storage; {said}",
            f"remove {key}= from [Service]; run the unit from that user's own systemd --user manager "
            "(User=/Group= in [Container] set the user inside the container)",
        )


@unit_rule(84)
def reload(out: UnitContext) -> None:
    """handleExecReload(): ReloadCmd= and ReloadSignal= are mutually exclusive."""
    if out.converted_main != "Container":
        return
    signal = lookup(out.unit, "Container", "ReloadSignal", out.version)
    command = out.unit.last("Container", "ReloadCmd")
    if signal is None or not signal[1] or command is None:
        return
    # LookupLastArgs(): a command that does not split counts as unset (and is warned about).
    if split_words(command.value, SPLIT_ARGS):
        first, second = sorted((signal[0], command), key=lambda entry: entry.line)
        out.add(
            "QL021",
            second,
            second.key,
            f"ReloadCmd= and ReloadSignal= are both set (line {first.line}); Quadlet refuses the file "
            '("ReloadCmd and ReloadSignal are mutually exclusive but both are set")',
            "keep ReloadCmd= (run a command in the container) or ReloadSignal= (send it a signal), not both",
        )


# Where handleUserMappings() runs, and whether it accepts RemapUsers=manual there.
_REMAP_MANUAL_ALLOWED = {"container": True, "pod": True, "kube": False}


@unit_rule(90)
def user_and_mappings(out: UnitContext) -> None:
    unit = out.unit
    main = out.converted_main
    if main is None:
        return
    if unit.kind == "container":
        group = lookup(unit, main, "Group", out.version)
        if group is not None and group[1] and not lookup_value(unit, main, "User", out.version):
            out.add(
                "QL022",
                group[0],
                "Group",
                'Group= is set without User=; Quadlet refuses it ("invalid Group set without User")',
                "add User= as well (podman takes --user USER:GROUP)",
            )
    if unit.kind not in _REMAP_MANUAL_ALLOWED:
        return
    explicit: list[Entry] = []
    for key in ("UserNS", "SubUIDMap", "SubGIDMap"):
        found = lookup(unit, main, key, out.version)
        if found is not None and found[1]:
            explicit.append(found[0])
    for key in ("UIDMap", "GIDMap"):
        words = all_words(unit, main, key)
        if words:
            explicit.append(words[0][0])
    remap = [entry for key in ("RemapUid", "RemapGid", "RemapUsers") if (entry := unit.last(main, key))]
    if explicit:
        if remap:
            first = min(remap, key=lambda entry: entry.line)
            mapping = min(explicit, key=lambda entry: entry.line)
            out.add(
                "QL028",
                first,
                first.key,
                f"the deprecated {first.key}= is combined with {mapping.key}= (line {mapping.line}); Quadlet "
                'refuses the file ("deprecated Remap keys are set along with explicit mapping keys")',
                "drop RemapUsers=/RemapUid=/RemapGid= and keep UserNS=, UIDMap=/GIDMap= or SubUIDMap=/SubGIDMap=",
            )
        return
    uid_maps = all_words(unit, main, "RemapUid")
    gid_maps = all_words(unit, main, "RemapGid")
    users = unit.last(main, "RemapUsers")
    mode = users.value if users else ""  # LookupLast(): quotes are not dropped here
    if mode == "":
        for maps, key in ((uid_maps, "RemapUid"), (gid_maps, "RemapGid")):
            if maps:
                out.add(
                    "QL022",
                    maps[0][0],
                    key,
                    f"{key}= is set without RemapUsers=; Quadlet refuses it",
                    "use UIDMap=/GIDMap= (RemapUid=/RemapGid= are deprecated), or add RemapUsers=",
                )
    elif users is not None and mode == "manual" and not _REMAP_MANUAL_ALLOWED[unit.kind]:
        out.add(
            "QL027",
            users,
            "RemapUsers",
            f'RemapUsers=manual is not supported in a .{unit.kind} file; Quadlet: "RemapUsers=manual is not supported"',
            "use RemapUsers=auto or keep-id, or UserNS=",
        )
    elif users is not None and mode == "keep-id":
        for maps, key in ((uid_maps, "RemapUid"), (gid_maps, "RemapGid")):
            if len(maps) > 1:
                out.add(
                    "QL027",
                    maps[1][0],
                    key,
                    f"RemapUsers=keep-id takes a single {key}= value; Quadlet refuses several",
                    f"keep one {key}= value",
                )
    elif users is not None and mode not in ("manual", "auto", "keep-id"):
        out.add(
            "QL027",
            users,
            "RemapUsers",
            f"RemapUsers={mode} is not manual, auto or keep-id; Quadlet: \"unsupported RemapUsers option '{mode}'\"",
            "use UserNS= instead (RemapUsers= is deprecated)",
        )


# Keys read with LookupAllKeyVal(), per section: each word must be KEY=VALUE.
_KEY_VALUE_KEYS: dict[str, tuple[str, ...]] = {
    "Container": ("Environment", "Label", "Annotation"),
    "Build": ("BuildArg", "Environment", "Label", "Annotation"),
    "Pod": ("Label",),
    "Volume": ("Label",),
    "Network": ("Label", "Options"),
}


@unit_rule(190)
def key_values(out: UnitContext) -> None:
    unit = out.unit
    main = out.converted_main
    if main not in _KEY_VALUE_KEYS:
        return
    for key in _KEY_VALUE_KEYS[main]:
        for entry in lookup_all(unit, main, key):
            words = split_words(entry.value, SPLIT_ARGS)
            if words is None:
                unreadable_escape(out, entry, "the whole line")
                continue
            for word in words:
                if "=" in word:
                    continue
                out.add(
                    "QL060",
                    entry,
                    key,
                    f"{key}=: '{word}' has no '='; each space-separated word is one KEY=VALUE, so Quadlet "
                    "drops it (5.4) or passes it on as a key without a value",
                    f'write {key}=NAME=value, and quote values with spaces: {key}="NAME=a b"',
                )


_SECRET_OPTIONS = frozenset({"type", "target", "uid", "gid", "mode"})


@unit_rule(200)
def secrets(out: UnitContext) -> None:
    unit = out.unit
    # A .build's Secret= follows buildah's id=,src= syntax; only containers are judged.
    if unit.kind != "container" or not out.converted:
        return
    for entry, word in all_words(unit, "Container", "Secret", SPLIT_ARGS):
        name, *options = word.split(",")
        problem = "" if name and "=" not in name else "the secret's name must come first"
        for option in options:
            key, _eq, value = option.partition("=")
            if key not in _SECRET_OPTIONS:
                problem = problem or f"'{key}' is not one of type, target, uid, gid, mode"
            elif key == "type" and value not in ("mount", "env"):
                problem = problem or f"type={value} is not mount or env"
        if problem:
            out.add(
                "QL062",
                entry,
                "Secret",
                f"Secret={word}: {problem}; podman refuses to create the container",
                "write Secret=name[,type=mount|env][,target=...][,uid=,gid=,mode=]",
            )


_USERNS_MODES = frozenset({"", "auto", "host", "keep-id", "nomap", "private", "ns", "container"})


@unit_rule(210)
def auto_update(out: UnitContext) -> None:
    unit = out.unit
    if not out.converted:
        return
    if unit.kind == "container":
        found = lookup(unit, "Container", "AutoUpdate", out.version)
        if found is not None and found[1] and found[1] not in ("registry", "local"):
            _bad_policy(out, found[0], found[1])
    elif unit.kind == "kube":
        for entry, word in all_words(unit, "Kube", "AutoUpdate"):
            policy = word.rsplit("/", 1)[-1]
            if policy not in ("registry", "local"):
                _bad_policy(out, entry, word)


@unit_rule(220)
def userns(out: UnitContext) -> None:
    unit = out.unit
    main = out.converted_main
    if unit.kind in ("container", "pod", "kube") and main is not None:
        found = lookup(unit, main, "UserNS", out.version)
        if found is not None and found[1]:
            mode, colon, rest = found[1].partition(":")
            needs_value = mode in ("ns", "container")
            if mode not in _USERNS_MODES or (needs_value and not rest) or (colon and not rest):
                out.add(
                    "QL063",
                    found[0],
                    "UserNS",
                    f"UserNS={found[1]} is not a user namespace mode podman knows; it refuses to start",
                    "use auto, keep-id, host, nomap, private, ns:<path> (options after ':', e.g. keep-id:uid=1000)",
                )


def _bad_policy(out: UnitContext, entry: Entry, value: str) -> None:
    out.add(
        "QL064",
        entry,
        "AutoUpdate",
        f"AutoUpdate={value}: podman auto-update knows only the registry and local policies",
        "use AutoUpdate=registry or AutoUpdate=local",
    )


def unreadable_escape(out: UnitContext, entry: Entry, dropped: str) -> None:
    """A value the generator's word splitting refuses (LookupAllKeyVal(), LookupLastArgs()):
    it drops it, with a warning from 5.6 ("unsupported escape char")."""
    said = (
        'Quadlet drops {dropped} with a warning ("unsupported escape char")'
        if out.version >= EXEC_ESCAPE_WARNING_SINCE
        else "Quadlet drops {dropped} without a word"
    ).format(dropped=dropped)
    out.add(
        "QL065",
        entry,
        entry.key,
        f"{entry.key}={entry.value}: the value has an escape sequence Quadlet cannot read (such as \\q); {said}",
        "write a literal backslash as \\\\",
    )


@unit_rule(195)
def command_escapes(out: UnitContext) -> None:
    """Exec= and ReloadCmd= are read with LookupLastArgs(): a value that does not split is dropped."""
    if out.converted_main != "Container":
        return
    for key in ("Exec", "ReloadCmd"):
        entry = out.unit.last("Container", key)
        if entry is not None and split_words(entry.value, SPLIT_ARGS) is None:
            unreadable_escape(out, entry, f"{key}=" if key == "ReloadCmd" else "the command (the image's runs)")
