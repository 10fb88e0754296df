"""The CI smoke examples in examples/ci/, their commands run against the reference
host: the suite installed as a package (no clone of it beside the application), the stack
started with podman-compose the way the example does, then the example's own
`phoenix-compliance check` command from the application's checkout, with the runner
(--hosts=local://) replaced by the host."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from suite_runner import HOST, REFERENCE_STACK, REPO, Guest

EXAMPLES = REPO / "examples" / "ci"


def github_commands() -> tuple[list[str], list[str], str]:
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    steps = workflow["jobs"]["smoke"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    artifacts = next(step["with"]["path"] for step in steps if "upload-artifact" in step.get("uses", ""))
    # Only the application is checked out: no `repository:` of the suite beside it.
    checkouts = [step for step in steps if "actions/checkout" in step.get("uses", "")]
    assert checkouts == [{"uses": "actions/checkout@v4"}]
    return runs, artifacts.split(), workflow["jobs"]["smoke"]["env"]["PHOENIX_COMPLIANCE"]


def gitlab_commands() -> tuple[list[str], list[str], str]:
    job = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())["phoenix-smoke"]
    artifacts = job["artifacts"]["paths"] + [job["artifacts"]["reports"]["junit"]]
    return list(job["before_script"]) + list(job["script"]), artifacts, job["variables"]["PHOENIX_COMPLIANCE"]


class TestTheExamplesInstallThePackage:
    @pytest.mark.parametrize("example", [github_commands, gitlab_commands], ids=["github", "gitlab"])
    def test_pip_installs_the_suite_and_nothing_clones_it(self, example: object) -> None:
        commands, _, requirement = example()  # type: ignore[operator]
        assert requirement.startswith("phoenix-compliance @ git+")
        assert any('pip install "$PHOENIX_COMPLIANCE"' in command for command in commands)
        assert not any("git clone" in command for command in commands)


@pytest.mark.refhost
@pytest.mark.parametrize("example", [github_commands, gitlab_commands], ids=["github", "gitlab"])
def test_the_example_commands_bring_the_stack_up_and_check_it(
    example: object, refhost_guest: Guest, tmp_path: Path
) -> None:
    commands, artifacts, _ = example()  # type: ignore[operator]
    compose_up = next(c for c in commands if "podman-compose up -d" in c)
    smoke = next(c for c in commands if "phoenix-compliance check --phase=2" in c)
    assert "--hosts=local://" in smoke and "--junitxml=reports/smoke.xml" in smoke
    assert {Path(a).name for a in artifacts} == {"smoke.xml", "smoke.html"}

    refhost_guest.deploy("none")
    # The runner's checkout of the application is the project folder on the host.
    started = refhost_guest.run(["sh", "-c", f"cd ~/phoenix-hydra && {compose_up}"], user="phoenix", timeout=300)
    assert started.returncode == 0, started.stderr
    try:
        # The application's checkout, where the job runs; the suite is the installed package
        # of this virtualenv (its phoenix-compliance command first on PATH).
        workspace = tmp_path / "workspace"
        (workspace / "infra" / "podman").mkdir(parents=True)
        shutil.copy(REPO / "fixtures" / "infra" / "podman" / "compose.yaml", workspace / "infra/podman/compose.yaml")
        shutil.copy(REFERENCE_STACK, workspace / "infra" / "podman" / "stack.yaml")
        command = smoke.replace("--hosts=local://", f"--hosts={HOST} --ssh-config={refhost_guest.ssh_config}")
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
        done = subprocess.run(
            ["bash", "-c", command], cwd=workspace, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "phase 2: READY" in done.stdout
        for artifact in artifacts:
            assert (workspace / artifact).exists(), artifact
    finally:
        refhost_guest.deploy("none")
