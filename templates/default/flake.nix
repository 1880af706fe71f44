{
  description = "myinfra: NixOS hosts with nixos-nspawn containers, and scenario tests about them";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";
    nixos-nspawn = {
      url = "github:<owner>/nixos-nspawn";
      # One nixpkgs for your hosts, their tests and the harness: yours (`nix flake update`).
      inputs.nixpkgs.follows = "nixpkgs";
    };
  };

  outputs =
    {
      self,
      nixpkgs,
      nixos-nspawn,
    }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      # What the host `web` runs, without what only the real machine has. Exported as a module
      # so that a scenario boots exactly this in its test VM (`modules = [ "web" ]`): the test
      # brings its own disks, boot loader and nixpkgs, which hosts/web-machine.nix would clash with.
      nixosModules.web = {
        imports = [
          nixos-nspawn.nixosModules.host
          ./hosts/web.nix
        ];
      };

      nixosConfigurations.web = nixpkgs.lib.nixosSystem {
        modules = [
          self.nixosModules.web
          ./hosts/web-machine.nix
        ];
      };

      # One NixOS VM test per generated file of nix/tests (`python -m harness render` writes
      # them from scenarios/): `nix flake check`, or `pytest scenarios/` for a report per
      # expectation. `modules` are what scenarios may name in their `modules = [ ... ]`.
      checks = forAllSystems (
        pkgs:
        nixos-nspawn.lib.scenarioChecks {
          inherit pkgs;
          directory = ./nix/tests;
          modules = self.nixosModules;
        }
      );

      # `nix develop`: Python with the harness (`python -m harness`, `pytest scenarios/`).
      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            (pkgs.python3.withPackages (_: [
              nixos-nspawn.packages.${pkgs.stdenv.hostPlatform.system}.harness
            ]))
          ];
        };
      });
    };
}
