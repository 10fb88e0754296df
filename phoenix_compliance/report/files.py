"""The report formats a run's set holds, each a name, a suffix and how its file is written from
the run's model; plain data, no pytest. run/writers.py adds to each the option (or the plugin)
that chooses its path in a pytest run; merge writes the whole set from the model alone here."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from phoenix_compliance.publish import write_set
from phoenix_compliance.report import outputs, signing
from phoenix_compliance.report.model import RunReport
from phoenix_compliance.report.page_layout import collapsed_tables

# What writes a format's file: the run's model, the file, the --sign-key (or None).
Write = Callable[[RunReport, Path, Path | None], None]


@dataclass(frozen=True)
class ReportFormat:
    name: str
    suffix: str
    # None: in a pytest run the file is written by the plugin that owns its option, and only named here.
    write: Write | None
    # How the file is written from the model alone where no plugin writes it (merge); None: `write`.
    standalone: Write | None = None


def _seal_html(run: RunReport, path: Path, sign_key: Path | None) -> None:
    # pytest-html has written the page by now (the reporter runs last); seal what it wrote.
    if path.exists():
        path.write_text(collapsed_tables(path.read_text(encoding="utf-8")), encoding="utf-8")
        signing.seal_html(path, sign_key)


def _write_page(run: RunReport, path: Path, sign_key: Path | None) -> None:
    from phoenix_compliance.report.render import standalone_page

    path.write_text(standalone_page(run, f"Migration readiness of {len(run.hosts)} hosts"), encoding="utf-8")
    signing.seal_html(path, sign_key)


def _write_junit(run: RunReport, path: Path, sign_key: Path | None) -> None:
    path.write_text(outputs.to_junit(run), encoding="utf-8")  # redacted field by field


def _write_json(run: RunReport, path: Path, sign_key: Path | None) -> None:
    document = outputs.to_document(run)
    document["digest"] = outputs.canonical_digest(document)
    if sign_key is not None:
        document["signature"] = signing.sign_digest(str(document["digest"]), sign_key)
    outputs.write_json(document, path)


def _write_prometheus(run: RunReport, path: Path, sign_key: Path | None) -> None:
    path.write_text(outputs.to_prometheus(run, time.time()), encoding="utf-8")  # its labels redacted


HTML = ReportFormat("html", ".html", _seal_html, standalone=_write_page)
JUNIT = ReportFormat("junit", ".xml", None, standalone=_write_junit)
JSON = ReportFormat("json", ".json", _write_json)
PROMETHEUS = ReportFormat("prometheus", ".prom", _write_prometheus)
# In the order they are written (the HTML is sealed before the JSON is signed) and announced.
FORMATS = (HTML, JUNIT, JSON, PROMETHEUS)


def write_standalone(run: RunReport, folder: Path, base: str, sign_key: Path | None) -> dict[str, Path]:
    """Every format of a run's set from the model alone (merge), in order, published whole under
    one new base name in `folder` (publish.write_set)."""

    def bound(write: Write) -> Callable[[Path], None]:
        return lambda path: write(run, path, sign_key)

    formats = [
        (form.name, form.suffix, bound(write))
        for form in FORMATS
        if (write := form.standalone or form.write) is not None
    ]
    return write_set(folder, base, formats)
