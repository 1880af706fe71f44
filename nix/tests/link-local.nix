# Generated from scenarios/link-local.toml by `python -m harness render`; do not edit.
# Link-local addresses and LLMNR names: the host and a container reach each other over fe80:: on the veth link and by name, and HTTP works over the link-local address
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "link-local";
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
        near.config = (import (builtins.toFile "scenario-config.nix" ''
          {
            services.nginx.enable = true;
            services.nginx.virtualHosts."_".locations."/".return = "200 'near'";
            networking.firewall.allowedTCPPorts = [ 80 ];
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
                name="near",
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
    session.check("reachable[host->near,link-local]", "reachable", {"from": "host", "family": "link-local", "by": "address", "to": "near"})
    session.check("reachable[near->host,link-local]", "reachable", {"from": "near", "family": "link-local", "by": "address", "to": "host"})
    session.check("reachable[host->near,ipv4,name]", "reachable", {"from": "host", "family": "ipv4", "by": "name", "to": "near"})
    session.check("reachable[near->host,ipv4,name]", "reachable", {"from": "near", "family": "ipv4", "by": "name", "to": "host"})
    session.check("http[host->near:80/,link-local]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "link-local", "by": "address", "answer": True, "to": "near", "body": "near"})
    session.finish()
  '';
}
