# Stand-in *declarations* for the NixOS options that nix/host.nix and nix/container.nix set or
# read, so that nixpkgs' real module system can evaluate our modules without NixOS itself (which
# cannot be built here). The types are deliberately loose: they collect what our modules produce
# and nothing of ours is replaced. Defaults mirror NixOS' defaults where our modules read them.
{ lib }:
let
  inherit (lib) mkOption types;

  settings = mkOption {
    type = types.attrsOf types.anything;
    default = { };
  };
  flag =
    default:
    mkOption {
      type = types.bool;
      inherit default;
    };
  strings = mkOption {
    type = types.listOf types.str;
    default = [ ];
  };
  values = mkOption {
    type = types.listOf types.anything;
    default = [ ];
  };
  text = mkOption { type = types.str; };

  # NixOS' unit settings (systemd-lib's `unitOption`): a list repeats the key, and list values
  # from several definitions are concatenated.
  unitOption = types.mkOptionType {
    name = "systemd option";
    merge =
      loc: defs:
      if lib.any (def: lib.isList def.value) defs then
        lib.concatMap (def: lib.toList def.value) defs
      else
        lib.mergeEqualOption loc defs;
  };
  unitSection = mkOption {
    type = types.attrsOf unitOption;
    default = { };
  };

  # A derivation as a store-path-shaped string named after what it is built from, with an
  # attribute per further output.
  derivation =
    name: inputs: outputs:
    let
      path =
        output:
        "/nix/store/${builtins.substring 0 32 (builtins.hashString "sha256" (builtins.toJSON [ inputs output ]))}-${name}${lib.optionalString (output != "out") "-${output}"}";
    in
    {
      type = "derivation";
      outPath = path "out";
    }
    // lib.genAttrs outputs path;
in
rec {
  # The few attributes of nixpkgs that the modules and the test configurations use.
  pkgs = {
    stdenv.hostPlatform.system = "x86_64-linux";
    htop = "/nix/store/00000000000000000000000000000000-htop-3.4.1";
    hello = "/nix/store/00000000000000000000000000000000-hello-2.12.2";
    closureInfo = { rootPaths }: derivation "closure-info" rootPaths [ ];
    runCommand =
      name: env: script:
      derivation name [ env script ] (env.outputs or [ ]);
  };

  # A NixOS host, as far as the host module is concerned.
  host =
    { config, ... }:
    {
    options = {
      assertions = mkOption {
        type = types.listOf types.raw;
        default = [ ];
      };
      warnings = strings;
      system.stateVersion = text // {
        default = "26.05";
      };
      # NixOS' systemd module puts nss-mymachines into the hosts database by default.
      system.nssDatabases.hosts = strings // {
        default = [
          "mymachines"
          "files"
          "myhostname"
          "dns"
        ];
      };
      systemd = {
        package = mkOption {
          type = types.str;
          default = "/nix/store/22222222222222222222222222222222-systemd-258";
        };
        # nixpkgs' nixos/modules/system/boot/systemd/nspawn.nix
        nspawn = mkOption {
          type = types.attrsOf (
            types.submodule {
              options = {
                execConfig = unitSection;
                filesConfig = unitSection;
                networkConfig = unitSection;
                extraDrvConfig = mkOption {
                  type = types.nullOr types.package;
                  default = null;
                };
              };
            }
          );
          default = { };
        };
        network = {
          enable = flag false;
          wait-online.enable = flag true;
          config.networkConfig = settings;
          networks = settings;
          netdevs = settings;
        };
        services = settings;
        targets = settings;
        tmpfiles.settings = settings;
      };
      networking = {
        useNetworkd = flag false;
        firewall.interfaces = settings;
        # As NixOS: the nftables firewall backend follows networking.nftables.enable.
        firewall.backend = mkOption {
          type = types.enum [
            "iptables"
            "nftables"
          ];
          default = if config.networking.nftables.enable then "nftables" else "iptables";
        };
        nftables.enable = flag false;
        dhcpcd = {
          enable = flag true;
          denyInterfaces = strings;
        };
        networkmanager = {
          enable = flag false;
          unmanaged = strings;
        };
      };
      services.nginx = settings;
    };
    config._module.args.pkgs = pkgs;
  };

  # A NixOS guest, as far as the container module, the host's per-container module and the test
  # configurations are concerned. Its toplevel is a store-path-shaped string that changes with
  # the container's configuration.
  container =
    { config, ... }:
    {
      options = {
        boot.isContainer = flag false;
        boot.specialFileSystems = settings;
        console.enable = flag true;
        users.users = settings;
        networking = {
          hostName = text;
          useNetworkd = flag false;
          useDHCP = flag true;
          useHostResolvConf = flag true;
          firewall = {
            interfaces = settings;
            allowedTCPPorts = values;
          };
        };
        systemd.network.networks = settings;
        systemd.services = settings;
        nix.enable = flag true;
        nix.package = mkOption {
          type = types.raw;
          default.out = "/nix/store/33333333333333333333333333333333-nix-2.31.2";
        };
        boot.postBootCommands = mkOption {
          type = types.lines;
          default = "";
        };
        services.logrotate.enable = flag true;
        services.nginx = settings;
        environment.systemPackages = values;
        nixpkgs.hostPlatform = mkOption { type = types.raw; };
        system.stateVersion = text;
        system.build.toplevel = text;
      };
      # What nixpkgs' nixos/modules/virtualisation/container-config.nix sets for every container,
      # at its priorities: our container module has to win over these.
      config.console.enable = lib.mkIf config.boot.isContainer (lib.mkDefault false);
      config.networking.useHostResolvConf = lib.mkIf config.boot.isContainer (lib.mkDefault true);

      config.system.build.toplevel =
        let
          digest = builtins.hashString "sha256" (builtins.toJSON (removeAttrs config [ "system" "_module" ]));
        in
        "/nix/store/${builtins.substring 0 32 digest}-nixos-system-${config.networking.hostName}";
    };

  # Stands in for nixpkgs' nixos/lib/eval-config.nix: the same arguments, the same result shape,
  # with `container` in place of NixOS' module list.
  evalConfig =
    {
      modules,
      prefix ? [ ],
      system ? null,
      specialArgs ? { },
    }:
    assert system == null;
    lib.evalModules {
      inherit prefix specialArgs;
      modules = modules ++ [
        container
        { config._module.args.pkgs = pkgs; }
      ];
    };
}
