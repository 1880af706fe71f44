# A container's system: its NixOS configuration (`config`, evaluated as a system of its own) or
# a prebuilt toplevel (`path`), and what the evaluation is given: the host's base module,
# the feature modules' `containerModules`, `nixos-nspawn.imports`, extra module arguments and
# another nixpkgs, as NixOS' classic containers' `specialArgs` and `nixpkgs`.
{
  config,
  lib,
  modulesPath,
  ...
}:
let
  cfg = config.nixos-nspawn;
  hostConfig = config;
  common = import ./common.nix { inherit lib; };
  inherit (import ../unit-values.nix { inherit lib; }) checkWrittenPath showValue;

  # The module every container's NixOS evaluation gets from the host.
  containerBaseModule =
    name:
    { pkgs, ... }:
    {
      nixos-nspawn.isContainer = true;
      networking.hostName = lib.mkDefault name;
      nixpkgs.hostPlatform = lib.mkDefault pkgs.stdenv.hostPlatform;
      system.stateVersion = lib.mkDefault hostConfig.system.stateVersion;
    };

  # The container's evaluated configuration, as the `config` option's type.
  systemType =
    name: container:
    let
      # The container's own nixpkgs's eval-config.nix, or the host's.
      evalConfig =
        if container.nixpkgs == null then
          cfg.evalConfig
        else
          import "${toString container.nixpkgs}/nixos/lib/eval-config.nix";
    in
    lib.mkOptionType {
      name = "Toplevel NixOS config";
      merge =
        _loc: defs:
        (evalConfig {
          # The platform comes from the host's pkgs (nixpkgs.hostPlatform above).
          system = null;
          inherit (container) specialArgs;
          modules = [
            ../container.nix
            (containerBaseModule name)
          ]
          ++ container.containerModules
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

  assertionsFor =
    name: c:
    let
      where = common.where name;
    in
    [
      {
        assertion = c.path != null;
        message = "${where}: set either `config` (a NixOS module) or `path` (a prebuilt system toplevel).";
      }
    ]
    # A user's `path` (not a toplevel evaluated from `config`) becomes `Parameters=<path>/init`,
    # which nspawn splits into words and unquotes.
    ++ lib.optionals (c.path != null && !lib.isDerivation c.path) (
      checkWrittenPath "${where}.path" (toString c.path) (toString c.path)
      ++ [
        {
          assertion = builtins.match "[^ \t\"']*" (toString c.path) != null;
          message = "${where}.path: ${showValue (toString c.path)} contains whitespace or quotes, which `Parameters=` in the .nspawn file would split or remove.";
        }
      ]
    );

  # Containers that set an evaluation input but have no `config` to evaluate.
  unevaluated = lib.filterAttrs (
    _: c: !c.evaluated && (c.specialArgs != { } || c.nixpkgs != null || c.pkgs != null)
  ) cfg.containers;
in
{
  options.nixos-nspawn.containers = lib.mkOption {
    type = lib.types.attrsOf (
      lib.types.submodule (
        {
          name,
          config,
          options,
          ...
        }:
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
              type = systemType name config;
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

            containerModules = lib.mkOption {
              type = lib.types.listOf lib.types.deferredModule;
              internal = true;
              default = [ ];
              description = ''
                NixOS modules that the host's feature modules (nix/host/*.nix) add to this
                container's evaluation, such as networkd settings for the links they attach.
              '';
            };

            specialArgs = lib.mkOption {
              type = lib.types.attrsOf lib.types.unspecified;
              default = { };
              example = lib.literalExpression "{ inherit inputs; }";
              description = ''
                Arguments for the modules of the container's configuration beyond NixOS' own
                (`specialArgs` of `nixos/lib/eval-config.nix`): usable in `imports`, unlike
                `_module.args`.
              '';
            };

            nixpkgs = lib.mkOption {
              type = lib.types.nullOr lib.types.path;
              default = null;
              example = lib.literalExpression "inputs.nixpkgs-unstable";
              description = ''
                The nixpkgs whose NixOS modules, lib and packages evaluate the container's
                configuration (its `nixos/lib/eval-config.nix`), as classic containers'
                `nixpkgs`; `null` means the host's. To change only the packages, set
                {option}`pkgs` (or `nixpkgs.*` in the container's configuration).
              '';
            };

            pkgs = lib.mkOption {
              type = lib.types.nullOr lib.types.pkgs;
              default = null;
              example = lib.literalExpression "pkgs.appendOverlays [ myOverlay ]";
              description = ''
                The package set of the container's configuration: its `nixpkgs.pkgs`, for
                example the host's packages with an overlay. `null` means NixOS' default, a
                package set made by the container's nixpkgs for the host's platform. As with
                `nixpkgs.pkgs`, the container's `nixpkgs.config` and `nixpkgs.overlays` then do
                not apply.
              '';
            };

            evaluated = lib.mkOption {
              type = lib.types.bool;
              internal = true;
              readOnly = true;
              default = options.config.isDefined;
              description = "Whether the container's configuration is evaluated from `config`.";
            };
          };

          config = {
            path = lib.mkIf options.config.isDefined config.config.system.build.toplevel;
            containerModules = lib.optional (config.pkgs != null) {
              nixpkgs.pkgs = config.pkgs;
            };
          };
        }
      )
    );
  };

  options.nixos-nspawn = {
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
    assertions =
      lib.concatLists (lib.mapAttrsToList assertionsFor cfg.containers)
      ++ lib.mapAttrsToList (name: _: {
      assertion = false;
      message = "${common.where name}: `specialArgs`, `nixpkgs` and `pkgs` apply to a configuration evaluated from `config`; this container runs a prebuilt `path`.";
    }) unevaluated;
  };
}
