"""The compose names and spellings podman-compose reads, as tables."""

from __future__ import annotations

import difflib
import re

TOP_LEVEL_KEYS = frozenset(
    {"version", "name", "services", "networks", "volumes", "configs", "secrets", "include", "models"}
)

# The keys of a service in the compose specification (schema/compose-spec.json,
# definitions.service.properties); `x-` keys are extensions and always allowed.
# podman-compose reads the same names and ignores the rest, so a typo (`imagee`,
# `prots`) silently drops what the line asked for.
SERVICE_KEYS = frozenset(
    {
        "annotations",
        "attach",
        "blkio_config",
        "build",
        "cap_add",
        "cap_drop",
        "cgroup",
        "cgroup_parent",
        "command",
        "configs",
        "container_name",
        "cpu_count",
        "cpu_percent",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
        "cpu_shares",
        "cpus",
        "cpuset",
        "credential_spec",
        "depends_on",
        "deploy",
        "develop",
        "device_cgroup_rules",
        "devices",
        "dns",
        "dns_opt",
        "dns_search",
        "domainname",
        "entrypoint",
        "env_file",
        "environment",
        "expose",
        "extends",
        "external_links",
        "extra_hosts",
        "gpus",
        "group_add",
        "healthcheck",
        "hostname",
        "image",
        "init",
        "ipc",
        "isolation",
        "label_file",
        "labels",
        "links",
        "logging",
        "mac_address",
        "mem_limit",
        "mem_reservation",
        "mem_swappiness",
        "memswap_limit",
        "models",
        "network_mode",
        "networks",
        "oom_kill_disable",
        "oom_score_adj",
        "pid",
        "pids_limit",
        "platform",
        "ports",
        "post_start",
        "pre_stop",
        "privileged",
        "profiles",
        "provider",
        "pull_policy",
        "pull_refresh_after",
        "read_only",
        "restart",
        "runtime",
        "scale",
        "secrets",
        "security_opt",
        "shm_size",
        "stdin_open",
        "stop_grace_period",
        "stop_signal",
        "storage_opt",
        "sysctls",
        "tmpfs",
        "tty",
        "ulimits",
        "use_api_socket",
        "user",
        "userns_mode",
        "uts",
        "volumes",
        "volumes_from",
        "working_dir",
    }
)

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
