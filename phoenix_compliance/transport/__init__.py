"""How the suite reaches a host: runner.py runs the probe scripts over testinfra's
backend (each wait bounded; a host that does not answer is unreachable for the rest of
the run), podman_api.py speaks to the host's Podman API socket (through an ssh forward
for a remote host), and reach.py chooses, once per host from its backend, how the API
socket is reached."""
