# Generated from scenarios/masquerade.toml by `python -m harness render`; do not edit.
# A container reaches a plain NixOS VM on the test network through the host, which masquerades it: the outside node sees the host's address
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "masquerade";
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
        inner.config = (import (builtins.toFile "scenario-config.nix" ''
          { }
        ''));
      };
    };
  nodes.outside = {
    imports = [
      (import (builtins.toFile "scenario-config.nix" ''
        {
          services.nginx.enable = true;
          services.nginx.virtualHosts."_".locations."/".return = "200 'outside: ''$remote_addr'";
          networking.firewall.allowedTCPPorts = [ 80 ];
        }
      ''))
    ];
  };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="inner",
                zone=None,
                veth=True,
                binds=(),
                auto_start=True,
            ),
        ),
    )

    session = checks.Session(
        host,
        topology,
        driver.out_dir,
        nodes={
            "outside": outside,
        },
    )
    with session.booting():
        start_all()
        host.wait_for_unit("multi-user.target")
        outside.wait_for_unit("multi-user.target")
    session.check("reachable[host->outside,ipv4]", "reachable", {"from": "host", "family": "ipv4", "by": "address", "to": "outside"})
    session.check("reachable[inner->outside,ipv4]", "reachable", {"from": "inner", "family": "ipv4", "by": "address", "to": "outside"})
    session.check("http[inner->outside:80/]", "http", {"from": "inner", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "outside", "body": "outside: 192.168.1."})
    session.check("unreachable[outside->inner,ipv4]", "unreachable", {"from": "outside", "family": "ipv4", "by": "address", "to": "inner"})
    session.finish()
  '';
}
