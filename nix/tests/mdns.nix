# Generated from scenarios/mdns.toml by `python -m harness render`; do not edit.
# mDNS names: the host and a zone peer reach a container as <name>.local, and the container reaches the host as host.local, through systemd-resolved's multicast DNS on the container links
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "mdns";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1536;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        alpha = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            {
              services.nginx.enable = true;
              services.nginx.virtualHosts."_".locations."/".return = "200 'alpha'";
              networking.firewall.allowedTCPPorts = [ 80 ];
            }
          ''));
          network.veth.zone = "lan";
        };
        beta = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            { }
          ''));
          network.veth.zone = "lan";
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
                zone="lan",
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="beta",
                zone="lan",
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
    session.check("reachable[host->alpha,ipv4,mdns]", "reachable", {"from": "host", "family": "ipv4", "by": "mdns", "to": "alpha"})
    session.check("reachable[beta->alpha,ipv4,mdns]", "reachable", {"from": "beta", "family": "ipv4", "by": "mdns", "to": "alpha"})
    session.check("reachable[alpha->host,ipv4,mdns]", "reachable", {"from": "alpha", "family": "ipv4", "by": "mdns", "to": "host"})
    session.check("http[beta->alpha:80/,mdns]", "http", {"from": "beta", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "mdns", "answer": True, "to": "alpha", "body": "alpha"})
    session.check("command[beta:resolvectl query -4 alpha.local]", "command", {"on": "beta", "exit": 0, "run": "resolvectl query -4 alpha.local", "output": "protocol mDNS/IPv4"})
    session.finish()
  '';
}
