# Bind mounts from the host (`binds.<containerPath>`): their options, the escaped `Bind=` /
# `BindReadOnly=` values of the .nspawn file, their checks, and the mounts they wait for: a
# bind's host path on a file system mounted late (or `noauto`) would be bound before the mount,
# so the container's unit requires and is ordered after the mounts of every bind's host path
# (`RequiresMountsFor=`), as classic containers' units do.
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  inherit (import ../unit-values.nix { inherit lib; })
    checkWrittenPath
    checkUnitValue
    escapeUnitPathWord
    showValue
    ;
  common = import ./common.nix { inherit lib; };

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

  hostPaths = c: lib.mapAttrsToList (_: bind: bind.hostPath) c.binds;

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

  bindAssertions =
    name: containerPath: bind:
    let
      at = "${common.where name}.binds.${lib.strings.escapeNixIdentifier containerPath}";
    in
    [
      {
        assertion = lib.hasPrefix "/" containerPath && lib.hasPrefix "/" bind.hostPath;
        message = "${at}: bind mount paths must be absolute.";
      }
    ]
    ++ checkWrittenPath at containerPath (escapeBindPath containerPath)
    # A host path that is the container path (the default) is checked once, as the latter.
    ++ lib.optionals (bind.hostPath != containerPath) (
      checkWrittenPath "${at}.hostPath" bind.hostPath (escapeBindPath bind.hostPath)
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
  options.nixos-nspawn.containers = lib.mkOption {
    # Declared in ../host.nix; this module adds options to every container.
    type = lib.types.attrsOf (
      lib.types.submodule {
        options.binds = lib.mkOption {
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
      }
    );
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions = lib.concatLists (
      lib.mapAttrsToList (name: c: lib.concatLists (lib.mapAttrsToList (bindAssertions name) c.binds)) cfg.containers
    );

    # What the container sees of /nix/store is ./store.nix's.
    systemd.nspawn = lib.mapAttrs (_: c: {
      filesConfig = {
        BindReadOnly = bindValues true c;
        Bind = bindValues false c;
      };
    }) (common.runnable cfg.containers);

    # The paths are checked above: no control characters, no whitespace at either end; escaping
    # adds backslashes and `%` only, so the escaped value is as safe, and never ends in an odd
    # number of backslashes.
    systemd.services = lib.mapAttrs' (
      name: c:
      lib.nameValuePair (common.service name) {
        unitConfig.RequiresMountsFor = map escapeUnitPathWord (hostPaths c);
      }
    ) (lib.filterAttrs (_: c: c.binds != { }) (common.runnable cfg.containers));
  };
}
