# Generated from scenarios/credentials.toml by `python -m harness render`; do not edit.
# Credentials reach a container's services: a host file read as root at start, never in the store, and a text
{ nixosModules, checksPackage, userModules ? { }, ... }:
{
  name = "credentials";
  globalTimeout = 1800;
  nodes.host =
    { lib, ... }:
    {
      imports = [
        nixosModules.host
        (import (builtins.toFile "scenario-config.nix" ''
          { ... }: {
            # The secret is made at boot, exists only on the host, and is readable by root only.
            systemd.services.make-secret = {
              wantedBy = [ "multi-user.target" ];
              before = [ "systemd-nspawn@vault.service" ];
              serviceConfig.Type = "oneshot";
              script = "umask 077; mkdir -p /run/secrets; head -c 24 /dev/urandom | base64 > /run/secrets/db-password";
            };
            nixos-nspawn.containers.vault.credentials = {
              db-password.file = "/run/secrets/db-password";
              "app.conf".text = "max_connections = 100";
            };
          }
        ''))
      ];
      # Room for the containers next to the VM's own system; override in [host].config.
      virtualisation.memorySize = lib.mkDefault 1280;
      virtualisation.diskSize = lib.mkDefault 2048;
      nixos-nspawn.containers = {
        vault.config = (import (builtins.toFile "scenario-config.nix" ''
          { ... }: {
            # A service of the container reads the credentials the host passed in.
            systemd.services.reader = {
              wantedBy = [ "multi-user.target" ];
              serviceConfig = {
                Type = "oneshot";
                RemainAfterExit = true;
                LoadCredential = [ "db-password" "app.conf" ];
              };
              script = '''
                cat "''$CREDENTIALS_DIRECTORY/db-password" > /run/reader-db
                cat "''$CREDENTIALS_DIRECTORY/app.conf" > /run/reader-app
              ''';
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
                name="vault",
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
    session.check("unit-active[vault]", "unit-active", {"container": "vault"})
    session.check("command[host:root=/proc/\x24(machinectl show vault -p L\u2026]", "command", {"on": "host", "exit": 0, "run": "root=/proc/\x24(machinectl show vault -p Leader --value)/root && cmp /run/secrets/db-password \"\x24root\"/run/reader-db"})
    session.check("command[vault:cat /run/reader-app]", "command", {"on": "vault", "exit": 0, "run": "cat /run/reader-app", "output": "max_connections = 100"})
    session.check("command[vault:stat -c %a:%U /run/credentials/@system/\u2026]", "command", {"on": "vault", "exit": 0, "run": "stat -c %a:%U /run/credentials/@system/db-password", "output": "400:root"})
    session.check("command[host:! grep -RF \"\x24(cat /run/secrets/db-passw\u2026]", "command", {"on": "host", "exit": 0, "run": "! grep -RF \"\x24(cat /run/secrets/db-password)\" /etc/systemd"})
    session.finish()
  '';
}
