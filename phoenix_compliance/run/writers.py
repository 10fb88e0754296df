"""The files a run writes: each report format (report/files.py) with the option or plugin that
chooses its path, and the pytest glue that stages and publishes them (publish.py).

Every file shares one base name under --reports-dir, `readiness-<host>-<time>`, and takes its
format's suffix. A format with its own option (--json, --prometheus) takes the option's value
or that default path; the HTML and the JUnit XML belong to pytest-html's --html and pytest's
--junitxml, which are given the default path when unset, and are written by those plugins.
A new format is one writer function in report/files.py and its entry in WRITERS.

No file is written in place: every format is first written into a private staging folder
(pytest-html and junitxml are pointed there at configure time), sealed and signed there, and
only then published by publish.publish (whole, never over another run's file; see there).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from phoenix_compliance.publish import EXIT_REPORTS_UNWRITTEN, ReportsUnwritten, StagedSet, publish
from phoenix_compliance.report import files as formats
from phoenix_compliance.report.files import ReportFormat, Write
from phoenix_compliance.report.model import RunReport
from phoenix_compliance.run.hosts import hosts_slug

# Where callers of the run's writing find them (the reporter, the selftests).
__all__ = [
    "EXIT_REPORTS_UNWRITTEN",
    "WRITERS",
    "ReportWriter",
    "ReportsUnwritten",
    "Staging",
    "forget_announcements",
    "report_files",
    "write_all",
]

# How a format's path is chosen from the options, given its default path; None: no file.
Choose = Callable[[pytest.Config, Path, Path], Path | None]


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
    format: ReportFormat
    option: PathOption | None = None
    # For a file whose option another plugin owns: given the default and the staged path,
    # point the plugin at the staged one and return where the file goes in the end.
    choose: Choose | None = None

    @property
    def name(self) -> str:
        return self.format.name

    @property
    def suffix(self) -> str:
        return self.format.suffix

    @property
    def write(self) -> Write | None:
        return self.format.write

    def path(self, config: pytest.Config, default: Path, staged: Path) -> Path | None:
        if self.choose is not None:
            return self.choose(config, default, staged)
        if self.option is None:
            raise TypeError(f"report writer {self.name} has neither an option nor a way to choose its path")
        return Path(getattr(config.option, self.option.dest) or default)


@dataclass
class Staging(StagedSet):
    """A run's staging folder, and the pytest config whose plugins announce the paths."""

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


# In the order they are written (the HTML is sealed before the JSON is signed) and announced.
WRITERS = (
    ReportWriter(formats.HTML, choose=_html_path),
    ReportWriter(formats.JUNIT, choose=_junit_path),
    ReportWriter(formats.JSON, PathOption("--json", "phx_json", "the JSON report")),
    ReportWriter(formats.PROMETHEUS, PathOption("--prometheus", "phx_prometheus", "the Prometheus textfile")),
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
