#!/bin/sh
# The closure-only view of /nix/store for a container (nixStore = "closure"), built from a
# closure's store-paths file (pkgs.closureInfo):
#
#   store-view.sh STORE-PATHS SKELETON > NSPAWN
#
# SKELETON becomes a read-only directory with one entry per store path: an empty directory or
# file for the path to be bound onto, or a copy of a symlink, which needs no bind (its target is in
# the closure too). NSPAWN gets the [Files] section that binds SKELETON to /nix/store and every
# directory or file of the closure onto its entry; it is appended to the container's .nspawn file.
set -eu

paths=$1
skeleton=$2
mkdir -p "$skeleton"
echo "[Files]"
echo "BindReadOnly=$skeleton:/nix/store"
while IFS= read -r path; do
  entry=$skeleton/${path##*/}
  if [ -L "$path" ]; then
    cp -P "$path" "$entry"
  elif [ -d "$path" ]; then
    mkdir "$entry"
    echo "BindReadOnly=$path"
  elif [ -e "$path" ]; then
    : > "$entry"
    echo "BindReadOnly=$path"
  else
    echo "store-view.sh: $path does not exist" >&2
    exit 1
  fi
done < "$paths"
chmod -R a-w "$skeleton"
