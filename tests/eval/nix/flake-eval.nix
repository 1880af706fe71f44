# Calls flake.nix's `outputs` with a stand-in nixpkgs input: the real lib, and legacyPackages
# whose few attributes (testers.runNixOSTest, callPackage, linkFarm, mkShell, python3, ruff,
# nixfmt) record how they were called instead of building anything. Returns plain data:
#   nix-instantiate --eval --strict --json tests/eval/nix/flake-eval.nix \
#     --argstr libPath <nixpkgs lib>
{ libPath }:
let
  lib = import libPath;
  flake = import ../../../flake.nix;

  fakeDrv = name: attrs: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  } // attrs;

  fakePkgs = system: rec {
    inherit lib;
    testers.runNixOSTest = module: fakeDrv "vm-test-run-${module.name}" { inherit module system; };
    runCommand = name: env: script: fakeDrv name { inherit script; };
    callPackage =
      file: overrides:
      let
        f = import file;
      in
      f (builtins.intersectAttrs (lib.functionArgs f) { inherit runCommand; } // overrides);
    linkFarm = name: entries: fakeDrv name { inherit entries; };
    mkShell = args: fakeDrv "shell" { inherit (args) packages; };
    python3.withPackages = f: fakeDrv "python3-env" { };
    ruff = fakeDrv "ruff" { };
    nixfmt = fakeDrv "nixfmt" { };
  };

  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] fakePkgs;
  };
  self = flake.outputs { inherit self nixpkgs; };

  # The python3Packages of the test driver, as far as nix/checks-package.nix uses it.
  pythonPackages = {
    python.sitePackages = "lib/python3.13/site-packages";
    toPythonModule = drv: drv // { pythonModule = true; };
  };
in
{
  nixosModules = lib.mapAttrs (_: toString) self.nixosModules;
  checks = lib.mapAttrs (_: lib.attrNames) self.checks;
  packagesChecks = lib.mapAttrs (_: p: map (e: e.name) p.checks.entries) self.packages;
  # Each check is runNixOSTest of the generated module of the same name, with our host module.
  testNames = lib.mapAttrs (_: lib.mapAttrs (_: t: t.module.name)) self.checks;
  # hydraJobs.<scenario>.<system>: the test of that scenario, built for that system.
  hydraJobs = lib.mapAttrs (
    _:
    lib.mapAttrs (
      _: t: {
        test = t.module.name;
        inherit (t) system;
      }
    )
  ) self.hydraJobs;
  hostModules = lib.mapAttrs (
    _:
    lib.mapAttrs (
      _: t:
      toString
        (lib.head
          (t.module.nodes.host {
            inherit lib;
            pkgs = fakePkgs t.system;
          }).imports
        )
    )
  ) self.checks;
  checksPackage = lib.mapAttrs (
    _: lib.mapAttrs (_: t: map (p: p.name) (t.module.extraPythonPackages pythonPackages))
  ) self.checks;
  # The copy script of nix/checks-package.nix (store paths of harness/ files are interpolated).
  checksPackageScripts = map (p: p.script) (
    (lib.head (lib.attrValues self.checks.x86_64-linux)).module.extraPythonPackages pythonPackages
  );
  devShellPackages = lib.mapAttrs (_: s: map (p: p.name) s.default.packages) self.devShells;
  formatter = lib.mapAttrs (_: f: f.name) self.formatter;
}
