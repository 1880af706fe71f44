"""nix/host.nix evaluated by nixpkgs' real module system: the exact settings it produces.

Each case is a host configuration in cases.nix; harness.nix evaluates it with stand-in
declarations for the NixOS options the module writes (stand-ins.nix) and reports the results.
The expected values below are written out by hand from the module's documented behaviour.
"""

import json
from pathlib import Path

import pytest
from expected import (
    CONTAINER_NETWORK,
    CONTROL,
    HOST0_SERVICE,
    IPROUTE2,
    SERVICE_DEFAULTS,
    TEMPLATE_DROPIN,
    VETH_AND_ZONE_FIREWALL,
    WEB,
    host_network,
    machine_dir,
    nspawn_unit,
    toplevel,
)
from nspawn_eval import evaluate

pytestmark = pytest.mark.eval

CUSTOM_IPROUTE2 = "/nix/store/22222222222222222222222222222222-iproute2-custom"

REFERENCE_CASES = [
    "seed-simple",
    "seed-reverse-proxy",
    "seed-static",
    "seed-static-short",
    "zone-shared",
    "binds",
    "autostart-off",
    "restart-off",
    "veth-disabled",
    "host-dhcpcd",
    "host-networkmanager",
    "host-networkd",
    "path-only",
    "imports",
    "mymachines-removed",
    "network-override",
    "runtime-pair",
    "unit-escaped",
    "ports",
    "ports-in-zone",
    "mount-order",
    "attachments",
    "attachments-networkmanager",
    "devices",
    "evaluation",
    "long-name",
    "runtime-features",
]


# --- the seed README's examples -------------------------------------------------------------


def test_seed_simple_produces_exactly_the_documented_units(run) -> None:
    data = run("seed-simple")
    top = toplevel(data, "mycontainer")
    assert data["guests"]["mycontainer"]["toplevel"] == top
    assert data["reference"] == {
        "case": "seed-simple",
        "description": "seed README: a plain container with htop",
        "nspawn": {"mycontainer": nspawn_unit(top, "mycontainer")},
        "hostNetworks": {"10-ve-mycontainer": host_network("ve-mycontainer", "veth", "28")},
        "hostNetdevs": {},
        "containerNetworks": {"mycontainer": {"10-host0": CONTAINER_NETWORK}},
        "containerServices": {"mycontainer": HOST0_SERVICE},
        "tmpfiles": machine_dir("mycontainer"),
        "sysctl": {"fs.inotify.max_user_instances": 8192},
        "mounts": [],
        "serviceOverrides": {"mycontainer": SERVICE_DEFAULTS},
        "serviceEnvironment": {"mycontainer": {"SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"}},
        "unitOverrides": {},
    }
    assert data["guests"]["mycontainer"]["systemPackages"] == [
        "/nix/store/00000000000000000000000000000000-htop-3.4.1"
    ]


def test_seed_simple_host_integration(run) -> None:
    data = run("seed-simple")
    top = toplevel(data, "mycontainer")
    assert data["warnings"] == []
    # What a switch does (the activation snippet, the reload's files): test_lifecycle_eval.py.
    host = {k: v for k, v in data["host"].items() if k not in ("activationScripts", "etc")}
    assert data["host"]["etc"] == {}
    assert host == {
        "networkd": True,
        "waitOnline": False,
        "networkdConfig": {"ManageForeignRoutes": False, "ManageForeignRoutingPolicyRules": False},
        "firewall": VETH_AND_ZONE_FIREWALL,
        "dhcpcdDenyInterfaces": ["ve-*", "vb-*", "vz-*"],
        "networkmanagerUnmanaged": [],
        "machinesWants": ["systemd-nspawn@mycontainer.service"],
        "services": {
            "systemd-nspawn@": TEMPLATE_DROPIN,
            # A drop-in as the template's, with the container's settings and triggers.
            "systemd-nspawn@mycontainer": TEMPLATE_DROPIN
            | {
                "serviceConfig": SERVICE_DEFAULTS,
                "environment": {"SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"},
                "restartIfChanged": True,
                "restartTriggers": [
                    top,
                    json.dumps(
                        nspawn_unit(top, "mycontainer"), sort_keys=True, separators=(",", ":")
                    ),
                ],
                "reloadTriggers": [],
            },
        },
        "nginx": {},
    }


def test_seed_simple_guest_is_an_nspawn_guest(run) -> None:
    guest = run("seed-simple")["guests"]["mycontainer"]
    assert guest == guest | {
        "isContainer": True,
        "bootIsContainer": True,
        "hostName": "mycontainer",
        "useNetworkd": True,
        "useDHCP": False,
        "useHostResolvConf": False,
        "firewallInterfaces": {"host0": {"allowedUDPPorts": [5353]}},
        "specialFileSystems": {
            path: {"enable": False} for path in ["/dev", "/dev/pts", "/dev/shm", "/proc", "/run"]
        },
        "consoleEnable": True,
        "rootPassword": "",
        "nixEnable": False,
        "logrotate": False,
        "stateVersion": "26.05",
        "hostPlatform": {"system": "x86_64-linux"},
    }


def test_seed_reverse_proxy(run) -> None:
    data = run("seed-reverse-proxy")
    top = toplevel(data, "backend")
    assert data["reference"]["nspawn"] == {"backend": nspawn_unit(top, "backend")}
    assert data["reference"]["hostNetworks"] == {
        "10-ve-backend": host_network("ve-backend", "veth", "28")
    }
    assert data["host"]["nginx"]["virtualHosts"]["_"]["locations"]["/"]["proxyPass"] == (
        "http://backend"
    )
    guest = data["guests"]["backend"]
    assert guest["allowedTCPPorts"] == [80]
    assert guest["nginx"]["enable"] is True
    assert guest["nginx"]["virtualHosts"]["backend"]["locations"]["/"]["return"] == (
        '200 "hack the planet"'
    )


def test_seed_static_with_its_own_long_container_name(run) -> None:
    # `ve-testcontainer` has 16 characters: nspawn shortens the interface and gives it the full
    # name as an alternative name, which the host network's Name= matches as it is.
    long, short = run("seed-static")["reference"], run("seed-static-short")["reference"]
    assert long["hostNetworks"]["10-ve-testcontainer"]["matchConfig"]["Name"] == "ve-testcontainer"
    renamed = json.loads(json.dumps(short["hostNetworks"]).replace("ve-test", "ve-testcontainer"))
    assert long["hostNetworks"] == renamed
    assert long["containerNetworks"]["testcontainer"] == short["containerNetworks"]["test"]


def test_seed_static_user_values_win_and_other_defaults_stay(run) -> None:
    data = run("seed-static-short")
    expected_host = host_network("ve-test", "veth", "28")
    expected_host["networkConfig"] |= {
        "DHCPServer": False,
        "Address": ["fc42::1/64", "192.168.42.1/24"],
    }
    assert data["reference"]["hostNetworks"] == {"10-ve-test": expected_host}
    expected_guest = json.loads(json.dumps(CONTAINER_NETWORK))
    expected_guest["networkConfig"] |= {
        "DHCP": "no",
        "Address": ["fc42::2/64", "192.168.42.2/24"],
        "Gateway": ["fc42::1", "192.168.42.1"],
    }
    assert data["reference"]["containerNetworks"] == {"test": {"10-host0": expected_guest}}


def test_a_user_value_wins_over_every_default(run) -> None:
    data = run("network-override")
    assert data["reference"]["hostNetworks"] == {
        "10-ve-custom": {
            "matchConfig": {"Name": "ve-custom", "Kind": "veth"},
            "networkConfig": {
                "Address": ["10.1.2.1/30"],
                "DHCPServer": False,
                "IPMasquerade": "no",
                "LinkLocalAddressing": "no",
                "IPv6AcceptRA": True,
                "IPv6SendRA": False,
                "MulticastDNS": False,
                "LLDP": False,
                "EmitLLDP": False,
            },
            "linkConfig": {"RequiredForOnline": "routable"},
        }
    }
    # networkd alone brings host0 up.
    assert data["reference"]["containerServices"] == {"custom": {}}
    assert data["reference"]["containerNetworks"]["custom"] == {
        "10-host0": {
            "matchConfig": {"Name": "host0", "Kind": "veth", "Virtualization": "yes"},
            "networkConfig": {
                "DHCP": "ipv4",
                "LinkLocalAddressing": "no",
                "IPv6AcceptRA": False,
                "MulticastDNS": "resolve",
                "LLDP": False,
                "EmitLLDP": False,
            },
        }
    }


# --- networking ---------------------------------------------------------------------------


def test_zone_shared_by_two_containers(run) -> None:
    data = run("zone-shared")
    zone = {"Private": True, "VirtualEthernet": True, "Zone": "lab"}
    assert data["reference"]["nspawn"] == {
        "web": nspawn_unit(toplevel(data, "web"), "web", network=zone),
        "db": nspawn_unit(toplevel(data, "db"), "db", network=zone),
    }
    bridge = host_network("vz-lab", "bridge", "24")
    bridge["networkConfig"]["Address"] = ["10.23.0.1/24"]
    # One unit for the bridge systemd-nspawn creates; no netdev, no per-container veth unit.
    assert data["reference"]["hostNetworks"] == {"10-vz-lab": bridge}
    assert data["reference"]["hostNetdevs"] == {}
    assert data["reference"]["containerNetworks"] == {
        "web": {"10-host0": CONTAINER_NETWORK},
        "db": {"10-host0": CONTAINER_NETWORK},
    }


def test_veth_disabled_leaves_only_a_private_namespace(run) -> None:
    data = run("veth-disabled")
    top = toplevel(data, "isolated")
    assert data["reference"]["nspawn"] == {
        "isolated": nspawn_unit(
            top, "isolated", network={"Private": True, "VirtualEthernet": False}
        )
    }
    assert data["reference"]["hostNetworks"] == {}
    assert data["reference"]["containerNetworks"] == {"isolated": {}}
    assert data["guests"]["isolated"]["firewallInterfaces"] == {}
    assert data["reference"]["containerServices"] == {"isolated": {}}


@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_every_evaluated_container_with_a_veth_brings_host0_up_before_networkd(
    run, case: str
) -> None:
    """Every container the host evaluates (not a prebuilt `path`) gets the service exactly when
    it has a veth link: of its own, in a zone or on a bridge."""
    reference = run(case)["reference"]
    for name, services in reference["containerServices"].items():
        network = reference["nspawn"][name]["networkConfig"]
        veth = network["VirtualEthernet"] is True or "Zone" in network
        disabled = (case, name) == ("network-override", "custom")
        expected = HOST0_SERVICE if veth and not disabled else {}
        if (case, name) == ("evaluation", "custom"):  # its own package set's iproute2
            expected = json.loads(json.dumps(expected).replace(IPROUTE2, CUSTOM_IPROUTE2))
        assert {k: v for k, v in services.items() if k.startswith("nixos-nspawn")} == expected


def test_runtime_pair(run) -> None:
    data = run("runtime-pair")
    assert data["reference"]["nspawn"] == {
        "alpha": nspawn_unit(
            toplevel(data, "alpha"),
            "alpha",
            bind=[
                "/srv/alpha:/var/lib/alpha:idmap",
                "/srv/odd\\:dir\\\\x:/var/lib/odd\\:dir\\\\x:idmap",
            ],
        ),
        "beta": nspawn_unit(
            toplevel(data, "beta"),
            "beta",
            network={"Private": True, "VirtualEthernet": True, "Zone": "lab"},
        ),
    }
    assert data["reference"]["hostNetworks"] == {
        "10-ve-alpha": host_network("ve-alpha", "veth", "28"),
        "10-vz-lab": host_network("vz-lab", "bridge", "24"),
    }
    assert data["reference"]["tmpfiles"] == machine_dir("alpha") | machine_dir("beta")


@pytest.mark.parametrize(
    ("case", "deny", "unmanaged", "wait_online"),
    [
        ("host-dhcpcd", ["ve-*", "vb-*", "vz-*"], [], False),
        (
            "host-networkmanager",
            [],
            ["interface-name:ve-*", "interface-name:vb-*", "interface-name:vz-*"],
            False,
        ),
        ("host-networkd", [], [], True),
    ],
)
def test_host_network_managers_keep_their_interfaces_and_leave_ours(
    run, case: str, deny: list[str], unmanaged: list[str], wait_online: bool
) -> None:
    host = run(case)["host"]
    assert host["networkd"] is True
    assert host["dhcpcdDenyInterfaces"] == deny
    assert host["networkmanagerUnmanaged"] == unmanaged
    assert host["waitOnline"] is wait_online
    assert host["firewall"] == VETH_AND_ZONE_FIREWALL
    # Only where networkd is ours alone does it leave other tools' routes and rules alone.
    assert host["networkdConfig"] == (
        {}
        if wait_online
        else {"ManageForeignRoutes": False, "ManageForeignRoutingPolicyRules": False}
    )


def test_missing_mymachines_is_a_warning(run) -> None:
    assert run("mymachines-removed")["warnings"] == [
        "nixos-nspawn: `mymachines` is missing from system.nssDatabases.hosts, so container "
        "names do not resolve on the host."
    ]


# --- binds, lifecycle, container evaluation -----------------------------------------------


def test_binds_read_write_read_only_and_idmapped(run) -> None:
    data = run("binds")
    files = data["reference"]["nspawn"]["files"]["filesConfig"]
    assert files == {
        "PrivateUsersOwnership": "chown",
        "Bind": ["/srv/data:/var/lib/data:idmap", "/srv/postgresql:/var/lib/postgresql"],
        "BindReadOnly": [
            "/nix/store",
            "/etc/ssl/certs:/etc/ssl/certs:idmap",
            # idmap by default and in `options`: once.
            "/srv/a\\:b:/mnt/a\\:b:idmap,norbind",
        ],
    }


def test_a_binds_host_path_defaults_to_its_container_path(run, nixpkgs_lib: Path) -> None:
    # As `bindMountOpts` of classic containers defaults `mountPoint` from the attribute name.
    assert run("binds")["hostPaths"] == {
        "files": {
            "/var/lib/data": "/srv/data",
            "/etc/ssl/certs": "/etc/ssl/certs",
            "/var/lib/postgresql": "/srv/postgresql",
            "/mnt/a:b": "/srv/a:b",
        },
    }
    [doc] = [
        doc
        for doc in evaluate(nixpkgs_lib, "optionDocs")["host"]
        if doc["name"] == "nixos-nspawn.containers.<name>.binds.<containerPath>.hostPath"
    ]
    assert doc["type"] == "string"
    assert doc["default"] == {
        "_type": "literalMD",
        "text": "the attribute name: the same path as in the container",
    }


def test_autostart_off_is_not_wanted_by_machines_target(run) -> None:
    data = run("autostart-off")
    assert data["host"]["machinesWants"] == ["systemd-nspawn@always.service"]
    assert set(data["reference"]["nspawn"]) == {"always", "manual"}
    assert set(data["host"]["services"]) == {
        "systemd-nspawn@",
        "systemd-nspawn@always",
        "systemd-nspawn@manual",
    }


def test_restart_if_changed_off_has_no_triggers(run) -> None:
    assert run("restart-off")["host"]["services"] == {
        "systemd-nspawn@": TEMPLATE_DROPIN,
        # A drop-in as the template's, with the container's settings and no triggers.
        "systemd-nspawn@steady": TEMPLATE_DROPIN
        | {
            "serviceConfig": {"TimeoutStartSec": "5min", "Restart": "on-failure"},
            "environment": {"SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1"},
            "restartTriggers": [],
            "reloadTriggers": [],
        },
    }


def test_the_inotify_instance_limit_is_raised_for_containers(run) -> None:
    # Every container's inotify instances count against root's limit on the host.
    assert run("restart-off")["reference"]["sysctl"] == {"fs.inotify.max_user_instances": 8192}


def test_any_other_default_of_the_inotify_instance_limit_wins(run) -> None:
    assert run("inotify-default")["reference"]["sysctl"] == {"fs.inotify.max_user_instances": 512}


def test_restart_triggers_follow_the_container_configuration(run) -> None:
    data = run("imports")
    one, two = toplevel(data, "one"), toplevel(data, "two")
    assert one != two
    services = data["host"]["services"]
    assert services["systemd-nspawn@one"]["restartTriggers"][0] == one
    assert services["systemd-nspawn@two"]["restartTriggers"][0] == two


def test_imports_reach_every_container_and_host_name_defaults_to_the_name(run) -> None:
    guests = run("imports")["guests"]
    assert guests["one"]["nginx"] == {"enable": True}
    assert guests["two"]["nginx"] == {"enable": True}
    assert guests["one"]["hostName"] == "one"
    assert guests["two"]["hostName"] == "second"


def test_prebuilt_path_is_run_as_is(run) -> None:
    data = run("path-only")
    prebuilt = "/nix/store/11111111111111111111111111111111-nixos-system-prebuilt"
    assert data["containers"] == {"prebuilt": {"path": prebuilt}}
    assert data["reference"]["nspawn"] == {"prebuilt": nspawn_unit(prebuilt, "prebuilt")}
    assert data["reference"]["containerNetworks"] == {}
    assert data["reference"]["hostNetworks"] == {
        "10-ve-prebuilt": host_network("ve-prebuilt", "veth", "28")
    }


# --- invariants over every reference case -------------------------------------------------


@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_only_the_store_is_shared_from_nix(run, case: str) -> None:
    for name, unit in run(case)["reference"]["nspawn"].items():
        binds = unit["filesConfig"]["Bind"] + unit["filesConfig"]["BindReadOnly"]
        nix_binds = [b for b in binds if b.startswith("/nix")]
        assert nix_binds == ["/nix/store"], name
        assert unit["filesConfig"]["BindReadOnly"][0] == "/nix/store"


@pytest.mark.parametrize("case", REFERENCE_CASES)
def test_machine_directories_are_root_owned_and_user_namespaces_picked(run, case: str) -> None:
    # PrivateUsers=pick derives the base from the machine name; nothing of ours pins it.
    data = run(case)["reference"]
    for name in data["nspawn"]:
        assert (
            data["tmpfiles"][f"/var/lib/machines/{name}"]
            == machine_dir(name)[f"/var/lib/machines/{name}"]
        )
    for unit in data["nspawn"].values():
        assert unit["execConfig"]["PrivateUsers"] == "pick"
        assert unit["filesConfig"]["PrivateUsersOwnership"] == "chown"


# --- assertions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "bad-name-long",
            f"nixos-nspawn.containers.{'abcdefgh' * 8}: the container name has 64 characters, but "
            "a host name label (and so a machine name) has at most 63.",
        ),
        (
            "bad-name-chars",
            "nixos-nspawn.containers.web_1: the container name `web_1` is not a valid host name: "
            "use letters, digits and `-` (not at the start or end).",
        ),
        (
            "bad-zone-long",
            "nixos-nspawn.containers.web: the zone bridge name `vz-averylongzone` has 16 "
            "characters, but Linux allows at most 15: use a zone name of at most 12 characters.",
        ),
        (
            "bad-zone-chars",
            "nixos-nspawn.containers.web: the zone name `lab.1` is not valid: use letters, digits "
            "and `-` (not at the start or end).",
        ),
        (
            "no-config-no-path",
            "nixos-nspawn.containers.empty: set either `config` (a NixOS module) or `path` "
            "(a prebuilt system toplevel).",
        ),
        (
            "zone-without-veth",
            "nixos-nspawn.containers.web: `network.veth.zone` is set to `lab`, but "
            "`network.veth.enable` is false; a zone needs the veth link.",
        ),
        (
            "bind-relative",
            'nixos-nspawn.containers.web.binds."var/lib/web": bind mount paths must be absolute.',
        ),
        # Values that would end, continue or trim a line of a unit file: nixpkgs writes
        # `Key=value` lines verbatim (attrsToSection in nixos/lib/systemd-lib.nix).
        (
            "unit-newline",
            f'{WEB}.binds."/data".hostPath: "/data\\nPrivateUsers=no\\nBind=/:/host" contains the '
            f"control character U+000A, {CONTROL}",
        ),
        # A defaulted host path is the container path: one message, about the latter.
        (
            "unit-default-host-path",
            f'{WEB}.binds."/data\\n": "/data\\n" contains the control character U+000A, {CONTROL}',
        ),
        (
            "unit-carriage-return",
            f"{WEB}.network.veth.config.container.networkConfig.Domains[0]: "
            f'"lab\\rDNS=192.0.2.1" contains the control character U+000D, {CONTROL}',
        ),
        (
            "unit-control-character",
            f'{WEB}.binds."/data".options[0]: "norbind\\u007f" contains the control character '
            f"U+007F, {CONTROL}",
        ),
        (
            "unit-trailing-backslash",
            f'{WEB}.network.veth.config.host.networkConfig.Domains[0]: "lab\\\\" ends in a '
            "backslash, which would continue the line in the unit file onto the next directive.",
        ),
        (
            "unit-whitespace",
            f'{WEB}.binds."/data ": "/data " starts or ends with whitespace, which systemd strips '
            "from unit file values.",
        ),
        (
            "unit-network-key",
            f'{WEB}.network.veth.config.host.matchConfig."Name=eth0 #": the key "Name=eth0 #" is '
            "not a networkd setting name (it is written into the unit file as it is): use letters, "
            "digits and `-`, starting with a letter.",
        ),
        (
            "unit-network-value",
            f"{WEB}.network.veth.config.host.matchConfig.Name: "
            f'"ve-web\\n[Network]\\nAddress=192.0.2.1/24" contains the control character U+000A, '
            f"{CONTROL}",
        ),
        (
            "unit-network-nested",
            f'{WEB}.network.veth.config.host.routes[1].Destination: "10.0.0.0/8\\n" contains the '
            f"control character U+000A, {CONTROL}",
        ),
        (
            "bind-option-separator",
            f'{WEB}.binds."/data".options[0]: "norbind,noidmap" contains `,` or `:`, which '
            "separate bind options and paths in `Bind=`: give one option per entry.",
        ),
        (
            "shared-zone",
            f"{WEB}.network.veth.zone: `network.private = false` shares the host's network; "
            "`network.veth.zone` needs a network namespace of the container's own.",
        ),
        (
            "shared-ports",
            f"{WEB}.forwardPorts: `network.namespace` joins the network namespace "
            "`/run/netns/lab`; `forwardPorts` needs a network namespace of the container's own.",
        ),
        (
            "shared-macvlan",
            f"{WEB}.network.macvlans: `network.private = false` shares the host's network; "
            "`network.macvlans` needs a network namespace of the container's own.",
        ),
        (
            "shared-moved",
            f"{WEB}.network.interfaces: `network.private = false` shares the host's network; "
            "`network.interfaces` needs a network namespace of the container's own.",
        ),
        (
            "shared-veth",
            f"{WEB}.network.veth.enable: `network.private = false` shares the host's network, "
            "where systemd-nspawn cannot add the container's veth link: set "
            "`network.veth.enable = false` (the default there).",
        ),
        (
            "namespace-and-host",
            f"{WEB}.network.namespace: the container joins `/run/netns/lab`, but "
            "`network.private` is false (the host's network): set one of the two.",
        ),
        (
            "namespace-relative",
            f'{WEB}.network.namespace: "netns/lab" is not an absolute path (such as '
            "/run/netns/<name>).",
        ),
        (
            "namespace-newline",
            f'{WEB}.network.namespace: "/run/netns/lab\\nExecStartPre=/bin/true" contains the '
            f"control character U+000A, {CONTROL}",
        ),
        (
            "path-with-space",
            'nixos-nspawn.containers.prebuilt.path: "/srv/my system" contains whitespace or '
            "quotes, which `Parameters=` in the .nspawn file would split or remove.",
        ),
    ],
)
def test_configurations_that_cannot_work_fail_one_clear_assertion(
    nixpkgs_lib: Path, case: str, message: str
) -> None:
    assert evaluate(nixpkgs_lib, "failedAssertions", case) == [message]


def test_nftables_host_gets_nftables_interface_wildcards(run) -> None:
    # The NixOS firewall writes the attribute name verbatim after `iifname`; nftables has no
    # `+` wildcard, so `ve-+` would silently match no interface there.
    assert run("host-nftables")["host"]["firewall"] == {
        '"ve-*"': {"allowedUDPPorts": [67, 5353]},
        '"vz-*"': {"allowedUDPPorts": [67, 5353]},
    }


# --- values written into unit files as they are ----------------------------------------------
# (what would break a line is refused: see the assertion cases above)


def test_bind_paths_escape_backslashes_before_colons(run) -> None:
    # nspawn reads `\x` as `x` and splits on unescaped `:`: `/a\b` unescaped would bind /ab, and
    # a trailing `\` would swallow the separator (and with it the destination and `idmap`).
    files = run("unit-escaped")["reference"]["nspawn"]["odd"]["filesConfig"]
    assert files["Bind"] == [
        "/a\\:b:/a\\:b:idmap",
        "/srv/a\\\\:/a\\\\:idmap",
        "/a\\\\b:/a\\\\b:idmap",
    ]


def test_percent_is_data_in_nspawn_and_network_files_and_no_name_has_one(
    run, nixpkgs_lib: Path
) -> None:
    # `%` is no specifier in .nspawn and .network files (systemd.nspawn(5), systemd.network(5)):
    # it is written as it is. Where it would be one -- %i in the systemd-nspawn@<name> unit --
    # the container name cannot hold it.
    data = run("unit-escaped")["reference"]
    assert data["nspawn"]["odd"]["filesConfig"]["BindReadOnly"] == ["/nix/store", "/srv/50%:/plain"]
    assert data["hostNetworks"]["10-ve-odd"]["networkConfig"]["DNS"] == [
        "192.0.2.53:53%ve-odd#dns.example"
    ]
    assert evaluate(nixpkgs_lib, "failedAssertions", "unit-percent") == [
        "nixos-nspawn.containers.web%i: the container name `web%i` is not a valid host name: "
        "use letters, digits and `-` (not at the start or end)."
    ]


def test_extra_config_is_raw_unit_text_and_passes_unchecked(run) -> None:
    network = run("unit-escaped")["reference"]["hostNetworks"]["10-ve-odd"]
    assert network["extraConfig"] == "[Link]\nMTUBytes=1400\n"
