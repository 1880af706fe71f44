# Stands in for another nixpkgs's nixos/lib/eval-config.nix, for the `nixpkgs` option of a
# container (cases.nix, `evaluation`): the stand-in evaluation of the host's, plus a marker
# package, so that a test can tell which nixpkgs evaluated the container. Like the real one, it
# takes its own lib from its own tree.
{
  lib ? import ../../lib,
  ...
}@args:
(import ../../../stand-ins.nix { inherit lib; }).evalConfig (
  removeAttrs args [ "lib" ]
  // {
    modules = args.modules ++ [ { environment.systemPackages = [ "from-other-nixpkgs" ]; } ];
  }
)
