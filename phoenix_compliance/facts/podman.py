"""The Podman API's answers about the checked user: _ping and info, the containers,
their inspect documents and the pods, each read once through the host's own socket."""

from __future__ import annotations

import threading
from typing import Any

from phoenix_compliance.facts.identity import HostIdentity
from phoenix_compliance.facts.memo import cached_fact
from phoenix_compliance.parsers.manifest import Manifest
from phoenix_compliance.transport import podman_api
from phoenix_compliance.transport.reach import Reach
from phoenix_compliance.transport.runner import HostUnreachable


class PodmanFacts:
    """The API client of one host, opened on first use (the socket path needs the uid)."""

    def __init__(self, identity: HostIdentity, reach: Reach, manifest: Manifest, timeout: float) -> None:
        self.identity = identity
        self.reach = reach
        self.manifest = manifest
        self.project = manifest.name
        self.timeout = timeout
        self._lock = threading.Lock()
        self._inspected: dict[str, dict[str, Any] | None] = {}

    @cached_fact
    def _client(self) -> podman_api.PodmanApi | podman_api.ApiUnavailable:
        """The host's API client, or why there is none; opened once."""
        self.identity.probe.sections()  # the user and uid come from the base probe
        socket = self.identity.api_socket_path
        return self.reach.open_api(socket, self.identity.host_id, timeout=self.timeout / 4, wait=self.timeout / 2)

    def client(self) -> podman_api.PodmanApi:
        """The API client; raise HostUnreachable when the host is out of reach (its API is
        not tried), ApiUnavailable when its socket cannot be reached."""
        unreachable = self.identity.probe.runner.unreachable
        if unreachable is not None:
            raise HostUnreachable(unreachable.host_id, unreachable.reason)
        with self._lock:
            client = self._client
        if isinstance(client, podman_api.ApiUnavailable):
            raise client
        return client

    @property
    def where(self) -> str:
        """Where the API answers, for evidence; raise ApiUnavailable when it cannot."""
        return self.client().where

    @cached_fact
    def api(self) -> podman_api.ApiFacts:
        """What _ping and info answered, or why the API could not be asked."""
        try:
            return self.client().probe()
        except podman_api.ApiUnavailable as exc:
            where = f"API socket {self.identity.api_socket_path} on {self.identity.host_id}"
            return podman_api.ApiFacts.unavailable(where, str(exc))

    @cached_fact
    def containers(self) -> list[dict[str, Any]]:
        """Every container of the user (libpod list, all=true); read once."""
        return self.client().containers()

    @cached_fact
    def pods(self) -> list[dict[str, Any]]:
        return self.client().pods()

    def inspect(self, name: str, fresh: bool = False) -> dict[str, Any] | None:
        """A container's inspect document, cached unless a fresh one is asked for."""
        if fresh or name not in self._inspected:
            self._inspected[name] = self.client().inspect(name)
        return self._inspected[name]

    def inspect_all(self) -> list[dict[str, Any]]:
        """Inspect documents of every container of the user, each read once."""
        documents = []
        for container in self.containers:
            name = (container.get("Names") or [container.get("Id", "")])[0]
            document = self.inspect(name)
            if document is not None:
                documents.append(document)
        return documents

    def inspect_stack(self) -> None:
        """Read the inspect documents of the stack's services' containers (the API list first)."""
        for service in self.manifest.service_names():
            container = self.container_for(service)
            if container is not None:
                self.inspect((container.get("Names") or [service])[0])

    def container_for(self, service: str) -> dict[str, Any] | None:
        """The container of a stack service: by name, else by its compose service label."""
        for container in self.containers:
            if service in (container.get("Names") or []):
                return container
        for container in self.containers:
            labels = container.get("Labels") or {}
            if labels.get("io.podman.compose.service") == service and labels.get("io.podman.compose.project") in (
                self.project,
                None,
            ):
                return container
        return None

    def close(self) -> None:
        client = self.__dict__.get("_client")
        if isinstance(client, podman_api.PodmanApi):
            client.close()
