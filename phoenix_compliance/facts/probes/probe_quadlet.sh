# Phase 3 probe: the Quadlet files, the generator's verdict and the units' states,
# in one command on the host.
quadlet_dir=$(home_path "$PHX_QUADLET_DIR")
target_file="$HOME/.config/systemd/user/$PHX_TARGET"

# The folder as a tar, itself base64 so that it survives the shell's $(...).
section quadlet_dir_path printf '%s' "$quadlet_dir"
# Exit 3: the folder does not exist (an answer); tar's own failure is not one.
section quadlet_tar sh -c '[ -d "$0" ] || { echo "no such directory" >&2; exit 3; }; cd "$0" && tar -cf - --exclude="*/.*" . | base64 -w0' "$quadlet_dir"
section target_path printf '%s' "$target_file"
section target_file cat "$target_file"

# The generator binary moved between distributions; podman-system-generator is the
# documented name, quadlet the program behind it.
generator=
for candidate in /usr/libexec/podman/quadlet /usr/lib/podman/quadlet \
  /usr/lib/systemd/user-generators/podman-user-generator; do
  if [ -x "$candidate" ]; then generator=$candidate; break; fi
done
section generator_path printf '%s' "${generator:-none}"
if [ -n "$generator" ]; then
  section generator_dryrun "$generator" -dryrun -user
fi

# Podman 5.6 and later: every Quadlet file of the user and whether systemd loaded its
# unit ("Not loaded" when the generator dropped it). Earlier releases refuse the command.
section quadlet_list podman quadlet list --format json

section target_enabled systemctl --user is-enabled "$PHX_TARGET"
section target_active systemctl --user is-active "$PHX_TARGET"
# shellcheck disable=SC2086 # a list of unit names, split on purpose
# NeedDaemonReload=yes: a unit's file (for a generated service, its Quadlet file, the
# SourcePath) changed after the last daemon-reload, so systemd runs an older version.
section units_show systemctl --user show --property=Id,LoadState,ActiveState,SubState,Restart,UnitFileState,NeedDaemonReload,SourcePath $PHX_UNITS
# Why a unit is not active, from its journal: the last error lines podman or systemd logged for
# it ("Error: invalid default_rootless_network_cmd option ...", "Dependency failed for ...").
# A stack that runs prints nothing here and runs no journalctl.
journal='for unit in "$@"; do
  [ "$(systemctl --user show --property=ActiveState --value "$unit")" = active ] && continue
  journalctl --user -u "$unit" -n 40 -o cat --no-pager 2>/dev/null |
    grep -E "Error:|error:|Dependency failed" | tail -n 2 | cut -c1-300 | sed "s|^|$unit: |"
done; true'
# shellcheck disable=SC2086 # a list of unit names, split on purpose
section units_journal sh -c "$journal" sh $PHX_UNITS
# Automatic updates (podman auto-update), where the stack asks for them.
section autoupdate_enabled systemctl --user is-enabled podman-auto-update.timer
section autoupdate_active systemctl --user is-active podman-auto-update.timer

# What systemd itself says of the stack's generated services, read-only: the generator wrote
# them into the user's runtime folder at the last daemon-reload, and `systemd-analyze verify`
# loads each in a test manager of its own (the user's manager is not touched) and names every
# line it ignores, which the unit then runs without. Printed: @@DIR the folder; per service
# found there @@FILE its name and its lines (@@L); then verify's words (@@V). Exit: verify's,
# 127 where there is no systemd-analyze. The first line of systemctl --version is the release
# the lint judges the systemd sections at.
section systemd_version systemctl --version
# shellcheck disable=SC2016 # expanded by the inner shell, where PHX_UNITS is in the environment
verify_units='
dir="$XDG_RUNTIME_DIR/systemd/generator"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze: command not found" >&2; exit 127; }
printf "@@DIR %s\n" "$dir"
set --
for unit in $PHX_UNITS; do
  [ -f "$dir/$unit" ] || continue
  printf "@@FILE %s\n" "$unit"
  sed "s/^/@@L /" "$dir/$unit"
  set -- "$@" "$dir/$unit"
done
[ "$#" -gt 0 ] || exit 0
said=$(systemd-analyze --user verify --man=no --recursive-errors=no "$@" 2>&1)
rc=$?
[ -z "$said" ] || printf "%s\n" "$said" | sed "s/^/@@V /"
exit "$rc"'
section systemd_verify sh -c "$verify_units"
