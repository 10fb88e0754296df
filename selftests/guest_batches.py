"""Many small cases judged inside a reference guest in a few exec calls (the differentials).

All cases of a run go to the guest as a gzipped tar, base64 in the arguments (run_in_guest
passes no stdin), unpacked by the caller's script under a mktemp -d it removes on exit:
case number N is the folder cases/NNNNN/. The script prints one `@@CASE N CODE` line per
case, then lines of its own markers; run_batches splits them back per case.
"""

from __future__ import annotations

import base64
import io
import tarfile
from collections.abc import Iterator, Sequence

# One argument of an exec may not exceed 128 KiB (MAX_ARG_STRLEN); stay below.
ARG_CHUNK = 100_000
CALL_LIMIT = 1_000_000

# The start of a case script: the cases unpacked into "$d/cases/NNNNN/".
UNPACK = r"""
set -u
d=$(mktemp -d /tmp/phx-differential.XXXXXX)
trap 'rm -rf "$d"' EXIT
printf '%s' "$@" | base64 -d | tar -xz -C "$d/" || exit 90
"""


def tar_cases(cases: Sequence[dict[str, str]]) -> bytes:
    """The files of each case under cases/NNNNN/, gzipped."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for number, files in enumerate(cases):
            for name, text in files.items():
                data = text.encode("utf-8")
                info = tarfile.TarInfo(f"cases/{number:05d}/{name}")
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def batches(cases: Sequence[dict[str, str]]) -> Iterator[list[int]]:
    """Indexes of cases in groups whose encoded tar fits the argument limits of one exec."""
    pending: list[int] = []
    size = 0
    for index, files in enumerate(cases):
        weight = sum(len(text) + 600 for text in files.values())  # tar headers compress well
        if pending and size + weight > CALL_LIMIT * 3:
            yield pending
            pending, size = [], 0
        pending.append(index)
        size += weight
    if pending:
        yield pending


def run_batches(
    script: str, cases: Sequence[dict[str, str]], guest: str, user: str = "phoenix", timeout: float = 600
) -> list[tuple[int, list[str]]]:
    """(exit code, the marker lines after its @@CASE line) for each case, in order."""
    from phoenix_compliance import refhost

    results: list[tuple[int, list[str]]] = []
    for batch in batches(cases):
        blob = base64.b64encode(tar_cases([cases[i] for i in batch])).decode("ascii")
        assert len(blob) < CALL_LIMIT, f"batch of {len(batch)} cases too large for one exec ({len(blob)} bytes)"
        chunks = [blob[i : i + ARG_CHUNK] for i in range(0, len(blob), ARG_CHUNK)]
        done = refhost.run_in_guest(
            ["bash", "-c", UNPACK + script, "sh", *chunks], user=user, timeout=timeout, name=guest
        )
        assert done.returncode == 0, f"the case loop failed in {guest} ({done.returncode}): {done.stderr[-2000:]}"
        by_number: dict[int, tuple[int, list[str]]] = {}
        current: list[str] | None = None
        for line in done.stdout.splitlines():
            if line.startswith("@@CASE "):
                _marker, case_number, code = line.split(" ")
                current = []
                by_number[int(case_number)] = (int(code), current)
            elif current is not None:
                current.append(line)
        assert len(by_number) == len(batch), f"{len(by_number)} of {len(batch)} cases reported back"
        results.extend(by_number[number] for number in range(len(batch)))
    return results
