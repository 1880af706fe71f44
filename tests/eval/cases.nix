# The host configurations the eval tier evaluates (see harness.nix). Each case: a description
# and the NixOS modules of the host, written as a user would write them. `credentialFile` is the
# host file of the file credentials below (a test passes a real file with a known secret).
{
  lib,
  credentialFile ? "/run/secrets/db-password",
}:
let
  case = description: modules: { inherit description modules; };
  # A case that only its test evaluates (with its own inputs): never exported as a reference.
  probe = description: modules: {
    inherit description modules;
    export = false;
  };
  prebuilt = "/nix/store/11111111111111111111111111111111-nixos-system-prebuilt";

  # The seed README's static network settings for both ends of the veth link. (The seed writes
  # `DHCP = false`, which nixpkgs' networkd module refuses: DHCP takes yes, no, ipv4 or ipv6.)
  seedStaticLink = {
    host.networkConfig = {
      DHCPServer = false;
      Address = [
        "fc42::1/64"
        "192.168.42.1/24"
      ];
    };
    container.networkConfig = {
      DHCP = "no";
      Address = [
        "fc42::2/64"
        "192.168.42.2/24"
      ];
      Gateway = [
        "fc42::1"
        "192.168.42.1"
      ];
    };
  };
in
{
  # The three examples of the seed README.
  seed-simple = case "seed README: a plain container with htop" [
    {
      nixos-nspawn.containers = {
        mycontainer.config =
          { pkgs, ... }:
          {
            environment.systemPackages = [ pkgs.htop ];
          };
      };
    }
  ];

  seed-reverse-proxy = case "seed README: nginx on the host proxies to nginx in the container" [
    {
      services.nginx = {
        enable = true;
        recommendedProxySettings = true;
        virtualHosts."_".locations."/".proxyPass = "http://backend";
      };

      nixos-nspawn.containers = {
        backend = {
          config = {
            networking.firewall.allowedTCPPorts = [ 80 ];
            services.nginx = {
              enable = true;
              virtualHosts."backend".locations."/".return = ''200 "hack the planet"'';
            };
          };
        };
      };
    }
  ];

  # The example's own container name: `ve-testcontainer` has 16 characters, which nspawn
  # shortens; `seed-static-short` is the same configuration under the name of the seed
  # project's own static-networking check.
  seed-static = case "seed README: static addresses on both ends of the veth link" [
    {
      nixos-nspawn.containers = {
        testcontainer = {
          config = { };
          network.veth.config = seedStaticLink;
        };
      };
    }
  ];

  seed-static-short = case "seed README: static addresses on both ends of the veth link (container `test`)" [
    {
      nixos-nspawn.containers = {
        test = {
          config = { };
          network.veth.config = seedStaticLink;
        };
      };
    }
  ];

  zone-shared = case "two containers share the zone bridge vz-lab; one sets its address" [
    {
      nixos-nspawn.containers = {
        web = {
          config = { };
          network.veth.zone = "lab";
          network.veth.config.host.networkConfig.Address = [ "10.23.0.1/24" ];
        };
        db = {
          config = { };
          network.veth.zone = "lab";
        };
      };
    }
  ];

  binds = case "read-write, read-only, shifted (not idmapped) binds and a path with a colon" [
    {
      nixos-nspawn.containers.files = {
        config = { };
        binds = {
          "/var/lib/data".hostPath = "/srv/data";
          "/etc/ssl/certs".readOnly = true;
          "/var/lib/postgresql" = {
            hostPath = "/srv/postgresql";
            idmap = false;
          };
          "/mnt/a:b" = {
            hostPath = "/srv/a:b";
            readOnly = true;
            options = [
              "norbind"
              "idmap"
            ];
          };
        };
      };
    }
  ];

  autostart-off = case "one container started by machines.target, one only on demand" [
    {
      nixos-nspawn.containers = {
        always.config = { };
        manual = {
          config = { };
          autoStart = false;
        };
      };
    }
  ];

  restart-off = case "a container that a rebuild does not restart" [
    {
      nixos-nspawn.containers.steady = {
        config = { };
        restartIfChanged = false;
      };
    }
  ];

  inotify-default = case "a host whose own default for the inotify instance limit wins" [
    {
      nixos-nspawn.containers.steady.config = { };
      boot.kernel.sysctl."fs.inotify.max_user_instances" = lib.mkDefault 512;
    }
  ];

  veth-disabled = case "a container with a private network namespace and no link" [
    {
      nixos-nspawn.containers.isolated = {
        config = { };
        network.veth.enable = false;
      };
    }
  ];

  host-dhcpcd = case "a host with scripted networking (dhcpcd) keeps it" [
    {
      networking.dhcpcd.enable = true;
      nixos-nspawn.containers.web.config = { };
    }
  ];

  host-networkmanager = case "a host with NetworkManager keeps it" [
    {
      networking.networkmanager.enable = true;
      networking.dhcpcd.enable = false;
      nixos-nspawn.containers.web.config = { };
    }
  ];

  host-nftables = case "a host with the nftables firewall gets nftables interface wildcards" [
    {
      networking.nftables.enable = true;
      nixos-nspawn.containers.web.config = { };
    }
  ];

  host-networkd = case "a host that uses networkd for its own interfaces" [
    {
      networking.useNetworkd = true;
      networking.dhcpcd.enable = false;
      nixos-nspawn.containers.web.config = { };
    }
  ];

  path-only = case "a container from a prebuilt system toplevel" [
    {
      nixos-nspawn.containers.prebuilt.path = prebuilt;
    }
  ];

  imports = case "modules added to every container" [
    {
      nixos-nspawn.imports = [ { services.nginx.enable = true; } ];
      nixos-nspawn.containers = {
        one.config = { };
        two.config.networking.hostName = "second";
      };
    }
  ];

  mymachines-removed = case "a host whose hosts database lacks nss-mymachines" [
    {
      system.nssDatabases.hosts = lib.mkForce [
        "files"
        "dns"
      ];
      nixos-nspawn.containers.web.config = { };
    }
  ];

  runtime-pair = case "alpha on its own veth with writable binds (one path with `:` and `\\`), beta in zone lab" [
    {
      nixos-nspawn.containers = {
        alpha = {
          config = { };
          binds = {
            "/var/lib/alpha".hostPath = "/srv/alpha";
            "/var/lib/odd:dir\\x".hostPath = "/srv/odd:dir\\x";
          };
        };
        beta = {
          config = { };
          network.veth.zone = "lab";
        };
      };
    }
  ];

  network-override = case "every default of both link ends replaced by the user" [
    {
      nixos-nspawn.containers.custom = {
        config.systemd.services.nixos-nspawn-host0.enable = false;
        network.veth.config = {
          host = {
            matchConfig = {
              Name = "ve-custom";
              Kind = "veth";
            };
            networkConfig = {
              Address = [ "10.1.2.1/30" ];
              DHCPServer = false;
              IPMasquerade = "no";
              LinkLocalAddressing = "no";
              IPv6AcceptRA = true;
              IPv6SendRA = false;
              MulticastDNS = false;
              LLDP = false;
              EmitLLDP = false;
            };
            linkConfig.RequiredForOnline = "routable";
          };
          container = {
            matchConfig = {
              Name = "host0";
              Kind = "veth";
              Virtualization = "yes";
            };
            networkConfig = {
              DHCP = "ipv4";
              LinkLocalAddressing = "no";
              IPv6AcceptRA = false;
              MulticastDNS = "resolve";
              LLDP = false;
              EmitLLDP = false;
            };
          };
        };
      };
    }
  ];

  # What users of NixOS' classic containers rely on (nix/host/*.nix).
  ports = case "ports forwarded from the host: tcp 8080 to 80, udp 5000 to 5000" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        forwardPorts = [
          {
            hostPort = 8080;
            containerPort = 80;
          }
          {
            protocol = "udp";
            hostPort = 5000;
          }
        ];
      };
    }
  ];

  ports-in-zone = case "a port forwarded to a container in a zone" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth.zone = "lab";
        forwardPorts = [ { hostPort = 443; } ];
      };
    }
  ];

  mount-order = case "the unit requires the mounts of every bind's host path, escaped for the list" [
    {
      nixos-nspawn.containers.files = {
        config = { };
        binds = {
          "/var/lib/data".hostPath = "/srv/late mount/data";
          "/srv/same" = { };
          "/var/lib/odd".hostPath = ''/srv/it's "50%" \x'';
        };
      };
    }
  ];

  attachments = case "a container on the host's bridge, one with extra veths, a MACVLAN and a moved interface" [
    {
      nixos-nspawn.containers = {
        bridged = {
          config = { };
          network.veth.bridge = "br0";
        };
        attached = {
          config = { };
          network = {
            extraVeths = {
              vx-plain = { };
              vx-bridged = {
                containerName = "eth9";
                hostBridge = "br1";
              };
            };
            macvlans = [ "eth1" ];
            interfaces = [ "eth-2.100" ];
          };
        };
      };
    }
  ];

  attachments-networkmanager = case "NetworkManager leaves alone what the containers own" [
    {
      networking.networkmanager.enable = true;
      networking.dhcpcd.enable = false;
      nixos-nspawn.containers.attached = {
        config = { };
        network.extraVeths.vx-attached = { };
        network.interfaces = [ "eth2" ];
      };
    }
  ];

  devices = case "a tmpfs, an extra capability, /dev/fuse and TUN" [
    {
      nixos-nspawn.containers.vpn = {
        config = { };
        tmpfs = [
          "/var/tmp"
          "/var/cache/app:mode=0700"
        ];
        capabilities = [ "CAP_IPC_LOCK" ];
        devices = [ { node = "/dev/fuse"; } ];
        enableTun = true;
      };
    }
  ];

  evaluation = case "specialArgs, another nixpkgs, and a package set with an overlay" [
    {
      nixos-nspawn.containers = {
        args = {
          specialArgs.site = {
            name = "from-special-args";
          };
          config =
            { site, ... }:
            {
              networking.hostName = site.name;
            };
        };
        other = {
          nixpkgs = ./other-nixpkgs;
          config = { };
        };
        custom = {
          pkgs = {
            _type = "pkgs";
            stdenv.hostPlatform.system = "x86_64-linux";
            hello = "/nix/store/22222222222222222222222222222222-custom-hello";
            iproute2 = "/nix/store/22222222222222222222222222222222-iproute2-custom";
          };
          config =
            { pkgs, ... }:
            {
              environment.systemPackages = [ pkgs.hello ];
            };
        };
      };
    }
  ];

  long-name = case "a 28-character container name: nspawn shortens ve-<name>, networkd matches the full name" [
    { nixos-nspawn.containers.a-container-with-a-long-name.config = { }; }
  ];

  # The runtime tier's second case (tests/runtime): every feature above that Debian's systemd
  # can show, on a host with a bridge and two dummy interfaces of its own.
  runtime-features = case "features: ports, tmpfs, capability, fuse, TUN, a late bind; attached: extra veth, MACVLAN, moved interface; bridged; a long name" [
    {
      systemd.network = {
        netdevs = {
          "20-br0".netdevConfig = {
            Name = "br0";
            Kind = "bridge";
          };
          "20-dm-parent".netdevConfig = {
            Name = "dm-parent";
            Kind = "dummy";
          };
          "20-dm-moved".netdevConfig = {
            Name = "dm-moved";
            Kind = "dummy";
          };
        };
        networks = {
          "20-br0" = {
            matchConfig.Name = "br0";
            networkConfig = {
              Address = [ "10.77.0.1/24" ];
              DHCPServer = true;
              ConfigureWithoutCarrier = true;
            };
            linkConfig.RequiredForOnline = "no";
          };
          "20-dm-parent" = {
            matchConfig.Name = "dm-parent";
            linkConfig.RequiredForOnline = "no";
          };
        };
      };
      nixos-nspawn.containers = {
        features = {
          config = { };
          forwardPorts = [
            {
              hostPort = 8080;
              containerPort = 80;
            }
          ];
          tmpfs = [ "/var/tmp" ];
          capabilities = [ "CAP_IPC_LOCK" ];
          devices = [ { node = "/dev/fuse"; } ];
          enableTun = true;
          binds = {
            "/var/lib/late".hostPath = "/srv/late mount/data";
            "/var/lib/percent".hostPath = "/srv/50%";
          };
        };
        attached = {
          config = { };
          network = {
            extraVeths.vx-attached.containerName = "extra0";
            macvlans = [ "dm-parent" ];
            interfaces = [ "dm-moved" ];
          };
        };
        bridged = {
          config = { };
          network.veth.bridge = "br0";
        };
        a-container-with-a-long-name.config = { };
      };
    }
  ];

  # Configurations that cannot work: each fails exactly one assertion.
  bad-name-long = case "a 64-character container name: a host name label has at most 63" [
    { nixos-nspawn.containers.${lib.concatStrings (lib.replicate 8 "abcdefgh")}.config = { }; }
  ];

  bad-name-chars = case "an underscore is not valid in a host name" [
    { nixos-nspawn.containers.web_1.config = { }; }
  ];

  bad-zone-long = case "vz-averylongzone has 16 characters" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth.zone = "averylongzone";
      };
    }
  ];

  bad-zone-chars = case "a zone name with a dot" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth.zone = "lab.1";
      };
    }
  ];

  no-config-no-path = case "a container with neither config nor path" [
    { nixos-nspawn.containers.empty = { }; }
  ];

  zone-without-veth = case "a zone needs the veth link" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth = {
          enable = false;
          zone = "lab";
        };
      };
    }
  ];

  bind-relative = case "a bind mount with a relative path" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        binds."var/lib/web" = { };
      };
    }
  ];

  # Values that would reach a unit file unsafely: nixpkgs writes `Key=value` lines verbatim.
  # Each fails exactly one assertion.
  unit-default-host-path = case "a bind whose defaulted host path (its own path) ends in a newline" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        binds."/data\n" = { };
      };
    }
  ];

  unit-newline = case "a bind host path that would add directives to the .nspawn file" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        binds."/data".hostPath = "/data\nPrivateUsers=no\nBind=/:/host";
      };
    }
  ];

  unit-carriage-return = case "a lone carriage return ends a unit file line too" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth.config.container.networkConfig.Domains = [ "lab\rDNS=192.0.2.1" ];
      };
    }
  ];

  unit-control-character = case "any other control character (here DEL) in a bind option" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        binds."/data".options = [ "norbind${builtins.fromJSON ''"\u007f"''}" ];
      };
    }
  ];

  unit-trailing-backslash = case "a network value ending in a backslash continues onto the next line" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth.config.host.networkConfig.Domains = [ "lab\\" ];
      };
    }
  ];

  unit-whitespace = case "systemd strips whitespace around a value: a bind would lose it" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        binds."/data " = {
          hostPath = "/srv/data";
          idmap = false;
        };
      };
    }
  ];

  unit-percent = case "a container name with `%`, a specifier in the systemd-nspawn@ unit name" [
    { nixos-nspawn.containers."web%i".config = { }; }
  ];

  unit-network-key = case "a networkd settings key that would change the [Match] section" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth.config.host.matchConfig."Name=eth0 #" = "x";
      };
    }
  ];

  unit-network-value = case "a networkd [Match] value that would add a [Network] section" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth.config.host.matchConfig.Name = "ve-web\n[Network]\nAddress=192.0.2.1/24";
      };
    }
  ];

  unit-network-nested = case "a control character in a list of tables, deep in the settings" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth.config.host.routes = [
          { Gateway = "192.0.2.1"; }
          { Destination = "10.0.0.0/8\n"; }
        ];
      };
    }
  ];

  bind-option-separator = case "a bind option entry that holds two options" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        binds."/data".options = [ "norbind,noidmap" ];
      };
    }
  ];

  path-with-space = case "a prebuilt system path with a space: Parameters= splits it" [
    { nixos-nspawn.containers.prebuilt.path = "/srv/my system"; }
  ];

  ports-without-veth = case "a port forwarded to a container without a link" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth.enable = false;
        forwardPorts = [ { hostPort = 8080; } ];
      };
    }
  ];

  ports-twice = case "two containers forward the same host port" [
    {
      nixos-nspawn.containers = {
        web.config = { };
        web.forwardPorts = [ { hostPort = 8080; } ];
        api.config = { };
        api.forwardPorts = [
          {
            hostPort = 8080;
            containerPort = 80;
          }
          {
            protocol = "udp";
            hostPort = 8080;
          }
        ];
      };
    }
  ];

  bridge-and-zone = case "a veth link joins a zone or a bridge, not both" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth = {
          zone = "lab";
          bridge = "br0";
        };
      };
    }
  ];

  bridge-without-veth = case "joining a bridge needs the veth link" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.veth = {
          enable = false;
          bridge = "br0";
        };
      };
    }
  ];

  interface-name-space = case "a moved interface name with a space (nspawn's list separator)" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.interfaces = [ "eth 2" ];
      };
    }
  ];

  interface-name-long = case "a MACVLAN parent name of 16 characters" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.macvlans = [ "enp0s20f0u1u2c2" "enp0s20f0u1u2c23" ];
      };
    }
  ];

  interface-name-digits = case "an extra veth called by a number" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.extraVeths."42" = { };
      };
    }
  ];

  interface-moved-twice = case "one host interface moved into two containers" [
    {
      nixos-nspawn.containers = {
        one.config = { };
        one.network.interfaces = [ "eth2" ];
        two.config = { };
        two.network.interfaces = [ "eth2" ];
      };
    }
  ];

  extra-veth-twice = case "two containers name the host end of an extra veth the same" [
    {
      nixos-nspawn.containers = {
        one.config = { };
        one.network.extraVeths.vx-shared = { };
        two.config = { };
        two.network.extraVeths.vx-shared.containerName = "eth1";
      };
    }
  ];

  capability-name = case "a capability without its CAP_ prefix" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        capabilities = [ "NET_ADMIN" ];
      };
    }
  ];

  device-outside-dev = case "a device node path outside /dev" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        devices = [ { node = "/srv/fuse"; } ];
      };
    }
  ];

  tmpfs-relative = case "a tmpfs at a relative path" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        tmpfs = [ "var/tmp" ];
      };
    }
  ];

  tmpfs-newline = case "a tmpfs entry that would add a directive" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        tmpfs = [ "/var/tmp\nBind=/:/host" ];
      };
    }
  ];

  # Paths that do not name what they read as: a device node "below /dev" that leads out of it
  # (or is /dev itself), and the like in every path the module writes. Each fails one assertion.
  device-climbs-out = case "a device node path that leads out of /dev" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        devices = [ { node = "/dev/../etc/shadow"; } ];
      };
    }
  ];

  device-whole-dev = case "a device node path that is /dev itself" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        devices = [ { node = "/dev/."; } ];
      };
    }
  ];

  device-empty-component = case "a device node path with an empty component" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        devices = [ { node = "/dev//fuse"; } ];
      };
    }
  ];

  tmpfs-dot-dot = case "a tmpfs path with a .. component" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        tmpfs = [ "/var/../etc:mode=0755" ];
      };
    }
  ];

  bind-dot-dot = case "a bind mount point with a .. component" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        binds."/var/lib/../../etc".hostPath = "/srv/etc";
      };
    }
  ];

  bind-host-dot = case "a bind host path with a . component and a trailing slash" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        binds."/data".hostPath = "/srv/./data/";
      };
    }
  ];

  bind-long-component = case "a bind mount point with a component no file name can be" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        binds."/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" = { };
      };
    }
  ];

  credential-file-dot-dot = case "a credential file path with a .. component" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        credentials.db.file = "/run/secrets/../../etc/shadow";
      };
    }
  ];

  path-dot-dot = case "a prebuilt path with a .. component" [
    {
      nixos-nspawn.containers.prebuilt.path = "${prebuilt}/..";
    }
  ];

  ports-zero = case "port 0 forwarded, on the host and in the container" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        forwardPorts = [
          { hostPort = 8080; }
          {
            hostPort = 0;
            containerPort = 0;
          }
        ];
      };
    }
  ];

  evaluation-for-path = case "specialArgs for a prebuilt system, which is not evaluated" [
    {
      nixos-nspawn.containers.prebuilt = {
        path = prebuilt;
        specialArgs.site = "x";
      };
    }
  ];

  # What is written as it is: backslashes and colons in bind paths escaped for nspawn, `%`
  # (no specifier in .nspawn and .network files) and raw unit text in `extraConfig`.
  unit-escaped = case "bind paths with backslashes and colons, `%` in values, extraConfig" [
    {
      nixos-nspawn.containers.odd = {
        config = { };
        binds = {
          "/a\\b" = { };
          "/a:b" = { };
          "/a\\".hostPath = "/srv/a\\";
          "/plain" = {
            hostPath = "/srv/50%";
            idmap = false;
            readOnly = true;
          };
        };
        network.veth.config.host = {
          networkConfig.DNS = [ "192.0.2.53:53%ve-odd#dns.example" ];
          extraConfig = ''
            [Link]
            MTUBytes=1400
          '';
        };
      };
    }
  ];

  # --- beyond the seed: credentials, service settings, extra flags ------------------------------

  credentials = case "a file and a text credential, memory and task limits, an extra flag" [
    {
      nixos-nspawn.containers.vault = {
        config = { };
        credentials = {
          db-password.file = credentialFile;
          "app.conf".text = "line one\n\tindented 50% of $HOME \\ \"quoted\" \n";
        };
        serviceConfig = {
          MemoryMax = "256M";
          TasksMax = 512;
        };
        extraFlags = [ "--setenv=GREETING=50% of $HOME \"quoted\" \\ back" ];
      };
    }
  ];

  service-override = case "serviceConfig and environment win over the module's defaults; a % in a file path" [
    {
      nixos-nspawn.containers.slow = {
        config = { };
        serviceConfig.TimeoutStartSec = "15min";
        credentials.token.file = "/run/keys/50%/token";
      };
      systemd.services."systemd-nspawn@slow".environment = {
        SYSTEMD_NSPAWN_UNIFIED_HIERARCHY = "0";
        SYSTEMD_LOG_LEVEL = "debug";
      };
    }
  ];

  # The mistake the test of file credentials must catch: a secret read into a text credential
  # lands in the store (the unit file).
  credential-read-into-text = probe "a secret read at evaluation into a text credential" [
    {
      nixos-nspawn.containers.vault = {
        config = { };
        credentials.db-password.text = builtins.readFile credentialFile;
      };
    }
  ];

  credential-copied-into-store = probe "a Nix path interpolated into a setting: Nix copies the file" [
    {
      nixos-nspawn.containers.vault = {
        config = { };
        serviceConfig.LoadCredential = [ "db-password:${/. + credentialFile}" ];
      };
    }
  ];

  credential-nix-path = probe "a Nix path as a file credential would be copied into the store" [
    {
      nixos-nspawn.containers.vault = {
        config = { };
        credentials.db-password.file = /. + credentialFile;
      };
    }
  ];

  credential-both = case "a credential with both a file and a text" [
    {
      nixos-nspawn.containers.vault = {
        config = { };
        credentials.db-password = {
          file = "/run/secrets/db-password";
          text = "hunter2";
        };
      };
    }
  ];

  credential-bad-id = case "a credential ID with a colon, which separates ID and path" [
    {
      nixos-nspawn.containers.vault = {
        config = { };
        credentials."db:password".file = "/run/secrets/db-password";
      };
    }
  ];

  credential-path-newline = case "a credential file path that would end the unit line" [
    {
      nixos-nspawn.containers.vault = {
        config = { };
        credentials.db-password.file = "/run/secrets/x\nExecStartPre=/bin/evil";
      };
    }
  ];

  service-exec-start = case "ExecStart in serviceConfig" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        serviceConfig.ExecStart = "/bin/true";
      };
    }
  ];

  service-bad-key = case "a serviceConfig key that would add a directive" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        serviceConfig."MemoryMax=1G\nExecStartPre" = "/bin/evil";
      };
    }
  ];

  service-bad-value = case "a serviceConfig value that would add a directive" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        serviceConfig.MemoryMax = "1G\nExecStartPre=/bin/evil";
      };
    }
  ];

  flag-control-character = case "an extra flag with DEL, which JSON quoting leaves as it is" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        extraFlags = [ "--setenv=X=${builtins.fromJSON ''"\u007f"''}" ];
      };
    }
  ];

  # --- beyond the seed: the container's view of the Nix store -----------------------------------

  store-closure = case "a container that sees only its own system's closure under /nix/store" [
    {
      nixos-nspawn.containers.sealed = {
        config = { };
        nixStore = "closure";
      };
    }
  ];

  nix-overlay = case "a container with its own nix-daemon over an overlay of the host's store" [
    {
      nixos-nspawn.containers.builder = {
        config = { };
        nix = "overlay";
      };
    }
  ];

  nix-overlay-closure = case "a container with its own nix-daemon over an overlay of its closure's store image" [
    {
      nixos-nspawn.containers.builder = {
        config = { };
        nixStore = "closure";
        nix = "overlay";
      };
    }
  ];

  # What the runtime tier runs next to runtime-pair (tests/runtime/runtime_plan.py writes the
  # expected values out again, independently).
  runtime-beyond = case "gamma: credentials, limits and a flag; delta: closure-only store; epsilon: Nix over an overlay store; zeta: Nix over an overlay of the closure" [
    {
      nixos-nspawn.containers = {
        gamma = {
          config = { };
          network.veth.enable = false;
          credentials = {
            db-password.file = "/run/secrets/50%/gamma-db";
            "app.conf".text = "line one\n\tindented 50% of $HOME \\ \"quoted\" é\n ";
          };
          serviceConfig = {
            MemoryMax = "192M";
            TasksMax = 256;
          };
          extraFlags = [ "--setenv=GREETING=50% of $HOME \"quoted\" \\ back" ];
        };
        delta = {
          config = { };
          network.veth.enable = false;
          nixStore = "closure";
        };
        epsilon = {
          config = { };
          network.veth.enable = false;
          nix = "overlay";
        };
        zeta = {
          config = { };
          network.veth.enable = false;
          nixStore = "closure";
          nix = "overlay";
        };
      };
    }
  ];

  # --- lifecycle (nix/host/lifecycle.nix) ---------------------------------------------------

  crash-policy = case "one container started again when it fails (the default), one left down" [
    {
      nixos-nspawn.containers = {
        steady.config = { };
        fragile = {
          config = { };
          restartOnFailure = false;
        };
      };
    }
  ];

  reload = case "a container switched to its changed system in place; one whose store is only its closure restarts" [
    {
      nixos-nspawn.containers = {
        web = {
          config.services.nginx.enable = true;
          reloadIfChanged = true;
        };
        sealed = {
          config = { };
          reloadIfChanged = true;
          nixStore = "closure";
        };
        plain.config = { };
      };
    }
  ];
  # The same host after a change of each container's system, and after a change of web's unit.
  reload-system = probe "reload, with changed systems" [
    {
      nixos-nspawn.containers = {
        web = {
          config.services.nginx.enable = true;
          config.networking.firewall.allowedTCPPorts = [ 80 ];
          reloadIfChanged = true;
        };
        sealed = {
          config.services.nginx.enable = true;
          reloadIfChanged = true;
          nixStore = "closure";
        };
        plain.config.services.nginx.enable = true;
      };
    }
  ];
  reload-unit = probe "reload, with a bind added to web" [
    {
      nixos-nspawn.containers = {
        web = {
          config.services.nginx.enable = true;
          reloadIfChanged = true;
          binds."/var/lib/web".hostPath = "/srv/web";
        };
        sealed = {
          config = { };
          reloadIfChanged = true;
          nixStore = "closure";
        };
        plain.config = { };
      };
    }
  ];
  # A switch from `reload` to this host removes web and sealed.
  removed-all = probe "no containers any more" [ { } ];

  host-network = case "a container on the host's network and one in a namespace the host made" [
    {
      nixos-nspawn.containers = {
        shared = {
          config = { };
          network.private = false;
        };
        joined = {
          config = { };
          network.namespace = "/run/netns/lab";
        };
      };
    }
  ];
  shared-zone = case "a container on the host's network in a zone" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.private = false;
        network.veth.zone = "lab";
      };
    }
  ];
  shared-ports = case "a container in a namespace of the host's with a forwarded port" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.namespace = "/run/netns/lab";
        forwardPorts = [ { hostPort = 8080; } ];
      };
    }
  ];
  shared-macvlan = case "a container on the host's network with a MACVLAN interface" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.private = false;
        network.macvlans = [ "eth1" ];
      };
    }
  ];
  shared-moved = case "a container on the host's network with an interface moved into it" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.private = false;
        network.interfaces = [ "eth2" ];
      };
    }
  ];
  shared-veth = case "a container on the host's network that asks for its veth link" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.private = false;
        network.veth.enable = true;
      };
    }
  ];
  namespace-and-host = case "a container both on the host's network and in a namespace" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.private = false;
        network.namespace = "/run/netns/lab";
      };
    }
  ];
  namespace-relative = case "a namespace path that is not absolute" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.namespace = "netns/lab";
      };
    }
  ];
  namespace-newline = case "a namespace path with a newline" [
    {
      nixos-nspawn.containers.web = {
        config = { };
        network.namespace = "/run/netns/lab\nExecStartPre=/bin/true";
      };
    }
  ];

  # What the runtime tier's lifecycle part runs (tests/runtime/plan_lifecycle.py).
  runtime-lifecycle = case "reloader: reloaded in place and restarted on failure; fragile: left down; shared: the host's network; joined: a namespace of the host's" [
    {
      nixos-nspawn.containers = {
        reloader = {
          config = { };
          network.veth.enable = false;
          reloadIfChanged = true;
        };
        fragile = {
          config = { };
          network.veth.enable = false;
          restartOnFailure = false;
        };
        shared = {
          config = { };
          network.private = false;
        };
        joined = {
          config = { };
          network.namespace = "/run/netns/lab";
        };
      };
    }
  ];
}
