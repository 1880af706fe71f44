# Evaluates nix/host.nix (or nix/default.nix) for one configuration of cases.nix with the real
# module system and the stand-ins, and returns what the module produced as plain data:
#   nix-instantiate --eval --strict --json tests/eval/harness.nix \
#     --argstr libPath <nixpkgs lib> --argstr case seed-simple -A reference
# (`-A cases` lists the cases; `--argstr casesFile FILE` takes them from another file, as
# `python -m bench` does).
{
  libPath,
  case ? null,
  entry ? "host",
  casesFile ? ./cases.nix,
  # The host file of the cases' file credentials (cases.nix has a default).
  credentialFile ? null,
}:
let
  lib = import libPath;
  standIns = import ./stand-ins.nix { inherit lib; };
  cases = import casesFile (
    { inherit lib; } // lib.optionalAttrs (credentialFile != null) { inherit credentialFile; }
  );
  theCase = cases.${case};
  # The module under test, with stand-ins for the NixOS options it sets: nix/default.nix also
  # imports the container module, so it gets a guest's options too.
  entryModules =
    {
      host = [
        ../../nix/host.nix
        standIns.host
      ];
      default = [
        ../../nix/default.nix
        standIns.nixos
      ];
    }
    .${entry};

  eval = lib.evalModules {
    modules = entryModules ++ [
      { nixos-nspawn.evalConfig = standIns.evalConfig; }
    ]
    ++ theCase.modules;
  };
  cfg = eval.config;
  containers = cfg.nixos-nspawn.containers;

  # The evaluated NixOS configuration of a container, or null when it only has a `path`.
  guest =
    c:
    let
      attempt = builtins.tryEval c.config;
    in
    if attempt.success then attempt.value else null;
  guests = lib.filterAttrs (_: g: g != null) (lib.mapAttrs (_: guest) containers);

  # The systemd-nspawn@<name> drop-ins, by container name (not the template's own).
  nspawnServices = lib.mapAttrs' (
    unit: service: lib.nameValuePair (lib.removePrefix "systemd-nspawn@" unit) service
  ) (
    lib.filterAttrs (
      unit: _: lib.hasPrefix "systemd-nspawn@" unit && unit != "systemd-nspawn@"
    ) cfg.systemd.services
  );

  # A service's [Unit] section as nixpkgs writes it (`unitConfig` in nixos/lib/systemd-lib.nix:
  # the dependency lists joined by spaces and the description, over `unitConfig`). Restart
  # triggers (X-Restart-Triggers) are left out: they only matter to switch-to-configuration.
  unitSection =
    service:
    service.unitConfig
    // lib.optionalAttrs (service.wants != [ ]) { Wants = toString service.wants; }
    // lib.optionalAttrs (service.after != [ ]) { After = toString service.after; }
    // lib.optionalAttrs (service.before != [ ]) { Before = toString service.before; }
    // lib.optionalAttrs (service.description != "") { Description = service.description; };

  # A container's own services, as NixOS writes them into its /etc/systemd/system: the [Unit]
  # and [Service] sections, and the units whose `.wants/` links it. Disabled ones are left out,
  # as NixOS leaves them out.
  guestServices =
    g:
    lib.mapAttrs (_: service: {
      unit = unitSection service;
      service = service.serviceConfig;
      inherit (service) wantedBy;
    }) (lib.filterAttrs (_: service: service.enable) g.systemd.services);

  # The user-visible options of both modules, as NixOS' manual sees them (needs no `case`).
  documented =
    modules:
    lib.filter (o: lib.hasPrefix "nixos-nspawn." o.name && o.visible && !o.internal) (
      lib.optionAttrSetToDocList (lib.evalModules { inherit modules; }).options
    );
in
{
  # The names of all cases, and of those that may be exported as references (need no `case`).
  cases = lib.attrNames cases;
  exportable = lib.attrNames (lib.filterAttrs (_: c: c.export or true) cases);

  optionDocs = lib.mapAttrs (_: map (o: removeAttrs o [ "declarations" ])) {
    host = documented [
      ../../nix/host.nix
      standIns.host
    ];
    container = documented [
      ../../nix/container.nix
      standIns.container
    ];
  };

  failedAssertions = map (a: a.message) (lib.filter (a: !a.assertion) cfg.assertions);
  inherit (cfg) warnings;

  # The unit settings, in the format of tests/reference/<case>.json.
  reference = {
    inherit case;
    inherit (theCase) description;
    # `extraDrvConfig` (a derivation whose output is appended to the .nspawn file) only where set.
    nspawn = lib.mapAttrs (
      _: unit:
      {
        inherit (unit) execConfig filesConfig networkConfig;
      }
      // lib.optionalAttrs (unit.extraDrvConfig != null) { extraDrvConfig = "${unit.extraDrvConfig}"; }
    ) cfg.systemd.nspawn;
    hostNetworks = cfg.systemd.network.networks;
    hostNetdevs = cfg.systemd.network.netdevs;
    containerNetworks = lib.mapAttrs (_: g: g.systemd.network.networks) guests;
    containerServices = lib.mapAttrs (_: guestServices) guests;
    tmpfiles = cfg.systemd.tmpfiles.settings."10-nixos-nspawn" or { };
    inherit (cfg.systemd) mounts;
    inherit (cfg.boot.kernel) sysctl;
    # The [Service] settings of each container's systemd-nspawn@<name>.service drop-in, and its
    # [Unit] settings where it has any.
    serviceOverrides = lib.mapAttrs (_: service: service.serviceConfig) nspawnServices;
    # Their `environment`, which NixOS writes as `Environment=` lines of the same section.
    serviceEnvironment = lib.mapAttrs (_: service: service.environment) nspawnServices;
    unitOverrides = lib.filterAttrs (_: section: section != { }) (
      lib.mapAttrs (_: unitSection) nspawnServices
    );
  };

  host = {
    networkd = cfg.systemd.network.enable;
    waitOnline = cfg.systemd.network.wait-online.enable;
    networkdConfig = cfg.systemd.network.config.networkConfig;
    firewall = cfg.networking.firewall.interfaces;
    dhcpcdDenyInterfaces = cfg.networking.dhcpcd.denyInterfaces;
    networkmanagerUnmanaged = cfg.networking.networkmanager.unmanaged;
    machinesWants = cfg.systemd.targets.machines.wants or [ ];
    services = cfg.systemd.services;
    etc = cfg.environment.etc;
    activationScripts = cfg.system.activationScripts;
    nginx = cfg.services.nginx;
  };

  containers = lib.mapAttrs (_: c: { inherit (c) path; }) containers;
  # Every bind's host path (defaulted or set), by container and container path.
  hostPaths = lib.mapAttrs (_: c: lib.mapAttrs (_: bind: bind.hostPath) c.binds) containers;

  guests = lib.mapAttrs (_: g: {
    inherit (g.nixos-nspawn) isContainer;
    inherit (g.networking)
      hostName
      useNetworkd
      useDHCP
      useHostResolvConf
      ;
    firewallInterfaces = g.networking.firewall.interfaces;
    firewallEnable = g.networking.firewall.enable;
    allowedTCPPorts = g.networking.firewall.allowedTCPPorts;
    bootIsContainer = g.boot.isContainer;
    specialFileSystems = g.boot.specialFileSystems;
    consoleEnable = g.console.enable;
    rootPassword = g.users.users.root.initialHashedPassword;
    nixEnable = g.nix.enable;
    inherit (g.boot) postBootCommands;
    logrotate = g.services.logrotate.enable;
    nginx = g.services.nginx;
    systemPackages = g.environment.systemPackages;
    inherit (g.system) stateVersion;
    hostPlatform = g.nixpkgs.hostPlatform;
    toplevel = g.system.build.toplevel;
  }) guests;
}
