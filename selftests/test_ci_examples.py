"""The CI smoke examples in examples/ci/, their commands run against the reference
host: the stack started with podman-compose the way the example does, then the
example's own pytest command, with the runner (--hosts=local://) replaced by the host."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from suite_runner import HOST, REFERENCE_STACK, REPO, Guest

pytestmark = pytest.mark.refhost
EXAMPLES = REPO / "examples" / "ci"


def github_commands() -> tuple[list[str], str, list[str]]:
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    steps = workflow["jobs"]["smoke"]["steps"]
    runs = [step["run"] for step in steps if "run" in step]
    artifacts = next(step["with"]["path"] for step in steps if "upload-artifact" in step.get("uses", ""))
    return runs, "GITHUB_WORKSPACE", artifacts.split()


def gitlab_commands() -> tuple[list[str], str, list[str]]:
    job = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())["phoenix-smoke"]
    artifacts = job["artifacts"]["paths"] + [job["artifacts"]["reports"]["junit"]]
    return list(job["script"]), "CI_PROJECT_DIR", artifacts


@pytest.mark.parametrize("example", [github_commands, gitlab_commands], ids=["github", "gitlab"])
def test_the_example_commands_bring_the_stack_up_and_check_it(
    example: object, refhost_guest: Guest, tmp_path: Path
) -> None:
    commands, workspace_variable, artifacts = example()  # type: ignore[operator]
    compose_up = next(c for c in commands if "podman-compose up -d" in c)
    smoke = next(c for c in commands if "pytest --phase=2" in c)
    assert "--hosts=local://" in smoke and "--junitxml=reports/smoke.xml" in smoke
    assert {Path(a).name for a in artifacts} == {"smoke.xml", "smoke.html"}

    refhost_guest.deploy("none")
    # The runner's checkout of the application is the project folder on the host.
    started = refhost_guest.run(["sh", "-c", f"cd ~/phoenix-hydra && {compose_up}"], user="phoenix", timeout=300)
    assert started.returncode == 0, started.stderr
    try:
        workspace = tmp_path / "workspace"
        (workspace / "infra" / "podman").mkdir(parents=True)
        shutil.copy(REPO / "fixtures" / "infra" / "podman" / "compose.yaml", workspace / "infra/podman/compose.yaml")
        shutil.copy(REFERENCE_STACK, workspace / "infra" / "podman" / "stack.yaml")
        reports = tmp_path / "reports"
        command = smoke.replace("--hosts=local://", f"--hosts={HOST} --ssh-config={refhost_guest.ssh_config}")
        command = command.replace("reports/", f"{reports}/") + f" --reports-dir={reports}"
        env = dict(
            os.environ,
            PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            **{workspace_variable: str(workspace)},
        )
        done = subprocess.run(
            ["bash", "-c", command], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "phase 2: READY" in done.stdout
        assert (reports / "smoke.xml").exists() and (reports / "smoke.html").exists()
    finally:
        refhost_guest.deploy("none")
