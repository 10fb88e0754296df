"""Lint Quadlet unit files against a given Podman version, reporting everything.

The Quadlet generator stops at the first unsupported key of a file and says
nothing about settings systemd silently ignores (a Restart= under [Unit], a
WantedBy= outside [Install]). This linter judges every file at once and names
file, line, key, why and the fix. ``phoenix-compliance lint`` (cli/lint.py) is its
command line.

The package, by role:

- ``findings``: the rule catalogue (RULES: id, severity, title) and Finding, StackRules;
- ``discovery``: what Quadlet's file discovery leaves out, as findings (hidden duplicates,
  files that are not text);
- ``context``: one unit's context as a rule sees it, and ``@unit_rule`` / ``@cross_file_rule``;
- ``engine``: lint_unit / lint_units / lint_paths, running the declared rules in order;
- ``rules/``: the rules, one module per family (syntax, structure, required,
  references, storage, network, values, stack);
- ``output``: the text, JSON and SARIF renderings of a run.

How the generator reads files (the syntax, finding the files and their drop-ins, reading
values, the release tables, service names) is the Quadlet layer below the lint,
``phoenix_compliance.quadlet``, which the facts and checks ask too.

A new rule is one function in its family module plus its entry in
``findings.RULES``. Podman's value grammars (volume, mount and port specs,
path specifiers) are shared with the compose parser and the security rules in
``phoenix_compliance.grammar``.

The selftests in selftests/test_quadlet_differential.py run thousands of files
through both this linter and three real generators (5.4.2 on Debian trixie,
5.8.6 on Debian forky, 6.1.1 from experimental), each judged at its own release,
and require the same verdict on each; a key probe tries every key in every
section on each, and Podman's own test corpus of each release is judged file by file.
A release newer than the tables: ``findings.beyond_the_tables()``. The
cases that once disagreed are kept in selftests/quadlet_regressions/ with the
verdict of each release they were judged at.
"""

from __future__ import annotations

from phoenix_compliance.quadlet.versions import (  # the lint judges against these tables
    DEFAULT_PODMAN_VERSION,
    FILE_TYPE_SINCE,
    NEWEST_KNOWN_VERSION,
    QUADLET_KEYS,
    QUADLET_SINCE,
    Version,
    format_version,
    keys_for,
    newer_than_known,
    parse_version,
)
from phoenix_compliance.quadlet_lint.discovery import LINTED_SUFFIXES, collect_files, lint_inputs
from phoenix_compliance.quadlet_lint.engine import lint_found, lint_paths, lint_units
from phoenix_compliance.quadlet_lint.findings import RULES, STACK_RULE_IDS, Finding, StackRules

__all__ = [
    "DEFAULT_PODMAN_VERSION",
    "FILE_TYPE_SINCE",
    "LINTED_SUFFIXES",
    "NEWEST_KNOWN_VERSION",
    "QUADLET_KEYS",
    "QUADLET_SINCE",
    "RULES",
    "STACK_RULE_IDS",
    "Finding",
    "StackRules",
    "Version",
    "collect_files",
    "format_version",
    "keys_for",
    "lint_found",
    "lint_inputs",
    "lint_paths",
    "lint_units",
    "newer_than_known",
    "parse_version",
]
