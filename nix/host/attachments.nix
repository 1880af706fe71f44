# Network attachments beyond the container's own veth link, as NixOS' classic containers have
# them: joining a bridge of the host, extra veth pairs, MACVLAN interfaces and host interfaces
# moved into the container. Every networkd setting written here is a default.
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  common = import ./common.nix { inherit lib; };
  inherit (common) checkInterfaceName interfaceDevice;

  extraVethModule =
    { name, ... }:
    {
      options = {
        containerName = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
          example = "eth1";
          description = "The name of the pair's end in the container; `null` means the host end's name.";
        };
        hostBridge = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
          example = "br1";
          description = ''
            A bridge of the host that the host end joins (networkd's `Bridge=`), as classic
            containers' `extraVeths.<name>.hostBridge`.
          '';
        };
      };
    };

  containerEnd =
    hostName: veth: if veth.containerName == null then hostName else veth.containerName;

  # The links of a container and their default networkd settings in it (only for containers
  # evaluated from `config`).
  containerNetworks =
    c:
    lib.mapAttrs' (
      hostName: veth:
      lib.nameValuePair "10-extra-${containerEnd hostName veth}" {
        matchConfig = {
          Name = containerEnd hostName veth;
          Kind = "veth";
        };
      }
    ) c.network.extraVeths
    // lib.listToAttrs (
      map (
        parent:
        lib.nameValuePair "10-mv-${parent}" {
          matchConfig = {
            Name = "mv-${parent}";
            Kind = "macvlan";
          };
          networkConfig.DHCP = "yes";
        }
      ) c.network.macvlans
    )
    // lib.listToAttrs (
      map (
        ifname:
        lib.nameValuePair "10-moved-${ifname}" {
          matchConfig.Name = ifname;
          networkConfig.DHCP = "yes";
        }
      ) c.network.interfaces
    );

  # The host interfaces a container needs when it starts (its unit waits for their devices).
  hostInterfaces =
    c:
    lib.optional (c.network.veth.bridge != null) c.network.veth.bridge
    ++ c.network.macvlans
    ++ c.network.interfaces;

  # Host interfaces that belong to containers: the host ends of extra veths, and interfaces
  # moved into a container (which come back when it stops). No other network manager of the
  # host may configure them.
  containerOwned = lib.unique (
    lib.concatLists (
      lib.mapAttrsToList (
        _: c: lib.attrNames c.network.extraVeths ++ c.network.interfaces
      ) cfg.containers
    )
  );

  attached = lib.filterAttrs (
    _: c:
    c.network.veth.bridge != null
    || c.network.extraVeths != { }
    || c.network.macvlans != [ ]
    || c.network.interfaces != [ ]
  ) cfg.containers;

  # Each interface name that `names` gives for more than one container, with those containers.
  doubleClaims =
    names:
    lib.filterAttrs (_: claimants: lib.length claimants > 1) (
      lib.zipAttrs (
        lib.concatLists (
          lib.mapAttrsToList (
            container: c: map (ifname: { ${ifname} = container; }) (names c)
          ) cfg.containers
        )
      )
    );

  assertionsFor =
    name: c:
    let
      at = "${common.where name}.network";
      inherit (c.network.veth) bridge;
    in
    lib.optionals (bridge != null) (
      [
        {
          assertion = c.network.veth.enable || common.sharesNetwork c;
          message = "${at}.veth.bridge: the bridge `${bridge}` is set, but `network.veth.enable` is false; joining a bridge needs the veth link.";
        }
        {
          assertion = c.network.veth.zone == null;
          message = "${at}.veth.bridge: the container is in the zone `${toString c.network.veth.zone}` and on the bridge `${bridge}`; its veth link can join one of them only.";
        }
      ]
      ++ checkInterfaceName "${at}.veth.bridge" bridge
    )
    ++ lib.concatLists (
      lib.mapAttrsToList (
        hostName: veth:
        let
          vethAt = "${at}.extraVeths.${lib.strings.escapeNixIdentifier hostName}";
        in
        checkInterfaceName vethAt hostName
        ++ lib.optionals (veth.containerName != null) (
          checkInterfaceName "${vethAt}.containerName" veth.containerName
        )
        ++ lib.optionals (veth.hostBridge != null) (
          checkInterfaceName "${vethAt}.hostBridge" veth.hostBridge
        )
      ) c.network.extraVeths
    )
    ++ lib.concatLists (lib.imap0 (i: checkInterfaceName "${at}.macvlans[${toString i}]") c.network.macvlans)
    ++ lib.concatLists (
      lib.imap0 (i: checkInterfaceName "${at}.interfaces[${toString i}]") c.network.interfaces
    );
in
{
  options.nixos-nspawn.containers = lib.mkOption {
    type = lib.types.attrsOf (
      lib.types.submodule (
        { config, ... }:
        {
          options.network = {
            veth.bridge = lib.mkOption {
              type = lib.types.nullOr lib.types.str;
              default = null;
              example = "br0";
              description = ''
                Attach the container's veth link to an existing bridge of the host
                (systemd-nspawn's `Bridge=`; the host end is `vb-<name>`), instead of a link of
                its own with the host as DHCP server and router: the container is a machine on
                the bridge's network, and `host0` takes DHCP from there. The host configures
                the bridge itself; the container's unit waits for its device. Exclusive with
                {option}`network.veth.zone`.
              '';
            };

            extraVeths = lib.mkOption {
              type = lib.types.attrsWith {
                placeholder = "hostName";
                elemType = lib.types.submodule extraVethModule;
              };
              default = { };
              example = lib.literalExpression ''
                { vx-web-db = { containerName = "db0"; hostBridge = "br1"; }; }
              '';
              description = ''
                Further veth pairs between host and container (systemd-nspawn's
                `VirtualEthernetExtra=`), keyed by the host end's name. networkd brings both
                ends up: the host end in `10-extra-<hostName>` (joining `hostBridge` if set),
                the container's end in `10-extra-<containerName>` in the container. Give them
                addresses there (`systemd.network.networks.<unit>`, host or container
                configuration). dhcpcd and NetworkManager are kept off the host ends. Names:
                at most 15 letters, digits, `_`, `-` and `.`.
              '';
            };

            macvlans = lib.mkOption {
              type = lib.types.listOf lib.types.str;
              default = [ ];
              example = [ "eth1" ];
              description = ''
                Host interfaces from which a MACVLAN interface is made for the container
                (systemd-nspawn's `MACVLAN=`): `mv-<interface>` in the container, a machine of
                its own on that interface's network. By default networkd in the container takes
                DHCP on it (`10-mv-<interface>`; its client identity is stable, the machine ID
                being fixed). The host cannot reach the container over it (MACVLAN's bridge
                mode does not hairpin to the parent). The unit waits for the host interface.
              '';
            };

            interfaces = lib.mkOption {
              type = lib.types.listOf lib.types.str;
              default = [ ];
              example = [ "eth2" ];
              description = ''
                Host interfaces moved into the container while it runs (systemd-nspawn's
                `Interface=`); a physical interface comes back when the container stops, a
                virtual one is deleted with it. The unit wants and is ordered after each
                interface's device (`sys-subsystem-net-devices-<interface>.device`). By
                default networkd in the container takes DHCP on it (`10-moved-<interface>`).
                dhcpcd and NetworkManager are kept off them on the host; networkd units of
                the host's own must not match them either.
              '';
            };
          };

          config.containerModules = [
            {
              systemd.network.networks = lib.mapAttrs (_: lib.mapAttrsRecursive (_: lib.mkDefault)) (
                containerNetworks config
              );
            }
          ];
        }
      )
    );
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions =
      lib.concatLists (lib.mapAttrsToList assertionsFor attached)
      ++ lib.mapAttrsToList (ifname: names: {
        assertion = false;
        message = "nixos-nspawn.containers: the host interface `${ifname}` is in `network.interfaces` of more than one container (${lib.concatStringsSep ", " names}); an interface can be moved into one container only.";
      }) (doubleClaims (c: c.network.interfaces))
      ++ lib.mapAttrsToList (ifname: names: {
        assertion = false;
        message = "nixos-nspawn.containers: `${ifname}` names the host end of `network.extraVeths` of more than one container (${lib.concatStringsSep ", " names}).";
      }) (doubleClaims (c: lib.attrNames c.network.extraVeths));

    systemd.nspawn = lib.mapAttrs (
      _: c:
      {
        networkConfig =
          lib.optionalAttrs (c.network.veth.bridge != null) { Bridge = c.network.veth.bridge; }
          // lib.optionalAttrs (c.network.extraVeths != { }) {
            # `hostName` alone when both ends have the same name.
            VirtualEthernetExtra = lib.mapAttrsToList (
              hostName: veth:
              let
                end = containerEnd hostName veth;
              in
              if end == hostName then hostName else "${hostName}:${end}"
            ) c.network.extraVeths;
          }
          // lib.optionalAttrs (c.network.macvlans != [ ]) { MACVLAN = c.network.macvlans; }
          // lib.optionalAttrs (c.network.interfaces != [ ]) { Interface = c.network.interfaces; };
      }
    ) (common.runnable attached);

    systemd.services = lib.mapAttrs' (
      name: c:
      let
        devices = map interfaceDevice (hostInterfaces c);
      in
      lib.nameValuePair (common.service name) {
        wants = devices;
        after = devices;
      }
    ) (lib.filterAttrs (_: c: hostInterfaces c != [ ]) (common.runnable attached));

    networking.dhcpcd.denyInterfaces = lib.mkIf config.networking.dhcpcd.enable containerOwned;
    networking.networkmanager.unmanaged = lib.mkIf config.networking.networkmanager.enable (
      map (ifname: "interface-name:${ifname}") containerOwned
    );

    systemd.network.networks = lib.concatMapAttrs (
      _: c:
      lib.mapAttrs' (
        hostName: veth:
        lib.nameValuePair "10-extra-${hostName}" (
          lib.mapAttrsRecursive (_: lib.mkDefault) (
            {
              matchConfig = {
                Name = hostName;
                Kind = "veth";
              };
              # The link appears only when the container starts: never wait for it at boot.
              linkConfig.RequiredForOnline = "no";
            }
            // lib.optionalAttrs (veth.hostBridge != null) {
              networkConfig.Bridge = veth.hostBridge;
            }
          )
        )
      ) c.network.extraVeths
    ) attached;
  };
}
