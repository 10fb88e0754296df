# The one probe that changes the host, run only with --allow-restart.
section restart systemctl --user restart "$PHX_TARGET"
