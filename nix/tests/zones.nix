# Generated from scenarios/zones.toml by `python -m harness render`; do not edit.
# Two containers share the zone 'lab' and reach each other; a host that filters forwarding isolates zone 'dmz' from them
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "zones";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          { networking.nftables.enable = true; networking.firewall.filterForward = true; }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1792;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        alpha = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            { }
          ''));
          network.veth.zone = "lab";
        };
        beta = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            { }
          ''));
          network.veth.zone = "lab";
        };
        gamma = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            { }
          ''));
          network.veth.zone = "dmz";
        };
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="alpha",
                zone="lab",
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="beta",
                zone="lab",
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="gamma",
                zone="dmz",
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
    session.check("reachable[alpha->beta,ipv4]", "reachable", {"from": "alpha", "family": "ipv4", "by": "address", "to": "beta"})
    session.check("reachable[beta->alpha,ipv4]", "reachable", {"from": "beta", "family": "ipv4", "by": "address", "to": "alpha"})
    session.check("reachable[host->gamma,ipv4]", "reachable", {"from": "host", "family": "ipv4", "by": "address", "to": "gamma"})
    session.check("unreachable[alpha->gamma,ipv4]", "unreachable", {"from": "alpha", "family": "ipv4", "by": "address", "to": "gamma"})
    session.check("unreachable[gamma->beta,ipv4]", "unreachable", {"from": "gamma", "family": "ipv4", "by": "address", "to": "beta"})
    session.finish()
  '';
}
