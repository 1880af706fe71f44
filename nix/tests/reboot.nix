# Generated from scenarios/reboot.toml by `python -m harness render`; do not edit.
# Rebooting the host brings back the containers with autoStart (fresh roots, binds kept) and not the others; a rebooted test-network node is reached through the host again
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "reboot";
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
      virtualisation.memorySize = lib.mkDefault 1536;
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
        lazy = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            { }
          ''));
          autoStart = false;
        };
      };
    };
  nodes.outside = {
    imports = [
      (import (builtins.toFile "scenario-config.nix" ''
        {
          services.nginx.enable = true;
          services.nginx.virtualHosts."_".locations."/".return = "200 'outside'";
          networking.firewall.allowedTCPPorts = [ 80 ];
        }
      ''))
    ];
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
            checks.Container(
                name="lazy",
                zone=None,
                veth=True,
                binds=(),
                auto_start=False,
            ),
        ),
    )

    session = checks.Session(
        host,
        topology,
        driver.out_dir,
        nodes={
            "outside": outside,
        },
    )
    with session.booting():
        start_all()
        host.wait_for_unit("multi-user.target")
        outside.wait_for_unit("multi-user.target")
    session.step("run[web:touch /var/lib/web/kept /var/lost]", "run", {"on": "web", "run": "touch /var/lib/web/kept /var/lost"})
    session.step("start[lazy]", "start", {"container": "lazy"})
    session.check("unit-active[lazy]", "unit-active", {"container": "lazy"})
    session.step("reboot[host]", "reboot", {"on": "host"})
    session.step("wait-unit[web:nginx.service]", "wait-unit", {"on": "web", "unit": "nginx.service"})
    session.check("http[host->web:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "web", "body": "hello"})
    session.check("command[web:test -e /var/lib/web/kept && test ! -e \u2026]", "command", {"on": "web", "exit": 0, "run": "test -e /var/lib/web/kept && test ! -e /var/lost"})
    session.check("command[host:systemctl is-active systemd-nspawn@lazy\u2026]", "command", {"on": "host", "exit": 3, "run": "systemctl is-active systemd-nspawn@lazy.service", "output": "inactive"})
    session.step("reboot[outside]", "reboot", {"on": "outside"})
    session.step("wait-unit[outside:nginx.service]", "wait-unit", {"on": "outside", "unit": "nginx.service"})
    session.check("http[web->outside:80/]", "http", {"from": "web", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "outside", "body": "outside"})
    session.finish()
  '';
}
