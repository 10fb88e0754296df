"""Storage: Volume=, Mount=, .volume units and a .build's or .kube's working directory (QL040 to QL046).

Volume sources and destinations as the generator's addVolumes() and
handleStorageSource() read them and podman then refuses, Mount= as podman's
--mount parser does, Driver=/Device= of a .volume, and SetWorkingDirectory=
with File= (QL020, QL022, QL024 and QL031 where they concern these).
"""

from __future__ import annotations

import re

from phoenix_compliance.grammar.names import PODMAN_NAME
from phoenix_compliance.grammar.specifiers import expand, starts_unresolved, unresolved
from phoenix_compliance.grammar.volumes import WINDOWS_PATH, parse_mount, split_volume
from phoenix_compliance.quadlet.readers import (
    SPLIT_ARGS,
    all_words,
    lookup,
    lookup_all,
    lookup_value,
)
from phoenix_compliance.quadlet.unitfile import Entry, UnitFile
from phoenix_compliance.quadlet.versions import (
    ANONYMOUS_VOLUME_MOUNT_SINCE,
    BUILD_FILE_SPECIFIERS_SINCE,
    EMPTY_SOURCE_ERROR_SINCE,
    KUBE_MULTIPLE_YAML_SINCE,
    MOUNT_DEFAULT_TYPE_SINCE,
    VOLUME_OPTIONS_WITHOUT_DEVICE_SINCE,
    keyset,
)
from phoenix_compliance.quadlet_lint.context import UnitContext, unit_rule
from phoenix_compliance.quadlet_lint.rules.references import image_reference
from phoenix_compliance.quadlet_lint.rules.values import report_quoted


def volume_sections(unit: UnitFile) -> list[str]:
    main = unit.main_section_name
    return [main] if main in ("Container", "Pod", "Build") else []


@unit_rule(120)
def volumes(out: UnitContext) -> None:
    if not out.converted:
        return
    for section in volume_sections(out.unit):
        for entry in lookup_all(out.unit, section, "Volume"):
            # A quoted value is still resolved raw (a leading '"' and a trailing '.volume'
            # is a reference); only the advice about its parts would be noise.
            _volume(out, entry, advise=not report_quoted(out, entry))


# Options podman's -v takes (podman-run(1) --volume; pkg/util ProcessOptions).
_VOLUME_OPTIONS = keyset(
    """rw ro z Z O U copy nocopy dev nodev exec noexec suid nosuid bind rbind private rprivate
    shared rshared slave rslave unbindable runbindable sync async atime noatime relatime
    norelatime strictatime nostrictatime diratime nodiratime norelabel noswap"""
)


_VOLUME_OPTIONS_WITH_VALUE = ("idmap", "upperdir=", "workdir=")


def _volume(out: UnitContext, entry: Entry, advise: bool = True) -> None:
    value = entry.value
    if not advise:
        source = split_volume(value)[0]
        if not source.startswith((".", "/")) and source.endswith(".volume") and not out.has(source):
            out.add(
                "QL031",
                entry,
                "Volume",
                f"Volume={value}: Quadlet keeps the quotes and looks for a unit named {source}, which is not "
                f'there; Quadlet: "requested Quadlet source {source} was not found"',
                f"drop the quotes: Volume={value[1:-1]}",
            )
        return
    if WINDOWS_PATH.match(value):
        out.add(
            "QL040",
            entry,
            "Volume",
            f"Volume={value}: '{value[:2]}' is a Windows drive; Quadlet splits at ':' and "
            f"would mount a volume named '{value[0]}'",
            "use an absolute Linux path or %h/..., e.g. Volume=%h/data:/data:Z",
        )
        return
    source, dest, options = split_volume(value)
    # Judged as systemd passes them on: known specifiers and ${VAR}s expanded, the rest not judged.
    resolved_source, resolved_dest = expand(source, out.known), expand(dest, out.known)
    # handleStorageSource() tests in this order: '.', '/', then the .volume suffix.
    if source.startswith("."):
        out.add(
            "QL041",
            entry,
            "Volume",
            f"Volume={value}: relative source '{source}' is resolved against the unit "
            "file's directory (~/.config/containers/systemd once installed), not the "
            "compose project",
            f"use an absolute path or a specifier, e.g. %h/{source.lstrip('./') or 'data'}",
        )
    elif source.startswith("/"):
        pass
    elif source.endswith(".volume"):
        if not out.has(source):
            out.add(
                "QL031",
                entry,
                "Volume",
                f"Volume={value}: there is no {source} beside this file; Quadlet: "
                f'"requested Quadlet source {source} was not found"',
                f"add {source} next to {out.unit.name}, or use a plain volume name",
            )
    elif _bad_volume_name(resolved_source):
        shown = "" if resolved_source == source else f" (as systemd expands it: '{resolved_source}')"
        out.add(
            "QL042",
            entry,
            "Volume",
            f"Volume={value}: '{source}'{shown} is neither an absolute path nor a valid volume "
            "name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)",
            "use an absolute path, %h/..., a volume name, or a .volume unit",
        )
    if not resolved_dest.startswith("/") and not starts_unresolved(resolved_dest):
        out.add(
            "QL043",
            entry,
            "Volume",
            f"Volume={value}: the container path '{dest}' is not absolute; podman refuses it",
            "write the container path from the root, e.g. :/data",
        )
    for option in options.split(",") if options else ():
        if option in _VOLUME_OPTIONS or option.startswith(_VOLUME_OPTIONS_WITH_VALUE) or unresolved(option):
            continue
        out.add(
            "QL044",
            entry,
            "Volume",
            f"Volume={value}: podman does not know the option '{option}' and refuses the mount",
            "use options such as ro, rw, z, Z, U, O, nocopy, separated by commas",
        )


def _bad_volume_name(source: str) -> bool:
    """A source (as systemd expands it) that is neither a path nor a name podman takes; one that
    still holds a specifier or variable is not judged."""
    return bool(source) and not source.startswith("/") and not unresolved(source) and not PODMAN_NAME.match(source)


# Mount types podman knows (podman-run(1) --mount), and those Quadlet resolves a source for.
_MOUNT_TYPES = frozenset({"bind", "volume", "tmpfs", "ramfs", "image", "devpts", "glob", "artifact"})


_MOUNT_SOURCE_TYPES = frozenset({"bind", "volume", "glob", "image"})


_MOUNT_FORMAT = "type=<bind|glob|tmpfs|volume>,[src=<host-dir|volume-name>,]target=<ctr-dir>[,options]"


@unit_rule(130)
def mounts(out: UnitContext) -> None:
    if out.unit.kind != "container" or not out.converted:
        return
    for entry, word in all_words(out.unit, "Container", "Mount", SPLIT_ARGS):
        _mount(out, entry, word)


def _mount(out: UnitContext, entry: Entry, word: str) -> None:
    def refuse(why: str, fix: str) -> None:
        out.add("QL045", entry, "Mount", f"Mount={word}: {why}", fix)

    mount = parse_mount(word)
    if mount is None:
        refuse("is not valid comma-separated text (stray double quote); Quadlet refuses it", "remove the quotes")
        return
    mount_type, tokens = mount.type, mount.tokens
    if mount_type is None and out.version >= MOUNT_DEFAULT_TYPE_SINCE:
        mount_type = "volume"
    if mount_type is None:
        refuse(
            f'has no type=; Quadlet: "incorrect mount format: should be --mount {_MOUNT_FORMAT}"',
            "start with type=bind, type=volume or type=tmpfs",
        )
        return
    if mount_type not in _MOUNT_TYPES:
        out.add(
            "QL046",
            entry,
            "Mount",
            f"Mount={word}: podman does not know the mount type '{mount_type}'",
            "use type=bind, volume, tmpfs, image, devpts, glob or ramfs",
        )
    if mount_type not in _MOUNT_SOURCE_TYPES:
        return
    source: str | None = None
    for token in tokens:
        key, has_value, value = token.partition("=")
        if key in ("source", "src"):
            if not has_value:
                refuse('"source parameter does not include a value"', "write source=<path or volume>")
                return
            source = value
    if not source:
        if out.version >= ANONYMOUS_VOLUME_MOUNT_SINCE:
            if mount_type != "volume":
                refuse(
                    f'a {mount_type} mount needs a source; Quadlet: "source parameter is required for mount '
                    f'type {mount_type}"',
                    "add source=<host path, volume or .volume unit>",
                )
            return  # an anonymous volume
        if out.version >= EMPTY_SOURCE_ERROR_SINCE:
            refuse(
                f'a {mount_type} mount without a source (or with an empty one); Quadlet: "source cannot be empty"',
                "add source=<host path, volume or .volume unit>",
            )
            return
        # Seen on 5.4.2: handleStorageSource() indexes the empty source and the generator panics.
        refuse(
            f"a {mount_type} mount without a source (or with an empty one) makes the Quadlet generator "
            "crash (index out of range), so no unit of the directory is generated",
            "add source=<host path, volume or .volume unit>",
        )
        return
    if source.startswith((".", "/")):
        return
    if source.endswith((".volume", ".image")) and not out.has(source):
        out.add(
            "QL031",
            entry,
            "Mount",
            f"Mount={word}: there is no {source} beside this file; Quadlet: "
            f'"requested Quadlet source {source} was not found"',
            f"add {source} next to {out.unit.name}, or name an existing volume",
        )


@unit_rule(160)
def volume_unit(out: UnitContext) -> None:
    unit = out.unit
    if unit.kind != "volume" or not out.converted:
        return
    driver = lookup(unit, "Volume", "Driver", out.version)
    if driver is not None and driver[1] == "image":
        image = lookup(unit, "Volume", "Image", out.version)
        if image is None:
            out.add(
                "QL020",
                driver[0],
                "Image",
                'Driver=image needs Image= in [Volume]; Quadlet: "the key Image is mandatory when using the '
                'image driver"',
                "add Image=<image, or a .image/.build unit>",
            )
        else:
            image_reference(out, image[0], image[1])
        return
    if lookup_value(unit, "Volume", "Device", out.version):
        return
    needs_device = ("Type",) if out.version >= VOLUME_OPTIONS_WITHOUT_DEVICE_SINCE else ("Type", "Options")
    for key in needs_device:
        found = lookup(unit, "Volume", key, out.version)
        if found is not None and found[1]:
            out.add(
                "QL022",
                found[0],
                key,
                f'{key}= is set without Device=; Quadlet: "key {key} can\'t be used without Device"',
                f"add Device= (what to mount), or remove {key}=",
            )


# isURL() in quadlet.go, unanchored alternatives included.
_URL = re.compile(r"^((https?)|(git)://)|(github\.com/).+$")


def _refused_working_directory(kind: str, value: str) -> str | None:
    """Why handleSetWorkingDirectory() refuses a value for this file type, or None."""
    mode = value.lower()
    if mode == "yaml" and kind != "kube":
        return f"SetWorkingDirectory={value} is only supported in .kube files; Quadlet refuses it"
    if mode == "file" and kind != "build":
        return f"SetWorkingDirectory={value} is only supported in .build files; Quadlet refuses it"
    if mode not in ("yaml", "file", "unit") and kind != "build":
        return f"SetWorkingDirectory={value}: a .{kind} file takes only yaml or unit; Quadlet refuses it"
    return None


def _absolute_file(file: str, out: UnitContext) -> bool:
    """Whether ConvertBuild() takes File= as absolute: a '/' path, or (from 5.7) one that
    starts with a systemd specifier other than %% (startsWithSystemdSpecifier())."""
    if file.startswith("/"):
        return True
    return out.version >= BUILD_FILE_SPECIFIERS_SINCE and file.startswith("%") and not file.startswith("%%")


@unit_rule(170)
def working_directory(out: UnitContext) -> None:
    """handleSetWorkingDirectory() and the build context rules of ConvertBuild()."""
    unit = out.unit
    main = out.converted_main
    if unit.kind not in ("build", "kube") or main is None:
        return
    found = lookup(unit, main, "SetWorkingDirectory", out.version)
    at = out.section_line(main)
    swd_entry, swd = found if found is not None else (None, "")
    context = ""
    adds_directory = False
    mode = swd.lower()
    if swd_entry is not None and swd:
        refused = _refused_working_directory(unit.kind, swd)
        if refused is not None:
            out.add("QL024", swd_entry, "SetWorkingDirectory", refused, "use unit, or a value this file type takes")
            return
        relative_to = ""
        if mode == "file":
            file_entry = lookup(unit, main, "File", out.version)
            if file_entry is None:
                why = 'SetWorkingDirectory=file needs File=; Quadlet: "no File key specified"'
                out.add("QL020", swd_entry, "File", why, "add File=<Containerfile>")
                return
            relative_to = file_entry[1]
        elif mode == "yaml":
            relative_to = lookup_value(unit, main, "Yaml", out.version)
            if out.version >= KUBE_MULTIPLE_YAML_SINCE:
                yamls = all_words(unit, main, "Yaml")
                if len(yamls) > 1:
                    out.add(
                        "QL024",
                        swd_entry,
                        "SetWorkingDirectory",
                        f"SetWorkingDirectory=yaml with {len(yamls)} Yaml= files: relative to which? Quadlet "
                        'refuses it ("SetWorkingDirectory=yaml is only supported when a single Yaml key is provided")',
                        "keep one Yaml=, or use SetWorkingDirectory=unit (or a WorkingDirectory= in [Service])",
                    )
                    return
                relative_to = yamls[0][1] if yamls else ""
        elif mode == "unit":
            relative_to = str(unit.path)
        else:
            context = swd
            relative_to = "" if context.startswith("/") else str(unit.path)
        if relative_to and not _URL.search(context):
            if lookup_value(unit, "Service", "WorkingDirectory", out.version):
                context = ""  # an explicit WorkingDirectory= wins and the context is dropped
            else:
                adds_directory = True
    if unit.kind != "build":
        return
    has_directory = adds_directory or bool(lookup_value(unit, "Service", "WorkingDirectory", out.version))
    file = lookup_value(unit, main, "File", out.version)
    if not has_directory and not file and not context:
        out.add(
            "QL020",
            at,
            "File",
            'a .build needs File= or SetWorkingDirectory=; Quadlet: "neither SetWorkingDirectory, nor File '
            'key specified"',
            "add File=<Containerfile> or SetWorkingDirectory=<context>",
        )
    elif not context and not _absolute_file(file, out) and not _URL.search(file) and not has_directory:
        last_file = unit.last(main, "File")
        out.add(
            "QL024",
            last_file if last_file else at,
            "File",
            f'File={file} is relative and nothing says relative to what; Quadlet: "relative path in File key '
            'requires SetWorkingDirectory key to be set"',
            "add SetWorkingDirectory=unit (or a context directory), or make File= absolute",
        )
