"""The Quadlet layer (phoenix_compliance.quadlet): one reading of the generator for the lint,
the facts, the manifest and the drift checks.

The expected service names and drop-in orders were measured with the real generators
(`quadlet -dryrun -user` with QUADLET_UNIT_DIRS set to a temporary folder: 5.4.2 on
trixie, 5.8.6 on forky; 6.1.1 names and orders as 5.8.6) and read in quadlet.go /
main.go at the tags (getServiceName() changed at v5.7.0, loadUnitDropins() at v5.6.0);
the generator differential (test_quadlet_differential.py, test_service_names) compares
the names with both generators again.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from phoenix_compliance.facts import source
from phoenix_compliance.facts.files import local_quadlet_folder, quadlet_units, read_quadlet_folder
from phoenix_compliance.parsers.manifest import generated_service
from phoenix_compliance.quadlet import discovery
from phoenix_compliance.quadlet.names import default_service_name, service_name
from phoenix_compliance.quadlet.readers import SPLIT_ARGS, split_words, unit_environment, unquote
from phoenix_compliance.quadlet.unitfile import drops_folder, parse_text
from phoenix_compliance.quadlet_lint import lint_paths

OLD, NEW = (5, 4, 2), (5, 8, 6)
LAYER_MODULES = ("unitfile", "discovery", "readers", "versions", "names")
IMAGE = "[Container]\nImage=localhost/x:1\n"


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def tar_of(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as archive:
        for name, text in files.items():
            data = text.encode("utf-8")
            member = tarfile.TarInfo(f"./{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return buffer.getvalue()


class TestLayering:
    def test_the_layer_is_below_the_lint_the_facts_and_pytest(self) -> None:
        """Checked in a fresh interpreter: importing the layer loads none of what asks it."""
        modules = ", ".join(f"phoenix_compliance.quadlet.{name}" for name in LAYER_MODULES)
        probe = f"import sys, {modules}; print(sorted(sys.modules))"
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr
        loaded = result.stdout
        above = ("pytest", "phoenix_compliance.quadlet_lint", "phoenix_compliance.facts", "phoenix_compliance.security")
        assert not [name for name in above if f"'{name}" in loaded]


class TestServiceNames:
    @pytest.mark.parametrize(
        ("file_name", "text", "version", "expected"),
        [
            ("web.container", IMAGE, OLD, "web.service"),
            ("web.kube", "[Kube]\nYaml=/srv/x.yaml\n", OLD, "web.service"),
            ("web.pod", "[Pod]\n", OLD, "web-pod.service"),
            ("n.network", "[Network]\n", OLD, "n-network.service"),
            ("i.image", "[Image]\nImage=localhost/x:1\n", OLD, "i-image.service"),
            ("b.build", "[Build]\nImageTag=localhost/x:1\n", OLD, "b-build.service"),
            ("a.artifact", "[Artifact]\nArtifact=localhost/x:1\n", NEW, "a-artifact.service"),
            # Templates: up to 5.6 the suffix follows the '@' (seen on 5.4.2); from 5.7 it goes before.
            ("web@.pod", "[Pod]\n", OLD, "web@-pod.service"),
            ("web@.pod", "[Pod]\n", NEW, "web-pod@.service"),
            ("vol@.volume", "[Volume]\n", OLD, "vol@-volume.service"),
            ("vol@.volume", "[Volume]\n", NEW, "vol-volume@.service"),
            ("web@.container", IMAGE, NEW, "web@.service"),
            ("web@a.container", IMAGE, NEW, "web@a.service"),
            ("web@b.pod", "[Pod]\n", NEW, "web@b-pod.service"),
            # ServiceName= from 5.3, read with Lookup(): up to 5.8.1 every surrounding quote goes,
            # from 5.8.2 one matched pair; an empty value is used as it is (seen on 5.4.2).
            ("q.container", IMAGE + 'ServiceName="qa"\n', OLD, "qa.service"),
            ("q.container", IMAGE + 'ServiceName="qa"\n', NEW, "qa.service"),
            ("q.container", IMAGE + 'ServiceName="qb\n', OLD, "qb.service"),
            ("q.container", IMAGE + 'ServiceName="qb\n', NEW, '"qb.service'),
            ("q.container", IMAGE + 'ServiceName=""qc""\n', OLD, "qc.service"),
            ("q.container", IMAGE + 'ServiceName=""qc""\n', NEW, '"qc".service'),
            ("q.container", IMAGE + "ServiceName=\n", OLD, ".service"),
            ("q.pod", '[Pod]\nServiceName="qp"\n', (5, 2, 0), "q-pod.service"),
            ("phoenix.target", "[Unit]\n", NEW, None),
        ],
    )
    def test_as_the_generator_names_it(
        self, file_name: str, text: str, version: tuple[int, ...], expected: str | None
    ) -> None:
        assert service_name(parse_text(text, file_name), version) == expected

    def test_a_drop_in_names_the_service(self, tmp_path: Path) -> None:
        write(tmp_path, {"e.container": IMAGE, "e.container.d/10.conf": "[Container]\nServiceName=qe\n"})
        merged = discovery.merged_folder(tmp_path, OLD)
        assert service_name(merged["e.container"], OLD) == "qe.service"

    def test_without_a_unit_from_the_file_name(self) -> None:
        assert default_service_name("web@.pod", NEW) == "web-pod@.service"
        assert default_service_name("notes.txt") is None


class TestManifestServiceNames:
    """The manifest names the services the generator makes of the files it lists."""

    @pytest.mark.parametrize(
        ("unit", "expected"),
        [
            ("web.kube", "web.service"),
            ("web.container", "web.service"),
            ("web.pod", "web-pod.service"),
            ("data.volume", "data-volume.service"),
            ("net.network", "net-network.service"),
        ],
    )
    def test_generated_service(self, unit: str, expected: str) -> None:
        assert generated_service(unit) == expected


class TestReaders:
    def test_unquoting_per_release(self) -> None:
        assert unquote('"x', OLD) == "x"
        assert unquote('"x', NEW) == '"x'
        assert unquote('"x"', NEW) == "x"

    def test_a_units_environment_is_split_as_systemd_splits_it(self) -> None:
        unit = parse_text(
            '[Service]\nEnvironment="A=one two" B=\\x41\nEnvironment=C="open\nEnvironment=D=4\n', "web.container"
        )
        # A C escape is unescaped; a line with an unclosed quote is ignored, as systemd ignores it.
        assert unit_environment(unit) == {"A": "one two", "B": "A", "D": "4"}

    def test_words_are_not_a_shells(self) -> None:
        assert split_words("a $HOME `x` 'b c'", SPLIT_ARGS) == ["a", "$HOME", "`x`", "b c"]


class TestDiscovery:
    def test_the_first_file_of_a_name_wins_for_the_lint_and_the_drift_checks(self, tmp_path: Path) -> None:
        """Issue 23: with q/web.container and q/a/web.container the lint said Quadlet loads the
        first while PHX-3.09/3.11 compared the second."""
        repository = write(
            tmp_path / "repository",
            {"web.container": IMAGE, "a/web.container": "[Container]\nImage=localhost/other:2\n"},
        )
        host = write(tmp_path / "host", {"web.container": IMAGE})
        hidden = [f for f in lint_paths([repository]) if f.rule_id == "QL039"]
        assert [Path(f.path).relative_to(repository) for f in hidden] == [Path("a/web.container")]
        ours, theirs = local_quadlet_folder(repository, "x.target"), local_quadlet_folder(host, "x.target")
        assert source.merged_units(ours)["web.container"].values("Container", "Image") == ["localhost/x:1"]
        assert source.compare(ours, theirs).none

    def test_the_hosts_listing_is_read_as_a_folder_on_disk_is(self, tmp_path: Path) -> None:
        files = {
            "web.container": IMAGE,
            "a/web.container": "[Container]\nImage=localhost/other:2\n",
            "web.container.d/10-label.conf": "[Container]\nLabel=a=b\n",
            "web.container.d/stray.container": IMAGE,  # not a unit: drop-in folders are not searched
            "container.d/20-more.conf": "[Container]\nLabel=c=d\n",
            "sub/db.container": IMAGE,
        }
        on_disk = write(tmp_path / "q", files)
        root = Path("/home/u/.config/containers/systemd")
        _found, listed = read_quadlet_folder(root, discovery.ListingTree.from_tar(root, tar_of(files)))
        _found, local = read_quadlet_folder(on_disk)
        assert sorted(quadlet_units(root, listed)) == sorted(quadlet_units(on_disk, local))
        assert list(quadlet_units(root, listed)) == ["web.container", "sub/db.container"]
        assert [str(h.path.relative_to(root)) for h in listed if isinstance(h, discovery.Hidden)] == ["a/web.container"]
        merged = discovery.merged_folder(root, OLD, discovery.ListingTree.from_tar(root, tar_of(files)))
        assert merged["web.container"].values("Container", "Label") == ["a=b", "c=d"]
        assert sorted(merged) == sorted(discovery.merged_folder(on_disk, OLD))

    def test_a_hard_link_in_the_hosts_tar_is_the_file_it_links_to(self) -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:") as archive:
            data = IMAGE.encode()
            member = tarfile.TarInfo("./web.container")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
            for name, target in (("./copy.container", "./web.container"), ("./lost.container", "./gone.container")):
                link = tarfile.TarInfo(name)
                link.type, link.linkname = tarfile.LNKTYPE, target
                archive.addfile(link)
        root = Path("/srv/q")
        units = discovery.merged_folder(root, OLD, discovery.ListingTree.from_tar(root, buffer.getvalue()))
        assert units["copy.container"].values("Container", "Image") == ["localhost/x:1"]
        assert [p.kind for p in units["lost.container"].problems] == ["unreadable"]

    @pytest.mark.parametrize(("version", "label"), [(OLD, "from=top-container.d"), (NEW, "from=sub-web.container.d")])
    def test_which_of_two_drop_ins_of_one_name_wins(self, tmp_path: Path, version: tuple[int, ...], label: str) -> None:
        """Up to 5.5 the earlier unit folder's, from 5.6 the more specific drop-in folder's (measured
        on 5.4.2 and 5.8.6)."""
        write(
            tmp_path,
            {
                "web.container": IMAGE,
                "container.d/10.conf": "[Container]\nLabel=from=top-container.d\n",
                "a/web.container.d/10.conf": "[Container]\nLabel=from=sub-web.container.d\n",
            },
        )
        assert discovery.merged_folder(tmp_path, version)["web.container"].values("Container", "Label") == [label]

    def test_merged_units_name_the_drop_in_of_each_entry(self, tmp_path: Path) -> None:
        """What a security rule judges: the unit with its drop-ins, each entry at its file:line."""
        write(tmp_path, {"web.container": IMAGE, "web.container.d/10.conf": "[Container]\nPodmanArgs=--privileged\n"})
        entry = discovery.merged_folder(tmp_path)["web.container"].last("Container", "PodmanArgs")
        assert entry is not None and (entry.source, entry.line) == (tmp_path / "web.container.d/10.conf", 2)

    def test_folders_are_walked_depth_first_and_a_deep_tree_is_no_recursion_error(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        write(
            tmp_path, {"b/x.container": IMAGE, "a/z/y.container": IMAGE, "a/w.container": IMAGE, "v.container": IMAGE}
        )
        deep = tmp_path / "deep"
        deep.mkdir()
        monkeypatch.chdir(deep)
        for _ in range(1200):
            os.mkdir("d")
            os.chdir("d")
        Path("last.container").write_text(IMAGE)
        try:
            found = discovery.scan([tmp_path])
        finally:
            # Removed here, bottom up: pytest's own clean-up recurses once per level.
            os.remove("last.container")
            for _ in range(1200):
                os.chdir("..")
                os.rmdir("d")
        names = [str(path.relative_to(tmp_path)) for path in found.files]
        assert names[:4] == ["v.container", "a/w.container", "a/z/y.container", "b/x.container"]
        assert names[4].endswith("/d/last.container") and names[4].count("/") == 1201

    def test_a_broken_file_costs_its_folder_not_its_subfolders(self, tmp_path: Path) -> None:
        write(tmp_path, {"a.container": IMAGE, "b.container": "---\n", "p.pod": "[Pod]\n", "sub/c.container": IMAGE})
        units = [u for u in discovery.read_units(discovery.scan([tmp_path])) if not isinstance(u, discovery.Hidden)]
        broken = [u.path for u in units if drops_folder(u) is not None]
        assert broken == [tmp_path / "b.container"]
        assert discovery.folder_losses(units, broken) == {
            tmp_path / "a.container": broken,
            tmp_path / "p.pod": broken,
        }

    def test_an_environment_file_a_drop_in_names_is_read_for_the_unit(self, tmp_path: Path) -> None:
        """Issue 24: a drop-in's EnvironmentFile= was never read, so its secrets were never judged."""
        write(
            tmp_path,
            {
                "web.container": IMAGE,
                "web.container.d/10.conf": "[Container]\nEnvironmentFile=secret.env\n",
                "secret.env": "DB_PASSWORD=hunter2\n",
            },
        )
        folder = local_quadlet_folder(tmp_path, "x.target")
        merged = folder.merged_units()["web.container"]
        assert merged.environment_files == {str(tmp_path / "secret.env"): "DB_PASSWORD=hunter2\n"}
        assert unit_environment(merged) == {"DB_PASSWORD": "hunter2"}

    def test_a_file_that_cannot_be_read_is_a_unit_with_a_problem(self, tmp_path: Path) -> None:
        write(tmp_path, {"web.container": IMAGE})
        (tmp_path / "gone.container").symlink_to(tmp_path / "nowhere")
        (tmp_path / "big.container").write_bytes(b"#" * (discovery.MAX_UNIT_BYTES + 1))
        units = {u.name: [p.kind for p in u.problems] for u in discovery.merged_folder(tmp_path).values()}
        assert units == {"big.container": ["unreadable"], "gone.container": ["unreadable"], "web.container": []}
