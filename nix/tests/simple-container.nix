# Generated from scenarios/simple-container.toml by `python -m harness render`; do not edit.
# The seed's simple example: a container 'mycontainer' running a plain NixOS with htop, and `machinectl shell` gives a root shell in it
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "simple-container";
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
        mycontainer.config = (import (builtins.toFile "scenario-config.nix" ''
          { pkgs, ... }: {
            environment.systemPackages = [ pkgs.htop ];
          }
        ''));
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="mycontainer",
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
    session.check("unit-active[mycontainer]", "unit-active", {"container": "mycontainer"})
    session.check("command[host:machinectl shell mycontainer /run/curre\u2026]", "command", {"on": "host", "exit": 0, "run": "machinectl shell mycontainer /run/current-system/sw/bin/sh -c \x27PATH=/run/current-system/sw/bin; echo \"\x24(id -un) has \x24(htop --version | head -n 1)\"\x27 </dev/null", "output": "root has htop "})
    session.finish()
  '';
}
