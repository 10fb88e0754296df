"""`phoenix-compliance convert`: Quadlet units written from compose files."""

from __future__ import annotations

import argparse
import posixpath
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from phoenix_compliance.cli.podman_version import default_podman_version, version_argument
from phoenix_compliance.cli.subcommand import EXIT_OK, EXIT_PROBLEMS, Subcommand, UsageError
from phoenix_compliance.quadlet_lint import QUADLET_SINCE, Version, format_version

if TYPE_CHECKING:
    from phoenix_compliance.convert import Options as ConvertOptions


def add_convert_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack",
        dest="stack",
        metavar="MANIFEST",
        type=Path,
        help="the stack manifest: its pod, pod unit, target and project folder name the units "
        "(default: pod named after the compose project, phoenix.target, binds relative to the compose file)",
    )
    parser.add_argument(
        "--podman-version",
        dest="podman_version",
        metavar="X.Y[.Z]",
        type=version_argument,
        help="write for this Podman release, using only the keys it has (default: as lint)",
    )
    parser.add_argument("--out", dest="out", metavar="DIR", type=Path, help="write the units into DIR")
    parser.add_argument(
        "--dry-run",
        dest="dry_run",
        action="store_true",
        help="print the units and their diff against what is in --out; write nothing",
    )
    parser.add_argument(
        "--strict", dest="strict", action="store_true", help="exit 1 when any compose field was not converted"
    )
    parser.add_argument(
        "--force", dest="force", action="store_true", help="replace files in --out that differ (else they are kept)"
    )
    parser.add_argument(
        "--env-file",
        dest="env_files",
        metavar="PATH",
        type=Path,
        action="append",
        default=[],
        help="variables for the compose files, read instead of the .env beside the first "
        "(as podman-compose --env-file); repeatable, a later file wins",
    )
    parser.add_argument(
        "compose_files", metavar="COMPOSE_FILE", nargs="+", type=Path, help="compose files, merged in order"
    )


def _convert_options(args: argparse.Namespace, version: Version) -> ConvertOptions:
    from phoenix_compliance.convert import Options as ConvertOptions

    if args.stack is None:
        return ConvertOptions(version=version)
    from phoenix_compliance.parsers import manifest
    from phoenix_compliance.parsers.yamlmarks import SourceError

    try:
        stack = manifest.load(args.stack)
    except SourceError as error:
        raise UsageError(str(error)) from None
    project = stack.project_dir
    project = "%h" + project[1:] if project.startswith("~") else project
    compose_dir = posixpath.normpath(posixpath.join(project, posixpath.dirname(stack.compose_file)))
    return ConvertOptions(version, stack.target, stack.pod, stack.pod_unit, compose_dir, origin=str(args.stack))


def run_convert(args: argparse.Namespace) -> int:
    from phoenix_compliance import convert

    for path in args.compose_files:
        if not path.is_file():
            raise UsageError(f"{path}: no such compose file")
    for path in args.env_files:
        if not path.is_file():
            raise UsageError(f"--env-file: {path}: no such file")
    if args.dry_run and args.out is None:
        raise UsageError("--dry-run compares with the files in --out DIR: give --out")
    if args.podman_version is not None:
        version = args.podman_version
    else:
        version, _source = default_podman_version()
    if version < QUADLET_SINCE:
        raise UsageError(f"Podman {format_version(version)} has no Quadlet (from {format_version(QUADLET_SINCE)})")
    source = convert.read_compose(args.compose_files, args.env_files)
    if not source.services:
        sys.stderr.write(convert.report(convert.convert(source, _convert_options(args, version))))
        raise UsageError(f"{args.compose_files[0]}: no service to convert")
    conversion = convert.convert(source, _convert_options(args, version))
    if conversion.refused:
        sys.stderr.write(convert.report(conversion))
        return EXIT_PROBLEMS
    texts = conversion.texts()
    code = EXIT_OK
    print(f"# {len(texts)} units for Podman {format_version(version)}", file=sys.stderr)
    if args.out is None:
        sys.stdout.write(convert.units_text(conversion))
    elif args.dry_run:
        sys.stdout.write(convert.units_text(conversion))
        try:
            compared = convert.diff(args.out, texts)
        except OSError as error:
            raise UsageError(f"cannot compare with {args.out}: {error.strerror or error}") from None
        for name in compared.kept:
            sys.stdout.write(compared.diffs[name])
        print(
            f"# in {args.out}: {len(compared.new)} new, {len(compared.unchanged)} unchanged, "
            f"{len(compared.kept)} differing",
            file=sys.stderr,
        )
    else:
        try:
            written = convert.write(args.out, texts, replace=args.force)
        except OSError as error:
            raise UsageError(f"cannot write into {args.out}: {error.strerror or error}; nothing written") from None
        for name in written.new:
            print(f"wrote {args.out / name}", file=sys.stderr)
        for name in written.replaced:
            print(f"replaced {args.out / name} (it differed)", file=sys.stderr)
        for name in written.kept:
            sys.stdout.write(written.diffs[name])
            print(
                f"kept {args.out / name}: it differs from the conversion (diff above); --force replaces it",
                file=sys.stderr,
            )
        if written.kept:
            code = EXIT_PROBLEMS
    sys.stderr.write(convert.report(conversion))
    if args.strict and (conversion.gaps or conversion.problems):
        return EXIT_PROBLEMS
    return code


CONVERT = Subcommand(
    name="convert",
    help="write Quadlet units (a pod, a container per service, the target) from compose files",
    add_arguments=add_convert_arguments,
    run=run_convert,
)
