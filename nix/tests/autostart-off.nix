# Generated from scenarios/autostart-off.toml by `python -m harness render`; do not edit.
# A container with autoStart = false stays down at boot until `machinectl start`, then runs and answers
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "autostart-off";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        lazy = {
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
                name="lazy",
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
    session.check("command[host:systemctl is-active systemd-nspawn@lazy\u2026]", "command", {"on": "host", "exit": 3, "run": "systemctl is-active systemd-nspawn@lazy.service", "output": "inactive"})
    session.check("command[host:machinectl show lazy]", "command", {"on": "host", "exit": 1, "run": "machinectl show lazy"})
    session.step("start[lazy]", "start", {"container": "lazy"})
    session.check("unit-active[lazy]", "unit-active", {"container": "lazy"})
    session.check("reachable[host->lazy,ipv4]", "reachable", {"from": "host", "family": "ipv4", "by": "address", "to": "lazy"})
    session.finish()
  '';
}
