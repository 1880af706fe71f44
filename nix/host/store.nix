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

  common = import ./common.nix { inherit lib; };
  runnable = common.runnable cfg.containers;
  closureOnly = lib.filterAttrs (_: c: c.nixStore == "closure") runnable;

  closureOf = c: pkgs.closureInfo { rootPaths = [ c.path ]; };

  # The closure as one erofs image (./store-image.sh): one mount however many paths the closure
  # has. A bind per store path costs a mount, and a mount unit in the container's systemd, per
  # path, which made stops take minutes (docs/store.md has the figures).
  storeImage =
    name: c:
    pkgs.runCommand "nixos-nspawn-${name}-store.erofs" { nativeBuildInputs = [ pkgs.erofs-utils ]; } ''
      sh ${./store-image.sh} ${closureOf c}/store-paths "$out"
    '';

  # Where the host mounts a container's store image (systemd-nspawn mounts no second image): a
  # directory named after the image, so that a changed system is a new mount unit rather than a
  # changed one (switch-to-configuration would only remount a changed mount unit, on the old
  # image). The name is the image's store hash, without its string context: the path names a
  # unit, and unit names are attribute names; `what` carries the dependency on the image.
  imageMountPoint =
    name: c:
    "/run/nixos-nspawn/store/${
      builtins.substring 0 32 (builtins.unsafeDiscardStringContext (baseNameOf "${storeImage name c}"))
    }";

  # What the container's /nix/store is made of: the host's store, or the closure's image.
  lowerStore = name: c: if c.nixStore == "closure" then imageMountPoint name c else "/nix/store";

  # Where the container finds the closure's registration (nix-store --load-db) with `nix = "overlay"`.
  registration = "/nix/.nixos-nspawn/registration";

  # The container's Nix store: the host's store as the lower layer, the upper layer a directory in
  # the container's (ephemeral) root, so that everything built in the container is gone at the
  # next start. nspawn puts overlayfs' work directory next to it.
  upperLayer = "/nix/.nixos-nspawn/upper";

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
                visible. `closure` builds an erofs image of the closure (a copy of its paths,
                compressed) with every change of the system; the host mounts it read-only (a loop
                device, `/run/nixos-nspawn/store/<image hash>`) while the container runs, and
                binds it to the container's `/nix/store`: one mount, however many paths the
                closure has. The files are not the host store's own, so the page cache holds
                what the container reads once more (docs/store.md has the measurements).
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
                know, and it may hide them from the container. With `nixStore = "closure"`, the
                lower layer is the closure's image instead of the host's store: the container's
                Nix sees only its own closure.
              '';
            };
          };

          config.containerModules = lib.optional (config.nix == "overlay") overlayGuest;
        }
      )
    );
  };

  config = lib.mkIf (cfg.containers != { }) {
    # systemd-nspawn creates overlayfs' work directory next to the upper layer, but not the upper
    # layer itself (systemd 252 fails the start with ENOENT): it is part of the root directory
    # that every start copies.
    systemd.tmpfiles.settings."10-nixos-nspawn" = lib.mapAttrs' (
      name: _:
      lib.nameValuePair "/var/lib/machines/${name}${upperLayer}" common.rootDirectory
    ) (lib.filterAttrs (_: c: c.nix == "overlay") runnable);

    # The closures' images, mounted while a container that needs one runs (its unit requires the
    # mount point, below; a mount no container needs any more is unmounted).
    systemd.mounts = lib.mapAttrsToList (name: c: {
      what = "${storeImage name c}";
      where = imageMountPoint name c;
      type = "erofs";
      options = "loop,ro,nodev,nosuid";
      unitConfig.StopWhenUnneeded = true;
    }) closureOnly;

    systemd.services = lib.mapAttrs' (
      name: c:
      lib.nameValuePair (common.service name) {
        unitConfig.RequiresMountsFor = [ (imageMountPoint name c) ];
      }
    ) closureOnly;

    systemd.nspawn = lib.mapAttrs (
      name: c:
      if c.nix == "overlay" then
        {
          filesConfig = {
            # lower layer (on the host) : upper layer (`+`: in the container's root) : where
            Overlay = [ "${lowerStore name c}:+${upperLayer}:/nix/store" ];
            BindReadOnly = lib.mkBefore [ "${closureOf c}/registration:${registration}" ];
          };
        }
      else if c.nixStore == "closure" then
        { filesConfig.BindReadOnly = lib.mkBefore [ "${imageMountPoint name c}:/nix/store" ]; }
      else
        # Only the store is shared, read-only: not /nix/var, not the nix-daemon socket.
        { filesConfig.BindReadOnly = lib.mkBefore [ "/nix/store" ]; }
    ) runnable;
  };
}
