# Generated from scenarios/reload-in-place.toml by `python -m harness render`; do not edit.
# Switching the host to a specialisation reloads a container with reloadIfChanged: its changed service serves the new content while its PID 1 and boot id stay
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "reload-in-place";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          { nixos-nspawn.containers.web.reloadIfChanged = true; }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        web.config = (import (builtins.toFile "scenario-config.nix" ''
          {
            services.nginx.enable = true;
            services.nginx.virtualHosts."web".locations."/".return = "200 'v1'";
            networking.firewall.allowedTCPPorts = [ 80 ];
          }
        ''));
      };
      specialisation = {
        v2.configuration.nixos-nspawn.containers.web.config = (import (builtins.toFile "scenario-config.nix" ''
          { lib, ... }: { services.nginx.virtualHosts."web".locations."/".return = lib.mkForce "200 'v2'"; }
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
        ),
    )

    session = checks.Session(host, topology, driver.out_dir)
    with session.booting():
        host.start()
        host.wait_for_unit("multi-user.target")
    session.check("http[host->web:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "web", "body": "v1"})
    session.step("run[host:machinectl show web -p Leader --value >\u2026]", "run", {"on": "host", "run": "machinectl show web -p Leader --value > /tmp/web-leader"})
    session.step("run[web:cat /proc/sys/kernel/random/boot_id > /\u2026]", "run", {"on": "web", "run": "cat /proc/sys/kernel/random/boot_id > /run/boot-id-before"})
    session.step("switch[v2]", "switch", {"to": "v2"})
    session.check("http[host->web:80/]#2", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "web", "body": "v2"})
    session.check("command[host:test \"\x24(machinectl show web -p Leader -\u2026]", "command", {"on": "host", "exit": 0, "run": "test \"\x24(machinectl show web -p Leader --value)\" = \"\x24(cat /tmp/web-leader)\""})
    session.check("command[web:test \"\x24(cat /proc/sys/kernel/random/boo\u2026]", "command", {"on": "web", "exit": 0, "run": "test \"\x24(cat /proc/sys/kernel/random/boot_id)\" = \"\x24(cat /run/boot-id-before)\""})
    session.finish()
  '';
}
