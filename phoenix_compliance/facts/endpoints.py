"""The stack's endpoints, asked on the checked host itself.

An endpoint of the manifest (`http://localhost:8080`) means that port on the checked host, so
it is asked there: the endpoint probe runs on the host (through the same transport as every
probe) and reports the HTTP status of each URL. The machine running the suite never answers
for a host, and the probe runs after the base probe, so an unreachable host costs one connect
timeout, not one per endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from phoenix_compliance.facts import probes
from phoenix_compliance.facts.groups import ProbeGroup, unreadable
from phoenix_compliance.parsers.manifest import Endpoint, Manifest
from phoenix_compliance.transport.runner import HostRunner


@dataclass(frozen=True)
class EndpointAnswer:
    status: int | None
    where: str
    error: str | None


def _asked_from_host(
    runner: HostRunner, urls: list[str], retries: int, timeout: float, after: ProbeGroup | None
) -> ProbeGroup:
    env = {"PHX_URLS": " ".join(urls), "PHX_RETRIES": str(retries), "PHX_HTTP_TIMEOUT": str(int(timeout))}
    return ProbeGroup(runner, probes.http(len(urls)), env, after=after)


class EndpointProbe:
    """Answers of the stack's endpoints; the host is asked for all of them in one command."""

    def __init__(self, runner: HostRunner, manifest: Manifest, after: ProbeGroup | None = None) -> None:
        self.runner = runner
        self.manifest = manifest
        self.after = after
        self.host_id = runner.host_id
        urls = [endpoint.url for endpoint in manifest.endpoints]
        self._index = {url: index for index, url in enumerate(urls)}
        self._from_host = _asked_from_host(runner, urls, 3, 5, after)
        # The optional groups' endpoints in a command of their own (a probe runs when first
        # read): asked only once a group shows a trace, since an absent one would cost its
        # retries on every run.
        group_urls = [e.url for e in manifest.every_endpoint() if e.url not in self._index]
        self._group_index = {url: index for index, url in enumerate(dict.fromkeys(group_urls))}
        self._from_groups = _asked_from_host(runner, list(self._group_index), 3, 5, after)

    def prefetched(self) -> list[ProbeGroup]:
        """The probe group prefetch runs (none without endpoints), to run with the other probes."""
        return [self._from_host] if self._index else []

    def prefetch(self) -> None:
        """Ask the host for every endpoint of the manifest now (one command; none without endpoints)."""
        if self._index:
            self._from_host.sections()

    def answer(self, endpoint: Endpoint, retries: int = 3, timeout: float = 5.0, fresh: bool = False) -> EndpointAnswer:
        """The endpoint's HTTP status as the host itself gets it; raise CouldNotCheck when the
        probe could not ask (timed out, no curl or wget) or answered something unreadable."""
        if endpoint.url in self._index and not fresh:
            section = self._from_host.section(f"http_{self._index[endpoint.url]}")
        elif endpoint.url in self._group_index and not fresh:
            section = self._from_groups.section(f"http_{self._group_index[endpoint.url]}")
        else:
            # Asked again (after a restart), or an endpoint the manifest does not list: alone.
            section = _asked_from_host(self.runner, [endpoint.url], retries, timeout, self.after).section("http_0")
        where = f"{endpoint.url} of service {endpoint.service}, asked on {self.host_id} itself"
        if not section.ok:
            return EndpointAnswer(None, where, section.describe_failure())
        status, _, detail = section.out.strip().partition(" ")
        if not status.isdigit():
            raise unreadable(section, "an HTTP status")
        return EndpointAnswer(int(status), f"{where}{' ' + detail if detail else ''}", None)
