# Phase 2 probe: podman-compose and the compose file, in one command on the host.
compose_file=$(home_path "$PHX_PROJECT_DIR")/$PHX_COMPOSE_FILE
case "$PHX_COMPOSE_FILE" in /*) compose_file=$PHX_COMPOSE_FILE ;; esac

section compose_version podman-compose version
section compose_path printf '%s' "$compose_file"
section compose_file cat "$compose_file"
