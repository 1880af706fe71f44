# Generated from scenarios/prebuilt-path.toml by `python -m harness render`; do not edit.
# A prebuilt `path` container: a NixOS system built on its own with nixosModules.default and nixos-nspawn.isContainer = true boots from its toplevel, gets its network from its own configuration and serves
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "prebuilt-path";
  globalTimeout = 1800;
  nodes.host =
    { lib, pkgs, ... }:
    {
      imports = [
        nixosModules.host
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        prebuilt.path = (pkgs.nixos [ nixosModules.default (import (builtins.toFile "scenario-config.nix" ''
          {
            nixos-nspawn.isContainer = true;
            networking.hostName = "prebuilt";
            system.stateVersion = "25.05";
            systemd.network.networks."10-host0" = {
              matchConfig.Name = "host0";
              networkConfig.DHCP = "yes";
            };
            services.nginx.enable = true;
            services.nginx.virtualHosts."prebuilt".locations."/".return = "200 'prebuilt'";
            networking.firewall.allowedTCPPorts = [ 80 ];
          }
        '')) ]).toplevel;
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="prebuilt",
                zone=None,
                veth=True,
                binds=(),
                auto_start=True,
            ),
        ),
    )

    session = checks.Session(host, topology, driver.out_dir)
    with session.booting():
        host.start()
        host.wait_for_unit("multi-user.target")
    session.check("unit-active[prebuilt]", "unit-active", {"container": "prebuilt"})
    session.check("command[host:grep -x \x27Parameters=/nix/store/.*-nixos\u2026]", "command", {"on": "host", "exit": 0, "run": "grep -x \x27Parameters=/nix/store/.*-nixos-system-prebuilt-.*/init\x27 /etc/systemd/nspawn/prebuilt.nspawn"})
    session.check("address[prebuilt:host0]", "address", {"dhcp": True, "node": "prebuilt", "interface": "host0"})
    session.check("http[host->prebuilt:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "prebuilt", "body": "prebuilt"})
    session.check("store-readonly[prebuilt]", "store-readonly", {"container": "prebuilt"})
    session.finish()
  '';
}
