# The cases `python -m bench` has tests/eval/harness.nix evaluate: a host with N containers that
# each run a prebuilt system (`path`). Only the host module is evaluated; the containers' NixOS
# systems are not (the eval tier has no NixOS), so the figures exclude them.
{
  lib,
  counts ? [
    0
    1
    10
    50
  ],
}:
let
  prebuilt = "/nix/store/11111111111111111111111111111111-nixos-system-prebuilt";
  withContainers = n: {
    description = "a host with ${toString n} containers from a prebuilt system";
    modules = [
      {
        nixos-nspawn.containers = lib.genAttrs (map (i: "c${toString i}") (lib.range 1 n)) (_: {
          path = prebuilt;
        });
      }
    ];
  };
in
lib.listToAttrs (map (n: lib.nameValuePair "path-${toString n}" (withContainers n)) counts)
