"""Phase 3 checks offline: the Quadlet files and the user's systemd."""

from __future__ import annotations

from typing import Any, ClassVar

from checks_cases import (
    AS_USER,
    COMPOSE_WHERE,
    CORE_UNIT,
    FOLDER_WHERE,
    Family,
    api_down,
    both,
    case,
    compose,
    container,
    each_failure,
    fail,
    podman_version,
    quadlet_list,
    setting,
    unit,
)
from checks_cases import pytest_generate_tests as pytest_generate_tests
from fakehost import (
    API_WHERE,
    COULD_NOT_CHECK,
    FAILED,
    HOST_ID,
    INFRA,
    PASSED,
    QUADLET_DIR,
    SKIPPED,
    TARGET_PATH,
    reference_quadlet_files,
)

from tests.phase3 import test_quadlet_units as phase3

# -- Phase 3 -----------------------------------------------------------------------


class TestQuadletFiles(Family):
    """PHX-3.01, 3.02 and 3.07: the Quadlet files, their lint and their parity with compose."""

    CASES: ClassVar[list[Any]] = [
        case("PHX-3.01-pass", phase3.test_unit_file_present, PASSED, f"present ({FOLDER_WHERE})"),
        case(
            "PHX-3.01-pass-target",
            phase3.test_unit_file_present,
            PASSED,
            f"present ({TARGET_PATH} on {HOST_ID})",
            unit_file="phoenix.target",
        ),
        case(
            "PHX-3.01-pass-local",
            phase3.test_unit_file_present,
            PASSED,
            f"present (local folder {INFRA / 'systemd'})",
            quadlet_override=INFRA / "systemd",
        ),
        case(
            "PHX-3.01-fail",
            phase3.test_unit_file_present,
            FAILED,
            "expected phoenix-core.container, got n8n-phoenix.container, nca-toolkit.container, phoenix-hydra.pod,"
            f" revenue-db.container, windmill-phoenix.container ({FOLDER_WHERE})",
            lambda host: host.quadlet_files(
                {k: v for k, v in reference_quadlet_files().items() if k != "phoenix-core.container"}
            ),
        ),
        case(
            "PHX-3.01-fail-target",
            phase3.test_unit_file_present,
            FAILED,
            f"expected phoenix.target, got none ({TARGET_PATH} on {HOST_ID})",
            setting("target_file", "", 1, f"cat: {TARGET_PATH}: No such file or directory"),
            unit_file="phoenix.target",
        ),
        case(
            "PHX-3.01-fail-folder",
            phase3.test_unit_file_present,
            FAILED,
            f"expected the Quadlet folder, got exit 3: no such directory ({FOLDER_WHERE})",
            setting("quadlet_tar", "", 3, "no such directory"),
        ),
        case(
            "PHX-3.01-timeout",
            phase3.test_unit_file_present,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("quadlet_tar", "timeout"),
        ),
        case(
            "PHX-3.01-missing",
            phase3.test_unit_file_present,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): command not found",
            fail("quadlet_tar", "missing"),
        ),
        case(
            "PHX-3.01-empty",
            phase3.test_unit_file_present,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): exit 0 but no output",
            fail("quadlet_tar", "empty"),
        ),
        case("PHX-3.02-pass", phase3.test_unit_file_lint, PASSED, f"no lint error for Podman 5.4.2 ({CORE_UNIT})"),
        case(
            "PHX-3.02-fail",
            phase3.test_unit_file_lint,
            FAILED,
            f"expected no lint error for Podman 5.4.2, got 1:\n  {CORE_UNIT}:15: QL013 error: HealthIntervl= is not a"
            " [Container] key in any Podman release",
            unit("phoenix-core.container", "HealthInterval=", "HealthIntervl="),
        ),
        case(
            # Accepted by the generator, refused by podman when the stack starts: an error here.
            "PHX-3.02-fail-publish-in-pod",
            phase3.test_unit_file_lint,
            FAILED,
            f"{CORE_UNIT}:12: QL032 error: this container joins phoenix-hydra.pod",
            unit("phoenix-core.container", "Exec=", "PublishPort=8081:8080\nExec="),
        ),
        case(
            # A warning is shown beside the errors and when there is none, as a finding that does not block.
            "PHX-3.02-pass-with-warnings",
            phase3.test_unit_file_lint,
            PASSED,
            f"no lint error for Podman 5.4.2 ({CORE_UNIT})\n"
            f"  not blocking: {CORE_UNIT}:12: QL041 warning: Volume=./x:/x",
            unit("phoenix-core.container", "Exec=", "Volume=./x:/x:Z\nExec="),
        ),
        case(
            # The folder is linted as the generator reads it: a drop-in's key is the unit's (issue 24).
            "PHX-3.02-fail-dropin",
            phase3.test_unit_file_lint,
            FAILED,
            f"{CORE_UNIT}.d/10-x.conf:2: QL013 error: HealthIntervl= is not a [Container] key in any Podman release",
            lambda host: host.quadlet_files(
                {**reference_quadlet_files(), "phoenix-core.container.d/10-x.conf": "[Container]\nHealthIntervl=5s\n"}
            ),
        ),
        case(
            # The systemd sections judged at the host's release: a key systemd 262 reads and 257 ignores.
            "PHX-3.02-pass-host-systemd",
            phase3.test_unit_file_lint,
            PASSED,
            f"not blocking: {CORE_UNIT}:19: QL071 warning: CPUPressureWatch= is read by systemd 262 of the tabled"
            " releases; systemd 257 ignores it ('Unknown key') Fix: require systemd 262 on the host, or drop"
            " CPUPressureWatch=\n"
            "  [Unit], [Service] and [Install] judged as systemd 257 reads them",
            unit("phoenix-core.container", "Restart=always", "Restart=always\nCPUPressureWatch=yes"),
        ),
        case(
            "PHX-3.02-pass-newer-host-systemd",
            phase3.test_unit_file_lint,
            PASSED,
            f"no lint error for Podman 5.4.2 ({CORE_UNIT})\n  [Unit], [Service] and [Install] judged as systemd 262",
            both(
                unit("phoenix-core.container", "Restart=always", "Restart=always\nCPUPressureWatch=yes"),
                setting("systemd_version", "systemd 262 (262.1-1)\n+PAM +AUDIT"),
            ),
        ),
        case(
            "PHX-3.02-systemd-version-timeout",
            phase3.test_unit_file_lint,
            COULD_NOT_CHECK,
            f"probe section systemd_version (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("systemd_version", "timeout"),
        ),
        case(
            "PHX-3.02-systemd-version-unreadable",
            phase3.test_unit_file_lint,
            COULD_NOT_CHECK,
            "probe section systemd_version: unreadable as systemctl --version",
            setting("systemd_version", "not systemd"),
        ),
        case(
            "PHX-3.02-version-timeout",
            phase3.test_unit_file_lint,
            COULD_NOT_CHECK,
            f"probe section podman_version (probe_base.sh on {HOST_ID}): timed out",
            fail("podman_version", "timeout"),
        ),
        *(
            case(
                f"PHX-3.02-{how}",
                phase3.test_unit_file_lint,
                COULD_NOT_CHECK,
                f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}):",
                fail("quadlet_tar", how),
            )
            for how in ("timeout", "missing")
        ),
        case(
            "PHX-3.07-pass",
            phase3.test_compose_quadlet_parity,
            PASSED,
            f"image, ports, volumes and environment agree ({COMPOSE_WHERE} and {CORE_UNIT})",
        ),
        case(
            # The unit as the generator reads it: a drop-in's Image= is the unit's (issue 24).
            "PHX-3.07-fail-dropin",
            phase3.test_compose_quadlet_parity,
            FAILED,
            "image: compose localhost/phoenix-standin:1.0 vs quadlet localhost/phoenix-standin:2.0",
            lambda host: host.quadlet_files(
                {
                    **reference_quadlet_files(),
                    "phoenix-core.container.d/10-tag.conf": "[Container]\nImage=localhost/phoenix-standin:2.0\n",
                }
            ),
        ),
        case(
            "PHX-3.07-pass-environment",
            phase3.test_compose_quadlet_parity,
            PASSED,
            "image, ports, volumes and environment agree",
            both(
                compose("    restart: always\n", '    restart: always\n    environment: {TZ: UTC, LANG: "C.UTF-8"}\n'),
                unit("phoenix-core.container", "Exec=", 'Environment=TZ=UTC "LANG=C.UTF-8"\nExec='),
            ),
        ),
        case(
            # The converter's way: a secret variable passed as a Podman secret, a Docker Hub short name qualified.
            "PHX-3.07-pass-secret-and-short-image",
            phase3.test_compose_quadlet_parity,
            PASSED,
            "image, ports, volumes and environment agree",
            both(
                compose(
                    "    image: localhost/phoenix-standin:1.0\n",
                    "    image: busybox:1.36\n    environment: {DB_PASSWORD: x}\n",
                ),
                unit(
                    "phoenix-core.container",
                    "Image=localhost/phoenix-standin:1.0",
                    "Image=docker.io/library/busybox:1.36\nSecret=phoenix-db,type=env,target=DB_PASSWORD",
                ),
            ),
        ),
        case(
            "PHX-3.07-fail",
            phase3.test_compose_quadlet_parity,
            FAILED,
            "expected the same declarations, got differences:\n"
            "  image: compose localhost/phoenix-standin:1.1 vs quadlet localhost/phoenix-standin:1.0\n"
            "  volumes: compose /www:no label vs quadlet /www:Z\n"
            f"  ({COMPOSE_WHERE} and {CORE_UNIT})",
            compose(
                "    image: localhost/phoenix-standin:1.0\n    command: httpd -f -p 8080 -h /www\n"
                '    ports: ["8080:8080"]\n'
                '    volumes: ["../../data/phoenix-core:/www:Z"]',
                "    image: localhost/phoenix-standin:1.1\n    command: httpd -f -p 8080 -h /www\n"
                '    ports: ["8080:8080"]\n'
                '    volumes: ["../../data/phoenix-core:/www"]',
            ),
        ),
        case(
            "PHX-3.07-fail-environment",
            phase3.test_compose_quadlet_parity,
            FAILED,
            "  environment: compose none vs quadlet LANG, TZ\n",
            unit("phoenix-core.container", "Exec=", 'Environment=TZ=UTC "LANG=C.UTF-8"\nExec='),
        ),
        case(
            "PHX-3.07-compose-timeout",
            phase3.test_compose_quadlet_parity,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            fail("compose_file", "timeout"),
        ),
        case(
            "PHX-3.07-quadlet-timeout",
            phase3.test_compose_quadlet_parity,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("quadlet_tar", "timeout"),
        ),
    ]


DRYRUN = f"(/usr/libexec/podman/quadlet -dryrun -user {AS_USER})"


class TestUserSystemd(Family):
    """PHX-3.03 to 3.06 and 3.08: the generator, the target, the services and a restart."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-3.03-pass",
            phase3.test_generator_dry_run,
            PASSED,
            "generated phoenix-core.service, nca-toolkit.service, n8n-phoenix.service, windmill-phoenix.service,"
            f" revenue-db.service, phoenix-hydra-pod.service {DRYRUN}",
        ),
        case(
            "PHX-3.03-fail",
            phase3.test_generator_dry_run,
            FAILED,
            'expected a clean dry run, got exit 1: quadlet-generator[412]: converting "phoenix-core.container":'
            f" unsupported key 'Imag' in group 'Container' in {CORE_UNIT} {DRYRUN}",
            setting(
                "generator_dryrun",
                "",
                1,
                f"quadlet-generator[412]: Loading source unit file {CORE_UNIT}\n"
                'quadlet-generator[412]: converting "phoenix-core.container":'
                f" unsupported key 'Imag' in group 'Container' in {CORE_UNIT}",
            ),
        ),
        case(
            "PHX-3.03-pass-quadlet-list",
            phase3.test_generator_dry_run,
            PASSED,
            "generated phoenix-core.service, nca-toolkit.service, n8n-phoenix.service, windmill-phoenix.service,"
            f" revenue-db.service, phoenix-hydra-pod.service; podman quadlet list: 2 loaded {DRYRUN}",
            setting(
                "quadlet_list",
                quadlet_list(("phoenix-core.container", "active/running"), ("phoenix-hydra.pod", "active/running")),
            ),
        ),
        case(
            "PHX-3.03-fail-not-loaded",
            phase3.test_generator_dry_run,
            FAILED,
            'expected a clean dry run, got exit 1: quadlet-generator[412]: converting "phoenix-core.container":'
            f" unsupported key 'Imag' in group 'Container' in {CORE_UNIT} {DRYRUN}\n"
            "  not loaded (podman quadlet list): phoenix-core.container: unsupported key 'Imag' in group 'Container'"
            f" in {CORE_UNIT}",
            both(
                setting(
                    "generator_dryrun",
                    "",
                    1,
                    f"quadlet-generator[412]: Loading source unit file {CORE_UNIT}\n"
                    'quadlet-generator[412]: converting "phoenix-core.container":'
                    f" unsupported key 'Imag' in group 'Container' in {CORE_UNIT}",
                ),
                setting("quadlet_list", quadlet_list(("phoenix-core.container", "Not loaded"))),
            ),
        ),
        case(
            # A Podman that has `podman quadlet list` (5.6+) and did not answer: the units
            # systemd dropped cannot be seen.
            "PHX-3.03-quadlet-list-timeout",
            phase3.test_generator_dry_run,
            COULD_NOT_CHECK,
            f"probe section quadlet_list (probe_quadlet.sh on {HOST_ID}): timed out",
            setting("quadlet_list", "", 124),
        ),
        case(
            "PHX-3.03-quadlet-list-unreadable",
            phase3.test_generator_dry_run,
            COULD_NOT_CHECK,
            "probe section quadlet_list: unreadable as podman quadlet list's JSON",
            setting("quadlet_list", "not json"),
        ),
        case(
            "PHX-3.03-fail-not-reloaded",
            phase3.test_generator_dry_run,
            FAILED,
            "expected every Quadlet unit loaded, got:\n  not loaded (podman quadlet list): phoenix-core.container:"
            " accepted by the generator now, not loaded since: systemctl --user daemon-reload",
            setting("quadlet_list", quadlet_list(("phoenix-core.container", "Not loaded"))),
        ),
        case(
            "PHX-3.03-fail-no-generator",
            phase3.test_generator_dry_run,
            FAILED,
            "expected the Quadlet generator, got none installed",
            both(setting("generator_path", "none"), lambda host: host.drop("generator_dryrun")),
        ),
        case(
            "PHX-3.03-timeout",
            phase3.test_generator_dry_run,
            COULD_NOT_CHECK,
            f"probe section generator_dryrun (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("generator_dryrun", "timeout"),
        ),
        case(
            "PHX-3.03-missing",
            phase3.test_generator_dry_run,
            COULD_NOT_CHECK,
            f"probe section generator_dryrun (probe_quadlet.sh on {HOST_ID}): command not found",
            fail("generator_dryrun", "missing"),
        ),
        case(
            # One file the generator cannot parse: it loads no file of that folder and names none.
            "PHX-3.03-fail-folder-dropped",
            phase3.test_generator_dry_run,
            FAILED,
            f"\n  not generated, since the generator cannot parse {QUADLET_DIR}/notes.container and then loads no"
            f" file of {QUADLET_DIR}: n8n-phoenix.container, nca-toolkit.container, phoenix-core.container,"
            " phoenix-hydra.pod",
            both(
                setting(
                    "generator_dryrun",
                    "",
                    1,
                    f'quadlet-generator[412]: error loading "{QUADLET_DIR}/notes.container", file contains line 1:'
                    " “---” which is not a key-value pair, group, or comment",
                ),
                lambda host: host.quadlet_files({**reference_quadlet_files(), "notes.container": "---\n"}),
            ),
        ),
        case(
            "PHX-3.03-fail-nothing-generated",
            phase3.test_generator_dry_run,
            FAILED,
            "expected the user's units generated, got none: quadlet-generator[999]: No files parsed from",
            setting(
                "generator_dryrun",
                "",
                0,
                f"quadlet-generator[999]: No files parsed from [/run/user/1000/containers/systemd {QUADLET_DIR}]",
            ),
        ),
        case(
            "PHX-3.03-empty",
            phase3.test_generator_dry_run,
            COULD_NOT_CHECK,
            f"probe section generator_dryrun (probe_quadlet.sh on {HOST_ID}): exit 0 but no output",
            fail("generator_dryrun", "empty"),
        ),
        case(
            "PHX-3.04-pass",
            phase3.test_target_enabled_active,
            PASSED,
            f"enabled=enabled, active=active (systemctl --user is-enabled/is-active phoenix.target {AS_USER})",
        ),
        case(
            "PHX-3.04-fail",
            phase3.test_target_enabled_active,
            FAILED,
            "expected enabled=enabled, active=active, got enabled=disabled, active=inactive",
            both(setting("target_enabled", "disabled", 1), setting("target_active", "inactive", 3)),
        ),
        case(
            "PHX-3.04-fail-indirect",
            phase3.test_target_enabled_active,
            FAILED,
            "expected enabled=enabled, active=active, got enabled=indirect, active=active",
            setting("target_enabled", "indirect"),
        ),
        case(
            "PHX-3.04-timeout",
            phase3.test_target_enabled_active,
            COULD_NOT_CHECK,
            f"probe section target_enabled (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("target_enabled", "timeout"),
        ),
        case(
            "PHX-3.04-missing",
            phase3.test_target_enabled_active,
            COULD_NOT_CHECK,
            f"probe section target_enabled (probe_quadlet.sh on {HOST_ID}): command not found",
            fail("target_enabled", "missing"),
        ),
        case(
            "PHX-3.04-empty",
            phase3.test_target_enabled_active,
            COULD_NOT_CHECK,
            f"probe section target_active (probe_quadlet.sh on {HOST_ID}): exit 0 but no output",
            fail("target_active", "empty"),
        ),
        case(
            "PHX-3.05-pass",
            phase3.test_generated_service_active,
            PASSED,
            "LoadState=loaded, ActiveState=active, SubState=running, Restart=always"
            f" (systemctl --user show phoenix-core.service {AS_USER})",
        ),
        case(
            "PHX-3.05-fail",
            phase3.test_generated_service_active,
            FAILED,
            "expected LoadState=loaded, ActiveState=active, got LoadState=loaded, ActiveState=failed, SubState=failed,"
            " Restart=always",
            lambda host: host.set(
                "units_show",
                host.sections["units_show"].out.replace(
                    "Id=phoenix-core.service\nLoadState=loaded\nActiveState=active\nSubState=running",
                    "Id=phoenix-core.service\nLoadState=loaded\nActiveState=failed\nSubState=failed",
                ),
            ),
        ),
        case(
            "PHX-3.05-fail-no-restart",
            phase3.test_generated_service_active,
            FAILED,
            "expected a Restart= policy, got LoadState=loaded, ActiveState=active, SubState=running, Restart=no",
            lambda host: host.set(
                "units_show", host.sections["units_show"].out.replace("Restart=always", "Restart=no", 1)
            ),
        ),
        *each_failure(
            "PHX-3.05",
            phase3.test_generated_service_active,
            COULD_NOT_CHECK,
            f"probe section units_show (probe_quadlet.sh on {HOST_ID})",
            "units_show",
        ),
        case(
            "PHX-3.06-pass",
            phase3.test_container_managed_by_systemd,
            PASSED,
            f"phoenix-core: PODMAN_SYSTEMD_UNIT=phoenix-core.service ({API_WHERE})",
        ),
        case(
            "PHX-3.06-fail-compose",
            phase3.test_container_managed_by_systemd,
            FAILED,
            "expected phoenix-core to carry PODMAN_SYSTEMD_UNIT=phoenix-core.service,"
            f" got PODMAN_SYSTEMD_UNIT=podman-compose@phoenix-hydra.service ({API_WHERE})",
            container("phoenix-core", Labels={"PODMAN_SYSTEMD_UNIT": "podman-compose@phoenix-hydra.service"}),
        ),
        case(
            "PHX-3.06-fail-by-hand",
            phase3.test_container_managed_by_systemd,
            FAILED,
            "got no PODMAN_SYSTEMD_UNIT label (started by hand?)",
            container("phoenix-core", Labels={}),
        ),
        case(
            "PHX-3.06-api-unreachable",
            phase3.test_container_managed_by_systemd,
            COULD_NOT_CHECK,
            "the Podman API: ssh forward to /run/user/1000/podman/podman.sock failed: Connection refused",
            api_down(),
        ),
        case(
            "PHX-3.08-not-allowed",
            phase3.test_restart_recovers,
            SKIPPED,
            "disruptive: pass --allow-restart to restart the target and time the endpoints",
        ),
        case(
            "PHX-3.08-pass",
            phase3.test_restart_recovers,
            PASSED,
            f"s after the restart (systemctl --user restart phoenix.target {AS_USER})",
            allow_restart=True,
            health_wait=5.0,
        ),
        case(
            "PHX-3.08-fail",
            phase3.test_restart_recovers,
            FAILED,
            "expected the restart to succeed, got exit 1: Job for phoenix.target failed.",
            setting("restart", "", 1, "Job for phoenix.target failed."),
            allow_restart=True,
        ),
        case(
            "PHX-3.08-fail-silent",
            phase3.test_restart_recovers,
            FAILED,
            "expected every endpoint back within 0s, got http://localhost:8080, http://localhost:5678,"
            " http://localhost:8000, http://localhost:8081 still silent",
            allow_restart=True,
            health_wait=0.0,
        ),
        case(
            "PHX-3.08-timeout",
            phase3.test_restart_recovers,
            COULD_NOT_CHECK,
            f"probe section restart (act_restart.sh on {HOST_ID}): timed out",
            fail("restart", "timeout"),
            allow_restart=True,
        ),
        case(
            "PHX-3.08-missing",
            phase3.test_restart_recovers,
            COULD_NOT_CHECK,
            f"probe section restart (act_restart.sh on {HOST_ID}): command not found",
            fail("restart", "missing"),
            allow_restart=True,
        ),
    ]


# A host whose Podman is newer than the lint's tables, with a unit only a relaxed rule refuses (QL045: a
# bind mount without a source, refused up to 6.1.1; 6.0 relaxed the rule for volume mounts).
_BIND_WITHOUT_SOURCE = unit("phoenix-core.container", "Exec=", "Mount=type=bind,destination=/a\nExec=")
_REFUSED_BY_6_2 = (
    'quadlet-generator[412]: converting "phoenix-core.container": source parameter is required for mount type bind'
)


class TestNewerThanTheTables(Family):
    """PHX-3.02 and PHX-3.03 on a host newer than the lint's tables: the lint's error of a relaxed rule is
    a warning that does not block, and the generator's own verdict (PHX-3.03) decides."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-3.02-fail-at-the-newest-tabled-release",
            phase3.test_unit_file_lint,
            FAILED,
            f"{CORE_UNIT}:12: QL045 error: Mount=type=bind,destination=/a: a bind mount needs a source",
            both(_BIND_WITHOUT_SOURCE, setting("podman_version", podman_version("6.1.1"))),
        ),
        case(
            "PHX-3.02-pass-a-relaxed-rule-beyond-the-tables",
            phase3.test_unit_file_lint,
            PASSED,
            "no lint error for Podman 6.2.0 (Podman 6.2.0 is newer than 6.1.1, the newest release the lint's tables",
            both(_BIND_WITHOUT_SOURCE, setting("podman_version", podman_version("6.2.0"))),
        ),
        case(
            "PHX-3.02-warning-says-a-later-release-may-have-relaxed-it",
            phase3.test_unit_file_lint,
            PASSED,
            f"{CORE_UNIT}:12: QL045 warning: Mount=type=bind,destination=/a: a bind mount needs a source;"
            ' Quadlet: "source parameter is required for mount type bind" [an error up to Podman 6.1.1, the newest'
            " release the lint's tables know; a warning for Podman 6.2.0: releases relaxed this rule before (6.0"
            " accepts Mount=type=volume without a source), so a later one may accept it",
            both(_BIND_WITHOUT_SOURCE, setting("podman_version", podman_version("6.2.0"))),
        ),
        case(
            "PHX-3.02-a-rule-never-relaxed-still-fails-beyond-the-tables",
            phase3.test_unit_file_lint,
            FAILED,
            f"{CORE_UNIT}:8: QL020 error: a .container needs Image=",
            both(
                unit("phoenix-core.container", "Image=localhost/phoenix-standin:1.0\n", ""),
                setting("podman_version", podman_version("7.0.0")),
            ),
        ),
        case(
            # The generator of the host refuses the unit: its verdict wins over the lint's warning.
            "PHX-3.03-fail-the-generator-decides-beyond-the-tables",
            phase3.test_generator_dry_run,
            FAILED,
            _REFUSED_BY_6_2,
            both(
                _BIND_WITHOUT_SOURCE,
                setting("podman_version", podman_version("6.2.0")),
                setting(
                    "generator_dryrun",
                    "",
                    1,
                    f"quadlet-generator[412]: Loading source unit file {CORE_UNIT}\n" + _REFUSED_BY_6_2,
                ),
            ),
        ),
    ]
