# The host side of nixos-nspawn: declarative, ephemeral NixOS containers run by systemd's own
# `systemd-nspawn@<name>.service`. This module only produces data (`systemd.nspawn.<name>`,
# networkd units, firewall rules, tmpfiles, a unit drop-in); NixOS renders it to files.
#
# This file declares `nixos-nspawn.containers` and checks the names; each feature is a module of
# its own in ./host/, which adds its options to the container submodule and its own settings
# (./host/common.nix holds what they share): the container's system and its evaluation
# (evaluation.nix), its unit and .nspawn run settings (service.nix), what a switch and a crash do
# to it (lifecycle.nix), its own link to the host (network.nix), binds, further network
# attachments, ports, credentials, devices and the store.
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  common = import ./host/common.nix { inherit lib; };

  # A machine name is a host name label: at most 63 characters. systemd-nspawn shortens a
  # longer `ve-<name>` / `vb-<name>` to 15 characters with a hash and gives the link the full
  # name as an alternative name, which networkd's `Name=` matches.
  maxNameLength = 63;

  assertionsFor = name: _: [
    {
      assertion = common.isValidName name;
      message = "${common.where name}: the container name `${name}` is not a valid host name: use letters, digits and `-` (not at the start or end).";
    }
    {
      assertion = lib.stringLength name <= maxNameLength;
      message = "${common.where name}: the container name has ${toString (lib.stringLength name)} characters, but a host name label (and so a machine name) has at most ${toString maxNameLength}.";
    }
  ];
in
{
  imports = [
    # First, so that the lists it shares with ./host/attachments.nix (dhcpcd's and
    # NetworkManager's) keep their order: the container links' wildcards last.
    ./host/network.nix
    ./host/attachments.nix
    ./host/binds.nix
    ./host/credentials.nix
    ./host/devices.nix
    ./host/evaluation.nix
    ./host/lifecycle.nix
    ./host/ports.nix
    ./host/service.nix
    ./host/store.nix
  ];

  # The feature modules add their options to each container.
  options.nixos-nspawn.containers = lib.mkOption {
    type = lib.types.attrsOf (lib.types.submodule { });
    default = { };
    example = lib.literalExpression ''
      {
        web = {
          config = { services.nginx.enable = true; networking.firewall.allowedTCPPorts = [ 80 ]; };
          binds."/var/lib/web".hostPath = "/srv/web";
        };
      }
    '';
    description = ''
      Ephemeral NixOS containers, each run by `systemd-nspawn@<name>.service`. The name is the
      machine name (`machinectl`) and the default host name: letters, digits and `-` (not at
      either end), at most 63 characters. The host side of its link is `ve-<name>` (`vb-<name>`
      on a bridge); systemd-nspawn shortens a name longer than Linux's 15 characters with a
      hash (`ve-<prefix>-<hash>`) and gives the link the full name as an alternative name,
      which networkd's `Name=` and `ip link show dev ve-<name>` match (Linux 5.5 or newer).
    '';
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions = lib.concatLists (lib.mapAttrsToList assertionsFor cfg.containers);

    warnings = lib.optional (!lib.elem "mymachines" config.system.nssDatabases.hosts) "nixos-nspawn: `mymachines` is missing from system.nssDatabases.hosts, so container names do not resolve on the host.";
  };
}
