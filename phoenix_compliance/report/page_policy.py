"""The Content-Security-Policy every page the suite publishes carries in its head.

Every string from outside (a branch name in pytest-metadata's table, a test id, a host's
facts, a result given back to merge) reaches a page as text; the policy is the second wall
behind that escaping: the browser runs no script and applies no style but the ones the suite
and pytest-html ship, each allowed by the SHA-256 of its bytes in the page. Inline event
handlers (`<img onerror>`), `javascript:` URLs, a `<base>` or a form pointing elsewhere and
any fetch are refused by the browser, whatever reached the page.

The hashes are taken from the page as it is written (after redaction, before the seal), so
they are of the bytes the browser reads; an element is hashed only when its text is one the
suite trusts: pytest-html's app.js, and the suite's own CSS (pytest-html's style sheet, with
the user's --css appended, is trusted by its beginning). Plain data, no pytest.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
from functools import cache
from importlib import resources
from pathlib import Path

META_START = '<meta http-equiv="Content-Security-Policy" content="'
# The charset declaration every page opens its head with; the policy goes right after it,
# before the first element it governs.
_CHARSET = re.compile(r'<meta charset="utf-8"\s*/?>', re.IGNORECASE)
# Raw-text elements end at the first `</script` / `</style`, however the text goes on.
_ELEMENT = {
    tag: re.compile(rf"<{tag}\b[^>]*>(.*?)</{tag}\s*>", re.IGNORECASE | re.DOTALL) for tag in ("script", "style")
}


_NONE = "'none'"


class PolicyError(ValueError):
    """A page the policy cannot be written into (no head with a charset declaration)."""


def _pytest_html_resource(name: str) -> str | None:
    # Found without importing pytest-html (it imports pytest; the report package does not).
    spec = importlib.util.find_spec("pytest_html")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "resources" / name
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


@cache
def trusted_scripts() -> frozenset[str]:
    """The scripts a page may run, each as its text without surrounding blanks."""
    scripts = {text.strip() for text in (_pytest_html_resource("app.js"),) if text}
    folder = resources.files("phoenix_compliance.report").joinpath("resources")
    scripts |= {item.read_text("utf-8").strip() for item in folder.iterdir() if item.name.endswith(".js")}
    return frozenset(scripts)


@cache
def _trusted_styles() -> tuple[frozenset[str], str | None]:
    folder = resources.files("phoenix_compliance.report").joinpath("resources")
    own = frozenset(item.read_text("utf-8").strip() for item in folder.iterdir() if item.name.endswith(".css"))
    pytest_html = _pytest_html_resource("style.css")
    return own, pytest_html.strip() if pytest_html else None


def _trusted_style(text: str) -> bool:
    own, pytest_html = _trusted_styles()
    body = text.strip()
    return body in own or (pytest_html is not None and body.startswith(pytest_html))


def source_hash(text: str) -> str:
    """A CSP hash source of an element's text, as the browser computes it."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def elements(page: str, tag: str) -> list[str]:
    """The text of every `<script>` or `<style>` element of the page, in order."""
    return [match.group(1) for match in _ELEMENT[tag].finditer(page)]


def policy(page: str) -> str:
    """The policy of a page: its trusted scripts and styles by hash, nothing else loaded."""
    scripts = sorted({source_hash(text) for text in elements(page, "script") if text.strip() in trusted_scripts()})
    styles = sorted({source_hash(text) for text in elements(page, "style") if _trusted_style(text)})
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {' '.join(scripts) or _NONE}",
            f"style-src {' '.join(styles) or _NONE}",
            # pytest-html's self-contained extras (images, videos) are data: URLs.
            "img-src data:",
            "media-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        )
    )


def with_policy(page: str) -> str:
    """The page with its policy as the first element after its charset declaration."""
    head_end = page.lower().find("<body")
    charset = _CHARSET.search(page, 0, head_end if head_end >= 0 else len(page))
    if charset is None:
        raise PolicyError("the page has no <meta charset> in its head to put its Content-Security-Policy after")
    meta = f'{META_START}{policy(page)}">'
    return page[: charset.end()] + meta + page[charset.end() :]


def declared(page: str) -> str | None:
    """The policy a page declares in its head, or None."""
    start = page.find(META_START)
    if start < 0:
        return None
    start += len(META_START)
    return page[start : page.index('"', start)]
