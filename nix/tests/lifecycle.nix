# Generated from scenarios/lifecycle.toml by `python -m harness render`; do not edit.
# machinectl stop, start and restart: each new instance boots from a fresh root, binds keep their data, the service answers again
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "lifecycle";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          { systemd.tmpfiles.rules = [ "d /srv/web 0755 root root -" ]; }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        web = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            {
              services.nginx.enable = true;
              services.nginx.virtualHosts."web".locations."/".return = "200 'hello'";
              networking.firewall.allowedTCPPorts = [ 80 ];
            }
          ''));
          binds."/var/lib/web".hostPath = "/srv/web";
        };
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="web",
                zone=None,
                veth=True,
                binds=(
                    checks.Bind(path="/var/lib/web", read_only=False),
                ),
                auto_start=True,
            ),
        ),
    )

    session = checks.Session(host, topology, driver.out_dir)
    with session.booting():
        host.start()
        host.wait_for_unit("multi-user.target")
    session.step("run[web:touch /var/lib/web/kept /var/lost]", "run", {"on": "web", "run": "touch /var/lib/web/kept /var/lost"})
    session.check("http[host->web:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "web", "body": "hello"})
    session.step("stop[web]", "stop", {"container": "web"})
    session.check("command[host:machinectl show web]", "command", {"on": "host", "exit": 1, "run": "machinectl show web"})
    session.step("start[web]", "start", {"container": "web"})
    session.step("wait-unit[web:nginx.service]", "wait-unit", {"on": "web", "unit": "nginx.service"})
    session.check("command[web:test -e /var/lib/web/kept && test ! -e \u2026]", "command", {"on": "web", "exit": 0, "run": "test -e /var/lib/web/kept && test ! -e /var/lost"})
    session.step("restart[web]", "restart", {"container": "web"})
    session.step("wait-port[web:80]", "wait-port", {"on": "web", "port": 80})
    session.check("http[host->web:80/]#2", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "web", "body": "hello"})
    session.finish()
  '';
}
