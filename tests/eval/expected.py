"""What the module produces for a container with default settings, written out by hand from its
documented behaviour: the expected values that the eval tier's tests share."""

import hashlib
from typing import Any


def machine_id(name: str) -> str:
    return hashlib.sha256(f"nixos-nspawn:{name}".encode()).hexdigest()[:32]


def nspawn_unit(
    toplevel: str,
    name: str,
    *,
    bind: list[str] | None = None,
    bind_ro: list[str] | None = None,
    network: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The unit the module produces for a container with default settings."""
    return {
        "execConfig": {
            "Boot": False,
            "Parameters": f"{toplevel}/init",
            "Ephemeral": True,
            "PrivateUsers": "pick",
            "NotifyReady": True,
            "KillSignal": "SIGRTMIN+3",
            "MachineID": machine_id(name),
            "LinkJournal": "try-host",
            "ResolvConf": "off",
            "Timezone": "off",
        },
        "filesConfig": {
            "PrivateUsersOwnership": "chown",
            "BindReadOnly": ["/nix/store", *(bind_ro or [])],
            "Bind": bind or [],
        },
        "networkConfig": network or {"Private": True, "VirtualEthernet": True},
    }


def host_network(ifname: str, kind: str, pool: str) -> dict[str, Any]:
    return {
        "matchConfig": {"Name": ifname, "Kind": kind},
        "networkConfig": {
            "Address": [f"0.0.0.0/{pool}", "::/64"],
            "DHCPServer": True,
            "IPMasquerade": "both",
            "LinkLocalAddressing": "yes",
            "IPv6AcceptRA": False,
            "IPv6SendRA": True,
            "MulticastDNS": True,
            "LLDP": True,
            "EmitLLDP": "customer-bridge",
        },
        "linkConfig": {"RequiredForOnline": "no"},
    }


CONTAINER_NETWORK = {
    "matchConfig": {"Name": "host0", "Kind": "veth", "Virtualization": "container"},
    "networkConfig": {
        "DHCP": "yes",
        "LinkLocalAddressing": "yes",
        "IPv6AcceptRA": True,
        "MulticastDNS": True,
        "LLDP": True,
        "EmitLLDP": "customer-bridge",
    },
}

IPROUTE2 = "/nix/store/55555555555555555555555555555555-iproute2-6.17.0"
"""The stand-ins' ``pkgs.iproute2``."""

HOST0_SERVICE = {
    "nixos-nspawn-host0": {
        "unit": {
            "Description": "Bring up host0 before systemd-networkd configures it",
            "DefaultDependencies": False,
            "Before": "systemd-networkd.service",
        },
        "service": {"Type": "oneshot", "ExecStart": f"{IPROUTE2}/bin/ip link set dev host0 up"},
        "wantedBy": ["systemd-networkd.service"],
    }
}
"""A container's own services when it has a veth: host0 up before its networkd starts."""

VETH_AND_ZONE_FIREWALL = {
    "ve-+": {"allowedUDPPorts": [67, 5353]},
    "vz-+": {"allowedUDPPorts": [67, 5353]},
}


def machine_dir(name: str) -> dict[str, Any]:
    return {f"/var/lib/machines/{name}": {"d": {"user": "root", "group": "root", "mode": "0755"}}}


def toplevel(data: dict[str, Any], name: str) -> str:
    path = data["containers"][name]["path"]
    assert isinstance(path, str)
    assert path.startswith("/nix/store/")
    return path


# The assertion messages' common parts.
WEB = "nixos-nspawn.containers.web"
"""Where the assertions of the cases' container `web` point."""
CONTROL = "which would end or break the line in the unit file."
"""How a message about a control character in a unit file value ends."""

SERVICE_DEFAULTS = {"TimeoutStartSec": "5min", "Restart": "on-failure", "X-RestartIfChanged": True}
"""The [Service] settings of every container's drop-in: the boot's time-out, the crash policy
(restartOnFailure) and the instance's own X-RestartIfChanged, which wins over the template's."""

TEMPLATE_DROPIN = {
    "overrideStrategy": "asDropin",
    "serviceConfig": {},
    "environment": {},
    "unitConfig": {},
    "enable": True,
    "description": "",
    "wants": [],
    "wantedBy": [],
    "after": [],
    "before": [],
    "restartIfChanged": False,
}
"""The drop-in of the template `systemd-nspawn@.service` (present whenever the host module is
imported): a switch leaves alone every instance that the module does not declare."""
