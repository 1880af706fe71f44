# What a container may use beyond systemd-nspawn's defaults: tmpfs mounts, capabilities, device
# nodes and the TUN device, as NixOS' classic containers' `tmpfs`, `additionalCapabilities`,
# `allowedDevices` and `enableTun`.
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  common = import ./common.nix { inherit lib; };
  inherit (import ../unit-values.nix { inherit lib; }) checkPath checkUnitValue showValue;

  deviceModule = {
    options = {
      node = lib.mkOption {
        type = lib.types.str;
        example = "/dev/fuse";
        description = ''
          The device node on the host, bound to the same path in the container: a path below
          `/dev/` of letters, digits and `_ . + @ / -`, without `.`, `..` or empty components.
        '';
      };
      modifier = lib.mkOption {
        type = lib.types.strMatching "[rwm]+";
        default = "rwm";
        example = "rw";
        description = "What the container may do with the device: `r`ead, `w`rite, `m`knod (as in `DeviceAllow=`).";
      };
    };
  };

  tun = {
    node = "/dev/net/tun";
    modifier = "rwm";
  };

  capabilitiesOf = c: lib.unique (c.capabilities ++ lib.optional c.enableTun "CAP_NET_ADMIN");
  # /dev/net/tun is made by systemd-nspawn itself in every container: it is allowed, not bound.
  allowedDevices = c: c.devices ++ lib.optional c.enableTun tun;

  privileged = lib.filterAttrs (
    _: c: c.tmpfs != [ ] || c.capabilities != [ ] || c.devices != [ ] || c.enableTun
  ) cfg.containers;

  assertionsFor =
    name: c:
    let
      at = "${common.where name}";
    in
    lib.concatLists (
      lib.imap0 (
        i: entry:
        let
          entryAt = "${at}.tmpfs[${toString i}]";
          unwritable = checkUnitValue entryAt entry;
        in
        # The path is what comes before the options (`PATH:OPTIONS`).
        (if unwritable != [ ] then unwritable else checkPath entryAt (lib.head (lib.splitString ":" entry)))
        ++ [
          {
            assertion = lib.hasPrefix "/" entry;
            message = "${entryAt}: ${showValue entry} is not an absolute path (`/path` or `/path:options`).";
          }
        ]
      ) c.tmpfs
    )
    ++ lib.imap0 (i: capability: {
      assertion = builtins.match "CAP_[A-Z0-9_]+|all" capability != null;
      message = "${at}.capabilities[${toString i}]: ${showValue capability} is not a capability name such as `CAP_NET_ADMIN` (or `all`).";
    }) c.capabilities
    ++ lib.concatLists (
      lib.imap0 (
        i: device:
        let
          nodeAt = "${at}.devices[${toString i}].node";
        in
        # `/dev/../etc/shadow` and `/dev/.` are of these characters, but lead out of (or are)
        # /dev: only a path without such components is below it.
        if builtins.match "/dev/[A-Za-z0-9_.+@/-]+" device.node != null then
          checkPath nodeAt device.node
        else
          [
            {
              assertion = false;
              message = "${nodeAt}: ${showValue device.node} is not a device node path this module writes: a path below `/dev/` of letters, digits and `_ . + @ / -`.";
            }
          ]
      ) c.devices
    );
in
{
  options.nixos-nspawn.containers = lib.mkOption {
    type = lib.types.attrsOf (
      lib.types.submodule {
        options = {
          tmpfs = lib.mkOption {
            type = lib.types.listOf lib.types.str;
            default = [ ];
            example = [
              "/var/tmp"
              "/var/cache/app:mode=0700"
            ];
            description = ''
              Empty tmpfs file systems mounted in the container (systemd-nspawn's
              `TemporaryFileSystem=`), each `PATH` or `PATH:OPTIONS` as `--tmpfs=` takes it.
            '';
          };

          capabilities = lib.mkOption {
            type = lib.types.listOf lib.types.str;
            default = [ ];
            example = [ "CAP_IPC_LOCK" ];
            description = ''
              Capabilities the container keeps beyond systemd-nspawn's default set
              (`Capability=`; classic containers' `additionalCapabilities`). They apply within
              the container's user namespace. A container with its own network namespace (the
              default) already has `CAP_NET_ADMIN`.
            '';
          };

          devices = lib.mkOption {
            type = lib.types.listOf (lib.types.submodule deviceModule);
            default = [ ];
            example = [
              {
                node = "/dev/fuse";
                modifier = "rwm";
              }
            ];
            description = ''
              Device nodes of the host the container may use (classic containers'
              `allowedDevices`): each is bound into the container at the same path (not
              idmapped: a device node keeps its owner, `nobody` in the container unless it is
              world-accessible) and allowed to the unit (`DeviceAllow=`).
            '';
          };

          enableTun = lib.mkOption {
            type = lib.types.bool;
            default = false;
            example = true;
            description = ''
              Whether the container may create TUN/TAP interfaces (for VPNs): it keeps
              `CAP_NET_ADMIN` and may use `/dev/net/tun`, which systemd-nspawn creates in every
              container. systemd's own `systemd-nspawn@.service` already allows that device and
              a container with its own network namespace keeps that capability; this states
              both for the container, whatever the template or `Private=` say.
            '';
          };
        };
      }
    );
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions = lib.concatLists (lib.mapAttrsToList assertionsFor privileged);

    systemd.nspawn = lib.mapAttrs (_: c: {
      execConfig = lib.optionalAttrs (capabilitiesOf c != [ ]) { Capability = capabilitiesOf c; };
      filesConfig =
        lib.optionalAttrs (c.tmpfs != [ ]) { TemporaryFileSystem = c.tmpfs; }
        // lib.optionalAttrs (c.devices != [ ]) { Bind = map (device: device.node) c.devices; };
    }) (common.runnable privileged);

    systemd.services = lib.mapAttrs' (
      name: c:
      lib.nameValuePair (common.service name) {
        serviceConfig.DeviceAllow = map (device: "${device.node} ${device.modifier}") (allowedDevices c);
      }
    ) (lib.filterAttrs (_: c: allowedDevices c != [ ]) (common.runnable privileged));
  };
}
