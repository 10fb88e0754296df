"""Reading a report or result given back (verify, merge, trend, --compare): bounded in bytes,
and only from a regular file. A FIFO would hang the reader, a device (/dev/zero) never ends:
both are refused by type before they are opened; a file over the limit before it is read.
Plain data, no pytest."""

from __future__ import annotations

import os
import stat
from pathlib import Path

# A run's JSON result or page is a few MB, a merged 1,000-host result about 43 MB (format 2);
# more is no report of this suite (README, "Every file the suite reads is bounded"). Kept so:
# a result is parsed whole, and 100 MB of JSON are a gigabyte or more of Python objects.
MAX_REPORT_BYTES = 64 * 1024 * 1024
# How a refusal for size begins its reason (after the path), so a caller can say what to do instead.
TOO_LARGE = "larger than"
_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class InputRefused(Exception):
    """A file that is not read: missing, not a regular file, or over the limit."""


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit >> 10} KB"


def read_report_bytes(path: Path, limit: int = MAX_REPORT_BYTES, what: str = "a report of this suite") -> bytes:
    """The bytes of a regular file of at most `limit` bytes; InputRefused naming the file otherwise."""
    try:
        before = os.stat(path)
    except OSError as exc:
        raise InputRefused(f"{path}: cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(before.st_mode):
        raise InputRefused(f"{path}: {_kind(before.st_mode)}, not {what}; not opened")
    if before.st_size > limit:
        raise InputRefused(f"{path}: {TOO_LARGE} {_size(limit)}; not {what}")
    try:
        # Non-blocking: were the file swapped for a FIFO since, opening it does not wait for a writer.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise InputRefused(f"{path}: cannot read: {exc.strerror}") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode) or (opened.st_dev, opened.st_ino) != (before.st_dev, before.st_ino):
            raise InputRefused(f"{path}: replaced while it was opened; not read")
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InputRefused(f"{path}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > limit:
        raise InputRefused(f"{path}: {TOO_LARGE} {_size(limit)}; not {what}")
    return b"".join(chunks)
