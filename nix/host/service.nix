# A container's unit, `systemd-nspawn@<name>.service` (systemd's own template instance, with a
# drop-in) and its .nspawn file's run settings: when it starts and restarts, resource limits and
# other service settings (`serviceConfig`), nspawn options the module does not model
# (`extraFlags`), and the one `ExecStart=` override that these flags and the credentials
# (./credentials.nix) share.
{ config, lib, ... }:
let
  cfg = config.nixos-nspawn;
  common = import ./common.nix { inherit lib; };
  inherit (import ../unit-values.nix { inherit lib; })
    checkSettingsOf
    checkWritten
    escapeExecArg
    ;
  runnable = common.runnable cfg.containers;

  # A fixed machine ID per container name: the ephemeral root has no /etc/machine-id, so without
  # this every start would get a random ID, a new DHCP client identity (a new address) and a new
  # journal directory on the host.
  machineId = name: builtins.substring 0 32 (builtins.hashString "sha256" "nixos-nspawn:${name}");

  # The .nspawn settings of how the container runs (./binds.nix, ./network.nix and the other
  # feature modules add theirs).
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
    # With PrivateUsers=pick, systemd-nspawn derives the base from a hash of the machine name
    # (a random free range only if that one is taken), so it stays the same across restarts
    # without anything persistent. The ephemeral copy of the empty, root-owned
    # /var/lib/machines/<name> is chowned to it: cheap, as there is nothing in it. Binds are
    # idmapped by default (see `binds.<path>.idmap`), so their ownership does not depend on
    # the base at all.
    filesConfig.PrivateUsersOwnership = lib.mkDefault "chown";
  };

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
      where = common.where name;
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
          autoStart = lib.mkOption {
            type = lib.types.bool;
            default = true;
            example = false;
            description = ''
              Whether the container starts at boot: `machines.target` wants
              `systemd-nspawn@<name>.service`. Otherwise start it with `machinectl start <name>`.
            '';
          };

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

    systemd.nspawn = lib.mapAttrs nspawnUnit runnable;

    # The container's root directory: empty, because every start copies it (Ephemeral=) and
    # everything a container runs comes from the store.
    systemd.tmpfiles.settings."10-nixos-nspawn" = lib.mapAttrs' (
      name: _: lib.nameValuePair "/var/lib/machines/${name}" common.rootDirectory
    ) cfg.containers;

    # Every container runs in a user namespace that root created, and the kernel charges the
    # inotify instances of everything in it to root's count in the host's namespace as well:
    # with Linux' default of 128, about ten booted containers exhaust it and the next one fails
    # with "Failed to allocate manager object: Too many open files" (seen on the runtime VM).
    # Priority below mkDefault, so any other module's default (or the user's value) wins.
    boot.kernel.sysctl."fs.inotify.max_user_instances" = lib.mkOverride 1200 8192;

    systemd.targets.machines.wants = lib.mapAttrsToList (name: _: "${common.service name}.service") (
      lib.filterAttrs (_: c: c.autoStart) runnable
    );

    # A drop-in for the upstream template instance (./lifecycle.nix adds what a switch and a
    # failure do to it).
    systemd.services = lib.mapAttrs' (
      name: c:
      lib.nameValuePair (common.service name) {
        overrideStrategy = "asDropin";
        # The container's root holds no systemd for systemd-nspawn to find (NixOS' is in the
        # store, bound in later), and before systemd 257 nspawn then mounts the legacy cgroup v1
        # hierarchy for it, under which systemd 256 and later refuse to boot (older ones boot
        # "tainted: cgroupsv1"). nixpkgs' nixos-containers sets the same.
        environment.SYSTEMD_NSPAWN_UNIFIED_HIERARCHY = lib.mkDefault "1";
        serviceConfig = lib.mkMerge [
          {
            # Booting a NixOS system (NotifyReady) can take longer than systemd's default 90 s.
            TimeoutStartSec = lib.mkDefault "5min";
          }
          (
            c.serviceConfig
            // lib.optionalAttrs (addedFlags c != [ ]) {
              # A drop-in replaces the template's command by first emptying the list.
              ExecStart = [
                ""
                (execStart c)
              ];
            }
          )
        ];
      }
    ) runnable;
  };
}
