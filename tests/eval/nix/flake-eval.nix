# Calls flake.nix's `outputs` with the stand-in nixpkgs input of flake-stand-ins.nix (the real
# lib; testers.runNixOSTest, callPackage, ... record how they were called instead of building
# anything). Returns plain data:
#   nix-instantiate --eval --read-write-mode --strict --json tests/eval/nix/flake-eval.nix \
#     --argstr libPath <nixpkgs lib>
{ libPath }:
let
  lib = import libPath;
  standIns = import ./flake-stand-ins.nix { inherit lib; };
  inherit (standIns) fakePkgs nixpkgs;
  flake = import ../../../flake.nix;
  self = flake.outputs { inherit self nixpkgs; };
  pythonPackages = standIns.driverPythonPackages;
  pkgs = fakePkgs "x86_64-linux";

  # A test file as an older harness rendered it, without `userModules`.
  olderTestFile = builtins.toFile "older.nix" ''
    { nixosModules, checksPackage }: { name = "older"; nodes.host.imports = [ nixosModules.host ]; }
  '';
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
  # The library: one file, a directory, and the one-file form the runner has always used.
  lib = {
    functions = lib.attrNames self.lib;
    scenarioTest = (self.lib.scenarioTest pkgs ../../../nix/tests/simple-container.nix).module.name;
    # The names scenarioChecks gives a directory of other files too (tests/eval: Python files,
    # the directory nix/): only its regular *.nix files count (the tests are not evaluated).
    directoryNames = lib.attrNames (
      self.lib.scenarioChecks {
        inherit pkgs;
        directory = ../.;
      }
    );
    olderFile = map toString
      (self.lib.mkScenarioTest {
        inherit pkgs;
        file = olderTestFile;
        modules.web = { };
      }).module.nodes.host.imports;
  };
  harness = lib.mapAttrs (
    _: p:
    let
      drv = p.harness;
    in
    {
      inherit (drv) name pyproject pythonImportsCheck;
      inherit (drv.meta) description;
      license = drv.meta.license.spdxId;
      buildSystem = map (d: d.name) drv.build-system;
      dependencies = map (d: d.name) drv.dependencies;
      # The source the wheel is built from (the store copy is made: --read-write-mode).
      source = builtins.readDir drv.src;
      sourceHarness = builtins.readDir "${drv.src}/harness";
    }
  ) self.packages;
  templates = lib.mapAttrs (_: t: {
    inherit (t) description;
    path = toString t.path;
  }) self.templates;
  devShellPackages = lib.mapAttrs (_: s: map (p: p.name) s.default.packages) self.devShells;
  formatter = lib.mapAttrs (_: f: f.name) self.formatter;
}
