# Stand-in declarations of the NixOS test framework's options (nixpkgs nixos/lib/testing/:
# name.nix, nodes.nix, driver.nix, testScript.nix, meta.nix, run.nix, interactive.nix), with the
# real option names and types, so that a generated test module that sets an option the framework
# does not have (a misspelling) fails to evaluate, as it would under runNixOSTest.
#
# `nodes` are evaluated with our real host module (imported by each generated test) on top of
# `nodeModules`: the stand-ins of the NixOS options it touches.
{ lib, nodeModules }:
let
  inherit (lib) mkOption types;
  module = mkOption {
    type = types.deferredModule;
    default = { };
  };
in
{
  options = {
    name = mkOption { type = types.str; };
    nodes = mkOption {
      type = types.lazyAttrsOf (types.submoduleWith { modules = nodeModules; });
      default = { };
    };
    containers = mkOption {
      type = types.lazyAttrsOf types.deferredModule;
      default = { };
    };
    defaults = module;
    nodeDefaults = module;
    containerDefaults = module;
    extraBaseModules = module;
    extraBaseNodeModules = module;
    node.specialArgs = mkOption {
      type = types.lazyAttrsOf types.raw;
      default = { };
    };
    globalTimeout = mkOption {
      type = types.int;
      default = 60 * 60;
    };
    enableOCR = mkOption {
      type = types.bool;
      default = false;
    };
    extraPythonPackages = mkOption {
      type = types.functionTo (types.listOf types.package);
      default = _: [ ];
    };
    extraDriverArgs = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
    skipLint = mkOption {
      type = types.bool;
      default = false;
    };
    skipTypeCheck = mkOption {
      type = types.bool;
      default = false;
    };
    logLevel = mkOption {
      type = types.enum [
        "debug"
        "info"
        "warning"
        "error"
      ];
      default = "info";
    };
    sshBackdoor.enable = mkOption {
      type = types.bool;
      default = false;
    };
    testScript = mkOption { type = types.either types.str (types.functionTo types.str); };
    interactive = module;
    meta = mkOption {
      type = types.lazyAttrsOf types.raw;
      default = { };
    };
    passthru = mkOption {
      type = types.lazyAttrsOf types.raw;
      default = { };
    };
  };
}
