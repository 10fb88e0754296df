"""The files a run writes, one registry entry per format.

Every file shares one base name under --reports-dir, `readiness-<host>-<time>`, and takes its
entry's suffix. A format with its own option (--json, --prometheus) takes the option's value
or that default path; the HTML and the JUnit XML belong to pytest-html's --html and pytest's
--junitxml, which are given the default path when unset, and are written by those plugins.
A new format is one writer function and its entry in WRITERS.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from phoenix_compliance.report import outputs, signing
from phoenix_compliance.report.model import RunReport
from phoenix_compliance.run.hosts import hosts_slug

# What writes a format's file: the run's model, the file, the --sign-key (or None).
Write = Callable[[RunReport, Path, Path | None], None]
# How a format's path is chosen from the options, given its default path; None: no file.
Choose = Callable[[pytest.Config, Path], Path | None]


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
    # For a file whose option another plugin owns; a format with its own option needs none.
    choose: Choose | None = None

    def path(self, config: pytest.Config, default: Path) -> Path | None:
        if self.choose is not None:
            return self.choose(config, default)
        if self.option is None:
            raise TypeError(f"report writer {self.name} has neither an option nor a way to choose its path")
        return Path(getattr(config.option, self.option.dest) or default)


def _html_path(config: pytest.Config, default: Path) -> Path | None:
    # pytest-html writes a page only when --html is given: give it the default, self-contained.
    # Without pytest-html the option does not exist and there is no page.
    if getattr(config.option, "htmlpath", "unset") is None:
        config.option.htmlpath = str(default)
        config.option.self_contained_html = True
    return Path(config.option.htmlpath) if getattr(config.option, "htmlpath", None) else None


def _junit_path(config: pytest.Config, default: Path) -> Path | None:
    if config.option.xmlpath is None:
        config.option.xmlpath = str(default)
    return Path(config.option.xmlpath)


def _seal_html(run: RunReport, path: Path, sign_key: Path | None) -> None:
    # pytest-html has written the page by now (the reporter runs last); seal what it wrote.
    if path.exists():
        signing.seal_html(path, sign_key)


def _write_json(run: RunReport, path: Path, sign_key: Path | None) -> None:
    document = outputs.to_document(run)
    document["digest"] = outputs.canonical_digest(document)
    if sign_key is not None:
        document["signature"] = signing.sign_digest(str(document["digest"]), sign_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    outputs.write_json(document, path)


def _write_prometheus(run: RunReport, path: Path, sign_key: Path | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(outputs.to_prometheus(run, time.time()), encoding="utf-8")


# In the order they are written (the HTML is sealed before the JSON is signed) and announced.
WRITERS = (
    ReportWriter("html", ".html", _seal_html, choose=_html_path),
    ReportWriter("junit", ".xml", None, choose=_junit_path),
    ReportWriter("json", ".json", _write_json, PathOption("--json", "phx_json", "the JSON report")),
    ReportWriter(
        "prometheus",
        ".prom",
        _write_prometheus,
        PathOption("--prometheus", "phx_prometheus", "the Prometheus textfile"),
    ),
)


def report_files(config: pytest.Config, now: dt.datetime) -> dict[str, Path]:
    """Each format's file, by writer name, under one base name naming host and time;
    only the process that writes reports (the xdist controller) has them, and no run that
    judges nothing (--collect-only, --help)."""
    if hasattr(config, "workerinput") or config.option.collectonly or config.option.help:
        return {}
    reports = Path(config.option.phx_reports_dir)
    if not reports.is_absolute():
        reports = config.invocation_params.dir / reports
    base = f"readiness-{hosts_slug(config)}-{now:%Y%m%dT%H%M%S}"
    files: dict[str, Path] = {}
    for writer in WRITERS:
        path = writer.path(config, reports / f"{base}{writer.suffix}")
        if path is not None:
            files[writer.name] = path
    reports.mkdir(parents=True, exist_ok=True)
    return files


def write_all(run: RunReport, files: dict[str, Path], sign_key: Path | None) -> None:
    """Write every format in registry order; a signing.SigningError stops the ones after it."""
    for writer in WRITERS:
        path = files.get(writer.name)
        if writer.write is not None and path is not None:
            writer.write(run, path, sign_key)
