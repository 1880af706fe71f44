# Generated from scenarios/zone-partition.toml by `python -m harness render`; do not edit.
# Two peers of one zone are partitioned and healed: their traffic crosses the vz-app bridge, where the host's inet rules never see it, so each side's own rules cut it; the host reaches both meanwhile. Then a container is cut off from the host and healed.
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "zone-partition";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1536;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        database = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            {
              services.nginx.enable = true;
              services.nginx.virtualHosts."database".locations."/".return = "200 'rows'";
              networking.firewall.allowedTCPPorts = [ 80 ];
            }
          ''));
          network.veth.zone = "app";
        };
        app = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            { }
          ''));
          network.veth.zone = "app";
        };
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="database",
                zone="app",
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="app",
                zone="app",
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
    session.check("reachable[app->database,ipv4]", "reachable", {"from": "app", "family": "ipv4", "by": "address", "to": "database"})
    session.step("partition[app|database]", "partition", {"between": "app", "and": "database"})
    session.check("unreachable[app->database,ipv4]", "unreachable", {"from": "app", "family": "ipv4", "by": "address", "to": "database"})
    session.check("unreachable[database->app,ipv4]", "unreachable", {"from": "database", "family": "ipv4", "by": "address", "to": "app"})
    session.check("http[host->database:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "database", "body": "rows"})
    session.step("heal[app|database]", "heal", {"between": "app", "and": "database"})
    session.check("reachable[app->database,ipv4]#2", "reachable", {"from": "app", "family": "ipv4", "by": "address", "to": "database"})
    session.check("http[app->database:80/]", "http", {"from": "app", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "database", "body": "rows"})
    session.step("partition[host|app]", "partition", {"between": "host", "and": "app"})
    session.check("unreachable[host->app,ipv4]", "unreachable", {"from": "host", "family": "ipv4", "by": "address", "to": "app"})
    session.check("reachable[database->app,ipv4]", "reachable", {"from": "database", "family": "ipv4", "by": "address", "to": "app"})
    session.step("heal[host|app]", "heal", {"between": "host", "and": "app"})
    session.check("reachable[host->app,ipv4]", "reachable", {"from": "host", "family": "ipv4", "by": "address", "to": "app"})
    session.finish()
  '';
}
