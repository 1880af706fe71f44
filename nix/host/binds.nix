# Binds wait for their source: a bind's host path on a file system mounted late (or `noauto`)
# would be bound before the mount, so the container's unit requires and is ordered after the
# mounts of every bind's host path (`RequiresMountsFor=`), as classic containers' units do.
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  common = import ./common.nix { inherit lib; };
  inherit (import ../unit-values.nix { inherit lib; }) escapeUnitPathWord;

  hostPaths = c: lib.mapAttrsToList (_: bind: bind.hostPath) c.binds;
in
{
  config = lib.mkIf (cfg.containers != { }) {
    # The paths are checked where the binds are (host.nix): no control characters, no
    # whitespace at either end; escaping adds backslashes and `%` only, so the escaped value is
    # as safe, and never ends in an odd number of backslashes.
    systemd.services = lib.mapAttrs' (
      name: c:
      lib.nameValuePair (common.service name) {
        unitConfig.RequiresMountsFor = map escapeUnitPathWord (hostPaths c);
      }
    ) (lib.filterAttrs (_: c: c.binds != { }) (common.runnable cfg.containers));
  };
}
