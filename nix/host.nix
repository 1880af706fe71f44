# The host side of nixos-nspawn: declarative, ephemeral NixOS containers run by systemd's own
# `systemd-nspawn@<name>.service`. This module only produces data (`systemd.nspawn.<name>`,
# networkd units, firewall rules, tmpfiles, a unit drop-in); NixOS renders it to files.
#
# The file, top to bottom:
# - let:
#   machineId .. runnable: container names, the firewall's interface wildcards, and which
#     containers have a veth of their own (`ownVeth`) or share a zone (`zones`);
#   hostLinkNetwork, containerLinkNetwork: networkd's defaults for both ends of a link;
#   vethNetworks, zoneNetworks: the host side's networkd units built from them;
#   escapeBindPath .. bindValues: the `Bind=` / `BindReadOnly=` values;
#   nspawnUnit: a container's .nspawn settings;
#   containerBaseModule: what the host adds to every container's NixOS evaluation;
#   bindModule, containerModule: the options of a bind and of a container;
#   assertionsFor, bindAssertions: what is checked before anything is written.
# - imports: the feature modules ./host/*.nix; each adds options to the container submodule
#   and settings of its own (./host/common.nix holds what they share with this file).
# - options.nixos-nspawn: `containers`, `imports` and the internal `evalConfig`.
# - config: assertions, .nspawn units, tmpfiles, the service drop-in, networkd, firewall, and
#   other network managers kept off the container links.
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}:
let
  cfg = config.nixos-nspawn;
  hostConfig = config;
  inherit (import ./unit-values.nix { inherit lib; })
    checkWritten
    checkUnitValue
    checkSettings
    showValue
    ;
  common = import ./host/common.nix { inherit lib; };
  inherit (common) maxInterfaceName;

  # A fixed machine ID per container name: the ephemeral root has no /etc/machine-id, so without
  # this every start would get a random ID, a new DHCP client identity (a new address) and a new
  # journal directory on the host.
  machineId = name: builtins.substring 0 32 (builtins.hashString "sha256" "nixos-nspawn:${name}");

  isValidName = name: builtins.match "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?" name != null;

  # A machine name is a host name label: at most 63 characters. systemd-nspawn shortens a
  # longer `ve-<name>` / `vb-<name>` to 15 characters with a hash and gives the link the full
  # name as an alternative name, which networkd's `Name=` matches.
  maxNameLength = 63;

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
  # host's bridge, see host/attachments.nix).
  ownVeth = lib.filterAttrs (_: c: zoneOf c == null && c.network.veth.bridge == null) vethEnabled;

  runnable = common.runnable cfg.containers;

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

  # nspawn splits `Bind=` on `:` and takes `\x` as `x` (extract_many_words without unescaping):
  # a backslash is escaped before, and with, every colon (one pass, so no escape is escaped again).
  escapeBindPath = lib.replaceStrings [ "\\" ":" ] [ "\\\\" "\\:" ];

  bindOptions = bind: lib.unique (lib.optional bind.idmap "idmap" ++ bind.options);

  # `Bind=` / `BindReadOnly=` values: hostPath:containerPath[:options].
  bindValues =
    readOnly: c:
    lib.mapAttrsToList (
      containerPath: bind:
      lib.concatStringsSep ":" (
        [
          (escapeBindPath bind.hostPath)
          (escapeBindPath containerPath)
        ]
        ++ lib.optional (bindOptions bind != [ ]) (lib.concatStringsSep "," (bindOptions bind))
      )
    ) (lib.filterAttrs (_: bind: bind.readOnly == readOnly) c.binds);

  # One side's settings (`network.veth.config.<side>`). Its `extraConfig` is raw unit text by
  # nixpkgs' definition (lines appended to the unit): the user's own, not checked.
  checkLinkSettings = where: settings: checkSettings where (removeAttrs settings [ "extraConfig" ]);

  nspawnUnit = name: c: {
    execConfig = {
      # Run the container's own NixOS init (stage 2) as PID 1 instead of looking for one.
      Boot = false;
      Parameters = "${c.path}/init";
    }
    // lib.mapAttrs (_: lib.mkDefault) {
      # The root file system is a throw-away copy of the empty /var/lib/machines/<name>.
      Ephemeral = true;
      PrivateUsers = "pick";
      # The unit becomes active once the container's systemd has booted (as NixOS' own
      # containers do), so `after = [ "systemd-nspawn@<name>.service" ]` means something.
      NotifyReady = true;
      # What systemd in the container understands as "shut down cleanly".
      KillSignal = "SIGRTMIN+3";
      MachineID = machineId name;
      LinkJournal = "try-host";
      # The container's NixOS configuration manages /etc/resolv.conf and the time zone.
      ResolvConf = "off";
      Timezone = "off";
    };
    filesConfig = {
      # With PrivateUsers=pick, systemd-nspawn derives the base from a hash of the machine name
      # (a random free range only if that one is taken), so it stays the same across restarts
      # without anything persistent. The ephemeral copy of the empty, root-owned
      # /var/lib/machines/<name> is chowned to it: cheap, as there is nothing in it. Binds are
      # idmapped by default (see `binds.<path>.idmap`), so their ownership does not depend on
      # the base at all.
      PrivateUsersOwnership = lib.mkDefault "chown";
      # What the container sees of /nix/store is ./host/store.nix's.
      BindReadOnly = bindValues true c;
      Bind = bindValues false c;
    };
    networkConfig = {
      Private = lib.mkDefault true;
      VirtualEthernet = c.network.veth.enable;
    }
    // lib.optionalAttrs (zoneOf c != null) { Zone = zoneOf c; };
  };

  # The module every container's NixOS evaluation gets from the host.
  containerBaseModule =
    name: c:
    { pkgs, ... }:
    {
      nixos-nspawn.isContainer = true;
      networking.hostName = lib.mkDefault name;
      nixpkgs.hostPlatform = lib.mkDefault pkgs.stdenv.hostPlatform;
      system.stateVersion = lib.mkDefault hostConfig.system.stateVersion;
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

  # `name` is the bind's attribute name, the path in the container (as in nixpkgs'
  # `bindMountOpts` of classic containers).
  bindModule =
    { name, ... }:
    {
      options = {
        hostPath = lib.mkOption {
          type = lib.types.str;
          default = name;
          defaultText = lib.literalMD "the attribute name: the same path as in the container";
          example = "/srv/postgresql";
          description = ''
            Path on the host. The path must exist when the container starts.
          '';
        };
        readOnly = lib.mkOption {
          type = lib.types.bool;
          default = false;
          example = true;
          description = "Whether the container sees the bind mount read-only (`BindReadOnly=`).";
        };
        idmap = lib.mkOption {
          type = lib.types.bool;
          default = true;
          example = false;
          description = ''
            Whether to idmap the bind mount (the `idmap` bind option): IDs in the container are the
            same IDs on the host, so files that container root writes belong to host root, and a
            service's files keep its UID, whatever user namespace range the container gets.
            Needs a file system with idmapped mounts (ext4, btrfs, xfs, tmpfs, ZFS 2.2, ...).
            Without it, the container sees host files through its shifted range: files owned by
            host root appear owned by `nobody`, and a writable bind must be owned by the
            container's range on the host.
          '';
        };
        options = lib.mkOption {
          type = lib.types.listOf lib.types.str;
          default = [ ];
          example = [ "norbind" ];
          description = ''
            Further bind mount options, see `--bind=` in {manpage}`systemd-nspawn(1)`, for example
            `norbind` or `rootidmap`: one option per entry (no `,` or `:`).
          '';
        };
      };
    };

  containerModule =
    {
      name,
      config,
      options,
      ...
    }:
    let
      # The container's own nixpkgs's eval-config.nix (host/evaluation.nix), or the host's.
      evalConfig =
        if config.nixpkgs == null then
          cfg.evalConfig
        else
          import "${toString config.nixpkgs}/nixos/lib/eval-config.nix";
    in
    {
      options = {
        config = lib.mkOption {
          description = ''
            The container's NixOS configuration, as a NixOS module. It is evaluated as a
            system of its own, with the container module, {option}`nixos-nspawn.imports` and
            `networking.hostName` defaulting to the container name.
          '';
          example = lib.literalExpression ''
            { pkgs, ... }: {
              services.nginx.enable = true;
              networking.firewall.allowedTCPPorts = [ 80 ];
              environment.systemPackages = [ pkgs.htop ];
            }
          '';
          type = lib.mkOptionType {
            name = "Toplevel NixOS config";
            merge =
              _loc: defs:
              (evalConfig {
                # The platform comes from the host's pkgs (nixpkgs.hostPlatform above).
                system = null;
                inherit (config) specialArgs;
                modules = [
                  ./container.nix
                  (containerBaseModule name config)
                ]
                ++ config.containerModules
                ++ cfg.imports
                ++ map (def: {
                  _file = def.file;
                  imports = [ def.value ];
                }) defs;
                prefix = [
                  "nixos-nspawn"
                  "containers"
                  name
                  "config"
                ];
              }).config;
          };
        };

        path = lib.mkOption {
          type = lib.types.nullOr lib.types.path;
          default = null;
          example = "/nix/var/nix/profiles/per-container/webserver";
          description = ''
            A prebuilt NixOS system toplevel to run instead of evaluating
            {option}`nixos-nspawn.containers.<name>.config`. Set automatically when `config`
            is used; set exactly one of the two. It becomes `Parameters=<path>/init`, so it
            holds no whitespace, quotes or control characters.
          '';
        };

        autoStart = lib.mkOption {
          type = lib.types.bool;
          default = true;
          example = false;
          description = ''
            Whether the container starts at boot: `machines.target` wants
            `systemd-nspawn@<name>.service`. Otherwise start it with `machinectl start <name>`.
          '';
        };

        restartIfChanged = lib.mkOption {
          type = lib.types.bool;
          default = true;
          example = false;
          description = ''
            Whether `nixos-rebuild switch` restarts the container when its system toplevel or
            its nspawn settings changed.
          '';
        };

        binds = lib.mkOption {
          type = lib.types.attrsWith {
            placeholder = "containerPath";
            elemType = lib.types.submodule bindModule;
          };
          default = { };
          example = lib.literalExpression ''
            {
              "/var/lib/postgresql".hostPath = "/srv/postgresql";
              "/etc/ssl/certs".readOnly = true;
            }
          '';
          description = ''
            Bind mounts from the host, keyed by the path in the container. They are the only
            state that survives a restart. The host path must exist when the container starts;
            binds are idmapped unless `idmap = false`. Paths may hold any character but control
            characters (`\` and `:` are escaped for `Bind=`), and no whitespace at either end,
            which systemd would strip.
          '';
        };

        network.veth = {
          enable = lib.mkOption {
            type = lib.types.bool;
            default = true;
            example = false;
            description = ''
              Whether the container gets a virtual Ethernet link to the host (`host0` in the
              container, `ve-<name>` on the host, or a port of the zone bridge). Without it,
              the container has a private network namespace with only loopback.
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

        containerModules = lib.mkOption {
          type = lib.types.listOf lib.types.deferredModule;
          internal = true;
          default = [ ];
          description = ''
            NixOS modules that the host's feature modules (nix/host/*.nix) add to this
            container's evaluation, such as networkd settings for the links they attach.
          '';
        };
      };

      config.path = lib.mkIf options.config.isDefined config.config.system.build.toplevel;
    };

  assertionsFor =
    name: c:
    let
      where = "nixos-nspawn.containers.${name}";
      zone = c.network.veth.zone;
      zoneIf = "vz-${zone}";
    in
    [
      {
        assertion = isValidName name;
        message = "${where}: the container name `${name}` is not a valid host name: use letters, digits and `-` (not at the start or end).";
      }
      {
        assertion = lib.stringLength name <= maxNameLength;
        message = "${where}: the container name has ${toString (lib.stringLength name)} characters, but a host name label (and so a machine name) has at most ${toString maxNameLength}.";
      }
      {
        assertion = c.path != null;
        message = "${where}: set either `config` (a NixOS module) or `path` (a prebuilt system toplevel).";
      }
    ]
    ++ lib.optionals (zone != null) [
      {
        assertion = c.network.veth.enable;
        message = "${where}: `network.veth.zone` is set to `${zone}`, but `network.veth.enable` is false; a zone needs the veth link.";
      }
      {
        assertion = isValidName zone;
        message = "${where}: the zone name `${zone}` is not valid: use letters, digits and `-` (not at the start or end).";
      }
      {
        assertion = lib.stringLength zoneIf <= maxInterfaceName;
        message = "${where}: the zone bridge name `${zoneIf}` has ${toString (lib.stringLength zoneIf)} characters, but Linux allows at most ${toString maxInterfaceName}: use a zone name of at most ${toString (maxInterfaceName - 3)} characters.";
      }
    ]
    ++ lib.concatLists (lib.mapAttrsToList (bindAssertions where) c.binds)
    # A user's `path` (not a toplevel evaluated from `config`) becomes `Parameters=<path>/init`,
    # which nspawn splits into words and unquotes.
    ++ lib.optionals (c.path != null && !lib.isDerivation c.path) (
      checkUnitValue "${where}.path" (toString c.path)
      ++ [
        {
          assertion = builtins.match "[^ \t\"']*" (toString c.path) != null;
          message = "${where}.path: ${showValue (toString c.path)} contains whitespace or quotes, which `Parameters=` in the .nspawn file would split or remove.";
        }
      ]
    )
    ++ checkLinkSettings "${where}.network.veth.config.host" c.network.veth.config.host
    ++ checkLinkSettings "${where}.network.veth.config.container" c.network.veth.config.container;

  bindAssertions =
    where: containerPath: bind:
    let
      at = "${where}.binds.${lib.strings.escapeNixIdentifier containerPath}";
    in
    [
      {
        assertion = lib.hasPrefix "/" containerPath && lib.hasPrefix "/" bind.hostPath;
        message = "${at}: bind mount paths must be absolute.";
      }
    ]
    ++ checkWritten at containerPath (escapeBindPath containerPath)
    # A host path that is the container path (the default) is checked once, as the latter.
    ++ lib.optionals (bind.hostPath != containerPath) (
      checkWritten "${at}.hostPath" bind.hostPath (escapeBindPath bind.hostPath)
    )
    ++ lib.concatLists (
      lib.imap0 (
        index: option:
        let
          optionAt = "${at}.options[${toString index}]";
        in
        checkUnitValue optionAt option
        ++ [
          {
            assertion = !lib.hasInfix "," option && !lib.hasInfix ":" option;
            message = "${optionAt}: ${showValue option} contains `,` or `:`, which separate bind options and paths in `Bind=`: give one option per entry.";
          }
        ]
      ) bind.options
    );

in
{
  # Each feature adds its options to the container submodule and its own settings.
  imports = [
    ./host/attachments.nix
    ./host/credentials.nix
    ./host/devices.nix
    ./host/evaluation.nix
    ./host/binds.nix
    ./host/ports.nix
    ./host/service.nix
    ./host/store.nix
  ];

  options.nixos-nspawn = {
    containers = lib.mkOption {
      type = lib.types.attrsOf (lib.types.submodule containerModule);
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

    imports = lib.mkOption {
      type = lib.types.listOf lib.types.deferredModule;
      default = [ ];
      example = lib.literalExpression ''
        [ { services.getty.helpLine = "Welcome to a nixos-nspawn container"; } ]
      '';
      description = ''
        NixOS modules added to the configuration of every container that uses
        {option}`nixos-nspawn.containers.<name>.config`.
      '';
    };

    evalConfig = lib.mkOption {
      type = lib.types.raw;
      internal = true;
      default = import "${modulesPath}/../lib/eval-config.nix";
      defaultText = lib.literalExpression ''import "''${modulesPath}/../lib/eval-config.nix"'';
      description = ''
        The function that evaluates a container's NixOS configuration (nixpkgs'
        `nixos/lib/eval-config.nix`). Only tests replace it.
      '';
    };
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions = lib.concatLists (lib.mapAttrsToList assertionsFor cfg.containers);

    warnings = lib.optional (!lib.elem "mymachines" config.system.nssDatabases.hosts) "nixos-nspawn: `mymachines` is missing from system.nssDatabases.hosts, so container names do not resolve on the host.";

    systemd.nspawn = lib.mapAttrs nspawnUnit runnable;

    # The container's root directory: empty, because every start copies it (Ephemeral=) and
    # everything a container runs comes from the store.
    systemd.tmpfiles.settings."10-nixos-nspawn" = lib.mapAttrs' (
      name: _:
      lib.nameValuePair "/var/lib/machines/${name}" common.rootDirectory
    ) cfg.containers;

    # Every container runs in a user namespace that root created, and the kernel charges the
    # inotify instances of everything in it to root's count in the host's namespace as well:
    # with Linux' default of 128, about ten booted containers exhaust it and the next one fails
    # with "Failed to allocate manager object: Too many open files" (seen on the runtime VM).
    # Priority below mkDefault, so any other module's default (or the user's value) wins.
    boot.kernel.sysctl."fs.inotify.max_user_instances" = lib.mkOverride 1200 8192;

    systemd.targets.machines.wants = lib.mapAttrsToList (name: _: "systemd-nspawn@${name}.service") (
      lib.filterAttrs (_: c: c.autoStart) runnable
    );

    # A drop-in for the upstream template instance; switch-to-configuration restarts the unit
    # when the triggers (the toplevel and the nspawn settings) change.
    systemd.services = lib.mapAttrs' (
      name: c:
      lib.nameValuePair "systemd-nspawn@${name}" {
        overrideStrategy = "asDropin";
        # Booting a NixOS system (NotifyReady) can take longer than systemd's default 90 s.
        serviceConfig.TimeoutStartSec = lib.mkDefault "5min";
        # The container's root holds no systemd for systemd-nspawn to find (NixOS' is in the
        # store, bound in later), and before systemd 257 nspawn then mounts the legacy cgroup v1
        # hierarchy for it, under which systemd 256 and later refuse to boot (older ones boot
        # "tainted: cgroupsv1"). nixpkgs' nixos-containers sets the same.
        environment.SYSTEMD_NSPAWN_UNIFIED_HIERARCHY = lib.mkDefault "1";
        restartIfChanged = c.restartIfChanged;
        restartTriggers = lib.optionals c.restartIfChanged [
          c.path
          (builtins.toJSON {
            inherit (config.systemd.nspawn.${name}) execConfig filesConfig networkConfig;
          })
        ];
      }
    ) runnable;

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
