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
# Automatic updates (podman auto-update), where the stack asks for them.
section autoupdate_enabled systemctl --user is-enabled podman-auto-update.timer
section autoupdate_active systemctl --user is-active podman-auto-update.timer
