# What a container sees of the Nix store: the host's store read-only (the default), only its own
# system's closure (`nixStore = "closure"`), or a store of its own layered over the host's, with a
# nix-daemon that builds into a throw-away upper layer (`nix = "overlay"`).
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.nixos-nspawn;

  runnable = lib.filterAttrs (_: c: c.path != null) cfg.containers;

  closureOf = c: pkgs.closureInfo { rootPaths = [ c.path ]; };

  # The closure as a skeleton directory and the [Files] lines that bind it and every path of the
  # closure (./store-view.sh), appended to the .nspawn file by nixpkgs' `extraDrvConfig`.
  storeView =
    name: c:
    pkgs.runCommand "nixos-nspawn-${name}-store-view"
      {
        outputs = [
          "out"
          "skeleton"
        ];
      }
      ''
        sh ${./store-view.sh} ${closureOf c}/store-paths "$skeleton" > "$out"
      '';

  # Where the container finds the closure's registration (nix-store --load-db) with `nix = "overlay"`.
  registration = "/nix/.nixos-nspawn/registration";

  # The container's Nix store: the host's store as the lower layer, the upper layer a directory in
  # the container's (ephemeral) root, so that everything built in the container is gone at the
  # next start. nspawn puts overlayfs' work directory next to it.
  upperLayer = "/nix/.nixos-nspawn/upper";
  overlayStore = "/nix/store:+${upperLayer}:/nix/store";

  # The container's side of `nix = "overlay"`: Nix enabled, and its database seeded with the
  # closure it runs (so that Nix knows those lower paths as valid, and keeps them) before anything
  # can start the daemon.
  overlayGuest =
    { config, ... }:
    {
      nix.enable = lib.mkOverride 900 true;
      boot.postBootCommands = ''
        ${config.nix.package.out}/bin/nix-store --load-db < ${registration}
        mkdir -p /nix/var/nix/gcroots
        ln -sfn /run/current-system /nix/var/nix/gcroots/nixos-nspawn-system
      '';
    };

  storeAssertions = name: c: [
    {
      assertion = !(c.nix == "overlay" && c.nixStore == "closure");
      message = "nixos-nspawn.containers.${name}: `nix = \"overlay\"` needs `nixStore = \"host\"`: overlayfs cannot take the closure-only store, a stack of bind mounts, as its lower layer.";
    }
  ];
in
{
  options.nixos-nspawn.containers = lib.mkOption {
    # Declared in ../host.nix; this module adds `nixStore` and `nix` to every container.
    type = lib.types.attrsOf (
      lib.types.submodule (
        { config, ... }:
        {
          options = {
            nixStore = lib.mkOption {
              type = lib.types.enum [
                "host"
                "closure"
              ];
              default = "host";
              example = "closure";
              description = ''
                What the container sees under `/nix/store`, read-only (unless {option}`nix` is
                `overlay`): `host`, the host's whole store (one bind mount); or `closure`, only
                the closure of the container's system, so that nothing else on the host (other
                containers' systems, the host's own packages and configuration files) is
                visible. `closure` binds every store path of the closure on its own, onto a
                read-only skeleton directory: a mount, and a `.mount` unit for the container's
                systemd, per store path. Fit for small closures only: with 3000 paths a start
                took five times a plain boot and a stop fifteen minutes on the emulated test VM
                (docs/store.md has the figures and the planned image variant).
              '';
            };

            nix = lib.mkOption {
              type = lib.types.enum [
                "none"
                "overlay"
              ];
              default = "none";
              example = "overlay";
              description = ''
                Nix inside the container. `none`: no Nix, no daemon. `overlay`: the container runs
                its own nix-daemon over a store of its own, an overlay file system whose lower
                layer is the host's store and whose upper layer lies in the container's ephemeral
                root: `nix build` and `nix-shell` work in the container, what they add is gone at
                the next start, and the host's store and daemon are never written to (the host's
                daemon socket is not passed in). At every start, Nix's database in the container is
                seeded with the registration of the container's own closure, so that Nix knows
                those paths and its garbage collector keeps them; other host paths it does not
                know, and it may hide them from the container. Needs `nixStore = "host"`.
              '';
            };
          };

          config.containerModules = lib.optional (config.nix == "overlay") overlayGuest;
        }
      )
    );
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions = lib.concatLists (lib.mapAttrsToList storeAssertions cfg.containers);

    # systemd-nspawn creates overlayfs' work directory next to the upper layer, but not the upper
    # layer itself (systemd 252 fails the start with ENOENT): it is part of the root directory
    # that every start copies.
    systemd.tmpfiles.settings."10-nixos-nspawn" = lib.mapAttrs' (
      name: _:
      lib.nameValuePair "/var/lib/machines/${name}${upperLayer}" {
        d = {
          user = "root";
          group = "root";
          mode = "0755";
        };
      }
    ) (lib.filterAttrs (_: c: c.nix == "overlay") runnable);

    systemd.nspawn = lib.mapAttrs (
      name: c:
      if c.nix == "overlay" then
        {
          filesConfig = {
            Overlay = [ overlayStore ];
            BindReadOnly = lib.mkBefore [ "${closureOf c}/registration:${registration}" ];
          };
        }
      else if c.nixStore == "closure" then
        { extraDrvConfig = storeView name c; }
      else
        # Only the store is shared, read-only: not /nix/var, not the nix-daemon socket.
        { filesConfig.BindReadOnly = lib.mkBefore [ "/nix/store" ]; }
    ) runnable;
  };
}
