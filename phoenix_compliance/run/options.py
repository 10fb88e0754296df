"""The suite's command-line options, in one named group."""

from __future__ import annotations

from pathlib import Path

import pytest

from phoenix_compliance.run.writers import WRITERS

DEFAULT_STACK = Path("fixtures/stacks/phoenix-hydra.yaml")


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("phoenix", "Phoenix Hydra migration compliance")
    group.addoption(
        "--phase",
        dest="phx_phase",
        default="all",
        metavar="PHASES",
        help="phases to check: 1, 2, 3, security or all, or a comma-separated list (default: all)",
    )
    group.addoption(
        "--stack",
        dest="phx_stack",
        default=None,
        metavar="PATH",
        help=f"stack manifest (YAML) describing what to expect (default: {DEFAULT_STACK})",
    )
    group.addoption(
        "--podman-user",
        dest="phx_podman_user",
        default=None,
        metavar="NAME",
        help="rootless account to check (default: the connecting user)",
    )
    group.addoption(
        "--compose-file",
        dest="phx_compose_file",
        default=None,
        metavar="PATH",
        help="a local compose file to check instead of the one in the project folder on the host",
    )
    group.addoption(
        "--quadlet-dir",
        dest="phx_quadlet_dir",
        default=None,
        metavar="DIR",
        help="a local folder of Quadlet files (and the target unit) to check instead of the host's",
    )
    group.addoption(
        "--allow-restart",
        dest="phx_allow_restart",
        action="store_true",
        default=False,
        help="allow the disruptive check that restarts the stack's target (off: the suite only reads)",
    )
    group.addoption(
        "--health-wait",
        dest="phx_health_wait",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long a healthcheck still 'starting' is waited for (default: 60)",
    )
    group.addoption(
        "--waivers",
        dest="phx_waivers",
        default=None,
        metavar="FILE",
        help="YAML file of accepted failures: check, hosts (pattern), justification, expires",
    )
    group.addoption(
        "--signoff",
        dest="phx_signoff",
        default=None,
        metavar="NAME",
        help="record who signs the report off (name, time, suite version, manifest digest)",
    )
    group.addoption(
        "--sign-key",
        dest="phx_sign_key",
        default=None,
        metavar="KEY",
        help="also sign the report's digest with this SSH private key (ssh-keygen -Y sign)",
    )
    group.addoption(
        "--compare",
        dest="phx_compare",
        default=None,
        metavar="PREVIOUS.json",
        help="report what changed since a previous run's JSON report",
    )
    # One option per output format that has its own (--json, --prometheus), from the registry.
    for writer in WRITERS:
        if writer.option is not None:
            group.addoption(
                writer.option.flag, dest=writer.option.dest, default=None, metavar="PATH", help=writer.option.help
            )
    group.addoption(
        "--reports-dir",
        dest="phx_reports_dir",
        default="reports",
        metavar="DIR",
        help="where the HTML readiness report and JUnit XML are written (default: reports)",
    )
    group.addoption(
        "--probe-timeout",
        dest="phx_probe_timeout",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="bound on each probe of a host, connection included (default: 30)",
    )
