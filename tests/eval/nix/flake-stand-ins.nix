# A stand-in nixpkgs flake input for evaluating flake outputs without nixpkgs: the real lib
# (plus `lib.nixosSystem`, which nixpkgs' flake adds), and legacyPackages whose few attributes
# record how they were called instead of building anything. Used by flake-eval.nix (this
# repository's flake) and template-eval.nix (the downstream template's).
{ lib }:
let
  fakeDrv =
    name: attrs:
    {
      type = "derivation";
      inherit name;
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
    }
    // attrs;

  # The python3Packages of the stand-in nixpkgs, as far as nix/harness-package.nix uses it.
  python3Packages = {
    buildPythonPackage =
      args:
      fakeDrv "${args.pname}-${args.version}" {
        inherit (args)
          pyproject
          src
          build-system
          dependencies
          pythonImportsCheck
          meta
          ;
      };
  }
  // lib.genAttrs [
    "setuptools"
    "pytest"
    "pexpect"
    "pytest-xdist"
    "jinja2"
  ] (name: fakeDrv name { });

  fakePkgs = system: rec {
    inherit lib python3Packages;
    stdenv.hostPlatform.system = system;
    testers.runNixOSTest = module: fakeDrv "vm-test-run-${module.name}" { inherit module system; };
    runCommand = name: env: script: fakeDrv name { inherit script; };
    callPackage =
      file: overrides:
      let
        f = import file;
      in
      f (
        builtins.intersectAttrs (lib.functionArgs f) {
          inherit lib runCommand python3Packages;
        }
        // overrides
      );
    linkFarm = name: entries: fakeDrv name { inherit entries; };
    mkShell = args: fakeDrv "shell" { inherit (args) packages; };
    python3.withPackages = f: fakeDrv "python3-env" { packages = f python3Packages; };
    ruff = fakeDrv "ruff" { };
    nixfmt = fakeDrv "nixfmt" { };
  };
in
{
  inherit fakePkgs;

  nixpkgs = {
    lib = lib // {
      nixosSystem = args: {
        standIn = "nixosSystem";
        inherit (args) modules;
      };
    };
    legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] fakePkgs;
  };

  # The python3Packages of the test driver, as far as nix/checks-package.nix uses it.
  driverPythonPackages = {
    python.sitePackages = "lib/python3.13/site-packages";
    toPythonModule = drv: drv // { pythonModule = true; };
  };
}
