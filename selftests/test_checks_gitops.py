"""GitOps checks offline: the host runs what the repository says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, ClassVar

from checks_cases import (
    API_DOWN,
    AS_USER,
    FILES_WHERE,
    FOLDER_WHERE,
    Arrange,
    Family,
    api_down,
    both,
    case,
    each_failure,
    fail,
    judge_on,
    setting,
)
from checks_cases import pytest_generate_tests as pytest_generate_tests
from fakehost import (
    API_WHERE,
    COMPOSE_PATH,
    COULD_NOT_CHECK,
    FAILED,
    HOST_ID,
    INFRA,
    NOT_APPLICABLE,
    PASSED,
    QUADLET_DIR,
    SKIPPED,
    FakeHost,
    reference_host,
    reference_quadlet_files,
    reference_stack,
)

from tests.phase3 import test_quadlet_units as phase3
from tests.security import test_security as security

# -- GitOps: the host runs what the repository says ---------------------------------------

CORE = "phoenix-core.container"
NEW_IMAGE = "localhost/phoenix-standin:2.0"
IMAGE_CHANGED = f"{CORE} differs:\n      [Container] Image: repository localhost/phoenix-standin:1.0, host {NEW_IMAGE}"
REPOSITORY_WHERE = f"{FOLDER_WHERE} against local folder {INFRA / 'systemd'}"


def gitops_stack(**changes: Any) -> Any:
    """The reference stack asking for a registry or automatic updates."""
    return replace(reference_stack(), **changes)


def host_units(change: Callable[[dict[str, str]], object]) -> Arrange:
    """The host's Quadlet folder (units and drop-ins by path) with one change."""

    def arrange(host: FakeHost) -> None:
        files = reference_quadlet_files()
        change(files)
        host.quadlet_files(files)

    return arrange


def restyled(text: str) -> str:
    """The same unit as the generator reads it: more comments, blank lines, blanks around
    keys and values, one value continued over two lines."""
    text = text.replace("[Container]\n", "[Container]\n# restyled on the host\n\n")
    text = text.replace("Image=", "  Image =  ")
    return text.replace("Exec=httpd -f -p 8080", "Exec=httpd -f \\\n-p 8080")


def show_units(change: Callable[[str], str]) -> Arrange:
    return setting("units_show", change(reference_host().sections["units_show"].out))


def unit_reload_pending(text: str) -> str:
    return text.replace(
        f"SourcePath={QUADLET_DIR}/{CORE}\nNeedDaemonReload=no",
        f"SourcePath={QUADLET_DIR}/{CORE}\nNeedDaemonReload=yes",
    )


class TestGitOps(Family):
    """PHX-3.09 to 3.12, S.20 and S.21: the repository's units, reloads, registry, updates."""

    CASES: ClassVar[list[Any]] = [
        case(
            "PHX-3.09-pass",
            phase3.test_units_match_repository,
            PASSED,
            f"7 units the same ({REPOSITORY_WHERE})",
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-pass-normalised",
            phase3.test_units_match_repository,
            PASSED,
            "7 units the same",
            host_units(
                lambda f: f.update(
                    {
                        CORE: restyled(f[CORE]),
                        f"{CORE}.d/10-same.conf": "[Container]\nImage=localhost/phoenix-standin:1.0\n",
                    }
                )
            ),
            source_dir=INFRA,
        ),
        case(
            # Of two files of one name the generator loads the first it finds (the folder's own
            # before its subfolders'), as the lint says (QL039): the drift checks compare that one.
            "PHX-3.09-pass-first-of-a-name",
            phase3.test_units_match_repository,
            PASSED,
            "7 units the same",
            host_units(lambda f: f.update({f"old/{CORE}": f[CORE].replace("standin:1.0", "standin:0.9")})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-image",
            phase3.test_units_match_repository,
            FAILED,
            IMAGE_CHANGED,
            host_units(lambda f: f.update({CORE: f[CORE].replace("standin:1.0", "standin:2.0")})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-dropin",
            phase3.test_units_match_repository,
            FAILED,
            IMAGE_CHANGED,
            host_units(lambda f: f.update({f"{CORE}.d/10-tag.conf": f"[Container]\nImage={NEW_IMAGE}\n"})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-dropin-for-every-container",
            phase3.test_units_match_repository,
            FAILED,
            "revenue-db.container differs:\n      [Container] Label: repository none, host tier=db",
            host_units(lambda f: f.update({"container.d/10-label.conf": "[Container]\nLabel=tier=db\n"})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-dropin-unreadable",
            phase3.test_units_match_repository,
            FAILED,
            f"cannot be read: line 1: {QUADLET_DIR}/{CORE}.d/big.conf: the file cannot be read: larger than 1024 KB",
            host_units(lambda f: f.update({f"{CORE}.d/big.conf": "#" * (1024 * 1024 + 10)})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-missing",
            phase3.test_units_match_repository,
            FAILED,
            f"revenue-db.container: missing on the host ({FOLDER_WHERE})",
            host_units(lambda f: f.pop("revenue-db.container")),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-extra",
            phase3.test_units_match_repository,
            FAILED,
            f"debug.container: on the host, not in the repository (local folder {INFRA / 'systemd'})",
            host_units(lambda f: f.update({"debug.container": f"[Container]\nImage={NEW_IMAGE}\n"})),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-fail-target",
            phase3.test_units_match_repository,
            FAILED,
            "phoenix.target differs:\n      [Install] WantedBy: repository default.target, host multi-user.target",
            setting(
                "target_file",
                (INFRA / "systemd" / "phoenix.target")
                .read_text()
                .replace("WantedBy=default.target", "WantedBy=multi-user.target"),
            ),
            source_dir=INFRA,
        ),
        case(
            "PHX-3.09-no-source-dir",
            phase3.test_units_match_repository,
            NOT_APPLICABLE,
            "no --source-dir given: no repository to compare the host's units with",
        ),
        *[
            case(
                f"PHX-3.09-{section}-{how}",
                phase3.test_units_match_repository,
                COULD_NOT_CHECK,
                f"probe section {section} (probe_quadlet.sh on {HOST_ID})",
                fail(section, how),
                source_dir=INFRA,
            )
            for section in ("quadlet_tar", "target_file")
            for how in ("timeout", "missing")
        ],
        case(
            "PHX-3.10-pass",
            phase3.test_unit_reloaded,
            PASSED,
            f"NeedDaemonReload=no, {QUADLET_DIR}/{CORE} (systemctl --user show -p NeedDaemonReload"
            f" phoenix-core.service {AS_USER})",
        ),
        case(
            "PHX-3.10-fail",
            phase3.test_unit_reloaded,
            FAILED,
            f"systemd runs an older version of phoenix-core.service: {QUADLET_DIR}/{CORE} changed after the last"
            " daemon-reload (NeedDaemonReload=yes); run systemctl --user daemon-reload"
            " && systemctl --user restart phoenix.target",
            show_units(unit_reload_pending),
        ),
        case(
            "PHX-3.10-not-loaded",
            phase3.test_unit_reloaded,
            SKIPPED,
            "phoenix-core.service is not loaded (not-found), see PHX-3.05",
            show_units(
                lambda text: text.replace(
                    "Id=phoenix-core.service\nLoadState=loaded", "Id=phoenix-core.service\nLoadState=not-found"
                )
            ),
        ),
        case(
            "PHX-3.10-property-not-shown",
            phase3.test_unit_reloaded,
            COULD_NOT_CHECK,
            "NeedDaemonReload of phoenix-core.service: systemctl show printed None",
            show_units(lambda text: text.replace(f"{CORE}\nNeedDaemonReload=no", CORE, 1)),
        ),
        *each_failure(
            "PHX-3.10-units-show",
            phase3.test_unit_reloaded,
            COULD_NOT_CHECK,
            f"probe section units_show (probe_quadlet.sh on {HOST_ID})",
            "units_show",
        ),
        case(
            "PHX-3.11-not-asked",
            phase3.test_unit_auto_update,
            NOT_APPLICABLE,
            "the stack manifest asks for no automatic updates",
        ),
        case(
            "PHX-3.11-fail",
            phase3.test_unit_auto_update,
            FAILED,
            f"expected AutoUpdate=registry (the manifest's auto_update), got no AutoUpdate= ({QUADLET_DIR}/{CORE})",
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-pass",
            phase3.test_unit_auto_update,
            PASSED,
            f"AutoUpdate=registry ({QUADLET_DIR}/{CORE}:",
            host_units(
                lambda f: f.update({CORE: f[CORE].replace("[Container]\n", "[Container]\nAutoUpdate=registry\n")})
            ),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-pass-dropin",
            phase3.test_unit_auto_update,
            PASSED,
            f"AutoUpdate=registry ({QUADLET_DIR}/container.d/50-update.conf:2)",
            host_units(lambda f: f.update({"container.d/50-update.conf": "[Container]\nAutoUpdate=registry\n"})),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-pass-first-of-a-name",
            phase3.test_unit_auto_update,
            PASSED,
            f"AutoUpdate=registry ({QUADLET_DIR}/{CORE}:",
            host_units(
                lambda f: f.update(
                    {
                        CORE: f[CORE].replace("[Container]\n", "[Container]\nAutoUpdate=registry\n"),
                        f"old/{CORE}": f[CORE],
                    }
                )
            ),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-fail-other-policy",
            phase3.test_unit_auto_update,
            FAILED,
            "expected AutoUpdate=registry (the manifest's auto_update), got AutoUpdate=local",
            host_units(lambda f: f.update({"container.d/50-update.conf": "[Container]\nAutoUpdate=local\n"})),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-not-installed",
            phase3.test_unit_auto_update,
            SKIPPED,
            f"{CORE} is not installed, see PHX-3.01",
            host_units(lambda f: f.pop(CORE)),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.11-quadlet-tar-timeout",
            phase3.test_unit_auto_update,
            COULD_NOT_CHECK,
            f"probe section quadlet_tar (probe_quadlet.sh on {HOST_ID}): timed out",
            fail("quadlet_tar", "timeout"),
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.12-not-asked",
            phase3.test_auto_update_timer,
            NOT_APPLICABLE,
            "the stack manifest asks for no automatic updates",
        ),
        case(
            "PHX-3.12-fail",
            phase3.test_auto_update_timer,
            FAILED,
            "expected enabled=enabled, active=active, got enabled=disabled, active=inactive",
            stack=gitops_stack(auto_update="registry"),
        ),
        case(
            "PHX-3.12-pass",
            phase3.test_auto_update_timer,
            PASSED,
            "enabled=enabled, active=active"
            f" (systemctl --user is-enabled/is-active podman-auto-update.timer {AS_USER})",
            both(setting("autoupdate_enabled", "enabled"), setting("autoupdate_active", "active")),
            stack=gitops_stack(auto_update="registry"),
        ),
        *[
            case(
                f"PHX-3.12-{how}",
                phase3.test_auto_update_timer,
                COULD_NOT_CHECK,
                f"probe section autoupdate_enabled (probe_quadlet.sh on {HOST_ID})",
                fail("autoupdate_enabled", how),
                stack=gitops_stack(auto_update="registry"),
            )
            for how in ("timeout", "missing")
        ],
        case(
            "PHX-S.21-no-registry",
            security.test_files_images_from_registry,
            NOT_APPLICABLE,
            "the stack manifest names no registry",
        ),
        case(
            "PHX-S.21-pass",
            security.test_files_images_from_registry,
            PASSED,
            f"no offence (every image from localhost; {FILES_WHERE})",
            stack=gitops_stack(registry="localhost"),
        ),
        case(
            "PHX-S.21-fail",
            security.test_files_images_from_registry,
            FAILED,
            f"{COMPOSE_PATH.replace('/home', 'ssh://refhost:/home')}:15: SEC-REGISTRY service phoenix-core,"
            " image localhost/phoenix-standin:1.0: not from registry.example.com/phoenix",
            stack=gitops_stack(registry="registry.example.com/phoenix"),
        ),
        case(
            "PHX-S.21-fail-unit",
            security.test_files_images_from_registry,
            FAILED,
            f"{QUADLET_DIR}/{CORE}:10: SEC-REGISTRY {CORE}, Image=docker.io/phoenix-standin:1.0: not from localhost",
            host_units(lambda f: f.update({CORE: f[CORE].replace("Image=localhost/", "Image=docker.io/")})),
            stack=gitops_stack(registry="localhost"),
        ),
        case(
            "PHX-S.21-compose-timeout",
            security.test_files_images_from_registry,
            COULD_NOT_CHECK,
            f"probe section compose_file (probe_stack.sh on {HOST_ID}): timed out",
            fail("compose_file", "timeout"),
            stack=gitops_stack(registry="localhost"),
        ),
        case(
            "PHX-S.22-no-registry",
            security.test_live_images_from_registry,
            NOT_APPLICABLE,
            "the stack manifest names no registry",
        ),
        case(
            "PHX-S.22-pass",
            security.test_live_images_from_registry,
            PASSED,
            f"6 containers, every image from localhost ({API_WHERE})",
            stack=gitops_stack(registry="localhost"),
        ),
        case(
            "PHX-S.22-fail",
            security.test_live_images_from_registry,
            FAILED,
            "expected every image from registry.example.com/phoenix, got:\n"
            "  container phoenix-core runs localhost/phoenix-standin:1.0",
            stack=gitops_stack(registry="registry.example.com/phoenix"),
        ),
        case(
            "PHX-S.22-api-unreachable",
            security.test_live_images_from_registry,
            COULD_NOT_CHECK,
            f"the Podman API: {API_DOWN}",
            api_down(),
            stack=gitops_stack(registry="localhost"),
        ),
    ]


class TestGitOpsEvidence:
    def test_a_secret_value_in_a_differing_unit_is_withheld(self) -> None:
        host = reference_host()
        host_units(
            lambda f: f.update(
                {CORE: f[CORE].replace("[Container]\n", "[Container]\nEnvironment=DB_PASSWORD=hunter2-offline\n")}
            )
        )(host)
        outcome = judge_on(host.facts(reference_stack(), source_dir=INFRA), phase3.test_units_match_repository)
        assert outcome.kind == FAILED
        assert "[Container] Environment: DB_PASSWORD differs (values withheld)" in outcome.text
        assert "hunter2" not in outcome.text
