# Generated from scenarios/resource-limits.toml by `python -m harness render`; do not edit.
# serviceConfig limits the whole container through its unit's cgroup; extraFlags reach systemd-nspawn as written
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "resource-limits";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          { ... }: {
            nixos-nspawn.containers.capped = {
              serviceConfig = {
                MemoryMax = "256M";
                TasksMax = 512;
              };
              # quoted for the ExecStart= line: %, ''$, quotes and backslashes arrive unchanged
              extraFlags = [ "--setenv=GREETING=50% of ''$HOME \"quoted\" \\ back" ];
            };
          }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        capped.config = (import (builtins.toFile "scenario-config.nix" ''
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
                name="capped",
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
    session.check("unit-active[capped]", "unit-active", {"container": "capped"})
    session.check("command[host:cat /sys/fs/cgroup/machine.slice/system\u2026]", "command", {"on": "host", "exit": 0, "run": "cat /sys/fs/cgroup/machine.slice/systemd-nspawn@capped.service/memory.max", "output": "268435456"})
    session.check("command[host:cat /sys/fs/cgroup/machine.slice/system\u2026]#2", "command", {"on": "host", "exit": 0, "run": "cat /sys/fs/cgroup/machine.slice/systemd-nspawn@capped.service/pids.max", "output": "512"})
    session.check("command[host:cat /proc/\x24(machinectl show capped -p L\u2026]", "command", {"on": "host", "exit": 0, "run": "cat /proc/\x24(machinectl show capped -p Leader --value)/cgroup", "output": "/machine.slice/systemd-nspawn@capped.service/payload/"})
    session.check("command[capped:tr \x27\\0\x27 \x27\\n\x27 < /proc/1/environ]", "command", {"on": "capped", "exit": 0, "run": "tr \x27\\0\x27 \x27\\n\x27 < /proc/1/environ", "output": "GREETING=50% of \x24HOME \"quoted\" \\ back\n"})
    session.check("command[capped:stat -fc %T /sys/fs/cgroup]", "command", {"on": "capped", "exit": 0, "run": "stat -fc %T /sys/fs/cgroup", "output": "cgroup2fs"})
    session.finish()
  '';
}
