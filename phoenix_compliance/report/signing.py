"""Digests and signatures of reports, and their verification.

The JSON's digest covers its canonical spelling; the HTML's covers everything a
reader sees: the text of the page and the data its tables are drawn from. Only
the element holding the digest and signature is left out, since it cannot
contain its own digest. Anyone can recompute a digest, so it only shows
accidental change; an OpenSSH signature (ssh-keygen -Y) shows who signed.
"""

from __future__ import annotations

import hashlib
import html
import html.parser
import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from phoenix_compliance.report.outputs import canonical_digest

NAMESPACE = "phoenix-compliance"
SIGNATURE_ID = "phx-signature"
SIGNER_IDENTITY = "report-signer"
_DIGEST_SLOT = "@@PHX-DIGEST@@"
_SIGNATURE_SLOT = "@@PHX-SIGNATURE@@"


class SigningError(Exception):
    pass


class _VisibleText(html.parser.HTMLParser):
    """Text nodes and data attributes, outside scripts, styles and the signature block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        self._stack: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "img", "meta", "link", "input", "hr"):
            return
        values = dict(attrs)
        skip = tag in ("script", "style") or values.get("id") == SIGNATURE_ID
        self._stack.append((tag, skip))
        if skip:
            self._skip_depth += 1
        elif self._skip_depth == 0:
            # pytest-html draws its tables from this blob at load time.
            blob = values.get("data-jsonblob")
            if blob:
                self.parts.append(blob)

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            name, skip = self._stack.pop()
            if skip:
                self._skip_depth -= 1
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._skip_depth == 0:
            self.parts.append(data)


def html_digest(page: str) -> str:
    reader = _VisibleText()
    reader.feed(page)
    text = re.sub(r"\s+", " ", " ".join(reader.parts)).strip()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def signature_block() -> str:
    """The placeholder the readiness template puts where digest and signature go."""
    return f'<div id="{SIGNATURE_ID}"><p>SHA-256: <code>{_DIGEST_SLOT}</code></p>{_SIGNATURE_SLOT}</div>'


def sign_digest(digest: str, key: Path) -> str:
    """An armored OpenSSH signature of the digest (ssh-keygen -Y sign)."""
    with tempfile.TemporaryDirectory(prefix="phx-sign-") as work:
        message = Path(work) / "digest"
        message.write_text(digest + "\n")
        try:
            result = subprocess.run(
                ["ssh-keygen", "-Y", "sign", "-q", "-f", str(key), "-n", NAMESPACE, str(message)],
                capture_output=True,
                text=True,
                timeout=30,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SigningError(f"ssh-keygen -Y sign failed: {exc}") from None
        if result.returncode != 0:
            raise SigningError(f"ssh-keygen -Y sign with {key} failed: {result.stderr.strip()}")
        return (Path(work) / "digest.sig").read_text()


def verify_signature(digest: str, signature: str, public_key: Path) -> tuple[bool, str]:
    try:
        key_text = public_key.read_text().strip()
    except OSError as exc:
        return False, f"cannot read {public_key}: {exc}"
    with tempfile.TemporaryDirectory(prefix="phx-verify-") as work:
        allowed = Path(work) / "allowed_signers"
        allowed.write_text(f'{SIGNER_IDENTITY} namespaces="{NAMESPACE}" {key_text}\n')
        sig = Path(work) / "digest.sig"
        sig.write_text(signature)
        try:
            result = subprocess.run(
                [
                    "ssh-keygen",
                    "-Y",
                    "verify",
                    "-f",
                    str(allowed),
                    "-I",
                    SIGNER_IDENTITY,
                    "-n",
                    NAMESPACE,
                    "-s",
                    str(sig),
                ],
                input=digest + "\n",
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, f"ssh-keygen -Y verify failed: {exc}"
    message = (result.stdout + result.stderr).strip()
    return result.returncode == 0, message


def seal_html(path: Path, key: Path | None) -> str:
    """Fill the page's digest (and signature) slot; return the digest."""
    page = path.read_text(encoding="utf-8")
    if _DIGEST_SLOT not in page:
        raise SigningError(f"{path}: no signature block to fill")
    digest = html_digest(page)
    signature = ""
    if key is not None:
        armored = sign_digest(digest, key)
        signature = f'<p>Signed with ssh-keygen -Y sign:</p><pre class="signature">{html.escape(armored)}</pre>'
    path.write_text(page.replace(_DIGEST_SLOT, digest).replace(_SIGNATURE_SLOT, signature), encoding="utf-8")
    return digest


@dataclass
class Verdict:
    intact: bool
    lines: list[str]


def _html_claims(page: str) -> tuple[str | None, str | None]:
    block = re.search(rf'<div id="{SIGNATURE_ID}">(.*?)</div>', page, re.S)
    if block is None:
        return None, None
    digest = re.search(r"<code>([0-9a-f]{64})</code>", block.group(1))
    signature = re.search(r'<pre class="signature">(.*?)</pre>', block.group(1), re.S)
    return (digest.group(1) if digest else None, html.unescape(signature.group(1)) if signature else None)


def verify_report(path: Path, signer: Path | None) -> Verdict:
    """Recompute a report's digest (HTML or JSON) and check its signature if asked."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return Verdict(False, [f"{path}: cannot read: {exc}"])
    if path.suffix == ".json":
        try:
            document = json.loads(text)
        except ValueError as exc:
            return Verdict(False, [f"{path}: not JSON: {exc}"])
        claimed, signature = document.get("digest"), document.get("signature")
        computed = canonical_digest(document)
    else:
        claimed, signature = _html_claims(text)
        computed = html_digest(text)
    lines = []
    intact = claimed == computed
    if claimed is None:
        lines.append(f"{path}: no digest in the report")
    elif intact:
        lines.append(f"{path}: intact, SHA-256 {computed}")
    else:
        lines.append(f"{path}: ALTERED: the report says SHA-256 {claimed}, its content gives {computed}")
    if signer is not None:
        if not signature:
            return Verdict(False, [*lines, f"{path}: not signed, so {signer} cannot be proven the signer"])
        good, message = verify_signature(str(claimed), signature, signer)
        lines.append(f"signature by {signer}: {'good' if good else 'BAD'} ({message})")
        intact = intact and good
    return Verdict(intact and claimed is not None, lines)
