"""What users of NixOS' classic containers rely on (nix/host/*.nix): the exact settings each
feature produces, and the one clear assertion of each configuration that cannot work.

The expected values are written out by hand from the options' documentation and
systemd.nspawn(5); cases.nix holds the configurations.
"""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from expected import (
    CONTAINER_NETWORK,
    SERVICE_DEFAULTS,
    WEB,
    host_network,
    nspawn_unit,
    toplevel,
)
from nspawn_eval import ROOT, evaluate
from test_generated import evaluated

pytestmark = pytest.mark.eval

DOTS = (
    "has a `.` or `..` component, which can lead out of the directory it names: write the "
    "path without them."
)
EMPTY = "has an empty component (`//`, or `/` at the end): write the path without them."


def with_network(name: str, data: dict[str, Any], **network: object) -> dict[str, Any]:
    """The default unit of container ``name`` with its [Network] settings extended."""
    return nspawn_unit(
        toplevel(data, name), name, network={"Private": True, "VirtualEthernet": True, **network}
    )


# --- port forwarding -----------------------------------------------------------------------


def test_forwarded_ports_become_port_settings_with_classic_defaults(run) -> None:
    data = run("ports")
    assert data["reference"]["nspawn"] == {
        "web": with_network("web", data, Port=["tcp:8080:80", "udp:5000:5000"]),
    }
    # Nothing else changes: the link and its networks are the default ones.
    assert data["reference"]["hostNetworks"] == {"10-ve-web": host_network("ve-web", "veth", "28")}
    assert data["reference"]["serviceOverrides"] == {"web": SERVICE_DEFAULTS}


def test_a_port_can_go_to_a_container_in_a_zone(run) -> None:
    data = run("ports-in-zone")
    assert data["reference"]["nspawn"]["web"]["networkConfig"] == {
        "Private": True,
        "VirtualEthernet": True,
        "Zone": "lab",
        "Port": ["tcp:443:443"],
    }


# --- binds wait for their source -----------------------------------------------------------


def test_the_unit_requires_the_mounts_of_every_bind_source(run) -> None:
    data = run("mount-order")["reference"]
    # One word per path: a space, quotes and backslashes escaped, `%` doubled (RequiresMountsFor=
    # is split at whitespace, unquoted and specifier-expanded). Bind= gets the paths as they are.
    assert data["unitOverrides"] == {
        "files": {
            "RequiresMountsFor": [
                "/srv/same",
                "/srv/late\\ mount/data",
                '/srv/it\\\'s\\ \\"50%%\\"\\ \\\\x',
            ],
        },
    }
    assert data["nspawn"]["files"]["filesConfig"]["Bind"] == [
        "/srv/same:/srv/same:idmap",
        "/srv/late mount/data:/var/lib/data:idmap",
        '/srv/it\'s "50%" \\\\x:/var/lib/odd:idmap',
    ]
    assert data["serviceOverrides"] == {"files": SERVICE_DEFAULTS}


def test_runtime_pair_waits_for_its_bind_sources(run) -> None:
    assert run("runtime-pair")["reference"]["unitOverrides"] == {
        "alpha": {"RequiresMountsFor": ["/srv/alpha", "/srv/odd:dir\\\\x"]},
    }


def test_a_container_without_binds_requires_no_mounts(run) -> None:
    assert run("seed-simple")["reference"]["unitOverrides"] == {}


# --- network attachments -------------------------------------------------------------------


def test_a_container_joins_the_hosts_bridge(run) -> None:
    data = run("attachments")
    reference = data["reference"]
    assert reference["nspawn"]["bridged"] == with_network("bridged", data, Bridge="br0")
    # The bridge is the host's own: no network unit of ours for it or for `vb-bridged`.
    assert set(reference["hostNetworks"]) == {
        "10-ve-attached",
        "10-extra-vx-plain",
        "10-extra-vx-bridged",
    }
    assert reference["containerNetworks"]["bridged"] == {"10-host0": CONTAINER_NETWORK}
    device = "sys-subsystem-net-devices-br0.device"
    assert reference["unitOverrides"]["bridged"] == {"Wants": device, "After": device}


def test_extra_veths_macvlans_and_moved_interfaces(run) -> None:
    data = run("attachments")
    reference = data["reference"]
    assert reference["nspawn"]["attached"] == with_network(
        "attached",
        data,
        VirtualEthernetExtra=["vx-bridged:eth9", "vx-plain"],
        MACVLAN=["eth1"],
        Interface=["eth-2.100"],
    )
    assert reference["hostNetworks"] == {
        "10-ve-attached": host_network("ve-attached", "veth", "28"),
        "10-extra-vx-plain": {
            "matchConfig": {"Name": "vx-plain", "Kind": "veth"},
            "linkConfig": {"RequiredForOnline": "no"},
        },
        "10-extra-vx-bridged": {
            "matchConfig": {"Name": "vx-bridged", "Kind": "veth"},
            "linkConfig": {"RequiredForOnline": "no"},
            "networkConfig": {"Bridge": "br1"},
        },
    }
    assert reference["containerNetworks"]["attached"] == {
        "10-host0": CONTAINER_NETWORK,
        "10-extra-vx-plain": {"matchConfig": {"Name": "vx-plain", "Kind": "veth"}},
        "10-extra-eth9": {"matchConfig": {"Name": "eth9", "Kind": "veth"}},
        "10-mv-eth1": {
            "matchConfig": {"Name": "mv-eth1", "Kind": "macvlan"},
            "networkConfig": {"DHCP": "yes"},
        },
        "10-moved-eth-2.100": {
            "matchConfig": {"Name": "eth-2.100"},
            "networkConfig": {"DHCP": "yes"},
        },
    }
    # The unit waits for the host interfaces it takes (escaped as systemd escapes paths).
    devices = "sys-subsystem-net-devices-eth1.device sys-subsystem-net-devices-eth\\x2d2.100.device"
    assert reference["unitOverrides"]["attached"] == {"Wants": devices, "After": devices}


def test_other_network_managers_leave_what_the_containers_own(run) -> None:
    # The host ends of extra veths, and interfaces while they are not in their container.
    assert run("attachments")["host"]["dhcpcdDenyInterfaces"] == [
        "vx-bridged",
        "vx-plain",
        "eth-2.100",
        "ve-*",
        "vb-*",
        "vz-*",
    ]
    host = run("attachments-networkmanager")["host"]
    assert host["dhcpcdDenyInterfaces"] == []
    assert host["networkmanagerUnmanaged"] == [
        "interface-name:vx-attached",
        "interface-name:eth2",
        "interface-name:ve-*",
        "interface-name:vb-*",
        "interface-name:vz-*",
    ]


@pytest.mark.skipif(
    shutil.which("systemd-escape") is None, reason="systemd-escape is not installed"
)
@pytest.mark.parametrize("ifname", ["eth1", "eth-2.100", "dm-moved", "br_0", "a.b-c_d"])
def test_device_unit_names_are_what_systemd_escape_makes(nixpkgs_lib: Path, ifname: str) -> None:
    made = subprocess.run(
        ["systemd-escape", "--path", "--suffix=device", f"/sys/subsystem/net/devices/{ifname}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    expression = (
        f"(import ./nix/host/common.nix {{ lib = import {nixpkgs_lib}; }}).interfaceDevice "
        f"{json.dumps(ifname)}"
    )
    ours = subprocess.run(
        ["nix-instantiate", "--eval", "--json", "--expr", expression],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    ).stdout
    assert json.loads(ours) == made


# --- devices and privileges ----------------------------------------------------------------


def test_tmpfs_capabilities_devices_and_tun(run) -> None:
    data = run("devices")
    unit = nspawn_unit(toplevel(data, "vpn"), "vpn", bind=["/dev/fuse"])
    unit["execConfig"]["Capability"] = ["CAP_IPC_LOCK", "CAP_NET_ADMIN"]
    unit["filesConfig"]["TemporaryFileSystem"] = ["/var/tmp", "/var/cache/app:mode=0700"]
    assert data["reference"]["nspawn"] == {"vpn": unit}
    # The device node is bound without idmap; both devices are allowed to the unit.
    assert data["reference"]["serviceOverrides"] == {
        "vpn": SERVICE_DEFAULTS | {"DeviceAllow": ["/dev/fuse rwm", "/dev/net/tun rwm"]},
    }


# --- evaluation inputs ---------------------------------------------------------------------


def test_special_args_reach_the_container_modules(run) -> None:
    assert run("evaluation")["guests"]["args"]["hostName"] == "from-special-args"


def test_another_nixpkgs_evaluates_the_container(run) -> None:
    guests = run("evaluation")["guests"]
    # Only `other` was evaluated by tests/eval/other-nixpkgs' eval-config.nix (its marker).
    assert guests["other"]["systemPackages"] == ["from-other-nixpkgs"]
    assert guests["args"]["systemPackages"] == []


def test_a_package_set_of_its_own(run) -> None:
    guests = run("evaluation")["guests"]
    assert guests["custom"]["systemPackages"] == [
        "/nix/store/22222222222222222222222222222222-custom-hello"
    ]


# --- container names -----------------------------------------------------------------------


def test_a_long_name_keeps_its_full_interface_name_for_networkd(run) -> None:
    name = "a-container-with-a-long-name"
    data = run("long-name")
    assert data["reference"]["nspawn"] == {name: nspawn_unit(toplevel(data, name), name)}
    assert data["reference"]["hostNetworks"] == {
        f"10-ve-{name}": host_network(f"ve-{name}", "veth", "28")
    }
    assert data["guests"][name]["hostName"] == name


# --- configurations that cannot work --------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            "ports-without-veth",
            f"{WEB}: `forwardPorts` is set, but `network.veth.enable` is false: systemd-nspawn "
            "forwards ports only to a container with a veth link (its "
            "own, a zone's or a bridge's).",
        ),
        (
            "ports-twice",
            "nixos-nspawn.containers: tcp:8080 is forwarded by more than one container (api, web); "
            "each protocol and host port can go to one container only.",
        ),
        (
            "bridge-and-zone",
            f"{WEB}.network.veth.bridge: the container is in the zone "
            "`lab` and on the bridge `br0`; "
            "its veth link can join one of them only.",
        ),
        (
            "bridge-without-veth",
            f"{WEB}.network.veth.bridge: the bridge `br0` is set, but `network.veth.enable` is "
            "false; joining a bridge needs the veth link.",
        ),
        (
            "interface-name-space",
            f'{WEB}.network.interfaces[0]: "eth 2" is not an interface name this module writes: '
            "use letters, digits, `_`, `-` and `.` (not first).",
        ),
        (
            "interface-name-long",
            f'{WEB}.network.macvlans[1]: "enp0s20f0u1u2c23" has 16 characters, but Linux allows at '
            "most 15 in an interface name.",
        ),
        (
            "interface-name-digits",
            f'{WEB}.network.extraVeths."42": "42" is only digits, which Linux takes for an '
            "interface index.",
        ),
        (
            "interface-moved-twice",
            "nixos-nspawn.containers: the host interface `eth2` is in `network.interfaces` of more "
            "than one container (one, two); an interface can be moved into one container only.",
        ),
        (
            "extra-veth-twice",
            "nixos-nspawn.containers: `vx-shared` names the host end of `network.extraVeths` of "
            "more than one container (one, two).",
        ),
        (
            "capability-name",
            f'{WEB}.capabilities[0]: "NET_ADMIN" is not a capability name such as `CAP_NET_ADMIN` '
            "(or `all`).",
        ),
        (
            "device-outside-dev",
            f'{WEB}.devices[0].node: "/srv/fuse" is not a device node path this module writes: a '
            "path below `/dev/` of letters, digits and `_ . + @ / -`.",
        ),
        (
            "tmpfs-relative",
            f'{WEB}.tmpfs[0]: "var/tmp" is not an absolute path (`/path` or `/path:options`).',
        ),
        (
            "tmpfs-newline",
            f'{WEB}.tmpfs[0]: "/var/tmp\\nBind=/:/host" contains the control character U+000A, '
            "which would end or break the line in the unit file.",
        ),
        (
            "device-climbs-out",
            f'{WEB}.devices[0].node: "/dev/../etc/shadow" {DOTS}',
        ),
        ("device-whole-dev", f'{WEB}.devices[0].node: "/dev/." {DOTS}'),
        ("device-empty-component", f'{WEB}.devices[0].node: "/dev//fuse" {EMPTY}'),
        ("tmpfs-dot-dot", f'{WEB}.tmpfs[0]: "/var/../etc" {DOTS}'),
        ("bind-dot-dot", f'{WEB}.binds."/var/lib/../../etc": "/var/lib/../../etc" {DOTS}'),
        ("bind-host-dot", f'{WEB}.binds."/data".hostPath: "/srv/./data/" {EMPTY}'),
        (
            "bind-long-component",
            f'{WEB}.binds."/{"a" * 256}": "/{"a" * 256}" has a component longer than 255 bytes, '
            "which no file name can be.",
        ),
        (
            "credential-file-dot-dot",
            f'{WEB}.credentials.db.file: "/run/secrets/../../etc/shadow" {DOTS}',
        ),
        (
            "path-dot-dot",
            "nixos-nspawn.containers.prebuilt.path: "
            '"/nix/store/11111111111111111111111111111111-nixos-system-prebuilt/.." ' + DOTS,
        ),
        (
            "evaluation-for-path",
            "nixos-nspawn.containers.prebuilt: `specialArgs`, `nixpkgs` and `pkgs` apply to a "
            "configuration evaluated from `config`; this container runs a prebuilt `path`.",
        ),
    ],
)
def test_configurations_that_cannot_work_fail_one_clear_assertion(
    nixpkgs_lib: Path, case: str, message: str
) -> None:
    assert evaluate(nixpkgs_lib, "failedAssertions", case) == [message]


def test_port_zero_is_refused_on_either_side(nixpkgs_lib: Path) -> None:
    assert evaluate(nixpkgs_lib, "failedAssertions", "ports-zero") == [
        f"{WEB}.forwardPorts[1].{option}: port 0 cannot be forwarded (systemd-nspawn ignores "
        "such a `Port=` setting): use a port from 1 to 65535."
        for option in ("hostPort", "containerPort")
    ]


# --- the scenario ----------------------------------------------------------------------------


def test_the_classic_features_scenario_sets_what_it_checks(nixpkgs_lib: Path) -> None:
    # Its host configuration sets the options the scenario format has no keys for yet.
    data = evaluated(nixpkgs_lib, ROOT / "nix" / "tests" / "classic-features.nix")
    assert data["failedAssertions"] == []
    web = data["nspawn"]["web"]
    assert web["networkConfig"]["Port"] == ["tcp:8080:80"]
    assert web["filesConfig"]["TemporaryFileSystem"] == ["/var/tmp"]
    assert web["filesConfig"]["Bind"] == ["/dev/fuse"]
    assert web["filesConfig"]["BindReadOnly"] == [
        "/nix/store",
        "/srv/late/data:/var/lib/late:idmap",
    ]
    assert web["execConfig"]["Capability"] == ["CAP_IPC_LOCK", "CAP_NET_ADMIN"]
