#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for nixos-nspawn's test suite (idempotent):
#   system packages: nix-bin (parses/evaluates .nix), qemu-system-x86 + debootstrap +
#   systemd-container (runtime tier), then a virtualenv in .venv with the project and its dev extra.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(nix-bin qemu-system-x86 debootstrap systemd-container python3-venv git)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install: apt packages ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "install: $python is older than 3.11; set PYTHON to a newer interpreter" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
echo "install: done (.venv ready)"
