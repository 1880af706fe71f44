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

  # A unit setting, merged as nixpkgs' `unitOption` merges it (nixos/lib/systemd-unit-options.nix):
  # the definitions of a list setting are concatenated; any other value must be the same in
  # every definition.
  unitValue = types.mkOptionType {
    name = "unit setting";
    merge =
      loc: defs:
      if lib.any (def: lib.isList def.value) defs then
        lib.concatMap (def: lib.toList def.value) defs
      else
        lib.mergeEqualOption loc defs;
  };
  section = mkOption {
    type = types.attrsOf unitValue;
    default = { };
  };

  # `systemd.services.<name>`: the settings the host module writes, with nixpkgs' types; the
  # rest as it is given.
  service = types.submodule {
    freeformType = types.attrsOf types.anything;
    options = {
      unitConfig = section;
      serviceConfig = section;
      enable = flag true;
      description = text // {
        default = "";
      };
      environment = mkOption {
        type = types.attrsOf (types.nullOr (types.either types.str types.path));
        default = { };
      };
      wants = strings;
      wantedBy = strings;
      after = strings;
      before = strings;
    };
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

  # NixOS options that a host and a container both have, with the same defaults.
  shared = {
    options = {
      systemd.services = mkOption {
        type = types.attrsOf service;
        default = { };
      };
      systemd.network.networks = settings;
      networking.useNetworkd = flag false;
      networking.firewall.interfaces = settings;
      services.nginx = settings;
    };
  };
in
rec {
  # The few attributes of nixpkgs that the modules and the test configurations use.
  pkgs = {
    stdenv.hostPlatform.system = "x86_64-linux";
    htop = "/nix/store/00000000000000000000000000000000-htop-3.4.1";
    hello = "/nix/store/00000000000000000000000000000000-hello-2.12.2";
    erofs-utils = "/nix/store/44444444444444444444444444444444-erofs-utils-1.8.10";
    iproute2 = "/nix/store/55555555555555555555555555555555-iproute2-6.17.0";
    runtimeShell = "/nix/store/66666666666666666666666666666666-bash-5.3/bin/bash";
    closureInfo = { rootPaths }: derivation "closure-info" rootPaths [ ];
    runCommand =
      name: env: script:
      derivation name [ env script ] (env.outputs or [ ]);
    # nixpkgs' `pkgs.nixos`: a NixOS system of its own from a module or a list of them, with the
    # attributes of its `system.build` on top (a prebuilt `path` system of a scenario). Like
    # NixOS, it refuses a system that has no root file system and is no container.
    nixos =
      configuration:
      let
        system = lib.evalModules {
          modules = lib.toList configuration ++ [
            host
            guest
            prebuiltToplevel
          ];
        };
      in
      assert lib.assertMsg system.config.boot.isContainer
        "The ‘fileSystems’ option does not specify your root file system (a system for a container's `path` sets `nixos-nspawn.isContainer = true`).";
      system.config.system.build // system;
  };

  # The toplevel of a `pkgs.nixos` system: named after its host name, and changing with the
  # settings the scenarios give such a system (which makes their values type-checked). A
  # container's toplevel serialises the whole configuration, which holds functions in a system
  # with the host module.
  prebuiltToplevel =
    { config, ... }:
    {
      system.build.toplevel =
        let
          digest = builtins.hashString "sha256" (
            builtins.toJSON {
              inherit (config.nixos-nspawn) isContainer;
              inherit (config.networking) hostName;
              inherit (config.networking.firewall) allowedTCPPorts;
              inherit (config.system) stateVersion;
              inherit (config.systemd.network) networks;
              inherit (config.services) nginx;
            }
          );
        in
        "/nix/store/${builtins.substring 0 32 digest}-nixos-system-${config.networking.hostName}";
    };

  # A NixOS host, as far as the host module is concerned.
  host =
    { config, ... }:
    {
    imports = [ shared ];
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
      boot.kernel.sysctl = settings;
      environment.etc = settings;
      system.activationScripts = settings;
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
                execConfig = section;
                filesConfig = section;
                networkConfig = section;
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
          netdevs = settings;
        };
        targets = settings;
        # nixpkgs' `mountOptions` (nixos/lib/systemd-unit-options.nix), those the module sets:
        # a misspelt one fails the evaluation, as it would on NixOS.
        mounts = mkOption {
          type = types.listOf (
            types.submodule {
              options = {
                what = text;
                where = text;
                type = text // {
                  default = "";
                };
                options = text // {
                  default = "";
                };
                mountConfig = section;
                unitConfig = section;
              };
            }
          );
          default = [ ];
        };
        tmpfiles.settings = settings;
      };
      networking = {
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
    };
    config._module.args.pkgs = pkgs;
  };

  # A NixOS guest, as far as the container module, the host's per-container module and the test
  # configurations are concerned. Its toplevel is a store-path-shaped string that changes with
  # the container's configuration.
  container = {
    imports = [
      shared
      guest
      containerToplevel
    ];
  };

  # A NixOS system with both the host's and a guest's options (for nix/default.nix, which
  # imports both modules).
  nixos = {
    imports = [
      host
      guest
    ];
  };

  # The guest's options that a host does not have.
  guest =
    { config, ... }:
    {
      options = {
        boot.isContainer = flag false;
        boot.specialFileSystems = settings;
        console.enable = flag true;
        users.users = settings;
        networking = {
          hostName = text;
          useDHCP = flag true;
          useHostResolvConf = flag true;
          firewall.allowedTCPPorts = values;
          firewall.enable = flag true;
        };
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
        environment.systemPackages = values;
        nixpkgs.hostPlatform = mkOption { type = types.raw; };
        # No default: the host module gives each container the host's.
        system.stateVersion = text;
        # As NixOS' nixpkgs module: a package set given here is the modules' `pkgs`.
        nixpkgs.pkgs = mkOption {
          type = types.nullOr types.pkgs;
          default = null;
        };
        system.build.toplevel = text;
      };
      config._module.args.pkgs = lib.mkIf (config.nixpkgs.pkgs != null) config.nixpkgs.pkgs;
      # What nixpkgs' nixos/modules/virtualisation/container-config.nix sets for every container,
      # at its priorities: our container module has to win over these.
      config.console.enable = lib.mkIf config.boot.isContainer (lib.mkDefault false);
      config.networking.useHostResolvConf = lib.mkIf config.boot.isContainer (lib.mkDefault true);
    };

  # The toplevel of a container's system: it changes with the whole configuration.
  containerToplevel =
    { config, ... }:
    {
      system.build.toplevel =
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
        { config._module.args.pkgs = lib.mkDefault pkgs; }
      ];
    };
}
