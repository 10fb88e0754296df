"""``phoenix-refhost``: build, boot, reach and stop the reference host."""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from collections.abc import Sequence
from types import FrameType

from . import paths, stage_upgrade
from ._util import RefhostError, require_root
from .boot import up, up_fleet
from .deploy import MODES, deploy
from .exec import guest_run
from .guest_state import list_guests, state, up_hint
from .rootfs import build
from .sources import CORPUS_DIR, base_source, fetch_source, orig_tarball, read_corpus
from .ssh_config import describe, ssh_config_all, ssh_config_text, write_ssh_config
from .teardown import down, down_all

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
    # None (not given) lets status, ssh-config and up --count tell "every guest" apart.
    parser.add_argument("--name", default=None, metavar="GUEST", help=name_help)
    named = argparse.ArgumentParser(add_help=False)
    named.add_argument("--name", default=argparse.SUPPRESS, metavar="GUEST", help=name_help)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    release_help = (
        f"Debian release of the base: {' or '.join(paths.RELEASES)} (default {paths.DEFAULT_RELEASE}; "
        "trixie has Podman 5.4, forky Podman 5.8, podman6 Podman 6.1 from experimental over forky)"
    )
    p = sub.add_parser("build", help="debootstrap and provision the cached base of a release (once)")
    p.add_argument("--force", action="store_true", help="rebuild even if the base is complete")
    p.add_argument("--release", default=paths.DEFAULT_RELEASE, choices=paths.RELEASES, help=release_help)

    p = sub.add_parser(
        "up",
        parents=[named],
        help="boot the guest from a clean overlay and wait until ready; with --count, a fleet",
    )
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
    p.add_argument(
        "--private-network",
        action="store_true",
        help=f"a network namespace of its own (sshd on 127.0.0.1:{paths.FLEET_SSH_PORT} inside, reached through "
        "nsenter; published ports clash with no other guest's) for a release whose guests share the machine's",
    )
    p.add_argument(
        "--count",
        type=int,
        default=None,
        metavar="N",
        help=f"boot N guests PREFIX-1 ... PREFIX-N at once, each in its own network namespace with "
        f"sshd on 127.0.0.1:{paths.FLEET_SSH_PORT} inside, reached through nsenter (see ssh-config); "
        "guests already up are kept",
    )
    p.add_argument(
        "--prefix",
        default=paths.FLEET_PREFIX,
        metavar="PREFIX",
        help=f"name of the fleet guests before -N (default {paths.FLEET_PREFIX})",
    )
    p.add_argument(
        "--release",
        default=paths.DEFAULT_RELEASE,
        choices=paths.RELEASES,
        help=release_help + f"; without --name a release's guest is its own ({_release_guests()})",
    )

    p = sub.add_parser("down", parents=[named], help="power the guest off and drop its changes")
    p.add_argument(
        "--timeout",
        type=float,
        default=30,
        metavar="SECONDS",
        help="how long to wait for poweroff before killing it (default 30)",
    )
    p.add_argument("--all", action="store_true", help="every guest, fleet and default, also those that died")
    p.add_argument(
        "--prefix",
        default=None,
        metavar="PREFIX",
        help="with --all, only the guests named PREFIX-N",
    )

    sub.add_parser(
        "status",
        parents=[named],
        help="list every guest, how it is reached, up or down; exit 0 if one is up, 3 if none "
        "(with --name: that guest)",
    )

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
    p.add_argument(
        "--with-observability",
        action="store_true",
        help="also deploy the optional observability stack (grafana-loki: observability.compose.yaml,"
        " grafana-loki.container); without it, none of it is left on the guest",
    )

    sub.add_parser(
        "stage",
        parents=[named],
        help="stage on a Podman 5 guest what Podman 6.0 removed (BoltDB store, slirp4netns and iptables in "
        "~/.config/containers/containers.conf, Network=slirp4netns and --network-cmd-path drop-ins; an emptied "
        "store) and deploy the stack with its optional group by Quadlet over them",
    )
    p = sub.add_parser(
        "move",
        parents=[named],
        help="move the rootless user's home (container store, Quadlet units, containers.conf) and linger state "
        "to another guest as an upgrade leaves them, then stand in for its reboot",
    )
    p.add_argument("--to", required=True, metavar="GUEST", help="the guest that gets them (up already)")
    sub.add_parser(
        "reboot-user",
        parents=[named],
        help="stand in for a reboot as the rootless user sees it: its manager and /run/user/UID stopped, its "
        "/dev/shm locks removed, the manager started again (linger's default.target)",
    )

    p = sub.add_parser(
        "sources",
        help=f"download (once) and verify Debian's source of a release's Podman; count its {CORPUS_DIR} files",
    )
    p.add_argument("--release", default=paths.DEFAULT_RELEASE, choices=paths.RELEASES, help=release_help)

    p = sub.add_parser(
        "ssh-config",
        parents=[named],
        help="print an OpenSSH client config with a Host entry per guest that is up (with --name: that guest)",
    )
    p.add_argument("--write", default=None, metavar="FILE", help="write it to FILE instead")
    return parser


def _sources(release: str) -> None:
    require_root("sources")
    package = base_source(release)
    folder = fetch_source(package)
    corpus = read_corpus(orig_tarball(folder, package))
    print(f"{release}: {package} in {folder}, verified; {len(corpus)} files in {CORPUS_DIR}")


def _release_guests() -> str:
    return ", ".join(f"{r.name}: {r.guest}" for r in paths.RELEASES.values())


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


def _up(args: argparse.Namespace) -> None:
    if args.count is None:
        if args.prefix != paths.FLEET_PREFIX:
            raise RefhostError("up --prefix needs --count N")
        up(args.name, timeout=args.timeout, port=args.port, release_name=args.release, private=args.private_network)
        return
    if args.name is not None:
        raise RefhostError("up --count names its guests PREFIX-N; use --prefix, not --name")
    if args.private_network:
        raise RefhostError("up --count: every fleet guest has a network of its own already")
    if args.port is not None:
        raise RefhostError(
            f"up --count: every fleet guest has sshd on port {paths.FLEET_SSH_PORT} in its own namespace"
        )
    up_fleet(args.count, args.prefix, timeout=args.timeout, release_name=args.release)


def _down(args: argparse.Namespace) -> None:
    if not args.all:
        if args.prefix is not None:
            raise RefhostError("down --prefix needs --all")
        down(args.name or paths.DEFAULT_GUEST, timeout=args.timeout)
        return
    if args.name is not None:
        raise RefhostError("down: give --all or --name, not both")
    down_all(timeout=args.timeout, prefix=args.prefix)


def _status(name: str | None) -> int:
    if name is not None:
        st = state(name)
        if st is None:
            print(f"{name}: down")
            return EXIT_DOWN
        print(describe(st))
        return 0
    guests = list_guests()
    if all(st.name != paths.DEFAULT_GUEST for st in guests):
        # Said as before fleets existed, where scripts may look for it.
        print(f"{paths.DEFAULT_GUEST}: down")
    for st in guests:
        print(describe(st))
    return 0 if any(st.running for st in guests) else EXIT_DOWN


def _terminated(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into the KeyboardInterrupt path, so the running child's process
    # group (debootstrap, nsenter) is killed rather than orphaned.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        if args.command == "build":
            build(force=args.force, release_name=args.release)
        elif args.command == "up":
            _up(args)
        elif args.command == "down":
            _down(args)
        elif args.command == "status":
            return _status(args.name)
        elif args.command == "exec":
            return _exec(args.name or paths.DEFAULT_GUEST, args.user, args.argv, args.timeout)
        elif args.command == "deploy":
            deploy(
                args.mode, args.name or paths.DEFAULT_GUEST, timeout=args.timeout, with_groups=args.with_observability
            )
        elif args.command == "sources":
            _sources(args.release)
        elif args.command == "stage":
            stage_upgrade.stage(args.name or paths.DEFAULT_GUEST)
        elif args.command == "move":
            stage_upgrade.move(args.name or paths.DEFAULT_GUEST, args.to)
        elif args.command == "reboot-user":
            stage_upgrade.reboot_user(args.name or paths.DEFAULT_GUEST)
        elif args.command == "ssh-config":
            if args.write:
                print(write_ssh_config(args.write, args.name))
            else:
                sys.stdout.write(ssh_config_all() if args.name is None else ssh_config_text(args.name))
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
