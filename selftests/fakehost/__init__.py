"""A host that answers from memory: canned probe sections and a fake Podman API.

The checks receive real HostFacts built on a FakeRunner, so the real fact parsing
runs on what a reference host (Debian trixie, Podman 5.4.2, the rootless user
``phoenix`` with the stand-in stack deployed as Quadlet units) prints. Each
section is served in the probe scripts' own ``@@PHX`` wire format, and only a
section the script really prints can be canned.

A test starts from `reference_host()`, changes what it is about (`set`,
`timeout`, `missing`, `empty`, `api_down`, `compose_text`, ...) and asks
`facts()` for the HostFacts a check is given.

Split by role: reference (the reference host's names, and what its programs printed, kept as
files in captured/trixie/), documents (the Podman API's), wire (the probe scripts' encoding),
fakes (FakeHost and what stands for the runner, the API and the reach), outcome (a check run
and judged as the plugin does).
"""

from __future__ import annotations

from fakehost.documents import container_entry, inspect_document, pod_entry
from fakehost.fakes import FAILURES, FakeApi, FakeHost, FakeReach, FakeRunner, reference_host
from fakehost.outcome import (
    COULD_NOT_CHECK,
    ERROR,
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    SKIPPED,
    UNREACHABLE,
    Outcome,
    run_check,
)
from fakehost.reference import (
    API_WHERE,
    COMPOSE_PATH,
    GENERATOR_DIR,
    GROUP_COMPOSE_PATH,
    HOST_ID,
    INFRA,
    LOKI,
    POD,
    QUADLET_DIR,
    SOCKET,
    TARGET_PATH,
    reference_api_facts,
    reference_quadlet_files,
    reference_stack,
)
from fakehost.wire import encode_section

__all__ = [
    "API_WHERE",
    "COMPOSE_PATH",
    "COULD_NOT_CHECK",
    "ERROR",
    "FAILED",
    "FAILURES",
    "GENERATOR_DIR",
    "GROUP_COMPOSE_PATH",
    "HOST_ID",
    "INFRA",
    "LOKI",
    "NOT_APPLICABLE",
    "PASSED",
    "POD",
    "QUADLET_DIR",
    "SKIPPED",
    "SOCKET",
    "TARGET_PATH",
    "UNREACHABLE",
    "FakeApi",
    "FakeHost",
    "FakeReach",
    "FakeRunner",
    "Outcome",
    "container_entry",
    "encode_section",
    "inspect_document",
    "pod_entry",
    "reference_api_facts",
    "reference_host",
    "reference_quadlet_files",
    "reference_stack",
    "run_check",
]
