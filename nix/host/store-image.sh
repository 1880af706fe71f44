#!/bin/sh
# The closure-only /nix/store of a container (nixStore = "closure") as one erofs image, built
# from a closure's store-paths file (pkgs.closureInfo):
#
#   store-image.sh STORE-PATHS IMAGE
#
# Every store path is copied, as it is (a symlink stays a symlink), into a scratch directory that
# becomes the image's root: mounted, the image is a /nix/store holding exactly the closure. Files
# are owned by root and carry one fixed timestamp, and the file system UUID is fixed, so that the
# same closure always gives the same image. mkfs.erofs (erofs-utils 1.5 or later) is on PATH.
set -eu

paths=$1
image=$2
root=$(mktemp -d "${TMPDIR:-/tmp}/store-image.XXXXXX")
trap 'chmod -R u+w "$root" && rm -rf "$root"' EXIT
if [ ! -s "$paths" ]; then
  echo "store-image.sh: $paths lists no store path" >&2
  exit 1
fi
xargs cp -a -t "$root" < "$paths"
chmod 0555 "$root"
mkfs.erofs --quiet -zlz4hc --all-root -T 1 -U 5e4f1c0a-7d3b-4c52-9a61-0b2e8d9f3c47 "$image" "$root"
