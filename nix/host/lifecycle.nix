# What a switch and a crash do to a container (docs/lifecycle.md): restart it when its system or
# unit changed (`restartIfChanged`), or switch the running container to its new system in place
# (`reloadIfChanged`: the unit's reload runs the new system's `switch-to-configuration test`
# inside); restart it when it fails (`restartOnFailure`); and stop the containers that this
# module declared before and a switch removed (`nixos-nspawn.stopRemoved`).
#
# switch-to-configuration (nixpkgs' switch-to-configuration-ng, `compare_units` and
# `handle_modified_unit`) compares a template instance as its template, the template's drop-ins
# and the instance's drop-ins together. A removed container's instance keeps the template: its
# unit "changed" (the drop-in is gone), so the switch would stop it and start it again from the
# bare template, without .nspawn file, which fails the switch. The template's own drop-in below
# says `X-RestartIfChanged=false`, so the switch leaves every instance alone that this module
# does not declare (a machine started by hand included), and the activation snippet stops those
# that a previous generation declared.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  cfg = config.nixos-nspawn;
  inherit (import ../unit-values.nix { inherit lib; }) checkUnitValue;
  common = import ./common.nix { inherit lib; };
  runnable = common.runnable cfg.containers;

  # Where the activation keeps the names of the containers the running generation declares.
  declaredState = "/var/lib/nixos-nspawn/declared";

  # A changed system reaches the running container by a reload, unless its store is only its
  # old system's closure (the new system is not in it: the store image changes, and with it
  # the unit, which restarts the container).
  reloads = c: c.reloadIfChanged && c.nixStore != "closure";

  # The file whose `NIXOS_NSPAWN_SYSTEM=` names the container's current toplevel. The reload
  # reads it when it runs (after the activation has updated /etc), so that the unit itself
  # does not change with the system.
  systemFile = name: "/etc/nixos-nspawn/${name}.env";

  # Runs the new system's switch-to-configuration inside the running container, as a transient
  # service of the container's own systemd (through machined, so through its user namespace);
  # the host's store is the container's, so the new toplevel is there. `--wait` hands back its
  # exit status: a failed switch inside fails the reload, and the host's switch says so.
  reloadCommand =
    name:
    "${config.systemd.package}/bin/systemd-run --machine=${name} --wait --quiet --collect --service-type=exec \${NIXOS_NSPAWN_SYSTEM}/bin/switch-to-configuration test";

  # The .nspawn settings a change of which restarts the container. With a reload, the system's
  # path (`Parameters=`) is the reload's trigger instead.
  unitSettings =
    name: c:
    let
      unit = config.systemd.nspawn.${name};
    in
    {
      inherit (unit) filesConfig networkConfig;
      execConfig = if reloads c then removeAttrs unit.execConfig [ "Parameters" ] else unit.execConfig;
    };

  assertionsFor =
    name: c:
    lib.optionals (reloads c) (checkUnitValue "${common.where name}.reloadIfChanged" (reloadCommand name));
in
{
  options.nixos-nspawn = {
    containers = lib.mkOption {
      # Declared in ../host.nix; this module adds options to every container.
      type = lib.types.attrsOf (
        lib.types.submodule {
          options = {
            restartIfChanged = lib.mkOption {
              type = lib.types.bool;
              default = true;
              example = false;
              description = ''
                Whether `nixos-rebuild switch` restarts the container when its system toplevel or
                its nspawn settings changed. With {option}`reloadIfChanged`, a changed system is
                applied by a reload instead, and this only concerns changes of the unit and
                nspawn settings. `false` leaves the container running on its old system until it
                is restarted.
              '';
            };

            reloadIfChanged = lib.mkOption {
              type = lib.types.bool;
              default = false;
              example = true;
              description = ''
                Whether `nixos-rebuild switch` applies a changed container system in place: the
                unit's reload runs the new system's `switch-to-configuration test` inside the
                running container, which restarts only the services whose configuration changed,
                while its PID 1, network, ephemeral root and user namespace stay. A change of the
                container's unit itself (binds, network, .nspawn settings) still restarts it, as
                {option}`restartIfChanged` says. A failed switch inside fails the reload and the
                host's switch; the container keeps running. With `nixStore = "closure"` the new
                system is not in the container's store, so the container is restarted.
              '';
            };

            restartOnFailure = lib.mkOption {
              type = lib.types.bool;
              default = true;
              example = false;
              description = ''
                Whether systemd starts the container again when it fails (`Restart=on-failure`,
                as classic containers do): when systemd-nspawn exits with an error or is killed,
                for example because the container's init crashed. A `poweroff` inside and
                `machinectl stop` are no failure; a `reboot` inside always starts it again
                (the template's `RestartForceExitStatus=133`). `false` writes `Restart=no`.
              '';
            };
          };
        }
      );
    };

    stopRemoved = lib.mkOption {
      type = lib.types.bool;
      default = true;
      example = false;
      description = ''
        Whether a switch stops the containers that the previous generation declared and the new
        one does not (a removed or renamed container). Only names this module declared are ever
        stopped (it keeps them in `${declaredState}`), never a machine started by hand or by
        another tool. `false` leaves a removed container running on its old system until it
        stops; it cannot be started again by its old name, as its unit settings are gone.
      '';
    };
  };

  config = lib.mkMerge [
    {
      # Always, even without containers: the switch that removes the last container must
      # still stop it, and leave instances of the template that are not declared alone.
      systemd.services.${common.service ""} = {
        overrideStrategy = "asDropin";
        restartIfChanged = false;
      };
      system.activationScripts.nixos-nspawn-removed = {
        # At boot, before systemd runs, nothing is running: the names are only recorded.
        text = ''
          if [ -d /run/systemd/system ]; then
            nixosNspawnRemoved=${if cfg.stopRemoved then "stop" else "keep"}
          else
            nixosNspawnRemoved=record
          fi
          SYSTEMCTL=${config.systemd.package}/bin/systemctl ${pkgs.runtimeShell} ${./removed-containers.sh} \
            ${declaredState} "$nixosNspawnRemoved" ${toString (lib.attrNames cfg.containers)}
        '';
      };
    }
    (lib.mkIf (cfg.containers != { }) {
      assertions = lib.concatLists (lib.mapAttrsToList assertionsFor cfg.containers);

      environment.etc = lib.mapAttrs' (
        name: c:
        lib.nameValuePair "nixos-nspawn/${name}.env" { text = "NIXOS_NSPAWN_SYSTEM=${c.path}\n"; }
      ) (lib.filterAttrs (_: reloads) runnable);

      systemd.services = lib.mapAttrs' (
        name: c:
        lib.nameValuePair (common.service name) {
          # `X-RestartIfChanged=` of the instance wins over the template's `false` above.
          restartIfChanged = c.restartIfChanged;
          restartTriggers = lib.optionals c.restartIfChanged (
            lib.optional (!reloads c) c.path ++ [ (builtins.toJSON (unitSettings name c)) ]
          );
          # X-Reload-Triggers: a switch that finds only these changed reloads the unit (NixOS
          # refuses `reloadIfChanged` of the service together with them; it is not set).
          reloadTriggers = lib.optional (reloads c) c.path;
          serviceConfig = {
            Restart = lib.mkDefault (if c.restartOnFailure then "on-failure" else "no");
          }
          // lib.optionalAttrs c.restartIfChanged { X-RestartIfChanged = true; }
          // lib.optionalAttrs (reloads c) {
            EnvironmentFile = "-${systemFile name}";
            ExecReload = reloadCommand name;
          };
        }
      ) runnable;
    })
  ];
}
