# Generated from scenarios/closure-store.toml by `python -m harness render`; do not edit.
# nixStore = closure: the container sees only its own system's closure under /nix/store, read-only: one erofs image, mounted on the host while the container runs
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "closure-store";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          { pkgs, ... }: {
            # In the host's store, not in the container's closure.
            environment.systemPackages = [ pkgs.hello ];
            nixos-nspawn.containers.sealed.nixStore = "closure";
          }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        sealed.config = (import (builtins.toFile "scenario-config.nix" ''
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
                name="sealed",
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
    session.check("unit-active[sealed]", "unit-active", {"container": "sealed"})
    session.check("command[host:ls /nix/store | grep -- \x27-hello-\x27]", "command", {"on": "host", "exit": 0, "run": "ls /nix/store | grep -- \x27-hello-\x27"})
    session.check("command[sealed:! ls /nix/store | grep -- \x27-hello-\x27]", "command", {"on": "sealed", "exit": 0, "run": "! ls /nix/store | grep -- \x27-hello-\x27"})
    session.check("command[sealed:test -x /run/current-system/sw/bin/syst\u2026]", "command", {"on": "sealed", "exit": 0, "run": "test -x /run/current-system/sw/bin/systemctl && readlink -f /run/current-system", "output": "/nix/store/"})
    session.check("command[sealed:touch /nix/store/new]", "command", {"on": "sealed", "exit": 1, "run": "touch /nix/store/new"})
    session.check("command[sealed:test \"\x24(findmnt -n -o FSTYPE /nix/store\u2026]", "command", {"on": "sealed", "exit": 0, "run": "test \"\x24(findmnt -n -o FSTYPE /nix/store)\" = erofs && test \"\x24(grep -c \x27 /nix/store \x27 /proc/self/mountinfo)\" = 1"})
    session.check("command[host:findmnt -n -t erofs -o TARGET,OPTIONS]", "command", {"on": "host", "exit": 0, "run": "findmnt -n -t erofs -o TARGET,OPTIONS", "output": "/run/nixos-nspawn/store/"})
    session.step("stop[sealed]", "stop", {"container": "sealed"})
    session.check("command[host:! findmnt -n -t erofs -o TARGET | grep \u2026]", "command", {"on": "host", "exit": 0, "run": "! findmnt -n -t erofs -o TARGET | grep /run/nixos-nspawn/store/", "within": 30})
    session.finish()
  '';
}
