"""The files a run writes, one registry entry per format, and how they reach the reports folder.

Every file shares one base name under --reports-dir, `readiness-<host>-<time>`, and takes its
entry's suffix. A format with its own option (--json, --prometheus) takes the option's value
or that default path; the HTML and the JUnit XML belong to pytest-html's --html and pytest's
--junitxml, which are given the default path when unset, and are written by those plugins.
A new format is one writer function and its entry in WRITERS.

No file is written in place. Every format is first written into a private staging folder
(pytest-html and junitxml are pointed there at configure time), sealed and signed there, and
only then published into its folder in one step each: written to an unnamed file of that
folder (O_TMPFILE) and linked to its name, so a run killed mid-write leaves nothing behind,
not even an empty file. Files under the default base name are created exclusively: when
another run took the name (two runs in the same second), the whole set moves to the next
free suffix, `-2`, `-3`, ..., and the paths the run announces are the ones it wrote. A path
given explicitly (--json FILE) is replaced atomically, as its user asked for that name.
A folder that is full, read-only or cannot be created is one ReportsUnwritten naming it.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from phoenix_compliance.redact import redact
from phoenix_compliance.report import outputs, signing
from phoenix_compliance.report.model import RunReport
from phoenix_compliance.run.hosts import hosts_slug

# The run's exit code when the verdicts stand but no report file could be kept
# (pytest's own codes are 0-5; the readiness codes are in run/reporter.py).
EXIT_REPORTS_UNWRITTEN = 14

# What writes a format's file: the run's model, the file, the --sign-key (or None).
Write = Callable[[RunReport, Path, Path | None], None]
# How a format's path is chosen from the options, given its default path; None: no file.
Choose = Callable[[pytest.Config, Path, Path], Path | None]

# Tried before giving up on a free name: far more runs than start in one second.
_MAX_SUFFIX = 1000


class ReportsUnwritten(Exception):
    """The reports folder would not take the files (full, read-only, missing); none was kept."""

    def __init__(self, folder: Path, reason: str) -> None:
        super().__init__(f"cannot write the reports to {folder}: {reason}; no report file was kept")
        self.folder = folder


@dataclass(frozen=True)
class PathOption:
    """A format's own command-line option naming where its file goes."""

    flag: str
    dest: str
    what: str  # the file, as the option's help names it

    @property
    def help(self) -> str:
        return f"where to write {self.what} (default: beside the HTML, same base name)"


@dataclass(frozen=True)
class ReportWriter:
    name: str
    suffix: str
    # None: the file is written by the plugin that owns its option, and only named here.
    write: Write | None
    option: PathOption | None = None
    # For a file whose option another plugin owns: given the default and the staged path,
    # point the plugin at the staged one and return where the file goes in the end.
    choose: Choose | None = None
    # How the file is written from the model alone where no plugin writes it (merge); None: `write`.
    standalone: Write | None = None

    def path(self, config: pytest.Config, default: Path, staged: Path) -> Path | None:
        if self.choose is not None:
            return self.choose(config, default, staged)
        if self.option is None:
            raise TypeError(f"report writer {self.name} has neither an option nor a way to choose its path")
        return Path(getattr(config.option, self.option.dest) or default)


@dataclass
class Staging:
    """Where the formats are written before they are published, and what they become."""

    folder: Path
    # The staged file of each format, by writer name.
    staged: dict[str, Path] = field(default_factory=dict)
    # Writers whose final path is the default base name (published exclusively, with a suffix).
    defaults: set[str] = field(default_factory=set)
    # The plugins' objects that announce a path (pytest-html, junitxml), told the final one.
    config: pytest.Config | None = None


def _html_path(config: pytest.Config, default: Path, staged: Path) -> Path | None:
    # Without pytest-html the option does not exist and there is no page.
    if not hasattr(config.option, "htmlpath"):
        return None
    final = Path(config.option.htmlpath).expanduser() if config.option.htmlpath else default
    # One file, whatever was asked: a page with its assets beside it cannot be moved or sealed whole.
    config.option.htmlpath = str(staged)
    config.option.self_contained_html = True
    return final if final.is_absolute() else config.invocation_params.dir / final


def _junit_path(config: pytest.Config, default: Path, staged: Path) -> Path | None:
    final = Path(config.option.xmlpath).expanduser() if config.option.xmlpath else default
    config.option.xmlpath = str(staged)
    return final if final.is_absolute() else config.invocation_params.dir / final


def _seal_html(run: RunReport, path: Path, sign_key: Path | None) -> None:
    # pytest-html has written the page by now (the reporter runs last); seal what it wrote.
    if path.exists():
        signing.seal_html(path, sign_key)


def _write_page(run: RunReport, path: Path, sign_key: Path | None) -> None:
    from phoenix_compliance.report.render import standalone_page

    path.write_text(standalone_page(run, f"Migration readiness of {len(run.hosts)} hosts"), encoding="utf-8")
    signing.seal_html(path, sign_key)


def _write_junit(run: RunReport, path: Path, sign_key: Path | None) -> None:
    path.write_text(redact(outputs.to_junit(run)), encoding="utf-8")


def _write_json(run: RunReport, path: Path, sign_key: Path | None) -> None:
    document = outputs.to_document(run)
    document["digest"] = outputs.canonical_digest(document)
    if sign_key is not None:
        document["signature"] = signing.sign_digest(str(document["digest"]), sign_key)
    outputs.write_json(document, path)


def _write_prometheus(run: RunReport, path: Path, sign_key: Path | None) -> None:
    path.write_text(redact(outputs.to_prometheus(run, time.time())), encoding="utf-8")


# In the order they are written (the HTML is sealed before the JSON is signed) and announced.
WRITERS = (
    ReportWriter("html", ".html", _seal_html, choose=_html_path, standalone=_write_page),
    ReportWriter("junit", ".xml", None, choose=_junit_path, standalone=_write_junit),
    ReportWriter("json", ".json", _write_json, PathOption("--json", "phx_json", "the JSON report")),
    ReportWriter(
        "prometheus",
        ".prom",
        _write_prometheus,
        PathOption("--prometheus", "phx_prometheus", "the Prometheus textfile"),
    ),
)


def report_files(config: pytest.Config, now: dt.datetime) -> tuple[dict[str, Path], Staging | None]:
    """Each format's file, by writer name, under one base name naming host and time, and the
    staging folder they are first written to; only the process that writes reports (the xdist
    controller) has them, and no run that judges nothing (--collect-only, --help). Nothing is
    created in the reports folder until the files are published."""
    if hasattr(config, "workerinput") or config.option.collectonly or config.option.help:
        return {}, None
    reports = Path(config.option.phx_reports_dir).expanduser()
    if not reports.is_absolute():
        reports = config.invocation_params.dir / reports
    base = f"readiness-{hosts_slug(config)}-{now:%Y%m%dT%H%M%S}"
    staging = Staging(Path(tempfile.mkdtemp(prefix="phoenix-reports-")), config=config)
    files: dict[str, Path] = {}
    for writer in WRITERS:
        default = reports / f"{base}{writer.suffix}"
        staged = staging.folder / f"{base}{writer.suffix}"
        path = writer.path(config, default, staged)
        if path is not None:
            files[writer.name] = path
            staging.staged[writer.name] = staged
            if path == default:
                staging.defaults.add(writer.name)
    return files, staging


def write_all(
    run: RunReport,
    files: dict[str, Path],
    sign_key: Path | None,
    staging: Staging | None = None,
    *,
    write: bool = True,
) -> None:
    """Write every format in registry order into the staging folder (write=False: only those
    the plugins wrote), then publish them; `files` is updated to the paths written. A
    signing.SigningError stops the ones after it and publishes nothing; a folder that takes no
    file raises ReportsUnwritten (and `files` is emptied)."""
    if staging is None:
        # Without a staging folder (a caller of its own), write in place.
        for writer in WRITERS:
            path = files.get(writer.name)
            if writer.write is not None and path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                writer.write(run, path, sign_key)
        return
    try:
        for writer in WRITERS if write else ():
            staged = staging.staged.get(writer.name)
            if writer.write is not None and staged is not None:
                writer.write(run, staged, sign_key)
        try:
            published = publish(files, staging)
        except ReportsUnwritten:
            files.clear()
            raise
        files.clear()
        files.update(published)
        _announce(staging, published)
    finally:
        shutil.rmtree(staging.folder, ignore_errors=True)


def write_set(folder: Path, base: str, formats: Iterable[tuple[str, str, Callable[[Path], None]]]) -> dict[str, Path]:
    """Files a command writes outside a pytest run (merge, trend), each format (name, suffix,
    writer) under one new base name in `folder`, staged and published as a run's are: whole,
    never over another file (the next free suffix instead). The paths written, by name."""
    staging = Staging(Path(tempfile.mkdtemp(prefix="phoenix-reports-")))
    files: dict[str, Path] = {}
    try:
        for name, suffix, write in formats:
            files[name] = folder / f"{base}{suffix}"
            staging.staged[name] = staging.folder / f"{base}{suffix}"
            staging.defaults.add(name)
            write(staging.staged[name])
        return publish(files, staging)
    finally:
        shutil.rmtree(staging.folder, ignore_errors=True)


def write_standalone(run: RunReport, folder: Path, base: str, sign_key: Path | None) -> dict[str, Path]:
    """Every format of a run's set from the model alone (merge), in registry order."""

    def bound(write: Write) -> Callable[[Path], None]:
        return lambda path: write(run, path, sign_key)

    formats = [
        (writer.name, writer.suffix, bound(write))
        for writer in WRITERS
        if (write := writer.standalone or writer.write) is not None
    ]
    return write_set(folder, base, formats)


def publish(files: dict[str, Path], staging: Staging) -> dict[str, Path]:
    """Move each staged file to its final path (see the module docstring); the paths written.
    On ReportsUnwritten, the files this run had published already are taken back."""
    ready = {name: path for name, path in files.items() if staging.staged[name].exists()}
    payloads = {name: staging.staged[name].read_bytes() for name in ready}
    written: list[Path] = []
    try:
        published = _publish_defaults({n: p for n, p in ready.items() if n in staging.defaults}, payloads, written)
        for name, path in ready.items():
            if name in staging.defaults:
                continue
            try:
                write_file(path, [payloads[name]], exclusive=False)
            except OSError as exc:
                raise ReportsUnwritten(path.parent, _reason(exc)) from None
            written.append(path)
            published[name] = path
    except ReportsUnwritten:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return {name: published[name] for name in files if name in published}


def _publish_defaults(paths: dict[str, Path], payloads: dict[str, bytes], written: list[Path]) -> dict[str, Path]:
    """Publish the default-named files under the first base name that none of them has yet."""
    if not paths:
        return {}
    folder = next(iter(paths.values())).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ReportsUnwritten(folder, "it is a file, not a folder") from None
    except OSError as exc:
        raise ReportsUnwritten(folder, _reason(exc)) from None
    for attempt in range(1, _MAX_SUFFIX + 1):
        chosen = {name: _with_suffix(path, attempt) for name, path in paths.items()}
        taken: list[Path] = []
        try:
            for name, path in chosen.items():
                write_file(path, [payloads[name]], exclusive=True)
                taken.append(path)
        except FileExistsError:
            # Another run holds this name: give back what this attempt took, try the next suffix.
            for path in taken:
                path.unlink(missing_ok=True)
            continue
        except OSError as exc:
            for path in taken:
                path.unlink(missing_ok=True)
            raise ReportsUnwritten(folder, _reason(exc)) from None
        written.extend(taken)
        return chosen
    raise ReportsUnwritten(folder, f"no free report name after {_MAX_SUFFIX} tries")


def _with_suffix(path: Path, attempt: int) -> Path:
    if attempt == 1:
        return path
    return path.with_name(f"{path.name.removesuffix(path.suffix)}-{attempt}{path.suffix}")


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the folder is full (no space left on device)"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"the folder is not writable ({exc.strerror})"
    if exc.errno == errno.EEXIST:
        return f"{exc.filename} is in the way"
    return exc.strerror or str(exc)


def write_file(path: Path, chunks: Iterable[bytes], *, exclusive: bool) -> None:
    """Write a file whole or not at all: into an unnamed file of its folder, then linked to its name.

    exclusive: fail with FileExistsError when the name exists; otherwise replace it atomically.
    Where the filesystem has no O_TMPFILE, a hidden temporary name is used and renamed instead."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(folder, os.O_TMPFILE | os.O_WRONLY | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):
            raise
        _write_named(path, chunks, exclusive=exclusive)
        return
    try:
        _write_all(fd, chunks)
        # linkat(AT_SYMLINK_FOLLOW) of /proc/self/fd/N gives the unnamed file its name; os.link
        # passes that flag only when it calls linkat, which a directory fd makes it do.
        folder_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            if exclusive:
                os.link(f"/proc/self/fd/{fd}", path.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
            else:
                # An unnamed file cannot replace a name: it gets a hidden one first (it is whole by now).
                hidden = f".{path.name}.{os.getpid()}.tmp"
                os.link(f"/proc/self/fd/{fd}", hidden, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
                os.replace(hidden, path.name, src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
        finally:
            os.close(folder_fd)
    finally:
        os.close(fd)


def _write_named(path: Path, chunks: Iterable[bytes], *, exclusive: bool) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)
        _write_all(fd, chunks)
        if exclusive:
            os.link(temporary, path)
        else:
            os.replace(temporary, path)
    finally:
        os.close(fd)
        Path(temporary).unlink(missing_ok=True)


def _write_all(fd: int, chunks: Iterable[bytes]) -> None:
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            view = view[os.write(fd, view) :]
    os.fsync(fd)


def _announce(staging: Staging, published: dict[str, Path]) -> None:
    """pytest-html and junitxml announce the file they wrote: make that the published one."""
    config = staging.config
    if config is None:
        return
    if "html" in published:
        for plugin in config.pluginmanager.get_plugins():
            if getattr(plugin, "_report_path", None) == staging.staged["html"]:
                plugin._report_path = published["html"]
    if "junit" in published:
        from _pytest.junitxml import xml_key

        xml = config.stash.get(xml_key, None)
        if xml is not None:
            xml.logfile = str(published["junit"])


def forget_announcements(config: pytest.Config, staging: Staging | None) -> None:
    """No file was kept: pytest-html and junitxml must not announce the staged ones."""
    if staging is None:
        return
    for plugin in config.pluginmanager.get_plugins():
        if getattr(plugin, "_report_path", None) == staging.staged.get("html"):
            config.pluginmanager.unregister(plugin)
    from _pytest.junitxml import xml_key

    xml = config.stash.get(xml_key, None)
    if xml is not None:
        del config.stash[xml_key]
        config.pluginmanager.unregister(xml)
