"""``phoenix-refhost``: build, boot, reach and stop the reference host."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from collections.abc import Sequence
from types import FrameType

from . import paths
from ._util import RefhostError, require_root
from .deploy import MODES, deploy
from .guest import down, guest_run, ssh_config_text, state, up, up_hint, write_ssh_config
from .rootfs import build

EXIT_DOWN = 3  # like `systemctl status` of a stopped unit


def _parser() -> argparse.ArgumentParser:
    name_help = f"guest name (default {paths.DEFAULT_GUEST})"
    parser = argparse.ArgumentParser(
        prog=paths.PROG,
        description="The reference host: a Debian trixie guest (systemd-nspawn) with "
        "rootless Podman 5, Quadlet and sshd on 127.0.0.1. State in $PHOENIX_REFHOST_HOME "
        f"(default {paths.DEFAULT_STATE}).",
    )
    # --name is accepted before or after the subcommand; the subcommand's copy
    # defaults to SUPPRESS so it never overwrites one given before it.
    parser.add_argument("--name", default=paths.DEFAULT_GUEST, metavar="GUEST", help=name_help)
    named = argparse.ArgumentParser(add_help=False)
    named.add_argument("--name", default=argparse.SUPPRESS, metavar="GUEST", help=name_help)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("build", help="debootstrap and provision the cached base (once)")
    p.add_argument("--force", action="store_true", help="rebuild even if the base is complete")

    p = sub.add_parser("up", parents=[named], help="boot the guest from a clean overlay and wait until ready")
    p.add_argument(
        "--timeout",
        type=float,
        default=120,
        metavar="SECONDS",
        help="how long to wait for readiness (default 120)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=None,
        metavar="PORT",
        help=f"sshd port on 127.0.0.1 (default {paths.DEFAULT_SSH_PORT})",
    )

    p = sub.add_parser("down", parents=[named], help="power the guest off and drop its changes")
    p.add_argument(
        "--timeout",
        type=float,
        default=30,
        metavar="SECONDS",
        help="how long to wait for poweroff before killing it (default 30)",
    )

    sub.add_parser("status", parents=[named], help="say whether the guest is up (exit 0) or down (exit 3)")

    p = sub.add_parser("exec", parents=[named], help="run a command inside the guest: exec [--user U] -- CMD")
    p.add_argument(
        "--user",
        default=None,
        metavar="USER",
        help="run as this guest user, with its XDG_RUNTIME_DIR and session bus",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=600,
        metavar="SECONDS",
        help="kill the command after this long (default 600)",
    )
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="CMD")

    p = sub.add_parser(
        "deploy",
        parents=[named],
        help="put the stand-in Phoenix Hydra stack on the guest with podman-compose or Quadlet, or take it off",
    )
    p.add_argument(
        "mode",
        choices=MODES,
        help="compose (podman-compose up -d), quadlet (enable phoenix.target) or none (no stack container)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=120,
        metavar="SECONDS",
        help="how long to wait for the deployment to be in place (default 120)",
    )

    p = sub.add_parser("ssh-config", parents=[named], help="print an OpenSSH client config for the guest")
    p.add_argument("--write", default=None, metavar="FILE", help="write it to FILE instead")
    return parser


def _exec(name: str, user: str | None, argv: list[str], timeout: float) -> int:
    require_root("exec")
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise RefhostError("exec needs a command: exec [--user USER] -- CMD ...")
    st = state(name)
    if st is None:
        raise RefhostError(f"{name} is down; run `{up_hint(name)}` first")
    # Pass a piped stdin through; a terminal is not handed over, since the command
    # runs in its own process group (so a timeout can kill all of it).
    stdin = None if not sys.stdin.isatty() else subprocess.DEVNULL
    result = guest_run(st, argv, user, timeout=timeout, stdin=stdin, stdout=None, stderr=None)
    return result.returncode


def _terminated(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into the KeyboardInterrupt path, so the running child's process
    # group (debootstrap, nsenter) is killed rather than orphaned.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        if args.command == "build":
            build(force=args.force)
        elif args.command == "up":
            up(args.name, timeout=args.timeout, port=args.port)
        elif args.command == "down":
            down(args.name, timeout=args.timeout)
        elif args.command == "status":
            st = state(args.name)
            if st is None:
                print(f"{args.name}: down")
                return EXIT_DOWN
            print(f"{args.name}: up (pid {st.pid}, ssh 127.0.0.1:{st.port})")
        elif args.command == "exec":
            return _exec(args.name, args.user, args.argv, args.timeout)
        elif args.command == "deploy":
            deploy(args.mode, args.name, timeout=args.timeout)
        elif args.command == "ssh-config":
            if args.write:
                print(write_ssh_config(args.write, args.name))
            else:
                sys.stdout.write(ssh_config_text(args.name))
    except RefhostError as exc:
        print(f"{paths.PROG}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # A file or mount the machine refused (permissions, a full disk): say which.
        print(f"{paths.PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{paths.PROG}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
