# A container's unit, `systemd-nspawn@<name>.service`: resource limits and other service settings
# (`serviceConfig`), nspawn options the module does not model (`extraFlags`), and the one
# `ExecStart=` override that these flags and the credentials (./credentials.nix) share.
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  inherit (import ../unit-values.nix { inherit lib; })
    checkSettingsOf
    checkWritten
    escapeExecArg
    ;

  # The flags of the `ExecStart=` line of systemd's own units/systemd-nspawn@.service.in, every
  # one of them kept: `--keep-unit` above all, without which the container would leave this
  # service's cgroup (and with it `serviceConfig`'s limits) for a scope of its own;
  # `--settings=override` lets the .nspawn file win over the command line.
  upstreamFlags = [
    "--quiet"
    "--keep-unit"
    "--boot"
    "--link-journal=try-guest"
    "--network-veth"
    "-U"
    "--settings=override"
    "--machine=%i"
  ];

  # The flags beyond the upstream line: the module's own, then the user's.
  addedFlags = c: c.nspawnArguments ++ c.extraFlags;

  execStart =
    c:
    lib.concatStringsSep " " (
      [ "${config.systemd.package}/bin/systemd-nspawn" ] ++ upstreamFlags ++ map escapeExecArg (addedFlags c)
    );

  # A value of a unit setting, as NixOS' `serviceConfig` takes it: lists repeat the key (and merge
  # by concatenation across definitions).
  unitAtom = lib.types.oneOf [
    lib.types.bool
    lib.types.int
    lib.types.str
    lib.types.path
  ];
  unitValue = lib.types.either (lib.types.listOf unitAtom) unitAtom;

  serviceAssertions =
    name: c:
    let
      where = "nixos-nspawn.containers.${name}";
    in
    checkSettingsOf "systemd" "${where}.serviceConfig" c.serviceConfig
    ++ lib.optional (c.serviceConfig ? ExecStart) {
      assertion = false;
      message = "${where}.serviceConfig.ExecStart: the module writes the unit's `ExecStart=` itself (systemd's own command line, plus credentials and `extraFlags`): give further systemd-nspawn options in `extraFlags`.";
    }
    ++ lib.concatLists (
      lib.imap0 (
        index: flag: checkWritten "${where}.extraFlags[${toString index}]" flag (escapeExecArg flag)
      ) c.extraFlags
    );
in
{
  options.nixos-nspawn.containers = lib.mkOption {
    # Declared in ../host.nix; this module adds options to every container.
    type = lib.types.attrsOf (
      lib.types.submodule {
        options = {
          serviceConfig = lib.mkOption {
            type = lib.types.attrsOf unitValue;
            default = { };
            example = lib.literalExpression ''
              {
                MemoryMax = "2G";
                CPUQuota = "150%";
                TasksMax = 4096;
                IOWeight = 50;
              }
            '';
            description = ''
              Settings merged into the `[Service]` section of the container's
              `systemd-nspawn@<name>.service`, as in {option}`systemd.services.<name>.serviceConfig`:
              resource limits ({manpage}`systemd.resource-control(5)`: `MemoryMax`, `CPUQuota`,
              `TasksMax`, `IOWeight`, ...) apply to the whole container, whose processes all stay in
              the service's cgroup. Values win over the module's defaults (`TimeoutStartSec`).
              `ExecStart` is the module's: see {option}`extraFlags`.

              Keys are setting names and values must not hold control characters, end in a
              backslash or start or end with whitespace (they are written into the unit file as
              they are). `%` starts a specifier, as in every unit: write `%%` for a literal `%`.
            '';
          };

          extraFlags = lib.mkOption {
            type = lib.types.listOf lib.types.str;
            default = [ ];
            example = [
              "--setenv=TZ=Europe/Berlin"
              "--property=CPUWeight=50"
            ];
            description = ''
              The last resort: further {manpage}`systemd-nspawn(1)` options for what the module does
              not model, appended to the unit's command line, one argument per entry. Each entry is
              quoted for the `ExecStart=` line (`%` and `$` included), so it reaches systemd-nspawn
              as written. The command line loses to the container's .nspawn file
              (`--settings=override`): a flag for a setting that the module writes there (binds,
              network, user namespace, ...) is ignored. Prefer an option of this module where one
              exists.
            '';
          };

          nspawnArguments = lib.mkOption {
            type = lib.types.listOf lib.types.str;
            default = [ ];
            internal = true;
            description = ''
              systemd-nspawn arguments that the module's own features add to the unit's command
              line (before {option}`extraFlags`), e.g. `--load-credential=`.
            '';
          };
        };
      }
    );
  };

  config = lib.mkIf (cfg.containers != { }) {
    assertions = lib.concatLists (lib.mapAttrsToList serviceAssertions cfg.containers);

    systemd.services = lib.mapAttrs' (
      name: c:
      lib.nameValuePair "systemd-nspawn@${name}" {
        serviceConfig =
          c.serviceConfig
          // lib.optionalAttrs (addedFlags c != [ ]) {
            # A drop-in replaces the template's command by first emptying the list.
            ExecStart = [
              ""
              (execStart c)
            ];
          };
      }
    ) (lib.filterAttrs (_: c: c.path != null) cfg.containers);
  };
}
