"""A sealed readiness page printed to PDF with headless Chromium, carrying the page's digest.

The PDF is a rendering, not the record: `verify` of the HTML decides. So a PDF is only made from
a page that verifies intact, and it says which page it was made from: the page's SHA-256 is in
the PDF's title (its metadata, /Title) and in the header of every printed page (Chromium prints
the title there), besides the sign-off block, which shows it on the first page. The page printed
is a copy of the sealed page whose <title> alone names the digest; the copy is never published.

Plain data, no pytest. The PDF is written whole and never over an existing file (publish.py).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from phoenix_compliance.publish import write_file

# Where Chromium is found, in the order tried (Debian's, Ubuntu's older name, Google's).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# A large page (32 hosts, every check) prints in seconds; the bound is for a browser that hangs.
PRINT_TIMEOUT = 180
TITLE_MARK = "page SHA-256 "
_TITLE = re.compile(r"<title([^>]*)>(.*?)</title>", re.DOTALL | re.IGNORECASE)
# Chromium writes the document's title into the PDF's information dictionary, as text or hex.
_PDF_TITLE = re.compile(rb"/Title\s*(\((?:[^()\\]|\\.)*\)|<[0-9A-Fa-f\s]*>)")


class PdfError(Exception):
    pass


def find_browser() -> str | None:
    """The path of a headless-capable Chromium, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def titled(page: str, digest: str) -> str:
    """The page with its title naming the digest it was sealed with."""
    match = _TITLE.search(page)
    if match is None:
        raise PdfError("the page has no <title> to carry its digest")
    title = f"{match.group(2).strip()} · {TITLE_MARK}{digest}"
    return page[: match.start()] + f"<title{match.group(1)}>{title}</title>" + page[match.end() :]


def render_pdf(page: Path, digest: str, out: Path, browser: str) -> None:
    """Print the sealed page (A4, its print styles) to `out`, whole, never over an existing file."""
    if out.exists():
        raise PdfError(f"{out} exists: a PDF is never written over another file")
    with tempfile.TemporaryDirectory(prefix="phx-pdf-") as work:
        copy = Path(work) / page.name
        copy.write_text(titled(page.read_text(encoding="utf-8"), digest), encoding="utf-8")
        printed = Path(work) / "page.pdf"
        try:
            result = subprocess.run(
                [
                    browser,
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    f"--user-data-dir={Path(work) / 'profile'}",
                    f"--print-to-pdf={printed}",
                    copy.as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=PRINT_TIMEOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PdfError(f"{browser} did not print the page within {PRINT_TIMEOUT} s") from None
        except OSError as exc:
            raise PdfError(f"{browser} could not be started: {exc}") from None
        if not printed.is_file() or printed.stat().st_size == 0:
            raise PdfError(f"{browser} printed no PDF (exit {result.returncode}): {result.stderr.strip()[-500:]}")
        data = printed.read_bytes()
        if pdf_digest(data) != digest:
            raise PdfError("the printed PDF does not carry the page's digest in its title")
        try:
            write_file(out, [data], exclusive=True)
        except FileExistsError:
            raise PdfError(f"{out} exists: a PDF is never written over another file") from None


def _pdf_text(literal: bytes) -> str:
    if literal.startswith(b"<"):
        raw = bytes.fromhex(re.sub(rb"\s", b"", literal[1:-1]).decode("ascii"))
        return raw[2:].decode("utf-16-be", "replace") if raw.startswith(b"\xfe\xff") else raw.decode("latin-1")
    body = re.sub(rb"\\(.)", rb"\1", literal[1:-1])
    return body[2:].decode("utf-16-be", "replace") if body.startswith(b"\xfe\xff") else body.decode("latin-1")


def pdf_digest(data: bytes) -> str | None:
    """The page digest a PDF printed here carries in its title, or None."""
    for match in _PDF_TITLE.finditer(data):
        found = re.search(re.escape(TITLE_MARK) + r"([0-9a-f]{64})", _pdf_text(match.group(1)))
        if found:
            return found.group(1)
    return None
