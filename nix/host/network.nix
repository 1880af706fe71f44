# A container's network: its own namespace with a link to the host (`network.veth`: the veth
# `ve-<name>` or a zone's bridge `vz-<zone>`, the networkd units of both ends, the host's
# firewall for them, and the other network managers of the host, dhcpcd and NetworkManager,
# kept off the container links), or the host's network (`network.private = false`), or a
# namespace that exists already (`network.namespace`).
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  common = import ./common.nix { inherit lib; };
  inherit (import ../unit-values.nix { inherit lib; })
    checkSettings
    checkUnitValue
    ;
  inherit (common) maxInterfaceName;

  inherit (common) sharesNetwork;

  # What needs a namespace of the container's own, by option (`network.veth.enable` is checked
  # on its own: it is on by default, and off by default for these containers).
  ownNamespaceOnly = c: {
    "network.veth.zone" = c.network.veth.zone != null;
    "network.veth.bridge" = c.network.veth.bridge != null;
    "network.extraVeths" = c.network.extraVeths != { };
    "network.macvlans" = c.network.macvlans != [ ];
    "network.interfaces" = c.network.interfaces != [ ];
    "forwardPorts" = c.forwardPorts != [ ];
  };

  # An interface-name prefix as the host's firewall backend spells a wildcard.
  # (`networking.firewall.backend` exists since NixOS 25.11; before, nftables.enable decided.)
  linkWildcard =
    prefix:
    let
      backend =
        config.networking.firewall.backend
          or (if config.networking.nftables.enable then "nftables" else "iptables");
    in
    if backend == "nftables" then ''"${prefix}*"'' else "${prefix}+";

  vethEnabled = lib.filterAttrs (_: c: c.network.veth.enable) cfg.containers;
  zoneOf = c: if c.network.veth.enable then c.network.veth.zone else null;
  zones = lib.unique (lib.filter (z: z != null) (lib.mapAttrsToList (_: zoneOf) cfg.containers));
  zoneMembers = zone: lib.filterAttrs (_: c: zoneOf c == zone) cfg.containers;
  # Containers whose veth is a link of its own, `ve-<name>` (not a port of a zone's or the
  # host's bridge, see ./attachments.nix).
  ownVeth = lib.filterAttrs (_: c: zoneOf c == null && c.network.veth.bridge == null) vethEnabled;

  # networkd settings of the host side of a container link: the veth `ve-<name>` or the zone
  # bridge `vz-<zone>` (which systemd-nspawn creates itself). Like systemd's own
  # 80-container-ve.network / 80-container-vz.network, plus mDNS. Every value is a default.
  hostLinkNetwork =
    {
      ifname,
      kind,
      pool,
    }:
    lib.mapAttrsRecursive (_: lib.mkDefault) {
      matchConfig = {
        Name = ifname;
        Kind = kind;
      };
      networkConfig = {
        # 0.0.0.0/N and ::/64: networkd allocates a free subnet from its address pool.
        Address = [
          "0.0.0.0/${pool}"
          "::/64"
        ];
        DHCPServer = true;
        IPMasquerade = "both";
        LinkLocalAddressing = "yes";
        IPv6AcceptRA = false;
        IPv6SendRA = true;
        MulticastDNS = true;
        LLDP = true;
        EmitLLDP = "customer-bridge";
      };
      # The link appears only when a container starts: never wait for it at boot.
      linkConfig.RequiredForOnline = "no";
    };

  # networkd settings of `host0`, the container's end of the link. Every value is a default.
  containerLinkNetwork = lib.mapAttrsRecursive (_: lib.mkDefault) {
    matchConfig = {
      Name = "host0";
      Kind = "veth";
      Virtualization = "container";
    };
    networkConfig = {
      DHCP = "yes";
      LinkLocalAddressing = "yes";
      IPv6AcceptRA = true;
      MulticastDNS = true;
      LLDP = true;
      EmitLLDP = "customer-bridge";
    };
  };

  # The host side's networkd units: one per container with a veth of its own, and one per zone
  # (its bridge), merged from the defaults and the `network.veth.config.host` of every member.
  vethNetworks = lib.mapAttrs' (
    name: c:
    lib.nameValuePair "10-ve-${name}" (
      lib.mkMerge [
        (hostLinkNetwork {
          ifname = "ve-${name}";
          kind = "veth";
          pool = "28";
        })
        c.network.veth.config.host
      ]
    )
  ) ownVeth;
  zoneNetworks = lib.listToAttrs (
    map (
      zone:
      lib.nameValuePair "10-vz-${zone}" (
        lib.mkMerge (
          [
            (hostLinkNetwork {
              ifname = "vz-${zone}";
              kind = "bridge";
              pool = "24";
            })
          ]
          ++ lib.mapAttrsToList (_: c: c.network.veth.config.host) (zoneMembers zone)
        )
      )
    ) zones
  );

  # The container's end of its link, in its own NixOS evaluation.
  containerLink =
    c:
    { pkgs, ... }:
    {
      # Without a namespace of its own, the container's root has no privileges over its
      # network (the namespace belongs to the host's user namespace): its firewall could not
      # load a rule there.
      networking.firewall.enable = lib.mkIf (sharesNetwork c) (lib.mkDefault false);
      networking.firewall.interfaces = lib.mkIf c.network.veth.enable {
        host0.allowedUDPPorts = [
          5353 # mDNS
        ];
      };
      systemd.network.networks."10-host0" = lib.mkIf c.network.veth.enable (
        lib.mkMerge [
          containerLinkNetwork
          c.network.veth.config.container
        ]
      );
      # host0 up before the container's networkd starts, as nixpkgs' classic containers do in
      # their init script. The host's networkd configures its end (address, DHCP server) only
      # once the veth has a carrier, and the container's DHCP client sends its first DISCOVER as
      # soon as it sees that carrier: when both happen together, the DISCOVER can be lost and is
      # resent only 3 to 5 s later. Up early, the host's end is ready before the client starts.
      # networkd then configures the link as its settings say; set this service's `enable` to
      # false to leave host0 to networkd alone.
      systemd.services.nixos-nspawn-host0 = lib.mkIf c.network.veth.enable {
        description = "Bring up host0 before systemd-networkd configures it";
        wantedBy = [ "systemd-networkd.service" ];
        before = [ "systemd-networkd.service" ];
        unitConfig.DefaultDependencies = false;
        serviceConfig = {
          Type = "oneshot";
          ExecStart = "${pkgs.iproute2}/bin/ip link set dev host0 up";
        };
      };
    };

  # One side's settings (`network.veth.config.<side>`). Its `extraConfig` is raw unit text by
  # nixpkgs' definition (lines appended to the unit): the user's own, not checked.
  checkLinkSettings = where: settings: checkSettings where (removeAttrs settings [ "extraConfig" ]);

  sharedNetworkAssertions =
    name: c:
    let
      where = common.where name;
      ns = c.network.namespace;
      shared =
        if ns != null then
          "`network.namespace` joins the network namespace `${ns}`"
        else
          "`network.private = false` shares the host's network";
    in
    [
      {
        assertion = c.network.private || ns == null;
        message = "${where}.network.namespace: the container joins `${toString ns}`, but `network.private` is false (the host's network): set one of the two.";
      }
      {
        assertion = !c.network.veth.enable;
        message = "${where}.network.veth.enable: ${shared}, where systemd-nspawn cannot add the container's veth link: set `network.veth.enable = false` (the default there).";
      }
    ]
    ++ lib.mapAttrsToList (option: isSet: {
      assertion = !isSet;
      message = "${where}.${option}: ${shared}; `${option}` needs a network namespace of the container's own.";
    }) (ownNamespaceOnly c)
    ++ lib.optionals (ns != null) (
      [
        {
          assertion = lib.hasPrefix "/" ns;
          message = "${where}.network.namespace: ${builtins.toJSON ns} is not an absolute path (such as /run/netns/<name>).";
        }
      ]
      # Quoted for the command line (escapeExecArg), but a path has no use for control
      # characters or whitespace at its ends.
      ++ checkUnitValue "${where}.network.namespace" ns
    );

  assertionsFor =
    name: c:
    let
      where = common.where name;
      zone = c.network.veth.zone;
      zoneIf = "vz-${zone}";
    in
    lib.optionals (sharesNetwork c) (sharedNetworkAssertions name c)
    ++ lib.optionals (zone != null) [
      {
        assertion = c.network.veth.enable || sharesNetwork c;
        message = "${where}: `network.veth.zone` is set to `${zone}`, but `network.veth.enable` is false; a zone needs the veth link.";
      }
      {
        assertion = common.isValidName zone;
        message = "${where}: the zone name `${zone}` is not valid: use letters, digits and `-` (not at the start or end).";
      }
      {
        assertion = lib.stringLength zoneIf <= maxInterfaceName;
        message = "${where}: the zone bridge name `${zoneIf}` has ${toString (lib.stringLength zoneIf)} characters, but Linux allows at most ${toString maxInterfaceName}: use a zone name of at most ${toString (maxInterfaceName - 3)} characters.";
      }
    ]
    ++ checkLinkSettings "${where}.network.veth.config.host" c.network.veth.config.host
    ++ checkLinkSettings "${where}.network.veth.config.container" c.network.veth.config.container;
in
{
  options.nixos-nspawn.containers = lib.mkOption {
    # Declared in ../host.nix; this module adds options to every container.
    type = lib.types.attrsOf (
      lib.types.submodule (
        { config, ... }:
        {
          options.network.private = lib.mkOption {
            type = lib.types.bool;
            default = true;
            example = false;
            description = ''
              Whether the container gets a network namespace of its own (as classic containers'
              `privateNetwork`, whose default is the opposite). `false` shares the host's network:
              the container sees the host's interfaces and addresses and its services listen on
              them, with no veth link, zone, port forwarding or other attachment (an assertion
              names any that is set). Root in the container has no privileges over the host's
              network (its user namespace is not the host's): it cannot bind ports below 1024
              or change interfaces.
            '';
          };

          options.network.namespace = lib.mkOption {
            type = lib.types.nullOr lib.types.str;
            default = null;
            example = "/run/netns/vpn";
            description = ''
              The path of a network namespace that the container joins (as classic containers'
              `networkNamespace`), such as one that `ip netns add` made under /run/netns: the
              unit runs systemd-nspawn in it (`NetworkNamespacePath=`), and the container, with
              no namespace of its own, shares it. The namespace must exist when the container
              starts, and whatever made it configures it. As with
              {option}`network.private` set to false, the container has no veth link, zone,
              port forwarding or other attachment, and root in it cannot bind ports below 1024
              (the namespace belongs to the host's user namespace).
            '';
          };

          options.network.veth = {
            enable = lib.mkOption {
              type = lib.types.bool;
              default = true;
              example = false;
              description = ''
                Whether the container gets a virtual Ethernet link to the host (`host0` in the
                container, `ve-<name>` on the host, or a port of the zone bridge). Without it,
                the container has a private network namespace with only loopback. Off by
                default when {option}`network.private` is false or {option}`network.namespace`
                is set.
              '';
            };

            zone = lib.mkOption {
              type = lib.types.nullOr lib.types.str;
              default = null;
              example = "lab";
              description = ''
                Attach the container's link to the bridge `vz-<zone>`, shared by all containers
                of the zone (systemd-nspawn's `Zone=`), instead of a veth of its own. The host
                side of the zone is configured once, from the defaults and the
                {option}`network.veth.config.host` of every member.
              '';
            };

            config.host = lib.mkOption {
              type = lib.types.attrsOf lib.types.anything;
              default = { };
              example = lib.literalExpression ''
                {
                  networkConfig = {
                    DHCPServer = false;
                    Address = [ "fc42::1/64" "192.168.42.1/24" ];
                  };
                }
              '';
              description = ''
                systemd-networkd network unit settings (as in
                {option}`systemd.network.networks.<name>`) for the host side, `ve-<name>` or
                `vz-<zone>`, merged over the defaults: DHCP server, masquerading, link-local
                addressing, IPv6 router advertisements, mDNS, and an address from networkd's
                pool. Every value set here wins over the default of the same key.

                Keys and values are written into the unit file as they are, so they are checked
                at any depth: keys are setting names (letters, digits and `-`, starting with a
                letter), and string values hold no control characters, do not end in a backslash
                and have no whitespace at either end. `extraConfig` is raw unit text and is not
                checked.
              '';
            };

            config.container = lib.mkOption {
              type = lib.types.attrsOf lib.types.anything;
              default = { };
              example = lib.literalExpression ''
                {
                  networkConfig = {
                    DHCP = "no";
                    Address = [ "fc42::2/64" "192.168.42.2/24" ];
                    Gateway = [ "fc42::1" "192.168.42.1" ];
                  };
                }
              '';
              description = ''
                systemd-networkd network unit settings for `host0` in the container, merged over
                the defaults: DHCP client, link-local addressing, IPv6 router advertisements and
                mDNS. Every value set here wins over the default of the same key. Applies to
                containers evaluated from {option}`nixos-nspawn.containers.<name>.config`.
                Checked as {option}`network.veth.config.host` is.
              '';
            };
          };

          config = {
            network.veth.enable = lib.mkIf (sharesNetwork config) (lib.mkDefault false);
            containerModules = [ (containerLink config) ];
          };
        }
      )
    );
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions = lib.concatLists (lib.mapAttrsToList assertionsFor cfg.containers);

    systemd.nspawn = lib.mapAttrs (_: c: {
      # The .nspawn file wins over the template's `--network-veth` (`--settings=override`).
      networkConfig = {
        Private = lib.mkDefault (!sharesNetwork c);
        VirtualEthernet = c.network.veth.enable;
      }
      // lib.optionalAttrs (zoneOf c != null) { Zone = zoneOf c; };
    }) (common.runnable cfg.containers);

    # systemd-nspawn itself runs in the namespace (the unit's NetworkNamespacePath=), and the
    # container, without a namespace of its own (Private=no above), shares it. (nspawn's
    # `--network-namespace-path=` on the command line, with the .nspawn file's Private=no, left
    # the container outside the namespace on the runtime tier's systemd 252.)
    systemd.services = lib.mapAttrs' (
      name: c:
      lib.nameValuePair (common.service name) {
        serviceConfig.NetworkNamespacePath = c.network.namespace;
      }
    ) (lib.filterAttrs (_: c: c.network.namespace != null) (common.runnable cfg.containers));

    # networkd runs for the container links only; the host's own interfaces stay with whatever
    # manages them (scripted networking, NetworkManager or networkd). On a dhcpcd host NixOS warns
    # that networkd and dhcpcd could manage the same interfaces: ours match only ve-*/vz-*, and
    # dhcpcd is kept off those below (nixpkgs #69414 is what happens otherwise).
    systemd.network.enable = true;
    # On a host that does not use networkd for itself, networkd must not remove the routes and
    # routing policy rules that other tools (VPNs, container engines) install.
    systemd.network.config.networkConfig = lib.mkIf (!config.networking.useNetworkd) {
      ManageForeignRoutes = lib.mkDefault false;
      ManageForeignRoutingPolicyRules = lib.mkDefault false;
    };
    systemd.network.wait-online.enable = lib.mkIf (!config.networking.useNetworkd) (
      lib.mkDefault false
    );

    systemd.network.networks = vethNetworks // zoneNetworks;

    # The firewall inserts these names verbatim into its rules, and the backends spell an
    # interface-name prefix differently: iptables `-i ve-+`, nftables `iifname "ve-*"`.
    networking.firewall.interfaces = lib.genAttrs (map linkWildcard [ "ve-" "vz-" ]) (_: {
      allowedUDPPorts = [
        67 # DHCP
        5353 # mDNS
      ];
    });

    # Keep other network managers off the container links (`vb-*` are the zone bridge ports).
    networking.dhcpcd.denyInterfaces = lib.mkIf config.networking.dhcpcd.enable [
      "ve-*"
      "vb-*"
      "vz-*"
    ];
    networking.networkmanager.unmanaged = lib.mkIf config.networking.networkmanager.enable [
      "interface-name:ve-*"
      "interface-name:vb-*"
      "interface-name:vz-*"
    ];
  };
}
