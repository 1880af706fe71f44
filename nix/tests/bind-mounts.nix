# Generated from scenarios/bind-mounts.toml by `python -m harness render`; do not edit.
# Bind mounts: read-only, read-write and idmapped (container root writes as host root), not idmapped (container root is nobody there), and what the container writes is visible on the host
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "bind-mounts";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          {
            systemd.tmpfiles.rules = [
              "d /srv/ro 0755 root root -"
              "f /srv/ro/motd 0644 root root - hello from the host"
              "d /srv/rw 0755 root root -"
              "d /srv/raw 0755 root root -"
            ];
          }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        files = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            { }
          ''));
          binds = {
            "/mnt/ro" = {
              hostPath = "/srv/ro";
              readOnly = true;
            };
            "/var/lib/rw".hostPath = "/srv/rw";
            "/var/lib/raw" = {
              hostPath = "/srv/raw";
              idmap = false;
            };
          };
        };
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="files",
                zone=None,
                veth=True,
                binds=(
                    checks.Bind(path="/mnt/ro", read_only=True),
                    checks.Bind(path="/var/lib/rw", read_only=False),
                    checks.Bind(path="/var/lib/raw", read_only=False),
                ),
                auto_start=True,
            ),
        ),
    )

    session = checks.Session(host, topology, driver.out_dir)
    with session.booting():
        host.start()
        host.wait_for_unit("multi-user.target")
    session.check("command[files:cat /mnt/ro/motd]", "command", {"on": "files", "exit": 0, "run": "cat /mnt/ro/motd", "output": "hello from the host"})
    session.check("command[files:touch /mnt/ro/new]", "command", {"on": "files", "exit": 1, "run": "touch /mnt/ro/new", "output": "Read-only file system"})
    session.step("run[files:echo from-the-container > /var/lib/rw/n\u2026]", "run", {"on": "files", "run": "echo from-the-container > /var/lib/rw/note"})
    session.check("command[host:cat /srv/rw/note]", "command", {"on": "host", "exit": 0, "run": "cat /srv/rw/note", "output": "from-the-container"})
    session.check("command[host:test \"\x24(stat -c %u:%g /srv/rw/note)\" = \u2026]", "command", {"on": "host", "exit": 0, "run": "test \"\x24(stat -c %u:%g /srv/rw/note)\" = 0:0"})
    session.check("command[files:touch /var/lib/raw/new]", "command", {"on": "files", "exit": 1, "run": "touch /var/lib/raw/new", "output": "Permission denied"})
    session.finish()
  '';
}
