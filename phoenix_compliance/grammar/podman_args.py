"""Podman command-line options as a unit passes them (PodmanArgs=, Exec= of a .container).

Quadlet splits PodmanArgs= as systemd splits a command line (``LookupAllArgs()``:
quotes removed, C escapes such as ``\\x2d`` decoded; quadlet.readers.split_words
is that splitter) and appends the words to ``podman run``, where pflag reads them:
``--opt=value`` or ``--opt value`` for an option that takes a value, a boolean
flag alone or as ``--flag=BOOL`` (Go's strconv.ParseBool).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

# Value-taking podman options whose value may follow as the next word (those the checks read).
VALUE_OPTIONS = frozenset({"--pid", "--network", "--net", "--cap-add", "--env", "-e", "--security-opt", "--user", "-u"})
# strconv.ParseBool's spellings of true.
_GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})


def podman_options(words: Sequence[str]) -> Iterator[tuple[str, str | None]]:
    """(option, value) pairs of command-line words, for `--opt=value` and `--opt value`."""
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if not word.startswith("-"):
            continue
        option, equals, value = word.partition("=")
        if equals:
            yield option, value
        elif option in VALUE_OPTIONS and index < len(words):
            yield option, words[index]
            index += 1
        else:
            yield option, None


def flag_on(value: str | None) -> bool:
    """Whether a boolean flag is on: given alone, or `=true` as Go reads a bool."""
    return value is None or value in _GO_TRUE
