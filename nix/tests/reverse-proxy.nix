# Generated from scenarios/reverse-proxy.toml by `python -m harness render`; do not edit.
# The seed's reverse proxy example: nginx on the host proxies to nginx in the container 'backend'
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "reverse-proxy";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          {
            services.nginx = {
              enable = true;
              recommendedProxySettings = true;
              virtualHosts."_".locations."/".proxyPass = "http://backend";
            };
            networking.firewall.allowedTCPPorts = [ 80 ];
            # nginx resolves "backend" (nss-mymachines) when it starts: start it once the container has
            # booted (the module sets NotifyReady), and keep retrying until the container has its address.
            systemd.services.nginx = {
              wants = [ "systemd-nspawn@backend.service" ];
              after = [ "systemd-nspawn@backend.service" ];
              startLimitIntervalSec = 0;
            };
          }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        backend.config = (import (builtins.toFile "scenario-config.nix" ''
          {
            networking.firewall.allowedTCPPorts = [ 80 ];
            services.nginx = {
              enable = true;
              virtualHosts."backend".locations."/".return = '''200 "hack the planet"''';
            };
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
                name="backend",
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
    session.check("unit-active[backend]", "unit-active", {"container": "backend"})
    session.check("reachable[host->backend,ipv4,name]", "reachable", {"from": "host", "family": "ipv4", "by": "name", "to": "backend"})
    session.check("tcp[host->backend:80]", "tcp", {"from": "host", "to": "backend", "port": 80})
    session.check("http[host->backend:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "backend", "body": "hack the planet"})
    session.check("http[host->host:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "host", "body": "hack the planet"})
    session.finish()
  '';
}
