"""A host's id, as the report and the fact cache name it."""

from __future__ import annotations

import re
from typing import Any

import pytest


def host_id(host: Any) -> str:
    """The id testinfra gives the host (`ssh://ops@web1`, `local`)."""
    return str(host.backend.get_pytest_id())


def item_host(item: pytest.Item) -> str:
    """The host a collected check runs against: its testinfra parameter, or the local one."""
    callspec = getattr(item, "callspec", None)
    host = callspec.params.get("_testinfra_host") if callspec is not None else None
    return host_id(host) if host is not None else "local"


def hosts_slug(config: pytest.Config) -> str:
    """The hosts of --hosts as a file-name part: the first one, and how many more."""
    hosts = [h for h in (config.option.hosts or "").split(",") if h]
    if not hosts:
        return "local"
    first = re.sub(r"^[a-z+-]+://", "", hosts[0])
    first = re.sub(r"[^A-Za-z0-9.-]+", "_", first).strip("_") or "host"
    return first if len(hosts) == 1 else f"{first}-and-{len(hosts) - 1}-more"
