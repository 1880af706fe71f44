# The host configurations the eval tier evaluates (see harness.nix). Each case: a description
# and the NixOS modules of the host, written as a user would write them.
{ lib }:
let
  case = description: modules: { inherit description modules; };
  prebuilt = "/nix/store/11111111111111111111111111111111-nixos-system-prebuilt";

  # The seed README's static network settings for both ends of the veth link.
  seedStaticLink = {
    host.networkConfig = {
      DHCPServer = false;
      Address = [
        "fc42::1/64"
        "192.168.42.1/24"
      ];
    };
    container.networkConfig = {
      DHCP = false;
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

  # Verbatim, this example cannot work: `ve-testcontainer` has 16 characters (see the
  # eval test); `seed-static-short` is the same configuration under the name of the seed
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

  runtime-pair = case "alpha on its own veth with a writable bind, beta in zone lab" [
    {
      nixos-nspawn.containers = {
        alpha = {
          config = { };
          binds."/var/lib/alpha".hostPath = "/srv/alpha";
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
        config = { };
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

  # Configurations that cannot work: each fails exactly one assertion.
  bad-name-long = case "ve-averylongname has 16 characters" [
    { nixos-nspawn.containers.averylongname.config = { }; }
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
}
