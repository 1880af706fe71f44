# Generated from scenarios/classic-features.toml by `python -m harness render`; do not edit.
# What classic containers offer: a forwarded port, a tmpfs, a capability, /dev/fuse, TUN, and a bind on a late mount
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "classic-features";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          { pkgs, ... }: {
            environment.systemPackages = [ pkgs.curl ];
            # Mounted on demand only (noauto): web's bind source is on it, so the container's unit has to
            # mount it first (RequiresMountsFor=).
            fileSystems."/srv/late" = {
              device = "/srv/late-backing";
              fsType = "none";
              options = [ "bind" "noauto" ];
            };
            systemd.tmpfiles.rules = [
              "d /srv/late-backing/data 0755 root root -"
              "f /srv/late-backing/data/marker 0644 root root - from-the-late-mount"
            ];
            nixos-nspawn.containers.web = {
              forwardPorts = [ { hostPort = 8080; containerPort = 80; } ];
              tmpfs = [ "/var/tmp" ];
              capabilities = [ "CAP_IPC_LOCK" ];
              devices = [ { node = "/dev/fuse"; } ];
              enableTun = true;
            };
          }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        web = {
          config = (import (builtins.toFile "scenario-config.nix" ''
            {
              networking.firewall.allowedTCPPorts = [ 80 ];
              services.nginx.enable = true;
              services.nginx.virtualHosts.web.locations."/".return = "200 'hello-from-web'";
            }
          ''));
          binds."/var/lib/late" = {
            hostPath = "/srv/late/data";
            readOnly = true;
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
                name="web",
                zone=None,
                veth=True,
                binds=(
                    checks.Bind(path="/var/lib/late", read_only=True),
                ),
                auto_start=True,
            ),
        ),
    )

    session = checks.Session(host, topology, driver.out_dir)
    with session.booting():
        host.start()
        host.wait_for_unit("multi-user.target")
    session.check("unit-active[web]", "unit-active", {"container": "web"})
    session.check("command[host:addr=\x24(ip -4 -o addr show scope global \u2026]", "command", {"on": "host", "exit": 0, "run": "addr=\x24(ip -4 -o addr show scope global | awk \x27\x242 !~ /^v[ebz]-/ \x7bsub(/\\/.*/, \"\", \x244); print \x244; exit\x7d\x27); for i in \x24(seq 60); do curl -sf --max-time 3 http://\x24addr:8080/ && exit 0; sleep 1; done; exit 1", "output": "hello-from-web"})
    session.check("command[host:curl -s --max-time 5 http://127.0.0.1:8\u2026]", "command", {"on": "host", "exit": 7, "run": "curl -s --max-time 5 http://127.0.0.1:8080/"})
    session.check("command[web:stat -f -c %T /var/tmp]", "command", {"on": "web", "exit": 0, "run": "stat -f -c %T /var/tmp", "output": "tmpfs"})
    session.check("command[host:pid=\x24(machinectl show web -p Leader --v\u2026]", "command", {"on": "host", "exit": 0, "run": "pid=\x24(machinectl show web -p Leader --value) && cap=\x24(awk \x27/^CapEff:/ \x7bprint \x242\x7d\x27 /proc/\x24pid/status) && echo CAP_IPC_LOCK=\x24(( (0x\x24cap >> 14) & 1 ))", "output": "CAP_IPC_LOCK=1"})
    session.check("command[web:systemd-run --wait --pipe --quiet </dev\u2026]", "command", {"on": "web", "exit": 0, "run": "systemd-run --wait --pipe --quiet </dev/null sh -c \x27exec 3<>/dev/fuse && echo opened /dev/fuse\x27", "output": "opened /dev/fuse"})
    session.check("command[web:systemd-run --wait --pipe --quiet </dev\u2026]#2", "command", {"on": "web", "exit": 0, "run": "systemd-run --wait --pipe --quiet </dev/null sh -c \x27ip tuntap add dev tun9 mode tun && ip -o link show tun9\x27", "output": "tun9"})
    session.check("command[web:cat /var/lib/late/marker]", "command", {"on": "web", "exit": 0, "run": "cat /var/lib/late/marker", "output": "from-the-late-mount"})
    session.finish()
  '';
}
