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

      # One NixOS VM test per generated scenario file (`python -m harness render`), with our
      # modules as the scenarios' `modules` (as a downstream flake passes its own).
      scenarioTests =
        pkgs:
        self.lib.scenarioChecks {
          inherit pkgs;
          directory = ./nix/tests;
          modules = self.nixosModules;
        };
    in
    {
      nixosModules = {
        host = ./nix/host.nix;
        container = ./nix/container.nix;
        default = ./nix/default.nix;
      };

      # The generated tests as NixOS VM tests (nix/lib.nix): `mkScenarioTest` builds one file,
      # `scenarioChecks` a directory of them; both need nixpkgs only when called with `pkgs`.
      lib = import ./nix/lib.nix { inherit (self) nixosModules; } // {
        # One file with this flake's modules (kept for callers of the first release; the pytest
        # runner calls mkScenarioTest).
        scenarioTest =
          pkgs: file:
          self.lib.mkScenarioTest {
            inherit pkgs file;
            modules = self.nixosModules;
          };
      };

      checks = forAllSystems scenarioTests;

      # Hydra's layout, job by system: one job per scenario (its VM test, as in `checks`).
      hydraJobs = lib.genAttrs (lib.attrNames self.checks.${lib.head systems}) (
        name: lib.genAttrs systems (system: self.checks.${system}.${name})
      );

      packages = forAllSystems (pkgs: {
        # `nix build .#checks`: every scenario test in one aggregate.
        checks = pkgs.linkFarm "nixos-nspawn-checks" (
          lib.mapAttrsToList (name: path: { inherit name path; }) (scenarioTests pkgs)
        );
        # The harness as a Python package (for a downstream flake's development shell).
        harness = pkgs.callPackage ./nix/harness-package.nix { };

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

      # `nix flake init -t github:<owner>/nixos-nspawn`: a flake of your own whose hosts run
      # nixos-nspawn containers, with scenarios about them (docs/testing-your-hosts.md).
      templates.default = {
        path = ./templates/default;
        description = "A NixOS host with nixos-nspawn containers, and scenario tests about it";
      };

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
