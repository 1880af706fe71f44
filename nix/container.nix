# The guest side of nixos-nspawn: what a NixOS system needs to run as an ephemeral
# systemd-nspawn container (the host module enables it for every container it evaluates).
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;

  # nixpkgs' container-config.nix sets some of the same options with mkDefault for every
  # container (boot.isContainer): our choice must win over that and lose to any user setting.
  containerDefault = lib.mkOverride 900;
in
{
  options.nixos-nspawn.isContainer = lib.mkOption {
    type = lib.types.bool;
    default = false;
    example = true;
    description = ''
      Whether this NixOS system runs as a nixos-nspawn container. Set by the host module for
      containers it evaluates from {option}`nixos-nspawn.containers.<name>.config`; set it
      yourself when you build a container system for {option}`nixos-nspawn.containers.<name>.path`.
    '';
  };

  config = lib.mkIf cfg.isContainer {
    boot.isContainer = true;

    # systemd-nspawn mounts these itself.
    boot.specialFileSystems = {
      "/dev".enable = false;
      "/dev/pts".enable = false;
      "/dev/shm".enable = false;
      "/proc".enable = false;
      "/run".enable = false;
    };

    # `machinectl login` and the nspawn console: root may log in without a password. Only root
    # on the host can reach either. Priority 150 beats NixOS' default and loses to any setting.
    console.enable = containerDefault true;
    users.users.root.initialHashedPassword = lib.mkOverride 150 "";

    # networkd configures host0 (see the host module); nothing of the host's resolv.conf.
    networking = {
      useNetworkd = lib.mkDefault true;
      useDHCP = lib.mkDefault false;
      useHostResolvConf = containerDefault false;
    };

    # The store is the host's, read-only and owned by IDs outside the container's user
    # namespace: no nix daemon (and so no /nix/var) in here, and logrotate, which insists on
    # root-owned configuration files, would only fail.
    nix.enable = lib.mkDefault false;
    services.logrotate.enable = lib.mkDefault false;
  };
}
