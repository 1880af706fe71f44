#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for nixos-nspawn's test suite (idempotent):
#   system packages: nix-bin (parses/evaluates .nix) with nix-setup-systemd (Debian's multi-user
#   set-up: the nixbld build users a root Nix expects), qemu-system-x86 + debootstrap +
#   systemd-container (runtime tier), erofs-utils (tests of the closure store's image builder),
#   chromium (the manual's browser test);
#   then a virtualenv in .venv with the project and its dev extra.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(nix-bin nix-setup-systemd qemu-system-x86 debootstrap systemd-container erofs-utils chromium python3-venv git)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install: apt packages ${missing[*]}"
  log=$(mktemp)
  # An existing /etc/nix/nix.conf is kept (confold); dpkg's chatter goes to the log.
  if ! { $sudo apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"; } \
    >"$log" 2>&1; then
    cat "$log" >&2
    echo "install: apt-get failed (output above)" >&2
    exit 1
  fi
  rm -f "$log"
fi

# Nix run as root builds with the build users of `build-users-group` (default nixbld), which
# nix-setup-systemd creates; say so plainly if the machine's nix.conf names another, missing group.
group=$(nix --extra-experimental-features nix-command show-config 2>/dev/null |
  sed -n 's/^build-users-group = //p')
if [ -n "$group" ] && ! getent group "$group" >/dev/null; then
  echo "install: nix.conf names build-users-group = $group, which does not exist" >&2
  exit 1
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "install: $python is older than 3.11; set PYTHON to a newer interpreter" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
echo "install: done (.venv ready; nix build users: ${group:-none, single-user})"
