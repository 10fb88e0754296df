"""The simulated fleet's Podman API: one real unix socket per answering host, served from the
recorded answers of its release (captured/<release>/wire.json, keyed by request path), each
after the host's latency. A process of its own, so that what the hosts spend is not counted as
the suite's.

    python fleet_api.py FLEET.json SOCKET_DIR     (prints "ready" once every socket listens)
"""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import sys
import urllib.parse
from pathlib import Path
from typing import Any

CAPTURED = Path(__file__).resolve().parent / "captured"
REASONS = {200: "OK", 404: "Not Found", 400: "Bad Request"}


def _key(target: str) -> str:
    path, _, query = target.partition("?")
    pairs = sorted(urllib.parse.parse_qsl(query, keep_blank_values=True))
    return path + ("?" + "&".join(f"{k}={v}" for k, v in pairs) if pairs else "")


class Answers:
    """A release's recorded API answers by request path."""

    def __init__(self, release: str) -> None:
        data = json.loads((CAPTURED / release / "wire.json").read_text("utf-8"))
        self.api: dict[str, dict[str, Any]] = data["api"]
        ping = self.api.get("/_ping", {"status": 200, "body": "OK"})
        self.ping = (int(ping["status"]), str(ping["body"]).encode())
        # The release as the host's own podman info said it (the API's info is not asked).
        info_out = data.get("sections", {}).get("podman_info", {}).get("out") or "{}"
        try:
            info = json.loads(info_out)
        except ValueError:
            info = {}
        self.version = str(info.get("version", {}).get("Version", ""))

    def answer(self, target: str) -> tuple[int, bytes]:
        path = target.partition("?")[0]
        if path.rstrip("/").endswith("/_ping") or path == "/_ping":
            return self.ping
        recorded = self.api.get(_key(target)) or self.api.get(path)
        if recorded is None:
            body = json.dumps({"cause": "no such object", "message": f"{path}: not recorded", "response": 404})
            return 404, body.encode()
        return int(recorded["status"]), str(recorded["body"]).encode()


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answers: Answers, delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = [*lines[0].split(" "), "", "", ""][:3]
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip() or 0)
            if length:
                await reader.readexactly(length)
            await asyncio.sleep(delay)
            status, body = answers.answer(target)
            headers = (
                f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\n"
                f"Content-Type: {'text/plain' if body == b'OK' else 'application/json'}\r\n"
                f"Content-Length: {len(body)}\r\n"
                f"Api-Version: 1.41\r\nLibpod-Api-Version: {answers.version}\r\n\r\n"
            )
            writer.write(headers.encode() + (b"" if method == "HEAD" else body))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


def _enough_descriptors(hosts: int) -> None:
    """A listening socket per host and a connection or two each: 5,000 hosts pass the usual soft
    limit of 1,024 descriptors, so the soft limit is raised (to the hard one at most) or the
    server says it cannot serve the fleet."""
    wanted = 3 * hosts + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        if raised < wanted:
            print(f"fleet_api: {hosts} hosts want {wanted} descriptors; the hard limit is {hard}", file=sys.stderr)


async def main(fleet: Path, folder: Path) -> None:
    hosts = json.loads(fleet.read_text("utf-8"))["hosts"]
    _enough_descriptors(len(hosts))
    answers: dict[str, Answers] = {}
    servers = []
    for host in hosts:
        if host["fate"] in ("unreachable", "frozen"):
            continue
        release = host["release"]
        if release not in answers:
            answers[release] = Answers(release)
        delay = host["latency_ms"] / 1000

        def handler(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, a: Answers = answers[release], d: float = delay
        ) -> Any:
            return _serve(reader, writer, a, d)

        servers.append(await asyncio.start_unix_server(handler, path=str(folder / f"{host['name']}.sock")))
    print("ready", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    for server in servers:
        server.close()
    for socket in folder.glob("*.sock"):
        socket.unlink()
    folder.rmdir()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2])))
