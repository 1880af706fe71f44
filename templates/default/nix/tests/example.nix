# Generated from scenarios/example.toml by `python -m harness render`; do not edit.
# The host web as deployed: app reaches db's PostgreSQL on the zone backend, and the host gets app's page
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "example";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (userModules.web or (throw "scenario scenarios/example.toml: [host] modules: the flake has no nixosModules.web"))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1536;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        db = {
          config.imports = [ ../../containers/db.nix ];
          network.veth.zone = "backend";
        };
        app = {
          config.imports = [ ../../containers/app.nix ];
          network.veth.zone = "backend";
        };
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="db",
                zone="backend",
                veth=True,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="app",
                zone="backend",
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
    session.check("tcp[app->db:5432]", "tcp", {"from": "app", "to": "db", "port": 5432})
    session.check("http[host->app:80/]", "http", {"from": "host", "port": 80, "path": "/", "status": 200, "family": "ipv4", "by": "address", "answer": True, "to": "app", "body": "hello from app"})
    session.check("ephemeral[db]", "ephemeral", {"container": "db"})
    session.finish()
  '';
}
