"""The stack's endpoints: asked from the machine running the suite where it can
reach the host's ports, else (or when that cannot connect) from the host itself."""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass
from functools import cached_property

from phoenix_compliance.facts import probes
from phoenix_compliance.facts.groups import ProbeGroup
from phoenix_compliance.parsers.manifest import Endpoint, Manifest
from phoenix_compliance.transport import podman_api
from phoenix_compliance.transport.reach import Reach
from phoenix_compliance.transport.runner import HostRunner, Section


@dataclass(frozen=True)
class EndpointAnswer:
    status: int | None
    where: str
    error: str | None


def _asked_from_host(runner: HostRunner, urls: list[str], retries: int, timeout: float) -> ProbeGroup:
    env = {"PHX_URLS": " ".join(urls), "PHX_RETRIES": str(retries), "PHX_HTTP_TIMEOUT": str(int(timeout))}
    return ProbeGroup(runner, probes.http(len(urls)), env)


class EndpointProbe:
    """Answers of the stack's endpoints; the host is asked for all of them in one command."""

    def __init__(self, runner: HostRunner, manifest: Manifest, reach: Reach) -> None:
        self.runner = runner
        self.manifest = manifest
        self.reach = reach
        self.host_id = runner.host_id
        urls = [endpoint.url for endpoint in manifest.endpoints]
        self._index = {url: index for index, url in enumerate(urls)}
        self._from_host = _asked_from_host(runner, urls, 3, 5)

    @cached_property
    def suite_route(self) -> str | None:
        """How the machine running the suite reaches the host's published ports (see Reach)."""
        return self.reach.suite_route()

    def _host_side(self, endpoint: Endpoint, retries: int, timeout: float) -> Section:
        if endpoint.url in self._index:
            return self._from_host.section(f"http_{self._index[endpoint.url]}")
        # An endpoint the manifest does not list: ask for it alone.
        return _asked_from_host(self.runner, [endpoint.url], retries, timeout).section("http_0")

    def answer(self, endpoint: Endpoint, retries: int = 3, timeout: float = 5.0) -> EndpointAnswer:
        """Ask from the machine running the suite; when that cannot connect, from the host."""
        import requests  # here: it costs a tenth of the start-up, and only a live host's endpoints need it

        route = self.suite_route
        suite_error = "not reachable from the machine running the suite (ssh proxy)"
        url = endpoint.url
        if route is not None:
            parts = urllib.parse.urlsplit(url)
            if route and parts.hostname in ("localhost", "127.0.0.1", "::1"):
                netloc = route + (f":{parts.port}" if parts.port else "")
                url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
            for attempt in range(retries):
                try:
                    response = requests.get(url, timeout=timeout, allow_redirects=False)
                    return EndpointAnswer(response.status_code, f"{url} from the machine running the suite", None)
                except requests.RequestException as exc:
                    suite_error = f"{url} from the suite: {podman_api.short_error(exc)}"
                    if attempt + 1 < retries:
                        time.sleep(1)
            if route == "":
                return EndpointAnswer(None, f"{url} from the machine running the suite", suite_error)
        answer = self._host_side(endpoint, retries, timeout)
        status, _, detail = answer.out.strip().partition(" ")
        where = f"{endpoint.url} from {self.host_id} itself{' ' + detail if detail else ''} ({suite_error})"
        if answer.ok and status.isdigit():
            return EndpointAnswer(int(status), where, None)
        return EndpointAnswer(None, where, answer.describe_failure())
