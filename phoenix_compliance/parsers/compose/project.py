"""The entry points: a project's files read, merged and parsed as `podman-compose -f A -f B config` does."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from phoenix_compliance.parsers import yamlmarks
from phoenix_compliance.parsers.compose.loading import Reader, read_local
from phoenix_compliance.parsers.compose.merge import ProjectLoader, untag
from phoenix_compliance.parsers.compose.model import ComposeFile, ComposeProblem
from phoenix_compliance.parsers.compose.services import Parser, named_volumes, networks
from phoenix_compliance.parsers.interpolation import DotenvError, Release, read_dotenv
from phoenix_compliance.parsers.yamlmarks import SourceError


def load(
    path: Path | Sequence[Path],
    *,
    environ: Mapping[str, str] | None = None,
    env_files: Sequence[Path] = (),
    release: Release | None = None,
) -> ComposeFile:
    """Read and parse compose files as `podman-compose -f A -f B ...` does; never raises.

    `environ` is the environment podman-compose would run in (none: only the env files);
    `env_files` replace the `.env` beside the first file, as `--env-file` does; `release`
    is podman-compose's version (default: the newest rules)."""
    paths = [path] if isinstance(path, Path) else list(path)
    first = paths[0]
    dotenvs: list[tuple[str, str]] = []
    for env_file in env_files or [first.parent / ".env"]:
        if not env_files and not env_file.exists():
            continue
        try:
            dotenvs.append((str(env_file), yamlmarks.read_source(env_file, "the env file")))
        except SourceError as exc:
            return ComposeFile(str(first), None, {}, [ComposeProblem(exc.path, exc.line, exc.message)])
    try:
        text = yamlmarks.read_source(first)
    except SourceError as exc:
        return ComposeFile(str(first), None, {}, [ComposeProblem(exc.path, exc.line, exc.message)])
    return parse(
        text,
        str(first),
        environ=environ,
        dotenvs=dotenvs,
        extra_files=[str(p) for p in paths[1:]],
        read=read_local,
        release=release,
    )


def parse(
    text: str,
    path: str,
    *,
    environ: Mapping[str, str] | None = None,
    dotenvs: Sequence[tuple[str, str]] = (),
    extra_files: Sequence[str] = (),
    read: Reader | None = None,
    release: Release | None = None,
) -> ComposeFile:
    """Parse compose text (the first file) as podman-compose does; never raises, every problem has its line.

    `dotenvs` are (where, text) of the env files in order (later ones win; the environment
    wins over all); `extra_files` are read with `read` and merged over the first in order,
    as are the files `include:` names; `extends: file:` is read with `read` too (without a
    reader, naming one is a problem)."""
    result = ComposeFile(path, None, {}, [], files=[path])
    dotenv: dict[str, str | None] = {}
    skipped: list[ComposeProblem] = []
    for where, dotenv_text in dotenvs:
        try:
            found = read_dotenv(dotenv_text, environ or {}, where)
        except DotenvError as exc:
            result.problems.append(ComposeProblem(exc.path, exc.line, exc.message, refused=True))
            return result
        dotenv.update(found.values)
        skipped += [
            ComposeProblem(where, line, "python-dotenv cannot read this statement: podman-compose skips it")
            for line in found.skipped
        ]
    loader = ProjectLoader(result, environ, dotenv, read, release, list(extra_files))
    merged = loader.load_all(text, list(extra_files))
    if merged is not None:
        loader.extends(merged)
        left: list[tuple[int, str]] = []
        untag(merged, left)
        for line, what in left:
            loader.problem(line, f"{what} with nothing to merge into (podman-compose 1.6 stops on it)")
        Parser(result, loader.line_text).document(merged)
        if not result.refused:
            networks(result, merged)
            named_volumes(result, merged)
    for problem_list in (result.problems, result.warnings):
        problem_list[:] = [
            ComposeProblem(*result.locate(p.line), p.message + result.written(p.line), p.refused) for p in problem_list
        ]
    # Services are read key by key, not line by line; report in file order.
    order = {name: index for index, name in enumerate(result.files)}
    result.problems.sort(key=lambda problem: (order.get(problem.path, 0), problem.line))
    result.warnings.sort(key=lambda problem: (order.get(problem.path, 0), problem.line))
    # The env files are read before any compose file.
    result.warnings[:0] = skipped
    return result
