# Generated from scenarios/crash-recovery.toml by `python -m harness render`; do not edit.
# A container whose leader is killed comes back (the module's default Restart=on-failure) while its neighbour is untouched; a service killed inside it restarts itself; a short freeze and thaw leave it serving
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "crash-recovery";
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
        web.config = (import (builtins.toFile "scenario-config.nix" ''
          { lib, ... }:
          {
            services.nginx.enable = true;
            services.nginx.virtualHosts."web".locations."/".return = "200 'up'";
            networking.firewall.allowedTCPPorts = [ 80 ];
            systemd.services.nginx.serviceConfig.Restart = lib.mkForce "always";
            systemd.services.nginx.serviceConfig.RestartSec = lib.mkForce "1s";
          }
        ''));
        bystander.config = (import (builtins.toFile "scenario-config.nix" ''
          { }
        ''));
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
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="bystander",
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
    session.check("http[host->web:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "web", "body": "up"})
    session.step("mark[before-crash]", "mark", {"name": "before-crash"})
    session.step("kill[web]", "kill", {"then": "restarts", "container": "web"})
    session.check("restarted[web@before-crash]", "restarted", {"container": "web", "since": "before-crash"})
    session.check("unchanged[bystander@before-crash]", "unchanged", {"container": "bystander", "since": "before-crash"})
    session.check("http[host->web:80/]#2", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "web", "body": "up"})
    session.step("kill-unit[web:nginx.service]", "kill-unit", {"then": "restarts", "container": "web", "unit": "nginx.service"})
    session.check("http[host->web:80/]#3", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "web", "body": "up"})
    session.step("mark[before-freeze]", "mark", {"name": "before-freeze"})
    session.step("freeze[web]", "freeze", {"container": "web"})
    session.check("command[host:systemctl show -p FreezerState --value \u2026]", "command", {"on": "host", "exit": 0, "run": "systemctl show -p FreezerState --value systemd-nspawn@web.service", "output": "frozen"})
    session.step("thaw[web]", "thaw", {"container": "web"})
    session.check("unchanged[web@before-freeze]", "unchanged", {"container": "web", "since": "before-freeze"})
    session.check("http[host->web:80/]#4", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "web", "body": "up"})
    session.finish()
  '';
}
