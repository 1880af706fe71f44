# Generated from scenarios/isolation.toml by `python -m harness render`; do not edit.
# Isolation: the store is read-only in the container, it has no nix-daemon socket, and host processes are invisible to it
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "isolation";
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
        jail.config = (import (builtins.toFile "scenario-config.nix" ''
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
                name="jail",
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
    session.check("store-readonly[jail]", "store-readonly", {"container": "jail"})
    session.check("no-nix-daemon[jail]", "no-nix-daemon", {"container": "jail"})
    session.step("run[host:systemd-run --unit=host-marker sleep 31\u2026]", "run", {"on": "host", "run": "systemd-run --unit=host-marker sleep 31337"})
    session.check("command[host:pgrep -f \x27sleep 3133[7]\x27]", "command", {"on": "host", "exit": 0, "run": "pgrep -f \x27sleep 3133[7]\x27"})
    session.check("command[jail:pgrep -f \x27sleep 3133[7]\x27]", "command", {"on": "jail", "exit": 1, "run": "pgrep -f \x27sleep 3133[7]\x27"})
    session.finish()
  '';
}
