# NixOS options that the generated tests and the catalogue's [host].config set on the test's
# host VM beyond those of tests/eval/stand-ins.nix (the module's own stand-ins): the VM sizing
# of nixos/modules/virtualisation/qemu-vm.nix and the few settings the scenarios use.
{ lib }:
let
  inherit (lib) mkOption types;
in
{
  options = {
    virtualisation.memorySize = mkOption {
      type = types.ints.positive;
      default = 1024;
    };
    virtualisation.diskSize = mkOption {
      type = types.ints.positive;
      default = 1024;
    };
    systemd.tmpfiles.rules = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
    networking.firewall.filterForward = mkOption {
      type = types.bool;
      default = false;
    };
    networking.firewall.allowedTCPPorts = mkOption {
      type = types.listOf types.port;
      default = [ ];
    };
    environment.systemPackages = mkOption {
      type = types.listOf types.raw;
      default = [ ];
    };
  };
}
