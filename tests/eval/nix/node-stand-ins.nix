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
    # nixos/modules/system/activation/specialisation.nix; the configuration is a module the
    # real option evaluates as a system of its own (inheriting the parent's definitions).
    specialisation = mkOption {
      type = types.attrsOf (
        types.submodule {
          options.configuration = mkOption {
            type = types.deferredModule;
            default = { };
          };
          options.inheritParentConfig = mkOption {
            type = types.bool;
            default = true;
          };
        }
      );
      default = { };
    };
    networking.firewall.allowedTCPPorts = mkOption {
      type = types.listOf types.port;
      default = [ ];
    };
    environment.systemPackages = mkOption {
      type = types.listOf types.anything;
      default = [ ];
    };
    fileSystems = mkOption {
      type = types.attrsOf (types.attrsOf types.anything);
      default = { };
    };
  };
}
