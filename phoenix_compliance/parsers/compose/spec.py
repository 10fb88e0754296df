"""The spellings podman-compose reads (mount options, host paths, volume types, base-60 ports), as tables.

The key names come from the compose specification's schema (validation.py), not from here."""

from __future__ import annotations

import difflib
import re

# podman-compose `parse_short_mount`: these are accepted, anything else raises
# "unknown mount option" when the stack is brought up.
PLAIN_MOUNT_OPTIONS = frozenset({"ro", "rw", "consistent", "delegated", "cached"})
PROPAGATION_RE = re.compile(
    r"^(z|Z|O|U|r?shared|r?slave|r?private|r?unbindable|r?bind|(no)?(exec|dev|suid))$",
)
# podman-compose's `dir_re`: only these prefixes make a short source a host path;
# `data:/x` is a named volume even if ./data exists.
HOST_PATH_RE = re.compile(r"^[~/.]")

# Long-syntax types podman-compose turns into a mount in every release this
# suite meets. The spec's `npipe` and `cluster` (Windows, Swarm) and the later
# `image` / podman-only `glob` make podman-compose 1.0.x raise "unknown mount type".
LONG_VOLUME_TYPES = frozenset({"bind", "volume", "tmpfs"})
SPEC_ONLY_VOLUME_TYPES = frozenset({"npipe", "cluster", "image", "glob"})

# PyYAML follows YAML 1.1, where an unquoted `22:22` is the base-60 integer 1342;
# podman-compose then publishes port 1342. Docker compose (YAML 1.2) does not.
BASE60_RE = re.compile(r"(?<![\w.:'\"])[1-9][0-9_]*(?::[0-5]?[0-9])+(?![\w.:'\"])")
ENV_NAME_RE = re.compile(r"^[^\s=]+$")


def guess(word: str, choices: frozenset[str]) -> str:
    found = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {found[0]!r}?)" if found else ""
