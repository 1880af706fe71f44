# What a container's NixOS configuration is evaluated with: extra module arguments and another
# nixpkgs, as NixOS' classic containers' `specialArgs` and `nixpkgs`. (host.nix's `config`
# option evaluates it; this file declares the inputs.)
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  common = import ./common.nix { inherit lib; };

  # Containers that set an evaluation input but have no `config` to evaluate.
  unevaluated = lib.filterAttrs (
    _: c: !c.evaluated && (c.specialArgs != { } || c.nixpkgs != null || c.pkgs != null)
  ) cfg.containers;
in
{
  options.nixos-nspawn.containers = lib.mkOption {
    type = lib.types.attrsOf (
      lib.types.submodule (
        { config, options, ... }:
        {
          options = {
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

          config.containerModules = lib.optional (config.pkgs != null) {
            nixpkgs.pkgs = config.pkgs;
          };
        }
      )
    );
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions = lib.mapAttrsToList (name: _: {
      assertion = false;
      message = "${common.where name}: `specialArgs`, `nixpkgs` and `pkgs` apply to a configuration evaluated from `config`; this container runs a prebuilt `path`.";
    }) unevaluated;
  };
}
