# Generated from scenarios/three-instances.toml by `python -m harness render`; do not edit.
# Three instances of one NixOS service on one port: each container runs nginx on port 80 in its own network namespace
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "three-instances";
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
        blue.config = (import (builtins.toFile "scenario-config.nix" ''
          {
            services.nginx.enable = true;
            services.nginx.virtualHosts."_".locations."/".return = "200 'blue'";
            networking.firewall.allowedTCPPorts = [ 80 ];
          }
        ''));
        green.config = (import (builtins.toFile "scenario-config.nix" ''
          {
            services.nginx.enable = true;
            services.nginx.virtualHosts."_".locations."/".return = "200 'green'";
            networking.firewall.allowedTCPPorts = [ 80 ];
          }
        ''));
        red.config = (import (builtins.toFile "scenario-config.nix" ''
          {
            services.nginx.enable = true;
            services.nginx.virtualHosts."_".locations."/".return = "200 'red'";
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
                name="blue",
                zone=None,
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="green",
                zone=None,
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="red",
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
    session.check("http[host->blue:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "blue", "body": "blue"})
    session.check("http[host->green:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "green", "body": "green"})
    session.check("http[host->red:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "red", "body": "red"})
    session.check("http[host->red:80/,name,Host=anything.example]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "name", "answer": True, "to": "red", "host": "anything.example", "body": "red"})
    session.finish()
  '';
}
