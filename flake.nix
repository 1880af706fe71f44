{
  description = "Declarative, ephemeral NixOS containers on systemd-nspawn";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # One generated NixOS test module per scenario (`python -m harness render`).
      testFiles = lib.filterAttrs (
        file: type: type == "regular" && lib.hasSuffix ".nix" file
      ) (builtins.readDir ./nix/tests);
      scenarioNames = map (lib.removeSuffix ".nix") (lib.attrNames testFiles);
      scenarioTests =
        pkgs: lib.genAttrs scenarioNames (name: self.lib.scenarioTest pkgs (./nix/tests + "/${name}.nix"));
    in
    {
      nixosModules = {
        host = ./nix/host.nix;
        container = ./nix/container.nix;
        default = ./nix/default.nix;
      };

      # Build the NixOS VM test of one generated scenario file (also used by the pytest runner
      # for freshly rendered, not yet committed scenarios).
      lib.scenarioTest =
        pkgs: file:
        pkgs.testers.runNixOSTest (
          import file {
            inherit (self) nixosModules;
            checksPackage = pkgs.callPackage ./nix/checks-package.nix { };
          }
        );

      checks = forAllSystems scenarioTests;

      # Hydra's layout, job by system: one job per scenario (its VM test, as in `checks`).
      hydraJobs = lib.genAttrs scenarioNames (
        name: lib.genAttrs systems (system: self.checks.${system}.${name})
      );

      packages = forAllSystems (pkgs: {
        # `nix build .#checks`: every scenario test in one aggregate.
        checks = pkgs.linkFarm "nixos-nspawn-checks" (
          lib.mapAttrsToList (name: path: { inherit name path; }) (scenarioTests pkgs)
        );

        # `nix build .#docs`: the manual, the same strict MkDocs build as the test suite's.
        docs =
          pkgs.runCommand "nixos-nspawn-docs"
            {
              # The flake's own source: docs/contributing.md is a symlink to CONTRIBUTING.md.
              src = ./.;
              nativeBuildInputs = [ (pkgs.python3.withPackages (p: [ p.mkdocs ])) ];
            }
            ''
              cd "$src"
              python -m mkdocs build --strict --site-dir "$out"
            '';
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            (pkgs.python3.withPackages (p: [
              p.pytest
              p.pexpect
              p.pytest-xdist
              p.jinja2
              p.hypothesis
              p.mypy
              p.pyflakes
              p.mkdocs
            ]))
            pkgs.ruff
            pkgs.nixfmt
          ];
        };
      });

      # nixfmt is the RFC 166 formatter (formerly packaged as nixfmt-rfc-style).
      formatter = forAllSystems (pkgs: pkgs.nixfmt);
    };
}
