# Generated from scenarios/port-forward.toml by `python -m harness render`; do not edit.
# Port forwarding from an outside node into a container: a client on the test network connects to the host's address and port 8080 and is answered by the container's port 80
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "port-forward";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          {
            nixos-nspawn.containers.web.forwardPorts = [ { hostPort = 8080; containerPort = 80; } ];
          }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        web.config = (import (builtins.toFile "scenario-config.nix" ''
          {
            services.nginx.enable = true;
            services.nginx.virtualHosts."_".locations."/".return = "200 'web sees ''$remote_addr'";
            networking.firewall.allowedTCPPorts = [ 80 ];
          }
        ''));
      };
    };
  nodes.outside = {
    imports = [
      (import (builtins.toFile "scenario-config.nix" ''
        { }
      ''))
    ];
  };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="web",
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
    session.check("unit-active[web]", "unit-active", {"container": "web"})
    session.check("http[outside->host:8080/]", "http", {"from": "outside", "port": 8080, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "host", "body": "web sees 192.168.1."})
    session.check("http[outside->host:80/,no answer]", "http", {"from": "outside", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": False, "to": "host"})
    session.finish()
  '';
}
