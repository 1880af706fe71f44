# Generated from scenarios/static-address.toml by `python -m harness render`; do not edit.
# The seed's custom network example: static IPv4 and IPv6 addresses on both ends
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "static-address";
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
        static = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            { }
          ''));
          network.veth.config = {
            host.networkConfig = {
              DHCPServer = false;
              Address = [ "fc42::1/64" "192.168.42.1/24" ];
            };
            container.networkConfig = {
              DHCP = "no";
              Address = [ "fc42::2/64" "192.168.42.2/24" ];
              Gateway = [ "fc42::1" "192.168.42.1" ];
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
                name="static",
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
    session.check("address[static:host0]", "address", {"dhcp": False, "node": "static", "interface": "host0", "prefix": "192.168.42.2/24"})
    session.check("address[static:host0]#2", "address", {"dhcp": False, "node": "static", "interface": "host0", "prefix": "fc42::2/64"})
    session.check("address[host:ve-static]", "address", {"dhcp": False, "node": "host", "interface": "ve-static", "prefix": "192.168.42.1/24"})
    session.check("reachable[host->static,ipv4,192.168.42.2]", "reachable", {"from": "host", "family": "ipv4", "by": "address", "to": "static", "address": "192.168.42.2"})
    session.check("reachable[host->static,ipv6,fc42::2]", "reachable", {"from": "host", "family": "ipv6", "by": "address", "to": "static", "address": "fc42::2"})
    session.check("reachable[static->host,ipv4,192.168.42.1]", "reachable", {"from": "static", "family": "ipv4", "by": "address", "to": "host", "address": "192.168.42.1"})
    session.finish()
  '';
}
