# Generated from scenarios/switch-idempotence.toml by `python -m harness render`; do not edit.
# Idempotence of NixOS activation: switching to a specialisation that changes one container's system restarts that one once and leaves the other two untouched, as does switching back for the two
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "switch-idempotence";
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
        changed.config = (import (builtins.toFile "scenario-config.nix" ''
          {
            services.nginx.enable = true;
            services.nginx.virtualHosts."changed".locations."/".return = "200 'v1'";
            networking.firewall.allowedTCPPorts = [ 80 ];
          }
        ''));
        same.config = (import (builtins.toFile "scenario-config.nix" ''
          { }
        ''));
        other.config = (import (builtins.toFile "scenario-config.nix" ''
          { }
        ''));
      };
      specialisation = {
        v2.configuration.nixos-nspawn.containers.changed.config = (import (builtins.toFile "scenario-config.nix" ''
          { lib, ... }: { services.nginx.virtualHosts."changed".locations."/".return = lib.mkForce "200 'v2'"; }
        ''));
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="changed",
                zone=None,
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="same",
                zone=None,
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="other",
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
    session.check("http[host->changed:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "changed", "body": "v1"})
    session.step("mark[before-switch]", "mark", {"name": "before-switch"})
    session.step("switch[v2]", "switch", {"to": "v2"})
    session.check("restarted[changed@before-switch]", "restarted", {"container": "changed", "since": "before-switch"})
    session.check("unchanged[same@before-switch]", "unchanged", {"container": "same", "since": "before-switch"})
    session.check("unchanged[other@before-switch]", "unchanged", {"container": "other", "since": "before-switch"})
    session.check("http[host->changed:80/]#2", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "changed", "body": "v2"})
    session.step("mark[before-switch-back]", "mark", {"name": "before-switch-back"})
    session.step("switch[base]", "switch", {"to": "base"})
    session.check("restarted[changed@before-switch-back]", "restarted", {"container": "changed", "since": "before-switch-back"})
    session.check("unchanged[same@before-switch]#2", "unchanged", {"container": "same", "since": "before-switch"})
    session.finish()
  '';
}
