# Calls the downstream template's flake.nix (templates/default) as a user's flake would be
# called: its nixpkgs input is the stand-in of flake-stand-ins.nix, its nixos-nspawn input this
# repository's flake evaluated with that same nixpkgs (the template's `follows`). Returns data:
#   nix-instantiate --eval --strict --json tests/eval/nix/template-eval.nix \
#     --argstr libPath <nixpkgs lib>
{ libPath }:
let
  lib = import libPath;
  standIns = import ./flake-stand-ins.nix { inherit lib; };
  inherit (standIns) nixpkgs fakePkgs;
  nixos-nspawn = (import ../../../flake.nix).outputs {
    self = nixos-nspawn;
    inherit nixpkgs;
  };
  template = import ../../../templates/default/flake.nix;
  self = template.outputs { inherit self nixpkgs nixos-nspawn; };

  paths = map toString;
  # A NixOS module of the template's as data: its imported paths (modules are attrsets here).
  importsOf = module: if builtins.isAttrs module then paths module.imports else toString module;
in
{
  inputs = template.inputs;
  nixosModules = lib.mapAttrs (_: importsOf) self.nixosModules;
  nixosConfigurations = lib.mapAttrs (_: c: {
    inherit (c) standIn;
    modules = map importsOf c.modules;
  }) self.nixosConfigurations;
  # Each check: the test of the generated file of that name, its host and containers as the
  # test framework would see them (module functions called with a stand-in `lib`).
  checks = lib.mapAttrs (
    _:
    lib.mapAttrs (
      _: t:
      let
        host = t.module.nodes.host {
          inherit lib;
          pkgs = fakePkgs t.system;
        };
      in
      {
        inherit (t.module) name;
        inherit (t) system;
        hostImports = map importsOf host.imports;
        containerImports = lib.mapAttrs (_: c: paths c.config.imports) host.nixos-nspawn.containers;
        zones = lib.mapAttrs (_: c: c.network.veth.zone) host.nixos-nspawn.containers;
      }
    )
  ) self.checks;
  devShellPackages = lib.mapAttrs (
    _: s:
    map (p: {
      inherit (p) name;
      packages = map (q: q.name) (p.packages or [ ]);
    }) s.default.packages
  ) self.devShells;
  harness = nixos-nspawn.packages.x86_64-linux.harness.name;
}
