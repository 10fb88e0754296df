"""Running Quadlet cases on both sides: a reference guest's generator (in batches, guest_batches.py) and the lint
at the generator's release, compared case by case; the disagreements kept under quadlet_regressions/.

Shared by test_quadlet_differential.py and the convert selftests (test_convert.py, test_convert_property.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from guest_batches import run_batches

from phoenix_compliance.quadlet.versions import (
    EXEC_ESCAPE_WARNING_SINCE,
    SERVICE_KEY_WARNING_SINCE,
)
from phoenix_compliance.quadlet_lint import Finding, Version, format_version, lint_paths, parse_version

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "infra" / "podman" / "systemd"
REGRESSIONS = Path(__file__).resolve().parent / "quadlet_regressions"


_GENERATOR_SCRIPT = r"""
for c in "$d"/cases/*/; do
  n=$(basename "$c")
  QUADLET_UNIT_DIRS="$c" timeout 20 /usr/libexec/podman/quadlet -dryrun -user >"$d/out" 2>"$d/err"
  echo "@@CASE $n $?"
  sed 's/^/@@E /' "$d/err"
  grep '^---' "$d/out" | sed 's/^/@@O /'
done
"""


@dataclass(frozen=True)
class Generator:
    """A real Quadlet generator: the guest it runs in and the Podman release it belongs to."""

    guest: str
    version: Version

    @property
    def release(self) -> str:
        return format_version(self.version)


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str]
    origin: str


@dataclass
class GeneratorResult:
    exit_code: int
    stderr: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)

    @property
    def accepts(self) -> bool:
        return self.exit_code == 0

    @property
    def crashed(self) -> bool:
        return any(line.startswith("panic:") for line in self.stderr)

    def short_name_warnings(self) -> set[str]:
        pattern = re.compile(r"Warning: (\S+) specifies the image .* not a fully qualified image name")
        return {match.group(1) for line in self.stderr if (match := pattern.search(line))}

    def service_key_warnings(self) -> Counter[str]:
        """The keys of 'using key X in the Service group is not supported' (the line names no file)."""
        pattern = re.compile(r"Warning: using key (\w+) in the Service group is not supported")
        return Counter(match.group(1) for line in self.stderr if (match := pattern.search(line)))

    def escape_warnings(self) -> int:
        return sum(line.count("unsupported escape char") for line in self.stderr)

    def unsupported_keys(self) -> dict[str, tuple[str, str]]:
        """File name -> (key, section) of each 'unsupported key' refusal."""
        pattern = re.compile(r"converting \"([^\"]+)\": unsupported key '([^']*)' in group '([^']*)'")
        return {m.group(1): (m.group(2), m.group(3)) for line in self.stderr if (m := pattern.search(line))}


# --------------------------------------------------------------------------
# Running cases on both sides
# --------------------------------------------------------------------------


def run_generator(cases: list[Case], generator: Generator) -> dict[str, GeneratorResult]:
    """The generator's verdict on each case, by case name; a few exec calls in all."""
    results: dict[str, GeneratorResult] = {}
    answers = run_batches(_GENERATOR_SCRIPT, [case.files for case in cases], generator.guest)
    for case, (code, lines) in zip(cases, answers, strict=True):
        said = results[case.name] = GeneratorResult(code)
        for line in lines:
            if line.startswith("@@E "):
                said.stderr.append(re.sub(r"^quadlet-generator\[\d+\]: ", "", line[4:]))
            elif line.startswith("@@O "):
                said.services.append(line[4:].strip("-"))
    return results


def lint_case(case: Case, directory: Path, version: Version) -> list[Finding]:
    for name, text in case.files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_bytes(text.encode("utf-8"))
    return lint_paths([directory], version, None)


def lint_accepts(findings: list[Finding]) -> bool:
    return not any(finding.severity == "error" for finding in findings)


def _case_name(files: dict[str, str], origin: str) -> str:
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode("utf-8")).hexdigest()[:12]
    return f"{origin.split(':', 1)[0]}-{digest}"


def _case(files: dict[str, str], origin: str) -> Case:
    return Case(_case_name(files, origin), files, origin)


@dataclass
class Comparison:
    compared: int = 0
    agreed: int = 0
    disagreements: list[str] = field(default_factory=list)
    warnings_compared: int = 0
    warnings_agreed: int = 0
    # Warning kind -> cases where the generator said it (so a reader sees the comparison bit).
    warned: Counter[str] = field(default_factory=Counter)


def compare(cases: list[Case], tmp_path: Path, generator: Generator, save: bool = True) -> Comparison:
    """Run cases on both sides; keep every disagreeing case as a regression file."""
    unique = list({case.name: case for case in cases}.values())
    verdicts = run_generator(unique, generator)
    result = Comparison()
    for number, case in enumerate(unique):
        said = verdicts[case.name]
        findings = lint_case(case, tmp_path / f"{number:05d}", generator.version)
        result.compared += 1
        if said.accepts == lint_accepts(findings):
            result.agreed += 1
        else:
            result.disagreements.append(_describe(case, said, findings))
            if save:
                save_regression(case, said, generator)
        result.warned.update(
            what
            for what, count in (
                ("short-name", len(said.short_name_warnings())),
                ("[Service] key", sum(said.service_key_warnings().values())),
                ("escape", said.escape_warnings()),
            )
            if count
        )
        for what, agrees in _warnings_compared(said, findings, generator.version):
            result.warnings_compared += 1
            if agrees:
                result.warnings_agreed += 1
            else:
                result.disagreements.append(f"{what} warning: " + _describe(case, said, findings))
    return result


def _warnings_compared(said: GeneratorResult, findings: list[Finding], version: Version) -> Iterator[tuple[str, bool]]:
    """The generator's own warnings against the lint's, where the generator got far enough to say them."""
    unreadable = {Path(f.path).name for f in findings if f.rule_id in ("QL001", "QL002", "QL004")}
    if said.crashed or unreadable:
        return
    # Said before any file is converted (main.go), so whatever the verdict.
    linted = {_unit_of(finding) for finding in findings if finding.rule_id == "QL025"}
    yield "short-name", linted == said.short_name_warnings()
    if version >= SERVICE_KEY_WARNING_SINCE:
        keys = Counter(finding.key or "" for finding in findings if finding.rule_id == "QL019")
        yield "[Service] key", keys == said.service_key_warnings()
    # Said while converting: complete only when every file converted.
    if version >= EXEC_ESCAPE_WARNING_SINCE and said.accepts:
        escapes = sum(1 for finding in findings if finding.rule_id == "QL065")
        yield "escape", escapes == said.escape_warnings()


def _unit_of(finding: Finding) -> str:
    """The unit a finding is about: its file, or the unit a drop-in was merged into."""
    merged = re.search(r"\[drop-in of (\S+)\]$", finding.message)
    return merged.group(1) if merged else Path(finding.path).name


def _describe(case: Case, generator: GeneratorResult, findings: list[Finding]) -> str:
    said = [line for line in generator.stderr if not line.startswith("Loading source")]
    lint = [f"{Path(f.path).name}:{f.line} {f.rule_id} {f.severity}" for f in findings]
    return f"{case.name} ({case.origin}): generator exit {generator.exit_code} {said[:3]}, lint {lint}\n" + "\n".join(
        f"  --- {name}\n" + "\n".join(f"  | {line}" for line in text.splitlines()) for name, text in case.files.items()
    )


def _verdict(said: GeneratorResult) -> dict[str, object]:
    return {
        "accepts": said.accepts,
        "exit": said.exit_code,
        "stderr": [line for line in said.stderr if not line.startswith("Loading source")][:20],
    }


def save_regression(case: Case, said: GeneratorResult, generator: Generator) -> Path:
    """Keep a case with the verdict of this release (added to those of other releases)."""
    REGRESSIONS.mkdir(exist_ok=True)
    path = REGRESSIONS / f"{case.name}.json"
    if path.exists():
        record = json.loads(path.read_text(encoding="utf-8"))
    else:
        record = {"origin": case.origin, "verdicts": {}, "files": case.files}
    record["verdicts"].setdefault(generator.release, _verdict(said))
    record["verdicts"] = dict(sorted(record["verdicts"].items(), key=lambda item: parse_version(item[0])))
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class KeptCase:
    case: Case
    # Release ("5.4.2") -> whether its generator accepted the case.
    accepts: dict[str, bool]


def regression_cases() -> list[KeptCase]:
    """Every kept case with the verdict of each release it was judged at."""
    found: list[KeptCase] = []
    for path in sorted(REGRESSIONS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        accepts = {release: bool(verdict["accepts"]) for release, verdict in record["verdicts"].items()}
        found.append(KeptCase(Case(path.stem, record["files"], record["origin"]), accepts))
    return found
