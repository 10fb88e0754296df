# Phase 2 probe: podman-compose and the compose file, in one command on the host.
compose_file=$(home_path "$PHX_PROJECT_DIR")/$PHX_COMPOSE_FILE
case "$PHX_COMPOSE_FILE" in /*) compose_file=$PHX_COMPOSE_FILE ;; esac

# podman-compose is a Python program: running `podman-compose version` costs the host an
# interpreter start (about 0.15 s of CPU, most of a light run), so its files answer instead:
# the command on PATH, the interpreter its first line names (present and executable), and the
# version its package declares, printed as `podman-compose version` prints it. Exit 127: no
# command; 126: its interpreter is missing (it cannot run). A string for `sh -c`, as above.
compose_files='
path=$(command -v podman-compose) || { echo "podman-compose: command not found" >&2; exit 127; }
read -r first <"$path" || { echo "$path: unreadable" >&2; exit 126; }
case "$first" in
  "#!"*)
    set -- ${first#??}
    interpreter=$1
    [ "$interpreter" = /usr/bin/env ] && interpreter=$(command -v "$2")
    [ -n "$interpreter" ] && [ -x "$interpreter" ] || { echo "$path: interpreter ${2:-$1} not found" >&2; exit 126; } ;;
esac
version=
for file in "$path" "${interpreter%/bin/*}"/lib/python3*/site-packages/podman_compose.py \
  "$HOME"/.local/lib/python3*/site-packages/podman_compose.py /usr/lib/python3/dist-packages/podman_compose.py \
  /usr/local/lib/python3*/dist-packages/podman_compose.py /usr/lib/python3*/site-packages/podman_compose.py; do
  [ -f "$file" ] || continue
  version=$(sed -n "s/^__version__ *= *[\"]\([^\"]*\)[\"].*/\1/p" "$file" | head -n 1)
  [ -n "$version" ] && break
done
printf "podman-compose version %s\n%s\n" "${version:-unknown}" "$path"'
section compose_version sh -c "$compose_files"
section compose_path printf '%s' "$compose_file"
section compose_file cat "$compose_file"

# The compose files of the manifest's optional groups (one a line in PHX_GROUP_COMPOSE_FILES):
# group_compose_path_N and group_compose_N each; an absent file (cat's 1) is a group not deployed.
index=0
while IFS= read -r group_file; do
  [ -n "$group_file" ] || continue
  case "$group_file" in /*) ;; *) group_file=$(home_path "$PHX_PROJECT_DIR")/$group_file ;; esac
  section "group_compose_path_$index" printf '%s' "$group_file"
  section "group_compose_$index" cat "$group_file"
  index=$((index + 1))
done <<PHX_END
$PHX_GROUP_COMPOSE_FILES
PHX_END
# What podman-compose substitutes from: the login environment of the account (after a
# marker line, so that an rc file's own output is not read as it; NUL-separated and
# base64, as a value may hold a newline) and the .env beside the compose file (1: none).
section compose_env bash -lic 'printf "\n@@ENV@@\n"; env -0 | base64 -w0'
section compose_dotenv cat "${compose_file%/*}/.env"
