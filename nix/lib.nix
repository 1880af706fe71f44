# The flake's `lib`: generated scenario tests (`python -m harness render`) as NixOS VM tests,
# for this repository's own checks and for any flake that has nixos-nspawn as an input.
# Nothing here needs nixpkgs until a function is called with `pkgs`: listing the flake's
# outputs (e.g. `nix flake init` reading `templates`) never fetches it.
{ nixosModules }:
let
  # A generated test file: `{ nixosModules, checksPackage, userModules ? { }, ... }: <test module>`.
  # It is called with the arguments it declares, so a file rendered by an older harness (one
  # without `userModules`) still builds.
  callTestFile =
    file: args:
    let
      f = import file;
    in
    f (builtins.intersectAttrs (builtins.functionArgs f) args);
in
rec {
  /**
    The NixOS VM test of one generated scenario file, built with `pkgs.testers.runNixOSTest`.

    `modules` are the calling flake's own NixOS modules (usually its `nixosModules`); a scenario
    refers to them by name (`modules = [ "web" ]`) and the test receives them as `userModules`.
    The checks library inside the VM is always this flake's (`./checks-package.nix`).

    Example:

    ```nix
    mkScenarioTest {
      inherit pkgs;
      file = ./nix/tests/web.nix;
      modules = self.nixosModules;
    }
    ```
  */
  mkScenarioTest =
    {
      pkgs,
      file,
      modules ? { },
    }:
    pkgs.testers.runNixOSTest (
      callTestFile file {
        inherit nixosModules;
        checksPackage = pkgs.callPackage ./checks-package.nix { };
        userModules = modules;
      }
    );

  /**
    Every `*.nix` file of `directory` (the generated tests, `nix/tests` by default) as
    `<file name without .nix> = mkScenarioTest { ... }`: a flake's `checks.<system>`.

    Example:

    ```nix
    checks.x86_64-linux = scenarioChecks {
      pkgs = nixpkgs.legacyPackages.x86_64-linux;
      directory = ./nix/tests;
      modules = self.nixosModules;
    };
    ```
  */
  scenarioChecks =
    {
      pkgs,
      directory,
      modules ? { },
    }:
    let
      inherit (pkgs) lib;
      files = lib.filterAttrs (name: type: type == "regular" && lib.hasSuffix ".nix" name) (
        builtins.readDir directory
      );
    in
    lib.mapAttrs' (
      name: _:
      lib.nameValuePair (lib.removeSuffix ".nix" name) (mkScenarioTest {
        inherit pkgs modules;
        file = directory + "/${name}";
      })
    ) files;
}
