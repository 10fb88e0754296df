"""Digests and signatures of reports, and their verification.

The HTML's digest is the SHA-256 of the whole page, byte for byte, as it was before it was
sealed: with the signature block still holding its placeholder. The block has one form and
one place (the readiness section puts it there, and the digest covers where that is); sealing
fills it with the digest and the signature, and verifying empties it again and hashes the
rest. So any other change, to the text, the markup, a style or a script, a second element
with the block's id, or the block moved, gives another digest: ALTERED. A page with the
block's opening more than once, or a block not in its one form, is ALTERED before hashing.

The JSON's digest covers its canonical spelling (sorted keys, no blanks), and the file must
be exactly the spelling the suite writes of its own content: a duplicated key, an edited
blank or a reordered field is ALTERED too, so what a reader sees is what was hashed.

Anyone can recompute a digest, so it only shows accidental change; an OpenSSH signature
(ssh-keygen -Y) over the digest shows who signed.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phoenix_compliance.report.bounded import InputRefused, read_report_bytes
from phoenix_compliance.report.outputs import canonical_digest, json_text
from phoenix_compliance.report.page_policy import PolicyError, with_policy
from phoenix_compliance.report.result_format import FORMAT, MalformedResult, check_document, non_finite

NAMESPACE = "phoenix-compliance"
SIGNATURE_ID = "phx-signature"
SIGNER_IDENTITY = "report-signer"
_SLOT = "@@PHX-SEAL@@"
# An OpenSSH public key is one line of at most a few KB (an RSA 16384-bit key about 2.8 KB).
SIGNER_KEY_BYTES = 64 * 1024
_BLOCK_START = f'<div id="{SIGNATURE_ID}">'
_BLOCK_END = f"</div><!--/{SIGNATURE_ID}-->"
# What a sealed block holds, and nothing else: the digest, and the signature when signed.
_SEALED = re.compile(
    r"<p>SHA-256: <code>(?P<digest>[0-9a-f]{64})</code></p>"
    r'(?:<p>Signed with ssh-keygen -Y sign:</p><pre class="signature">(?P<signature>[^<]*)</pre>)?'
)


class SigningError(Exception):
    pass


def html_digest(page: str) -> str:
    """SHA-256 of the page as UTF-8, byte for byte (the unsealed page: its block holds the placeholder)."""
    return hashlib.sha256(page.encode("utf-8")).hexdigest()


def signature_block() -> str:
    """The placeholder the readiness template puts where digest and signature go."""
    return f"{_BLOCK_START}{_SLOT}{_BLOCK_END}"


def sign_digest(digest: str, key: Path) -> str:
    """An armored OpenSSH signature of the digest (ssh-keygen -Y sign)."""
    with tempfile.TemporaryDirectory(prefix="phx-sign-") as work:
        message = Path(work) / "digest"
        message.write_text(digest + "\n")
        result = _ssh_keygen(["-Y", "sign", "-q", "-f", str(key), "-n", NAMESPACE, str(message)], "-Y sign")
        if result.returncode != 0:
            raise SigningError(f"ssh-keygen -Y sign with {key} failed: {result.stderr.strip()}")
        return (Path(work) / "digest.sig").read_text()


def key_fingerprint(key: Path) -> str:
    """The SHA256 fingerprint of a signing key (ssh-keygen -l), as the page shows who signed it."""
    result = _ssh_keygen(["-l", "-E", "sha256", "-f", str(key)], "-l")
    fields = result.stdout.split()
    if result.returncode != 0 or len(fields) < 2:
        raise SigningError(f"ssh-keygen -l -f {key} failed: {result.stderr.strip()}")
    return fields[1]


def verify_signature(digest: str, signature: str, public_key: Path) -> tuple[bool, str]:
    try:
        key_text = read_report_bytes(public_key, SIGNER_KEY_BYTES, "an SSH public key").decode("utf-8").strip()
    except InputRefused as exc:
        return False, str(exc)
    except UnicodeDecodeError as exc:
        return False, f"cannot read {public_key}: {exc}"
    with tempfile.TemporaryDirectory(prefix="phx-verify-") as work:
        allowed = Path(work) / "allowed_signers"
        allowed.write_text(f'{SIGNER_IDENTITY} namespaces="{NAMESPACE}" {key_text}\n')
        sig = Path(work) / "digest.sig"
        sig.write_text(signature)
        argv = ["-Y", "verify", "-f", str(allowed), "-I", SIGNER_IDENTITY, "-n", NAMESPACE, "-s", str(sig)]
        try:
            result = _ssh_keygen(argv, "-Y verify", digest + "\n")
        except SigningError as exc:
            return False, str(exc)
    message = (result.stdout + result.stderr).strip()
    return result.returncode == 0, message


def seal_html(path: Path, key: Path | None) -> str:
    """Write the page's Content-Security-Policy into its head, then fill its signature block
    with its digest (and signature); return the digest. Every page the suite publishes is
    sealed here, so each carries the policy of the scripts it was written with, under the digest."""
    try:
        page = with_policy(path.read_text(encoding="utf-8"))
    except PolicyError as exc:
        raise SigningError(f"{path}: {exc}") from None
    if page.count(_BLOCK_START) != 1 or page.count(signature_block()) != 1:
        raise SigningError(f"{path}: not exactly one signature block to fill")
    digest = html_digest(page)
    sealed = f"<p>SHA-256: <code>{digest}</code></p>"
    if key is not None:
        armored = sign_digest(digest, key)
        sealed += f'<p>Signed with ssh-keygen -Y sign:</p><pre class="signature">{html.escape(armored)}</pre>'
    path.write_text(page.replace(signature_block(), f"{_BLOCK_START}{sealed}{_BLOCK_END}"), encoding="utf-8")
    return digest


@dataclass
class Verdict:
    intact: bool
    lines: list[str]
    # The file is no report of this suite at all (unreadable, not UTF-8, JSON that is no object,
    # a field not as the suite writes it).
    unreadable: bool = False
    # A JSON report's content, when it is intact and of the suite's format: what merge and trend read.
    document: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Claims:
    digest: str | None
    signature: str | None
    computed: str | None
    # Why the report cannot be judged by its digest at all (malformed block, not the suite's spelling).
    broken: str | None = None
    # Why the file is no report of this suite at all.
    not_a_report: str | None = None
    document: dict[str, Any] | None = None


def _html_claims(page: str) -> _Claims:
    if page.count(_BLOCK_START) != 1 or page.count(_BLOCK_END) != 1:
        found = page.count(_BLOCK_START)
        return _Claims(None, None, None, broken=f"expected one signature block, found {found}" if found else None)
    start = page.index(_BLOCK_START) + len(_BLOCK_START)
    end = page.index(_BLOCK_END)
    if end < start:
        return _Claims(None, None, None, broken="the signature block is malformed")
    sealed = _SEALED.fullmatch(page[start:end])
    if sealed is None:
        return _Claims(None, None, None, broken="the signature block holds more than a digest and a signature")
    unsealed = page[:start] + _SLOT + page[end:]
    signature = sealed.group("signature")
    return _Claims(sealed.group("digest"), html.unescape(signature) if signature else None, html_digest(unsealed))


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKey(f"the key {key!r} appears twice in one object")
        seen.add(key)
    return dict(pairs)


def _duplicate_key(text: str) -> str | None:
    """The first key given twice in one object of a JSON text, said as a refusal, or None."""
    try:
        json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as exc:
        return str(exc)
    except (ValueError, RecursionError):
        return None
    return None


def _json_claims(text: str) -> _Claims:
    # Parsed by json's C parser alone (a fleet's result is some 100 MB of objects); a key given
    # twice is looked for, by a second parse, only when the file is refused anyway: json keeps
    # the last of the two, so its spelling differs from the file's.
    constants: list[str] = []

    def constant(name: str) -> float:
        constants.append(name)
        return float(name)

    try:
        document = json.loads(text, parse_constant=constant)
    except (ValueError, RecursionError) as exc:
        return _Claims(None, None, None, not_a_report=f"not a JSON report of this suite ({exc})")

    def refused(broken: str | None = None, not_a_report: str | None = None) -> _Claims:
        duplicate = _duplicate_key(text)
        if duplicate:
            return _Claims(None, None, None, broken=duplicate)
        return _Claims(None, None, None, broken=broken, not_a_report=not_a_report)

    if not isinstance(document, dict):
        kinds = {"list": "a list", "str": "a string", "int": "a number", "float": "a number"}
        kind = kinds.get(type(document).__name__, type(document).__name__)
        return refused(not_a_report=f"not a JSON report of this suite (the file holds {kind})")
    claimed, signature = document.get("digest"), document.get("signature")
    if not isinstance(claimed, str | None) or not isinstance(signature, str | None):
        return refused(broken="its digest or signature is not a string")
    where = non_finite(document) if constants else None
    if where is not None:
        # JSON has no NaN or Infinity: the suite never writes one (and cannot spell it to compare).
        return refused(not_a_report=f"not a JSON report of this suite (NaN or Infinity at {where})")
    if json_text(document) != text:
        return refused(broken="the file is not in the form the suite writes (edited by hand?)")
    return _Claims(claimed, signature, canonical_digest(document), document=document)


def verify_report(path: Path, signer: Path | None) -> Verdict:
    """Recompute a report's digest (HTML or JSON) and check its signature if asked; an intact
    JSON report is then held to the suite's format, field by field (result_format)."""
    try:
        text = read_report_bytes(path).decode("utf-8")
    except InputRefused as exc:
        return Verdict(False, [str(exc)], unreadable=True)
    except UnicodeDecodeError as exc:
        return Verdict(False, [f"{path}: cannot read: {exc}"], unreadable=True)
    claims = _json_claims(text) if path.suffix == ".json" else _html_claims(text)
    if claims.not_a_report is not None:
        return Verdict(False, [f"{path}: {claims.not_a_report}"], unreadable=True)
    if claims.broken is not None:
        return Verdict(False, [f"{path}: ALTERED: {claims.broken}"])
    claimed, signature, computed = claims.digest, claims.signature, claims.computed
    lines = []
    intact = claimed is not None and claimed == computed
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
    if intact and claims.document is not None:
        # Digest and signature vouch for the bytes, not that this suite wrote them: another
        # writer's outcome would count as neither failed nor blocking.
        try:
            check_document(claims.document)
        except MalformedResult as exc:
            return Verdict(False, [f"{path}: not a result of this suite's format {FORMAT} ({exc})"], unreadable=True)
    return Verdict(intact, lines, document=claims.document if intact else None)


def _ssh_keygen(args: list[str], what: str, text: str = "") -> subprocess.CompletedProcess[str]:
    """ssh-keygen ARGS with `text` on its input, bounded; SigningError when it cannot run at all."""
    try:
        return subprocess.run(
            ["ssh-keygen", *args], input=text, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SigningError(f"ssh-keygen {what} failed: {exc}") from None
