"""The probe scripts' wire encoding: which script prints each section (read from the scripts), a
section as probe_common.sh prints it (`@@PHX name rc base64(out) base64(err)`), and the encoded
outputs of the sections that carry a tar or an environment."""

from __future__ import annotations

import base64
import io
import re
import tarfile
from importlib import resources

from phoenix_compliance.transport.runner import Section


def _script_sections() -> tuple[dict[str, str], dict[str, str]]:
    """Which script prints each section, and the program it runs, read from the scripts themselves."""
    folder = resources.files("phoenix_compliance.facts.probes")
    owners: dict[str, str] = {}
    programs: dict[str, str] = {}
    for script in (
        "probe_base.sh",
        "probe_stack.sh",
        "probe_security.sh",
        "probe_upgrade.sh",
        "probe_quadlet.sh",
        "act_restart.sh",
    ):
        text = folder.joinpath(script).read_text("utf-8")
        for kind, name, program in re.findall(
            r"^\s*(section|shell_section|file_section|text_section|error_section) (\w+) (\S+)", text, re.MULTILINE
        ):
            owners[name] = script
            # What a fake host names as the missing program: the one run, or cat for a file read.
            programs[name] = {"file_section": "cat", "section": program.strip('"')}.get(kind, "sh")
        for pair in re.findall(r"^\s*switch_sections (\w+) (\w+)", text, re.MULTILINE):
            for name in pair:
                owners[name] = script
                programs[name] = "systemctl"
    return owners, programs


SCRIPT_OF, PROGRAM_OF = _script_sections()


def script_of(name: str) -> str:
    if re.fullmatch(r"http_\d+", name):
        return "probe_http.sh"
    if re.fullmatch(r"file_\d+", name):
        return "probe_files.sh"
    if re.fullmatch(r"group_compose(_path)?_\d+", name):
        return "probe_stack.sh"
    if name not in SCRIPT_OF:
        raise KeyError(f"no probe script prints a section {name!r}")
    return SCRIPT_OF[name]


def ok(name: str, out: str, err: str = "") -> Section:
    return Section(name, 0, out, err)


def login_environment(environ: dict[str, str]) -> str:
    """The compose_env section's output: an rc file's chatter, the marker, `env -0 | base64 -w0`."""
    data = "".join(f"{name}={value}\0" for name, value in environ.items()).encode()
    return "welcome\n@@ENV@@\n" + base64.b64encode(data).decode()


def quadlet_tar(files: dict[str, str]) -> str:
    """The quadlet_tar section's output: the folder as a tar, base64 without line breaks."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as archive:
        directory = tarfile.TarInfo(".")
        directory.type = tarfile.DIRTYPE
        archive.addfile(directory)
        for name, text in sorted(files.items()):
            data = text.encode()
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return base64.b64encode(buffer.getvalue()).decode()


def encode_section(section: Section) -> str:
    """A section as probe_common.sh prints it."""
    out = base64.b64encode(section.out.encode()).decode()
    err = base64.b64encode(section.err.encode()).decode()
    return f"@@PHX {section.name} {section.rc} {out} {err}\n"
