# Evaluates a module file meant as nixosModules.default with the stand-ins of a NixOS system that
# has both the host's and a guest's options, twice: as a host that uses none of it, and as a
# prebuilt container system (`nixos-nspawn.isContainer = true`, what a system built for
# `nixos-nspawn.containers.<name>.path` sets). Returns plain data:
#   nix-instantiate --eval --strict --json tests/eval/default-module.nix \
#     --argstr libPath <nixpkgs lib> --arg module ./nix/default.nix
{ libPath, module }:
let
  lib = import libPath;
  standIns = import ./stand-ins.nix { inherit lib; };

  summary =
    extra:
    let
      cfg =
        (lib.evalModules {
          modules = [
            module
            standIns.nixos
            extra
          ];
        }).config;
    in
    {
      failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) cfg.assertions);
      inherit (cfg) warnings;
      # The host side.
      nspawn = cfg.systemd.nspawn;
      services = cfg.systemd.services;
      networkd = cfg.systemd.network.enable;
      networks = cfg.systemd.network.networks;
      firewall = cfg.networking.firewall.interfaces;
      dhcpcdDenyInterfaces = cfg.networking.dhcpcd.denyInterfaces;
      # The guest side.
      isContainer = cfg.nixos-nspawn.isContainer;
      bootIsContainer = cfg.boot.isContainer;
      useNetworkd = cfg.networking.useNetworkd;
      useHostResolvConf = cfg.networking.useHostResolvConf;
      nixEnable = cfg.nix.enable;
    };
in
{
  unused = summary { };
  container = summary { nixos-nspawn.isContainer = true; };
}
