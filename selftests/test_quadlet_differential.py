"""The lint's validity profile against real Quadlet generators, each judged at its own release.

The generators are those of the reference guests, one per release
(conftest.py ``refhost_guest_name``: Podman 5.4.2 on trixie, 5.8.6 on forky,
6.1.1 on podman6);
every test here runs once per guest, and the lint judges at the version that
guest's podman reports. Each case is a directory of Quadlet files. The
generator accepts a case when ``quadlet -dryrun -user`` exits 0 for it; the
lint accepts it when ``--profile validity`` reports no error. The two must
agree on every case, and on the generator's own warnings (short image names;
from 5.6 [Service] User=/Group=/DynamicUser= and escapes it cannot read).

Cases come from these places (and Podman's own test corpus, test/e2e/quadlet,
read from Debian's source package of the guest's exact Podman or a Podman git
directory: podman_corpus.py):

- mutations of the reference units (fixtures/infra/podman/systemd): a key
  renamed, moved to another section, a value broken, a header dropped, a
  referenced file removed;
- unit files drawn by hypothesis over sections, keys and values (fixed seed,
  bounded count, so the run takes a bounded time);
- every case that ever disagreed, kept under quadlet_regressions/ with the
  verdict of each release it was judged at (replayed without a guest, at each
  of those releases, by test_regressions_replay).

The key probe writes one minimal file per key and section, for every key the
tables know in any section (the podman-systemd.unit man pages of 4.4.0 to
5.8.2 name no key outside them), and compares what the generator accepts
with the tables and with the lint.

All cases of a kind go to the guest in one exec (guest_batches.py, called by
quadlet_generator.py); a shell loop runs the generator per case directory and
prints one marker line per case with its exit code, then its stderr.
The cases are made in quadlet_drawn_cases.py and quadlet_rule_cases.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from podman_corpus import PODMAN_GIT_ENV, corpus_tag, debian_corpus, git_corpus, guest_source
from quadlet_drawn_cases import (
    GENERATED_CASES,
    generated_cases,
    reference_mutations,
)
from quadlet_generator import (
    REGRESSIONS,
    Comparison,
    Generator,
    _describe,
    compare,
    lint_accepts,
    lint_case,
    regression_cases,
    run_generator,
    save_regression,
)
from quadlet_rule_cases import (
    RELEASE_RULES,
    file_type_probe,
    folder_cases,
    lint_generates,
    name_cases,
    release_rule_cases,
    run_key_probe,
)

from phoenix_compliance.quadlet.versions import (
    generator_reads,
)
from phoenix_compliance.quadlet_lint import parse_version
from phoenix_compliance.refhost.sources import CORPUS_DIR

# What Quadlet hands podman for the stack-profile errors; each container made is removed again.
_REFUSED_SCRIPT = r"""
set -u
image=$1
pod=phx-severity-$$
podman pod create --name "$pod" >/dev/null || exit 90
judge() {
  what=$1; shift
  if id=$(podman create "$@" 2>/dev/null); then podman rm -f "$id" >/dev/null; echo "@@ $what created"
  else echo "@@ $what refused"; fi
}
judge publish-in-pod --pod "$pod" -p 18089:80 "$image" true
judge windows-drive -v e:/data:/data "$image" true
podman pod rm -f "$pod" >/dev/null
"""


# What podman 6 says when run with what 6.0 removed: the first line of each refusal (or "ran").
_REMOVED_SCRIPT = r"""
set -u
image=$1
say() {
  what=$1; shift
  if out=$("$@" 2>&1); then echo "@@ $what ran"; else echo "@@ $what $(printf '%s' "$out" | tail -n 1)"; fi
}
say network-slirp4netns podman run --rm --network slirp4netns "$image" true
say network-cmd-path podman --network-cmd-path=/usr/bin/slirp4netns run --rm "$image" true
"""


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generator(refhost_guest_name: str) -> Generator:
    """The Quadlet generator of a reference guest (one per release), at the version its podman reports."""
    from phoenix_compliance import refhost

    done = refhost.run_in_guest(["podman", "--version"], user="phoenix", timeout=60, name=refhost_guest_name)
    assert done.returncode == 0, f"podman --version failed in {refhost_guest_name}: {done.stderr}"
    return Generator(refhost_guest_name, parse_version(done.stdout.split()[-1]))


def _assert_agreement(result: Comparison, what: str, generator: Generator) -> None:
    summary = (
        f"{what} at {generator.release} ({generator.guest}): {result.agreed}/{result.compared} cases agree "
        f"on errors, {result.warnings_agreed}/{result.warnings_compared} on the generator's warnings "
        f"(cases it warned in: {dict(sorted(result.warned.items())) or 'none'})"
    )
    print(summary)
    assert not result.disagreements, (
        f"{summary}; the disagreeing cases are saved under {REGRESSIONS.name}/ (fix the lint, not the test):\n"
        + "\n".join(result.disagreements[:10])
    )


# The corpus files of issue 25's false errors at 6.x and the rule each was refused by with 5.8.6's
# tables: [Volume] UID=/GID= (QL012), Options= without Device= (QL022), Mount=type=volume without a
# source (QL045; mount.container is refused at every release for the .volume/.image it names, QL031).
ISSUE_25_FALSE_ERRORS: dict[str, set[str]] = {
    "volume-uid-gid.volume": {"QL012"},
    "mount-options.volume": {"QL022"},
    "mount.container": {"QL045"},
}


@pytest.mark.refhost
class TestAgainstTheRealGenerator:
    def test_reference_unit_mutations(self, generator: Generator, tmp_path: Path) -> None:
        cases = reference_mutations()
        assert len(cases) > 300
        _assert_agreement(compare(cases, tmp_path, generator), "reference mutations", generator)

    def test_generated_units(self, generator: Generator, tmp_path: Path) -> None:
        cases = generated_cases(generator.version)
        assert len(cases) >= GENERATED_CASES * 0.9
        _assert_agreement(compare(cases, tmp_path, generator), "hypothesis cases", generator)

    def test_release_rules_and_warnings(self, generator: Generator, tmp_path: Path) -> None:
        cases = release_rule_cases(generator.version)
        assert len(cases) == len(RELEASE_RULES) - (0 if generator_reads("artifact", generator.version) else 2)
        _assert_agreement(compare(cases, tmp_path, generator), "release rules", generator)

    def test_one_broken_file_drops_its_folder(self, generator: Generator, tmp_path: Path) -> None:
        """The services generated are those the lint says: none of a folder with a file its
        parser fails on (QL006 on each of them), every one of the other folders."""
        cases = folder_cases()
        verdicts = run_generator(cases, generator)
        wrong = []
        for number, case in enumerate(cases):
            said = verdicts[case.name]
            made = {name.rsplit("/", 1)[-1] for name in said.services}
            predicted = lint_generates(case, tmp_path / f"{number:05d}", generator.version)
            if made != predicted:
                wrong.append(f"{case.origin}: generator made {sorted(made)}, the lint says {sorted(predicted)}")
        print(
            f"folders at {generator.release}: {len(cases) - len(wrong)}/{len(cases)} cases generate what the lint says"
        )
        assert not wrong, "\n".join(wrong)
        _assert_agreement(
            compare(
                [c for c in cases if "artifact" not in c.origin or generator_reads("artifact", generator.version)],
                tmp_path / "verdicts",
                generator,
            ),
            "folder cases",
            generator,
        )

    def test_service_names(self, generator: Generator, tmp_path: Path) -> None:
        """Each file type, template, instance and ServiceName= (quoted as the release unquotes,
        from a drop-in) gives the service the Quadlet layer names (quadlet/names.py)."""
        cases = name_cases()
        verdicts = run_generator(cases, generator)
        wrong = []
        for number, case in enumerate(cases):
            made = {name.rsplit("/", 1)[-1] for name in verdicts[case.name].services}
            predicted = lint_generates(case, tmp_path / f"{number:05d}", generator.version)
            if made != predicted:
                wrong.append(f"{case.origin}: generator made {sorted(made)}, the layer says {sorted(predicted)}")
        print(f"service names at {generator.release}: {len(cases) - len(wrong)}/{len(cases)} cases agree")
        assert not wrong, "\n".join(wrong)

    def test_what_the_stack_profile_calls_an_error_podman_refuses(self, generator: Generator) -> None:
        """The generator accepts PublishPort= on a pod member and a Windows drive in Volume= (the
        release-rule cases); podman then refuses to create the container, as the stack profile says."""
        from phoenix_compliance import refhost
        from phoenix_compliance.refhost.deploy import IMAGE

        done = refhost.run_in_guest(
            ["sh", "-c", _REFUSED_SCRIPT, "sh", IMAGE], user="phoenix", timeout=120, name=generator.guest
        )
        assert done.returncode == 0, f"the script failed in {generator.guest}: {done.stderr[-1000:]}"
        codes = dict(line.split()[1:3] for line in done.stdout.splitlines() if line.startswith("@@ "))
        print(f"podman {generator.release} refuses: {codes}")
        assert codes == {"publish-in-pod": "refused", "windows-drive": "refused"}, done.stdout[-2000:]

    def test_what_podman_6_removed_is_refused_at_start(self, generator: Generator) -> None:
        """The generator of 6.x accepts Network=slirp4netns and --network-cmd-path (release-rule
        cases); podman then refuses to run the container, as the stack profile's QL048 says."""
        from phoenix_compliance import refhost
        from phoenix_compliance.quadlet.versions import SLIRP4NETNS_REMOVED_IN
        from phoenix_compliance.refhost.deploy import IMAGE

        if generator.version < SLIRP4NETNS_REMOVED_IN:
            pytest.skip(f"Podman {generator.release} still has slirp4netns; QL048 judges from 6.0 only")
        done = refhost.run_in_guest(
            ["sh", "-c", _REMOVED_SCRIPT, "sh", IMAGE], user="phoenix", timeout=120, name=generator.guest
        )
        assert done.returncode == 0, f"the script failed in {generator.guest}: {done.stderr[-1000:]}"
        said = {line.split()[1]: line.split(None, 2)[2] for line in done.stdout.splitlines() if line.startswith("@@ ")}
        print(f"podman {generator.release} says: {said}")
        assert "slirp4netns support has been removed" in said["network-slirp4netns"], done.stdout[-2000:]
        assert "unknown flag: --network-cmd-path" in said["network-cmd-path"], done.stdout[-2000:]

    def test_podmans_own_corpus(self, generator: Generator, tmp_path: Path) -> None:
        """Podman's own Quadlet test files (test/e2e/quadlet), each alone: the generator's verdict against
        the lint's. Read from Debian's source of the exact Podman the guest installs (downloaded once
        from the machine's mirror, verified by its .dsc), or with $PHOENIX_PODMAN_GIT from that git
        directory at the guest's tag or the nearest before it. Not kept as regressions: the files are
        Podman's, read each time (podman_corpus.py)."""
        from phoenix_compliance.refhost import RefhostError

        git_dir = os.environ.get(PODMAN_GIT_ENV)
        if git_dir:
            tag = corpus_tag(Path(git_dir), generator.version)
            if tag is None:
                pytest.skip(f"{git_dir} has no tag at or before {generator.release}")
            corpus = git_corpus(Path(git_dir), tag)
        else:
            package = guest_source(generator.guest)
            try:
                corpus = debian_corpus(package)
            except RefhostError as exc:
                pytest.skip(f"Podman's corpus at {generator.release}: {exc} (or set {PODMAN_GIT_ENV})")
        cases = [c for c in corpus.cases() if generator_reads(c.origin.rpartition(".")[2], generator.version)]
        assert cases, f"no Quadlet files under {CORPUS_DIR} in {corpus.where}"
        _assert_agreement(
            compare(cases, tmp_path, generator, save=False), f"Podman's corpus ({corpus.where})", generator
        )
        # Issue 25: judged with 5.8.6's tables, Podman 6's corpus gave these errors, which 6.0 dropped.
        if generator.version >= (6, 0):
            by_name = {c.origin.rpartition(" ")[2]: c for c in cases}
            gone = {name: by_name[name] for name in ISSUE_25_FALSE_ERRORS if name in by_name}
            assert gone, f"none of {sorted(ISSUE_25_FALSE_ERRORS)} in {corpus.where}"
            for name, case in sorted(gone.items()):
                folder = tmp_path / "issue-25" / name
                folder.mkdir(parents=True)
                said = {f.rule_id for f in lint_case(case, folder, generator.version) if f.severity == "error"}
                print(f"{name}: errors at {generator.release}: {sorted(said) or 'none'}")
                assert not said & ISSUE_25_FALSE_ERRORS[name], f"{name} at {generator.release}: {sorted(said)}"

    def test_kept_regressions(self, generator: Generator, tmp_path: Path) -> None:
        """Each kept case: the verdict recorded for this release still holds (a case not yet
        judged at it is recorded now), and the lint at this release agrees with it."""
        kept = regression_cases()
        if not kept:
            pytest.skip("no regression cases kept yet")
        verdicts = run_generator([item.case for item in kept], generator)
        changed, wrong = [], []
        for number, item in enumerate(kept):
            said = verdicts[item.case.name]
            recorded = item.accepts.get(generator.release)
            if recorded is None:
                save_regression(item.case, said, generator)
            elif recorded != said.accepts:
                changed.append(item.case.name)
            findings = lint_case(item.case, tmp_path / f"{number:05d}", generator.version)
            if lint_accepts(findings) != said.accepts:
                wrong.append(_describe(item.case, said, findings))
        print(
            f"kept regressions at {generator.release}: {len(kept) - len(wrong)}/{len(kept)} agree; "
            f"{sum(v.accepts for v in verdicts.values())} accepted"
        )
        assert not changed, f"the {generator.release} generator now judges these differently: {changed}"
        assert not wrong, "\n".join(wrong[:10])


@pytest.mark.refhost
class TestKeyProbe:
    def test_every_key_in_every_section(self, generator: Generator, tmp_path: Path) -> None:
        result = run_key_probe(generator, tmp_path)
        print(
            f"key probe at {generator.release}: {result.probed} (section, key) pairs, {result.accepted} accepted; "
            f"{len(result.wrong_tables)} differ from the tables, {len(result.wrong_lint)} from the lint"
        )
        assert result.probed > 1000
        assert not result.wrong_tables, "\n".join(result.wrong_tables)
        assert not result.wrong_lint, "\n".join(result.wrong_lint)

    def test_file_types_are_read_from_their_release(self, generator: Generator) -> None:
        found = file_type_probe(generator)
        wrong = {kind: made for kind, (made, expected) in found.items() if made != expected}
        assert not wrong, (
            f"generator {generator.release} made a service (True) or not (False) unlike the tables: {wrong}"
        )


def test_regressions_replay(tmp_path: Path) -> None:
    """Every kept case gets, at each release it was judged at, that generator's verdict
    from the lint (no guest needed)."""
    wrong = []
    for number, item in enumerate(regression_cases()):
        for release, accepts in item.accepts.items():
            findings = lint_case(item.case, tmp_path / f"{number:05d}-{release}", parse_version(release))
            if lint_accepts(findings) != accepts:
                wrong.append(
                    f"{item.case.name} at {release}: generator {'accepts' if accepts else 'rejects'}, "
                    f"lint {[f.rule_id for f in findings]}"
                )
    assert not wrong, "\n".join(wrong)
