# Generated from scenarios/restart-if-changed.toml by `python -m harness render`; do not edit.
# Switching the host to a specialisation restarts a changed container (restartIfChanged, the default), while one with restartIfChanged = false keeps running its old system
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "restart-if-changed";
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
        eager.config = (import (builtins.toFile "scenario-config.nix" ''
          {
            services.nginx.enable = true;
            services.nginx.virtualHosts."eager".locations."/".return = "200 'v1'";
            networking.firewall.allowedTCPPorts = [ 80 ];
          }
        ''));
        steady = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            {
              services.nginx.enable = true;
              services.nginx.virtualHosts."steady".locations."/".return = "200 'v1'";
              networking.firewall.allowedTCPPorts = [ 80 ];
            }
          ''));
          restartIfChanged = false;
        };
      };
      specialisation = {
        v2.configuration.nixos-nspawn.containers = {
          eager.config = (import (builtins.toFile "scenario-config.nix" ''
            { lib, ... }: { services.nginx.virtualHosts."eager".locations."/".return = lib.mkForce "200 'v2'"; }
          ''));
          steady.config = (import (builtins.toFile "scenario-config.nix" ''
            { lib, ... }: { services.nginx.virtualHosts."steady".locations."/".return = lib.mkForce "200 'v2'"; }
          ''));
        };
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="eager",
                zone=None,
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="steady",
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
    session.check("http[host->eager:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "eager", "body": "v1"})
    session.check("http[host->steady:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "steady", "body": "v1"})
    session.step("run[host:machinectl show steady -p Leader --valu\u2026]", "run", {"on": "host", "run": "machinectl show steady -p Leader --value > /tmp/steady-leader"})
    session.step("switch[v2]", "switch", {"to": "v2"})
    session.check("http[host->eager:80/]#2", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "eager", "body": "v2"})
    session.check("http[host->steady:80/]#2", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "steady", "body": "v1"})
    session.check("command[host:test \"\x24(machinectl show steady -p Leade\u2026]", "command", {"on": "host", "exit": 0, "run": "test \"\x24(machinectl show steady -p Leader --value)\" = \"\x24(cat /tmp/steady-leader)\""})
    session.step("switch[base]", "switch", {"to": "base"})
    session.check("http[host->eager:80/]#3", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "eager", "body": "v1"})
    session.finish()
  '';
}
