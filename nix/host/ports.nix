# Port forwarding from the host into a container: classic containers' `forwardPorts`, as
# systemd-nspawn's `Port=`.
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  common = import ./common.nix { inherit lib; };

  portModule = {
    options = {
      protocol = lib.mkOption {
        type = lib.types.enum [
          "tcp"
          "udp"
        ];
        default = "tcp";
        example = "udp";
        description = "The protocol of the forwarded port.";
      };
      hostPort = lib.mkOption {
        type = lib.types.port;
        example = 8080;
        description = "The port on the host's addresses (1 to 65535).";
      };
      containerPort = lib.mkOption {
        type = lib.types.nullOr lib.types.port;
        default = null;
        example = 80;
        description = "The port in the container (1 to 65535); `null` means {option}`hostPort`.";
      };
    };
  };

  portValue =
    port:
    "${port.protocol}:${toString port.hostPort}:${
      toString (if port.containerPort == null then port.hostPort else port.containerPort)
    }";

  forwarded = lib.filterAttrs (_: c: c.forwardPorts != [ ]) cfg.containers;

  # Every (protocol, host port) forwarded, with the containers that forward it.
  claims = lib.zipAttrs (
    lib.concatLists (
      lib.mapAttrsToList (
        name: c: map (port: { "${port.protocol}:${toString port.hostPort}" = name; }) c.forwardPorts
      ) forwarded
    )
  );
in
{
  options.nixos-nspawn.containers = lib.mkOption {
    type = lib.types.attrsOf (
      lib.types.submodule {
        options.forwardPorts = lib.mkOption {
          type = lib.types.listOf (lib.types.submodule portModule);
          default = [ ];
          example = [
            {
              protocol = "tcp";
              hostPort = 8080;
              containerPort = 80;
            }
          ];
          description = ''
            Ports of the host forwarded to the container (systemd-nspawn's `Port=`): connections
            to `hostPort` on the host's addresses go to `containerPort` on the container's
            IPv4 address. The names and defaults are those of NixOS' classic
            `containers.<name>.forwardPorts`.

            It needs the container's veth link ({option}`network.veth.enable`, on its own, in a
            zone or on a bridge). systemd-nspawn's DNAT rules answer connections to the host's
            own non-loopback addresses, from the host itself and from other machines, but not
            to `localhost`/`127.0.0.1`. Connections from other machines are forwarded, so
            the host must forward IPv4 (on for `ve-*`/`vz-*` links, whose `IPMasquerade=`
            turns it on) and its firewall must let them through (NixOS' default firewall
            does not filter forwarded traffic; with `networking.firewall.filterForward` it
            does). Each protocol and host port is forwarded by one container only.
          '';
        };
      }
    );
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions =
      lib.mapAttrsToList (name: c: {
        assertion = c.network.veth.enable || common.sharesNetwork c;
        message = "${common.where name}: `forwardPorts` is set, but `network.veth.enable` is false: systemd-nspawn forwards ports only to a container with a veth link (its own, a zone's or a bridge's).";
      }) forwarded
      # `lib.types.port` includes 0, which systemd-nspawn's `Port=` parser refuses: it logs the
      # line and starts the container without the forward.
      ++ lib.concatLists (
        lib.mapAttrsToList (
          name: c:
          lib.concatLists (
            lib.imap0 (
              i: port:
              map
                (option: {
                  assertion = false;
                  message = "${common.where name}.forwardPorts[${toString i}].${option}: port 0 cannot be forwarded (systemd-nspawn ignores such a `Port=` setting): use a port from 1 to 65535.";
                })
                (
                  lib.optional (port.hostPort == 0) "hostPort"
                  ++ lib.optional (port.containerPort == 0) "containerPort"
                )
            ) c.forwardPorts
          )
        ) forwarded
      )
      ++ lib.mapAttrsToList (port: names: {
        assertion = lib.length names == 1;
        message = "nixos-nspawn.containers: ${port} is forwarded by more than one container (${lib.concatStringsSep ", " names}); each protocol and host port can go to one container only.";
      }) claims;

    systemd.nspawn = lib.mapAttrs (_: c: {
      networkConfig.Port = map portValue c.forwardPorts;
    }) (common.runnable forwarded);
  };
}
