# Phase 2 probe: podman-compose and the compose file, in one command on the host.
compose_file=$(home_path "$PHX_PROJECT_DIR")/$PHX_COMPOSE_FILE
case "$PHX_COMPOSE_FILE" in /*) compose_file=$PHX_COMPOSE_FILE ;; esac

section compose_version podman-compose version
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
