# Generated from scenarios/host-network.toml by `python -m harness render`; do not edit.
# A container on the host's network answers on the host's own address; one in a network namespace the host made answers on that namespace's address (both on ports above 1023)
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "host-network";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          { pkgs, ... }: {
            environment.systemPackages = [ pkgs.curl ];
            systemd.services.netns-lab = {
              before = [ "systemd-nspawn@joined.service" ];
              requiredBy = [ "systemd-nspawn@joined.service" ];
              path = [ pkgs.iproute2 ];
              serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
              script = '''
                ip netns add lab
                ip link add lab0 type veth peer name lab1 netns lab
                ip addr add 10.231.0.1/24 dev lab0
                ip link set lab0 up
                ip -n lab addr add 10.231.0.2/24 dev lab1
                ip -n lab link set lab1 up
                ip -n lab link set lo up
              ''';
            };
            nixos-nspawn.containers.shared.network.private = false;
            nixos-nspawn.containers.joined.network.namespace = "/run/netns/lab";
          }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1536;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        shared = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            {
              services.nginx.enable = true;
              services.nginx.defaultHTTPListenPort = 8080;
              services.nginx.virtualHosts."shared".locations."/".return = "200 'hello-from-shared'";
            }
          ''));
          network.veth.enable = false;
        };
        joined = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            {
              services.nginx.enable = true;
              services.nginx.defaultHTTPListenPort = 8080;
              services.nginx.virtualHosts."joined".locations."/".return = "200 'hello-from-joined'";
            }
          ''));
          network.veth.enable = false;
        };
      };
    };
  extraPythonPackages = p: [ (checksPackage p) ];
  testScript = ''
    from harness import checks

    topology = checks.Topology(
        containers=(
            checks.Container(
                name="shared",
                zone=None,
                veth=False,
                binds=(),
                auto_start=True,
            ),
            checks.Container(
                name="joined",
                zone=None,
                veth=False,
                binds=(),
                auto_start=True,
            ),
        ),
    )

    session = checks.Session(host, topology, driver.out_dir)
    with session.booting():
        host.start()
        host.wait_for_unit("multi-user.target")
    session.check("unit-active[shared]", "unit-active", {"container": "shared"})
    session.check("unit-active[joined]", "unit-active", {"container": "joined"})
    session.check("command[shared:ip -o link show dev eth0]", "command", {"on": "shared", "exit": 0, "run": "ip -o link show dev eth0"})
    session.check("command[host:test \"\x24(readlink /proc/\x24(machinectl sho\u2026]", "command", {"on": "host", "exit": 0, "run": "test \"\x24(readlink /proc/\x24(machinectl show shared -p Leader --value)/ns/net)\" = \"\x24(readlink /proc/self/ns/net)\""})
    session.check("command[host:addr=\x24(ip -4 -o addr show scope global \u2026]", "command", {"on": "host", "exit": 0, "run": "addr=\x24(ip -4 -o addr show scope global | awk \x27\x242 !~ /^(v[ebz]-|lab)/ \x7bsub(/\\/.*/, \"\", \x244); print \x244; exit\x7d\x27); curl -sf --max-time 5 --retry 30 --retry-delay 1 --retry-all-errors http://\x24addr:8080/", "output": "hello-from-shared"})
    session.check("command[host:ip netns identify \x24(machinectl show joi\u2026]", "command", {"on": "host", "exit": 0, "run": "ip netns identify \x24(machinectl show joined -p Leader --value)", "output": "lab"})
    session.check("command[host:curl -sf --max-time 5 --retry 30 --retr\u2026]", "command", {"on": "host", "exit": 0, "run": "curl -sf --max-time 5 --retry 30 --retry-delay 1 --retry-all-errors http://10.231.0.2:8080/", "output": "hello-from-joined"})
    session.finish()
  '';
}
