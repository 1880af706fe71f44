# Generated from scenarios/zone-peers.toml by `python -m harness render`; do not edit.
# Two containers in one zone: the app reaches its database by name, as the upstream bind-mounts test has nextcloud reach 'database'
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "zone-peers";
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
    session.check("reachable[app->database,ipv4,name]", "reachable", {"from": "app", "family": "ipv4", "by": "name", "to": "database"})
    session.check("http[app->database:80/,name]", "http", {"from": "app", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "name", "answer": True, "to": "database", "body": "rows"})
    session.check("command[app:getent hosts database]", "command", {"on": "app", "exit": 0, "run": "getent hosts database", "output": "database", "within": 120})
    session.check("http[app->database:8080/,no answer]", "http", {"from": "app", "port": 8080, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": False, "to": "database"})
    session.finish()
  '';
}
