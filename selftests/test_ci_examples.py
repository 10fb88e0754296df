"""The CI smoke examples in examples/ci/, their commands run against the reference
host: the suite installed as a package (no clone of it beside the application), the stack
started with podman-compose the way the example does, then the example's own
`phoenix-compliance check` command from the application's checkout, with the runner
(--hosts=local://) replaced by the host."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# The fleet pipelines: N shard jobs, then the merge job.


@dataclass
class FleetPipeline:
    # Each shard job's command and the variables its CI system gives it.
    shards: list[tuple[str, dict[str, str]]]
    merge: str
    hosts: str
    # Where the shard jobs keep their results and where the merge job finds them again.
    kept: str
    found: str


def github_fleet() -> FleetPipeline:
    workflow = yaml.safe_load((EXAMPLES / "github-actions-fleet.yml").read_text())
    shard, merge = workflow["jobs"]["shard"], workflow["jobs"]["merge"]
    numbers = shard["strategy"]["matrix"]["shard"]
    check = next(step["run"] for step in shard["steps"] if "phoenix-compliance check" in step.get("run", ""))
    commands: list[tuple[str, dict[str, str]]] = [
        (check.replace("${{ matrix.shard }}", str(k)).replace("${{ strategy.job-total }}", str(len(numbers))), {})
        for k in numbers
    ]
    assert merge["needs"] == "shard" and "cancelled()" in merge["if"]
    assert shard["strategy"]["fail-fast"] is False
    kept = next(s["with"]["path"] for s in shard["steps"] if "upload-artifact" in s.get("uses", ""))
    found = next(s["with"]["path"] for s in merge["steps"] if "download-artifact" in s.get("uses", ""))
    merged = next(step["run"] for step in merge["steps"] if "phoenix-compliance merge" in step.get("run", ""))
    return FleetPipeline(commands, merged, workflow["env"]["FLEET_HOSTS"], kept, found)


def gitlab_fleet() -> FleetPipeline:
    pipeline = yaml.safe_load((EXAMPLES / "gitlab-ci-fleet.yml").read_text())
    shard, merge = pipeline["phoenix-shard"], pipeline["phoenix-fleet-report"]
    total = int(shard["parallel"])
    check = next(line for line in shard["script"] if "phoenix-compliance check" in line)
    # GitLab numbers the parallel jobs from 1.
    commands = [(check, {"CI_NODE_INDEX": str(k), "CI_NODE_TOTAL": str(total)}) for k in range(1, total + 1)]
    assert merge["needs"] == [{"job": "phoenix-shard", "artifacts": True}] and merge["when"] == "always"
    merged = next(line for line in merge["script"] if "phoenix-compliance merge" in line)
    (kept,) = shard["artifacts"]["paths"]
    return FleetPipeline(commands, merged, pipeline["variables"]["FLEET_HOSTS"], kept, "results")


class TestTheFleetPipelines:
    @pytest.mark.parametrize("example", [github_fleet, gitlab_fleet], ids=["github", "gitlab"])
    def test_n_shards_then_one_merge_of_their_results(self, example: Any) -> None:
        pipeline = example()
        assert len(pipeline.shards) >= 2
        assert all("--shard=" in command and "results/shard-" in command for command, _ in pipeline.shards)
        assert pipeline.kept.rstrip("/") == pipeline.found.rstrip("/") == "results"
        assert "phoenix-compliance merge --reports-dir=fleet results/*.json" in pipeline.merge


@pytest.mark.refhost
@pytest.mark.parametrize("example", [github_fleet, gitlab_fleet], ids=["github", "gitlab"])
def test_the_fleet_pipeline_shards_and_merges_against_reference_hosts(
    example: Any, refhost_guest: Guest, tmp_path: Path
) -> None:
    """Three host ids reach the one guest (an ssh alias each): a fleet of three to split."""
    from phoenix_compliance import refhost

    pipeline = example()
    aliases = ["fleet-a", "fleet-b", "fleet-c"]
    workspace = tmp_path / "workspace"
    (workspace / "infra" / "podman").mkdir(parents=True)
    shutil.copy(REFERENCE_STACK, workspace / "infra" / "podman" / "stack.yaml")
    (workspace / "infra" / "fleet.ssh").write_text(
        "".join(refhost.ssh_config_text(refhost_guest.name, alias) for alias in aliases)
    )
    refhost_guest.deploy("quadlet")
    env = dict(
        os.environ,
        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        FLEET_HOSTS=",".join(f"ssh://{alias}" for alias in aliases),
    )
    codes = []
    for command, variables in pipeline.shards:
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=workspace,
            env={**env, **variables},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        codes.append(done.returncode)
        assert done.returncode == 0, done.stdout + done.stderr
    results = sorted((workspace / "results").glob("*.json"))
    assert len(results) == len(pipeline.shards) == len(aliases)
    merged = subprocess.run(
        ["bash", "-c", pipeline.merge], cwd=workspace, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    print(f"shard exit codes {codes}, merge exit code {merged.returncode}")
    assert merged.returncode == 0, merged.stdout + merged.stderr
    assert "phoenix: merged 3 results, 3 hosts" in merged.stdout and "verdict: READY" in merged.stdout
    fleet = workspace / "fleet"
    assert {path.suffix for path in fleet.iterdir()} == {".html", ".xml", ".json", ".prom"}
    report = json.loads(next(fleet.glob("*.json")).read_text())
    assert sorted(report["hosts"]) == [f"ssh://{alias}" for alias in aliases]
    assert {v for host in report["hosts"].values() for v in host["verdicts"].values()} == {"READY"}
