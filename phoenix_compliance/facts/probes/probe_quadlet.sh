# Phase 3 probe: the Quadlet files, the generator's verdict and the units' states,
# in one command on the host.
quadlet_dir=$(home_path "$PHX_QUADLET_DIR")
target_file="$HOME/.config/systemd/user/$PHX_TARGET"

# The folder as a tar, itself base64 so that it survives the shell's $(...).
text_section quadlet_dir_path 0 "$quadlet_dir"
# Exit 3: the folder does not exist (an answer); tar's own failure is not one.
section quadlet_tar sh -c '[ -d "$0" ] || { echo "no such directory" >&2; exit 3; }; cd "$0" && tar -cf - --exclude="*/.*" . | base64 -w0' "$quadlet_dir"
text_section target_path 0 "$target_file"
section target_file cat "$target_file"

# The generator binary moved between distributions; podman-system-generator is the
# documented name, quadlet the program behind it.
generator=
for candidate in /usr/libexec/podman/quadlet /usr/lib/podman/quadlet \
  /usr/lib/systemd/user-generators/podman-user-generator; do
  if [ -x "$candidate" ]; then generator=$candidate; break; fi
done
text_section generator_path 0 "${generator:-none}"
if [ -n "$generator" ]; then
  section generator_dryrun "$generator" -dryrun -user
fi

# Podman 5.6 and later: every Quadlet file of the user and whether systemd loaded its
# unit ("Not loaded" when the generator dropped it). Earlier releases refuse the command.
# Where the base probe of this same command read an earlier release from podman info, the
# command is not tried (a start of podman, about 30 ms of CPU): the section says so with
# podman's own exit code for an unknown command, 125.
known=
if [ -r "$learnt" ]; then
  while IFS= read -r line; do
    case "$line" in podman_version=*) known=${line#podman_version=} ;; esac
  done <"$learnt"
fi
major=${known%%.*} minor=${known#*.}
minor=${minor%%.*}
case "$major.$minor" in
  *[!0-9.]* | .* | *.) older= ;;
  *) if [ "$major" -lt 5 ] || { [ "$major" = 5 ] && [ "$minor" -lt 6 ]; }; then older=1; else older=; fi ;;
esac
if [ -n "$older" ]; then
  error_section quadlet_list 125 "podman $known has no quadlet command (Podman 5.6 and later): not asked"
else
  section quadlet_list podman quadlet list --format json
fi

# is-enabled and is-active each asked once for both units (one line per unit, in order); each
# unit's exit code is the one systemctl gives for it alone: is-enabled 0 for enabled, enabled-runtime,
# static, alias, indirect and generated, 4 for not-found, else 1; is-active 0 for active, else 3, 4 where
# the unit is not found.
switches() {
  enabled=$(timeout "$PHX_TIMEOUT" systemctl --user is-enabled "$@" 2>"$err")
  enabled_rc=$?
  enabled_said=
  if [ -s "$err" ]; then enabled_said=$(base64 -w0 <"$err"); fi
  active=$(timeout "$PHX_TIMEOUT" systemctl --user is-active "$@" 2>"$err")
  active_rc=$?
  active_said=
  if [ -s "$err" ]; then active_said=$(base64 -w0 <"$err"); fi
}
# switch_sections ENABLED_NAME ACTIVE_NAME: the sections of the next unit of switches' answer.
switch_sections() {
  state=${enabled%%"$nl"*}
  enabled=${enabled#"$state"}
  enabled=${enabled#"$nl"}
  now=${active%%"$nl"*}
  active=${active#"$now"}
  active=${active#"$nl"}
  case "$enabled_rc" in
    0 | 1 | 4)
      case "$state" in
        enabled | enabled-runtime | static | alias | indirect | generated) code=0 ;;
        not-found) code=4 ;;
        *) code=1 ;;
      esac
      ;;
    *) code=$enabled_rc ;;
  esac
  name=$1 rc=$code out=$state said=$enabled_said
  frame
  case "$active_rc" in
    0 | 3 | 4)
      if [ "$now" = active ]; then code=0; elif [ "$state" = not-found ]; then code=4; else code=3; fi
      ;;
    *) code=$active_rc ;;
  esac
  name=$2 rc=$code out=$now said=$active_said
  frame
}
switches "$PHX_TARGET" podman-auto-update.timer
switch_sections target_enabled target_active
# shellcheck disable=SC2086 # a list of unit names, split on purpose
# NeedDaemonReload=yes: a unit's file (for a generated service, its Quadlet file, the
# SourcePath) changed after the last daemon-reload, so systemd runs an older version.
section units_show systemctl --user show --property=Id,LoadState,ActiveState,SubState,Restart,UnitFileState,NeedDaemonReload,SourcePath $PHX_UNITS
# Why a unit is not active, from its journal: the last error lines podman or systemd logged for
# it ("Error: invalid default_rootless_network_cmd option ...", "Dependency failed for ...").
# Which units are not active is read from units_show's answer by the shell itself: a stack
# that runs prints nothing here and starts no program.
journal() {
  id= state=
  while IFS= read -r line; do
    case "$line" in
      Id=*) id=${line#Id=} ;;
      ActiveState=*) state=${line#ActiveState=} ;;
      '')
        if [ -n "$id" ] && [ "$state" != active ]; then
          timeout "$PHX_TIMEOUT" journalctl --user -u "$id" -n 40 -o cat --no-pager 2>/dev/null |
            grep -E "Error:|error:|Dependency failed" | tail -n 2 | cut -c1-300 | sed "s|^|$id: |"
        fi
        id= state=
        ;;
    esac
  done <<PHX_END
$1

PHX_END
  true
}
if [ "$rc" = 0 ]; then
  shell_section units_journal journal "$raw"
fi
# Automatic updates (podman auto-update), where the stack asks for them: asked with the target above.
switch_sections autoupdate_enabled autoupdate_active
# What systemd itself says of the stack's generated services, read-only: the generator wrote
# them into the user's runtime folder at the last daemon-reload, and `systemd-analyze verify`
# loads each in a test manager of its own (the user's manager is not touched) and names every
# line it ignores, which the unit then runs without. Printed: @@DIR the folder; per service
# found there @@FILE its name and its lines (@@L); then verify's words (@@V). Exit: verify's,
# 127 where there is no systemd-analyze. The first line of systemctl --version is the release
# the lint judges the systemd sections at.
section systemd_version systemctl --version
# The files and verify's words are prefixed by the shell itself (no sed per file).
prefixed() {
  while IFS= read -r line || [ -n "$line" ]; do printf '%s %s\n' "$1" "$line"; done
}
verify_units() {
  dir="$XDG_RUNTIME_DIR/systemd/generator"
  command -v systemd-analyze >/dev/null || { echo "systemd-analyze: command not found" >&2; return 127; }
  printf '@@DIR %s\n' "$dir"
  set --
  for unit in $PHX_UNITS; do
    [ -f "$dir/$unit" ] || continue
    printf '@@FILE %s\n' "$unit"
    prefixed @@L <"$dir/$unit"
    set -- "$@" "$dir/$unit"
  done
  [ "$#" -gt 0 ] || return 0
  said=$(timeout "$PHX_TIMEOUT" systemd-analyze --user verify --man=no --recursive-errors=no "$@" 2>&1)
  code=$?
  [ -z "$said" ] || prefixed @@V <<PHX_END
$said
PHX_END
  return "$code"
}
shell_section systemd_verify verify_units
