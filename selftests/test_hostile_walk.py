"""Bounded reads of Quadlet folders (issue 24): special files refused by type before they are
opened, a huge unit read up to the cap, symbolic link loops, a link to `/`, deep trees and
folders that cannot be listed, each a finding naming its path, never a hang or a traceback.

The generator follows links to folders (appendSubPaths() resolves each entry with
filepath.EvalSymlinks, 5.4.2 to 5.8), so the suite's walk does too, within its bounds."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phoenix_compliance.cli import main
from phoenix_compliance.quadlet import discovery

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parent.parent
UNITS = REPO / "fixtures" / "infra" / "podman" / "systemd"
UNIT = "[Container]\nImage=docker.io/library/nginx:1.27\n"


def lint(*paths: Path) -> tuple[int, str]:
    """`phoenix-compliance lint --profile validity PATH...` in-process: its exit code and output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["lint", "--profile", "validity", "--podman-version", "5.4", *map(str, paths)])
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text
    return code, text


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    units = tmp_path / "q"
    units.mkdir()
    (units / "web.container").write_text(UNIT)
    return units


class TestSpecialFiles:
    def test_a_fifo_drop_in_is_refused_before_it_is_opened(self, folder: Path) -> None:
        (folder / "web.container.d").mkdir()
        os.mkfifo(folder / "web.container.d" / "pipe.conf")
        # In a child with a timeout: an open() of the FIFO would block for ever.
        done = subprocess.run(
            [sys.executable, "-m", "phoenix_compliance.cli", "lint", "--podman-version", "5.4", str(folder)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"{folder}/web.container.d/pipe.conf:1: error[QL000]: the file cannot be read: a FIFO" in done.stdout

    def test_dev_zero_linked_as_a_drop_in_is_a_device(self, folder: Path) -> None:
        (folder / "web.container.d").mkdir()
        (folder / "web.container.d" / "zero.conf").symlink_to("/dev/zero")
        code, text = lint(folder)
        assert code == 2
        assert f"{folder}/web.container.d/zero.conf:1: error[QL000]: the file cannot be read: a device, not a" in text

    def test_a_1_gb_sparse_unit_is_read_up_to_the_cap_and_said_so(self, folder: Path) -> None:
        with (folder / "big.container").open("wb") as handle:
            handle.truncate(1024**3)
        start = time.monotonic()
        code, text = lint(folder)
        assert time.monotonic() - start < 20
        assert code == 2
        assert f"{folder}/big.container:1: error[QL000]: the file cannot be read: larger than 1024 KB" in text


class TestTheWalk:
    def test_a_symlink_loop_is_searched_once(self, folder: Path) -> None:
        (folder / "sub").mkdir()
        (folder / "sub" / "db.container").write_text(UNIT)
        (folder / "sub" / "loop").symlink_to("..")
        found = discovery.scan([folder])
        assert [path.name for path in found.files] == ["web.container", "db.container"]
        assert found.limits == []

    def test_a_folder_that_cannot_be_listed_is_a_finding_at_its_path(
        self, folder: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        locked = folder / "locked"
        locked.mkdir()
        (locked / "db.container").write_text(UNIT)
        scandir = os.scandir

        def refusing(path: object) -> object:
            # chmod 000 does not stop root, who runs the suite's CI: refuse it here as the kernel would.
            if Path(str(path)) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return scandir(path)  # type: ignore[call-overload]

        monkeypatch.setattr(os, "scandir", refusing)
        code, text = lint(folder)
        assert code == 2
        assert f"{locked}:1: error[QL000]: cannot list the folder: Permission denied" in text

    def test_a_link_to_root_is_followed_as_the_generator_does_and_bounded(
        self, folder: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        (folder / "root").symlink_to("/")
        monkeypatch.setattr(discovery, "MAX_WALK_FOLDERS", 40)
        start = time.monotonic()
        code, text = lint(folder)
        assert time.monotonic() - start < 20
        assert code == 2
        assert f"error[QL000]: the search of {folder} stopped after 40 folders (a symbolic link to / or a" in text
        # The folder's own unit is still linted (its files come before its subfolders).
        assert "in 1 file (" in text

    def test_a_link_to_etc_is_bounded_in_time(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        (folder / "etc").symlink_to("/etc")
        monkeypatch.setattr(discovery, "MAX_WALK_SECONDS", 0.0)
        found = discovery.scan([folder])
        assert [limit.message for limit in found.limits] == [
            f"the search of {folder} stopped after 0 seconds (a symbolic link to / or a large tree?): "
            "this folder and the rest are not searched"
        ]

    def test_a_tree_deeper_than_the_bound_is_cut_there(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(discovery, "MAX_WALK_DEPTH", 6)
        deep = folder
        for _ in range(discovery.MAX_WALK_DEPTH + 5):
            deep = deep / "d"
        deep.mkdir(parents=True)
        (deep / "db.container").write_text(UNIT)
        found = discovery.scan([folder])
        assert [path.name for path in found.files] == ["web.container"]
        assert [(limit.path.relative_to(folder).parts.count("d"), limit.message) for limit in found.limits] == [
            (
                discovery.MAX_WALK_DEPTH + 1,
                f"more than {discovery.MAX_WALK_DEPTH} folders deep below {folder}; not searched",
            )
        ]

    def test_a_folder_of_too_many_entries_is_read_in_part(self, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(discovery, "MAX_FOLDER_ENTRIES", 3)
        for index in range(5):
            (folder / f"u{index}.container").write_text(UNIT)
        found = discovery.scan([folder])
        assert len(found.files) == 3
        assert [limit.message for limit in found.limits] == [
            "cannot list the folder: more than 3 entries; only the first are read"
        ]


class TestThroughTheChecks:
    def test_a_fifo_and_a_device_drop_in_fail_phx_3_02_naming_them(self, pytester: pytest.Pytester) -> None:
        """Before: the drop-ins' QL000 was not the unit's, and phase 3 said READY."""
        units = pytester.path / "systemd"
        shutil.copytree(UNITS, units)
        dropins = units / "phoenix-core.container.d"
        dropins.mkdir()
        os.mkfifo(dropins / "pipe.conf")
        (dropins / "zero.conf").symlink_to("/dev/zero")
        result = pytester.runpytest_subprocess(
            str(REPO / "tests"),
            f"--stack={REPO / 'fixtures/stacks/reference.yaml'}",
            f"--reports-dir={pytester.path / 'reports'}",
            "--phase=3",
            f"--quadlet-dir={units}",
            timeout=120,
        )
        merged = "[[]drop-in of phoenix-core.container]"
        result.stdout.fnmatch_lines_random(
            [
                f"*{dropins}/pipe.conf:1: QL000 error: the file cannot be read: a FIFO*{merged}*",
                f"*{dropins}/zero.conf:1: QL000 error: the file cannot be read: a device*{merged}*",
                "FAILED *test_unit_file_lint[[]phoenix-core.container-*",
            ]
        )
        assert "Traceback" not in result.stdout.str() + result.stderr.str()


# Each case's `NAME.link` files become symbolic links to the path they hold, then the
# generator runs on the case's q/ folder; the services it would write are the @@O lines.
_LINKED_SCRIPT = r"""
for c in "$d"/cases/*/; do
  n=$(basename "$c")
  find "$c" -name '*.link' | while read -r f; do ln -s "$(cat "$f")" "${f%.link}"; rm "$f"; done
  QUADLET_UNIT_DIRS="${c}q" timeout 20 /usr/libexec/podman/quadlet -dryrun -user >"$d/out" 2>"$d/err"
  echo "@@CASE $n $?"
  grep '^---' "$d/out" | sed 's/^/@@O /'
done
"""
LINKED_CASES = {
    "a link to a folder beside it": {
        "q/web.container": UNIT,
        "q/sub.link": "../outside",
        "outside/db.container": UNIT,
    },
    "a link to its own folder": {"q/web.container": UNIT, "q/loop.link": "."},
    "a link to a folder above it": {"q/web.container": UNIT, "q/up.link": "..", "other.container": UNIT},
    "a link to a unit file": {"q/web.container.link": "../outside/db.container", "outside/db.container": UNIT},
}


def _materialise(files: dict[str, str], root: Path) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith(".link"):
            path.with_suffix("").symlink_to(text)
        else:
            path.write_text(text)


@pytest.mark.refhost
def test_the_generator_follows_links_to_folders_as_the_walk_does(refhost_guest_name: str, tmp_path: Path) -> None:
    """What the generator of each reference release makes of links in a unit folder is what
    the walk finds: it follows a link to a folder (inside the folder or out of it) and a link
    to a unit file, and searches a folder reached twice once."""
    from guest_batches import run_batches

    answers = run_batches(_LINKED_SCRIPT, list(LINKED_CASES.values()), refhost_guest_name)
    wrong = []
    for (name, files), (code, lines) in zip(LINKED_CASES.items(), answers, strict=True):
        made = sorted(line[4:].strip("-") for line in lines if line.startswith("@@O "))
        root = tmp_path / str(abs(hash(name)))
        _materialise(files, root)
        found = sorted(f"{path.stem}.service" for path in discovery.scan([root / "q"]).files)
        if code != 0 or made != found:
            wrong.append(f"{name}: the generator made {made} (exit {code}), the walk finds {found}")
    assert not wrong, "\n".join(wrong)
