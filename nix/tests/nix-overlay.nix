# Generated from scenarios/nix-overlay.toml by `python -m harness render`; do not edit.
# nix = overlay: the container builds with its own nix-daemon into a throw-away layer over the host's store
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "nix-overlay";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          { ... }: {
            nixos-nspawn.containers.builder.nix = "overlay";
          }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        builder.config = (import (builtins.toFile "scenario-config.nix" ''
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
                name="builder",
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
    session.check("unit-active[builder]", "unit-active", {"container": "builder"})
    session.check("command[builder:nix-store --check-validity \x24(readlink -\u2026]", "command", {"on": "builder", "exit": 0, "run": "nix-store --check-validity \x24(readlink -f /run/current-system) && systemctl is-active nix-daemon.socket"})
    session.check("command[builder:nix-build --no-out-link -E \x27derivation \u2026]", "command", {"on": "builder", "exit": 0, "run": "nix-build --no-out-link -E \x27derivation \x7b name = \"built-in-builder\"; system = builtins.currentSystem; builder = \"/bin/sh\"; args = [ \"-c\" \"echo built > \x24out\" ]; \x7d\x27", "output": "-built-in-builder"})
    session.check("command[host:! ls /nix/store | grep -- -built-in-bui\u2026]", "command", {"on": "host", "exit": 0, "run": "! ls /nix/store | grep -- -built-in-builder"})
    session.check("command[host:systemctl restart systemd-nspawn@builder]", "command", {"on": "host", "exit": 0, "run": "systemctl restart systemd-nspawn@builder"})
    session.check("command[builder:! ls /nix/store | grep -- -built-in-bui\u2026]", "command", {"on": "builder", "exit": 0, "run": "! ls /nix/store | grep -- -built-in-builder"})
    session.finish()
  '';
}
