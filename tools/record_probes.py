"""Record what a real reference guest answers to the probes, for the simulated fleet.

    .venv/bin/python tools/record_probes.py --release trixie [--stack fixtures/stacks/reference.yaml]

Runs the suite's own probes (HostFacts, every part, the stand-in stack's manifest) against the
standard guest of the release through ssh, read-only, exactly as a check run does, and writes
selftests/fakehost/captured/<release>/wire.json: every section the probe scripts printed, keyed
by its SECTION name (the wire format of transport/resources/probe_common.sh), never by the
command text, so a restructured probe script still finds its sections; and every Podman API
answer keyed by its request path. The simulated fleet (selftests/fakehost/fleet.py) replays them.

The file lives beside the other captures of the fake host (selftests/, not the wheel): it is test
and benchmark input, never something a user's run could be given. Secret values are withheld
(the login environment keeps only variable names a check reads; any value grammar/secrets.py calls
secret is replaced), and the guest's ssh details are not recorded. Re-run it after the probes change.
The guest must be up (phoenix-refhost up --release R) with the stand-in stack deployed by Quadlet.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from phoenix_compliance import refhost  # noqa: E402
from phoenix_compliance.facts import HostFacts  # noqa: E402
from phoenix_compliance.facts.host import PARTS  # noqa: E402
from phoenix_compliance.grammar.secrets import secret_value_reason  # noqa: E402
from phoenix_compliance.parsers import manifest as manifest_module  # noqa: E402
from phoenix_compliance.refhost import paths  # noqa: E402
from phoenix_compliance.transport import podman_api  # noqa: E402
from phoenix_compliance.transport.runner import HostRunner, Section  # noqa: E402

CAPTURED = REPO / "selftests" / "fakehost" / "captured"
# The login environment's variables kept: what podman-compose may substitute in the stand-in stack
# and the session variables a check names; the rest (ssh addresses, terminal) says nothing.
KEPT_ENV = ("HOME", "USER", "LOGNAME", "SHELL", "PATH", "LANG", "XDG_RUNTIME_DIR", "DBUS_SESSION_BUS_ADDRESS")
ENV_MARKER = "@@ENV@@\n"


class RecordingRunner(HostRunner):
    """The real runner, keeping every section each script printed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.recorded: dict[str, Section] = {}

    def _run(self, name: str, script_command: str) -> dict[str, Section]:
        # Every command's sections, one script's or several run together (run_scripts).
        sections = super()._run(name, script_command)
        self.recorded.update(sections)
        return sections


class RecordingApi(podman_api.PodmanApi):
    """The real API client, keeping every answer by request path."""

    recorded: dict[str, dict[str, Any]]

    def _request(self, path: str, params: dict[str, str] | None = None) -> Any:
        response = super()._request(path, params)
        key = path + ("?" + "&".join(f"{k}={v}" for k, v in sorted(params.items())) if params else "")
        self.recorded[key] = {"status": response.status_code, "body": response.text}
        return response


class RecordingReach:
    """The guest's API socket through an ssh forward, as SshReach opens it, recording the answers."""

    def __init__(self, backend: Any) -> None:
        self.backend = backend
        self.forward: podman_api.SocketForward | None = None
        self.recorded: dict[str, dict[str, Any]] = {}

    def connect(self, wait: float) -> str | None:
        """No connection of the run's own: the forward below logs in by itself."""
        return None

    def open_api(self, socket: str, host_id: str, timeout: float, wait: float) -> Any:
        target = podman_api.SshTarget.from_backend(self.backend)
        self.forward = podman_api.SocketForward(target, socket, wait=wait)
        api = RecordingApi(self.forward.local, f"API socket {socket} on {host_id}", timeout)
        api.recorded = self.recorded
        return api

    def close(self) -> None:
        if self.forward is not None:
            self.forward.close()


def _redact_environment(out: str) -> str:
    """compose_env's output with only the kept variables, secret-looking values withheld."""
    head, marker, encoded = out.partition(ENV_MARKER)
    if not marker:
        return out
    kept = []
    for entry in base64.b64decode(encoded).decode("utf-8", "replace").split("\0"):
        name, _, value = entry.partition("=")
        if name in KEPT_ENV:
            kept.append(f"{name}={'(withheld)' if secret_value_reason(name, value) else value}\0")
    return head + marker + base64.b64encode("".join(kept).encode()).decode()


def _redact(section: Section) -> Section:
    out = _redact_environment(section.out) if section.name == "compose_env" else section.out
    return Section(section.name, section.rc, out, section.err)


def record(release: str, stack: Path, timeout: float) -> dict[str, Any]:
    import testinfra

    name = paths.RELEASES[release].guest
    if not refhost.is_up(name):
        raise SystemExit(f"the {release} guest {name} is down: phoenix-refhost up --release {release}")
    manifest = manifest_module.load(stack)
    with tempfile.TemporaryDirectory(prefix="phx-record-") as folder:
        config = refhost.write_ssh_config(Path(folder) / "ssh_config", name, "refhost")
        host = testinfra.get_host("ssh://refhost", ssh_config=str(config))
        runner = RecordingRunner(host, "ssh://refhost", None, timeout)
        facts = HostFacts(runner, manifest, host.backend)
        reach = RecordingReach(host.backend)
        facts.reach = reach
        facts.podman.reach = reach
        started = time.monotonic()
        facts.prefetch(PARTS)
        _ = facts.podman.pods
        took = time.monotonic() - started
        facts.close()
    if runner.unreachable is not None:
        raise SystemExit(f"the {release} guest did not answer: {runner.unreachable.reason}")
    sections = {key: _redact(section) for key, section in sorted(runner.recorded.items())}
    return {
        "release": release,
        "recorded": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "stack": str(stack.relative_to(REPO)) if stack.is_relative_to(REPO) else stack.name,
        "probing_seconds": round(took, 2),
        "commands": runner.commands_run,
        "sections": {key: {"rc": s.rc, "out": s.out, "err": s.err} for key, s in sections.items()},
        "api": dict(sorted(reach.recorded.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--release", required=True, choices=sorted(paths.RELEASES))
    parser.add_argument("--stack", type=Path, default=REPO / "fixtures" / "stacks" / "reference.yaml")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--out", type=Path, help="default: selftests/fakehost/captured/RELEASE/wire.json")
    args = parser.parse_args(argv)
    recording = record(args.release, args.stack.resolve(), args.timeout)
    out = args.out or CAPTURED / args.release / "wire.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(recording, indent=1, sort_keys=False) + "\n", "utf-8")
    print(
        f"{out}: {len(recording['sections'])} sections, {len(recording['api'])} API answers,"
        f" {recording['commands']} commands, {recording['probing_seconds']} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
