# Generated from scenarios/ephemeral-binds.toml by `python -m harness render`; do not edit.
# An ephemeral container: its root file system is fresh on every start, only bind mounts keep state
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "ephemeral-binds";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          { ... }: {
            # The bind sources must exist before the container starts.
            systemd.tmpfiles.rules = [
              "d /srv/state 0755 root root -"
              "d /srv/shared 0755 root root -"
              "f /srv/shared/motd 0644 root root - hello from the host"
            ];
          }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        keeper = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            { }
          ''));
          binds = {
            "/var/lib/state" = {
              hostPath = "/srv/state";
              readOnly = false;
            };
            "/mnt/shared" = {
              hostPath = "/srv/shared";
              readOnly = true;
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
                name="keeper",
                zone=None,
                veth=True,
                binds=(
                    checks.Bind(path="/var/lib/state", read_only=False),
                    checks.Bind(path="/mnt/shared", read_only=True),
                ),
                auto_start=True,
            ),
        ),
    )

    session = checks.Session(host, topology, driver.out_dir)
    with session.booting():
        host.start()
        host.wait_for_unit("multi-user.target")
    session.check("ephemeral[keeper]", "ephemeral", {"container": "keeper"})
    session.check("command[keeper:cat /mnt/shared/motd]", "command", {"on": "keeper", "exit": 0, "run": "cat /mnt/shared/motd", "output": "hello from the host"})
    session.check("command[keeper:touch /mnt/shared/written-from-container]", "command", {"on": "keeper", "exit": 1, "run": "touch /mnt/shared/written-from-container"})
    session.check("command[keeper:touch /var/lib/state/written-from-conta\u2026]", "command", {"on": "keeper", "exit": 0, "run": "touch /var/lib/state/written-from-container"})
    session.check("command[host:test -e /srv/state/written-from-contain\u2026]", "command", {"on": "host", "exit": 0, "run": "test -e /srv/state/written-from-container"})
    session.finish()
  '';
}
