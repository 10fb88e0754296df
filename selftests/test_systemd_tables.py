"""systemd's key tables read from source (tools/systemd_tables.py --from-gperf), and the source-only releases."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from phoenix_compliance.quadlet import systemd_tables
from phoenix_compliance.quadlet.systemd_values import (
    SOURCE_ONLY_RELEASES,
    SYSTEMD_RELEASES,
    TABLED_RELEASES,
    key_kind,
    release_label,
    table_release,
    user_units,
)

TOOL = Path(__file__).resolve().parents[1] / "tools" / "systemd_tables.py"


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("systemd_tables_tool", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# Written after the shape of load-fragment-gperf.gperf.in: a context macro expanded per unit type,
# build conditions with an else branch, a legacy key the dump hides, [Install] keys with no parser.
GPERF = """\
{# SPDX-License-Identifier: LGPL-2.1-or-later #}
{%- macro EXEC_CONTEXT_CONFIG_ITEMS(type) -%}
{{type}}.WorkingDirectory,  config_parse_working_directory, 0, offsetof({{type}}, exec_context)
{{type}}.NoNewPrivileges,   config_parse_bool,              0, offsetof({{type}}, exec_context.nnp)
{% if HAVE_SECCOMP %}
{{type}}.SystemCallFilter,  config_parse_syscall_filter,    0, offsetof({{type}}, exec_context)
{% else %}
{{type}}.SystemCallFilter,  config_parse_warn_compat,       DISABLED_CONFIGURATION, 0
{% endif %}
{{type}}.Capabilities,      config_parse_warn_compat,       DISABLED_LEGACY, offsetof({{type}}, exec_context)
{%- endmacro -%}
{%- macro KILL_CONTEXT_CONFIG_ITEMS(type) -%}
{{type}}.KillMode,          config_parse_kill_mode,         0, offsetof({{type}}, kill_context.kill_mode)
{%- endmacro -%}
%%
Unit.Description,           config_parse_unit_string_printf, 0, offsetof(Unit, description)
Unit.StartLimitBurst,       config_parse_unsigned,          0, offsetof(Unit, start_ratelimit.burst)
Service.Restart,            config_parse_service_restart,   0, offsetof(Service, restart)
Service.TimeoutStartSec,    config_parse_service_timeout,   0, 0
{{ EXEC_CONTEXT_CONFIG_ITEMS('Service') }}
{{ KILL_CONTEXT_CONFIG_ITEMS('Service') }}
{{ EXEC_CONTEXT_CONFIG_ITEMS('Socket') }}
Install.WantedBy,           NULL,                           0, 0
"""

LOAD_FRAGMENT_C = """\
static int unrelated(void) { { config_parse_bool, "NOT_THIS" }; }
void unit_dump_config_items(FILE *f) {
        } table[] = {
                { config_parse_warn_compat,  "NOTSUPPORTED" },
                { config_parse_unsigned,     "UNSIGNED" },
                { config_parse_bool,         "BOOLEAN" },
                { config_parse_bool,         "SECOND" },
                { config_parse_unit_string_printf, "STRING" },
                { config_parse_working_directory, "PATH [ARGUMENT [...]]" },
                { config_parse_kill_mode,    "KILLMODE" },
        };
        NULSTR_FOREACH(i, load_fragment_gperf_nulstr) {
"""


class TestGperfParser:
    def test_the_dump_kinds_come_from_unit_dump_config_items(self) -> None:
        kinds = _tool().parser_kinds(LOAD_FRAGMENT_C)
        assert kinds["config_parse_bool"] == "BOOLEAN"  # the first entry wins, as systemd's loop breaks there
        assert kinds["config_parse_working_directory"] == "PATH"  # as the dump's reader takes its first word

    def test_macros_expand_per_unit_type_with_build_options_on(self) -> None:
        tool = _tool()
        keys = tool.gperf_keys(GPERF, tool.parser_kinds(LOAD_FRAGMENT_C))
        assert keys["Unit"] == {"Description": "STRING", "StartLimitBurst": "UNSIGNED"}
        assert keys["Service"] == {
            "Restart": "OTHER",
            "TimeoutStartSec": "OTHER",
            "WorkingDirectory": "PATH",
            "NoNewPrivileges": "BOOLEAN",
            "SystemCallFilter": "OTHER",
            "KillMode": "KILLMODE",
        }
        assert set(keys["Socket"]) == {"WorkingDirectory", "NoNewPrivileges", "SystemCallFilter"}
        assert keys["Install"] == {"WantedBy": "OTHER"}

    def test_a_disabled_build_option_keeps_the_key_as_not_supported(self) -> None:
        tool = _tool()
        keys = tool.gperf_keys(GPERF, tool.parser_kinds(LOAD_FRAGMENT_C), frozenset({"HAVE_SECCOMP"}))
        assert keys["Service"]["SystemCallFilter"] == "NOTSUPPORTED"

    def test_build_conditions(self) -> None:
        on = _tool()._feature_on
        assert on("HAVE_SECCOMP", frozenset())
        assert not on("HAVE_SECCOMP", frozenset({"HAVE_SECCOMP"}))
        assert on("not ENABLE_SMACK", frozenset({"ENABLE_SMACK"}))
        assert on("A and B or C", frozenset({"A"}))
        assert not on("A and B", frozenset({"B"}))


class TestSourceOnlyReleases:
    def test_they_are_marked_with_their_source(self) -> None:
        assert SOURCE_ONLY_RELEASES == frozenset(systemd_tables.SOURCE_ONLY_RELEASES) == {253, 254, 255, 256}
        for release, label in systemd_tables.SOURCE_ONLY_RELEASES.items():
            assert f" v{release}" in label and len(label.split()[-1]) == 40  # repository, tag, commit
            assert release in TABLED_RELEASES and release not in SYSTEMD_RELEASES
            assert release not in systemd_tables.PACKAGES and release not in systemd_tables.USER_UNITS
        assert "Source-only releases" in (systemd_tables.__doc__ or "")

    def test_the_lint_asked_for_one_judges_with_its_table(self) -> None:
        assert table_release(255) == 255 and table_release(258) == 257 and table_release(251) == 252
        # RestartMode= came in 254: 253 ignores it, 255 reads it.
        assert key_kind("Service", "RestartMode", 253) is None
        assert key_kind("Service", "RestartMode", 255) is not None
        assert release_label(255) == "255 (from source)" and release_label(257) == "257"

    def test_their_user_units_are_those_of_the_host_release_before(self) -> None:
        assert user_units(255) == user_units(252)
