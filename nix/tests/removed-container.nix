# Generated from scenarios/removed-container.toml by `python -m harness render`; do not edit.
# A specialisation that no longer declares a container: the switch stops it and leaves the other running; switching back starts it again
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "removed-container";
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
        kept.config = (import (builtins.toFile "scenario-config.nix" ''
          { }
        ''));
        dropped.config = (import (builtins.toFile "scenario-config.nix" ''
          { }
        ''));
      };
      specialisation = {
        slim.configuration.imports = [
          (import (builtins.toFile "scenario-config.nix" ''
            { lib, ... }: { nixos-nspawn.containers = lib.mkForce { kept.config = { }; }; }
          ''))
        ];
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="kept",
                zone=None,
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="dropped",
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
    session.check("unit-active[kept]", "unit-active", {"container": "kept"})
    session.check("unit-active[dropped]", "unit-active", {"container": "dropped"})
    session.step("run[host:machinectl show kept -p Leader --value \u2026]", "run", {"on": "host", "run": "machinectl show kept -p Leader --value > /tmp/kept-leader"})
    session.step("switch[slim]", "switch", {"to": "slim"})
    session.check("command[host:systemctl is-active systemd-nspawn@drop\u2026]", "command", {"on": "host", "exit": 3, "run": "systemctl is-active systemd-nspawn@dropped.service"})
    session.check("command[host:machinectl show dropped]", "command", {"on": "host", "exit": 1, "run": "machinectl show dropped"})
    session.check("command[host:test \"\x24(machinectl show kept -p Leader \u2026]", "command", {"on": "host", "exit": 0, "run": "test \"\x24(machinectl show kept -p Leader --value)\" = \"\x24(cat /tmp/kept-leader)\""})
    session.step("switch[base]", "switch", {"to": "base"})
    session.check("unit-active[dropped]#2", "unit-active", {"container": "dropped"})
    session.finish()
  '';
}
