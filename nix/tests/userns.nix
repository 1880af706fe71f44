# Generated from scenarios/userns.toml by `python -m harness render`; do not edit.
# Every container runs in its own user namespace: private, disjoint 65536-wide UID ranges
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "userns";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1792;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        one.config = (import (builtins.toFile "scenario-config.nix" ''
          { }
        ''));
        two.config = (import (builtins.toFile "scenario-config.nix" ''
          { }
        ''));
        three.config = (import (builtins.toFile "scenario-config.nix" ''
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
                name="one",
                zone=None,
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="two",
                zone=None,
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="three",
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
    session.check("userns[one]", "userns", {"container": "one"})
    session.check("userns[two]", "userns", {"container": "two"})
    session.check("userns[three]", "userns", {"container": "three"})
    session.check("command[one:test \"\x24(id -u)\" = 0]", "command", {"on": "one", "exit": 0, "run": "test \"\x24(id -u)\" = 0"})
    session.finish()
  '';
}
