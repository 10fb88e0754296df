#!/usr/bin/env bash
# One command from a fresh machine to a readiness report against the reference host:
# installs what the suite needs (Debian packages, a virtualenv), builds and boots the
# reference host (a Debian trixie guest with rootless Podman 5, under systemd-nspawn),
# then checks it. Needs root (debootstrap, systemd-nspawn). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  debootstrap systemd-container socat openssh-client sudo  # the reference host
  podman uidmap slirp4netns                                 # this machine as an unmigrated host
  chromium                                                  # renders the report in the selftests
)
missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "quickstart: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'

.venv/bin/phoenix-refhost build
.venv/bin/phoenix-refhost up
# The stand-in stack, deployed the production way (Quadlet units and phoenix.target).
.venv/bin/phoenix-refhost deploy quadlet
.venv/bin/phoenix-refhost ssh-config > reports/refhost.ssh_config

echo "quickstart: checking the reference host" >&2
exec .venv/bin/pytest --hosts=ssh://refhost --ssh-config=reports/refhost.ssh_config \
  --stack=fixtures/stacks/reference.yaml "$@"
