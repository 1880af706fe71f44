# Evaluates one generated test module (nix/tests/<name>.nix) the way runNixOSTest would see it:
# the framework's option declarations (test-framework.nix), and `nodes.host` with our real
# nix/host.nix plus stand-ins only for NixOS itself. Returns plain data for the Python test:
#   nix-instantiate --eval --strict --json tests/eval/nix/eval-test.nix \
#     --argstr libPath <nixpkgs lib> --arg file ./nix/tests/<name>.nix
# `userModules` stands for a downstream flake's nixosModules (`lib.mkScenarioTest { modules }`).
{
  libPath,
  file,
  userModules ? { },
}:
let
  lib = import libPath;
  standIns = import ../stand-ins.nix { inherit lib; };

  # What callPackage ./nix/checks-package.nix { } gives, as far as the test module uses it.
  checksPackage = python3Packages: {
    type = "derivation";
    name = "nixos-nspawn-harness-checks";
    outPath = "/nix/store/00000000000000000000000000000000-nixos-nspawn-harness-checks";
    packageSet = python3Packages;
  };

  test = lib.evalModules {
    modules = [
      (import ./test-framework.nix {
        inherit lib;
        nodeModules = [
          standIns.host
          (import ./node-stand-ins.nix { inherit lib; })
          { nixos-nspawn.evalConfig = standIns.evalConfig; }
        ];
      })
      (import file {
        # The flake's nixosModules.
        nixosModules = {
          host = ../../../nix/host.nix;
          container = ../../../nix/container.nix;
          default = ../../../nix/default.nix;
        };
        inherit checksPackage userModules;
      })
    ];
  };
  inherit (test) config;
  host = config.nodes.host;
in
{
  inherit (config) name globalTimeout testScript;
  extraPythonPackages = map (p: p.name) (config.extraPythonPackages "python3Packages");
  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) host.assertions);
  memorySize = host.virtualisation.memorySize;
  nspawn = lib.mapAttrs (_: unit: {
    inherit (unit) execConfig filesConfig networkConfig;
  }) host.systemd.nspawn;
  hostNetworks = host.systemd.network.networks;
  machinesWants = host.systemd.targets.machines.wants or [ ];
  containers = lib.mapAttrs (_: c: {
    inherit (c) autoStart restartIfChanged binds;
    network = c.network.veth;
  }) host.nixos-nspawn.containers;
  # Containers evaluated from `config` (a prebuilt `path` has no configuration here).
  guestNetworks = lib.mapAttrs (_: c: c.config.systemd.network.networks) (
    lib.filterAttrs (_: c: c.evaluated) host.nixos-nspawn.containers
  );
  paths = lib.mapAttrs (_: c: c.path) host.nixos-nspawn.containers;
  hostNginx = host.services.nginx;
  tmpfilesRules = host.systemd.tmpfiles.rules;
}
