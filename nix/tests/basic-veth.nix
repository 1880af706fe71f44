# Generated from scenarios/basic-veth.toml by `python -m harness render`; do not edit.
# One container on the default veth link: DHCP from the host, reachable both ways
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "basic-veth";
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
          { }
        ''));
        idle = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            { }
          ''));
          autoStart = false;
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
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="idle",
                zone=None,
                veth=True,
                binds=(),
                auto_start=False,
            ),
        ),
    )

    session = checks.Session(host, topology, driver.out_dir)
    with session.booting():
        host.start()
        host.wait_for_unit("multi-user.target")
    session.check("unit-active[web]", "unit-active", {"container": "web"})
    session.check("address[web:host0]", "address", {"dhcp": True, "node": "web", "interface": "host0"})
    session.check("reachable[host->web,ipv4]", "reachable", {"from": "host", "family": "ipv4", "by": "address", "to": "web"})
    session.check("reachable[web->host,ipv4]", "reachable", {"from": "web", "family": "ipv4", "by": "address", "to": "host"})
    session.check("reachable[host->web,link-local]", "reachable", {"from": "host", "family": "link-local", "by": "address", "to": "web"})
    session.check("command[web:up=\x24(systemctl show -P ExecMainExitTime\u2026]", "command", {"on": "web", "exit": 0, "run": "up=\x24(systemctl show -P ExecMainExitTimestampMonotonic nixos-nspawn-host0.service) && status=\x24(systemctl show -P ExecMainStatus nixos-nspawn-host0.service) && networkd=\x24(systemctl show -P ExecMainStartTimestampMonotonic systemd-networkd.service) && test \"\x24status\" = 0 && test \"\x24up\" -gt 0 && test \"\x24up\" -le \"\x24networkd\" && echo host0 up before networkd", "output": "host0 up before networkd"})
    session.check("store-readonly[web]", "store-readonly", {"container": "web"})
    session.check("no-nix-daemon[web]", "no-nix-daemon", {"container": "web"})
    session.check("command[host:systemctl is-active systemd-nspawn@idle\u2026]", "command", {"on": "host", "exit": 3, "run": "systemctl is-active systemd-nspawn@idle.service", "output": "inactive"})
    session.check("command[host:systemctl -M web is-active multi-user.t\u2026]", "command", {"on": "host", "exit": 0, "run": "systemctl -M web is-active multi-user.target", "output": "active"})
    session.check("command[host:journalctl -M web -b --no-pager -n 20]", "command", {"on": "host", "exit": 0, "run": "journalctl -M web -b --no-pager -n 20"})
    session.finish()
  '';
}
