"""The unit keys (and values) that nixpkgs' NixOS modules accept, as data.

A real NixOS evaluation rejects every ``[Exec]``/``[Files]``/``[Network]`` key of a
``systemd.nspawn`` unit that ``nixos/modules/system/boot/systemd/nspawn.nix`` does not list
(``assertOnlyFields``), and does the same for the checked sections of networkd units
(``nixos/modules/system/boot/networkd.nix``). The eval tier's stand-ins accept anything, so
test_nixpkgs_keys.py holds every key the module produces in every eval case against these lists:
a new option cannot pass here and then fail on every user's machine.

Copied by hand from the nixpkgs files at the commits named below (as the GitHub index served
them); update both together.
"""

NSPAWN_SOURCE = (
    "NixOS/nixpkgs nixos/modules/system/boot/systemd/nspawn.nix at "
    "a23fe2b5d126e94a149ae9bac6b69b90b582d91b"
)
NETWORKD_SOURCE = (
    "NixOS/nixpkgs nixos/modules/system/boot/networkd.nix at "
    "dd3bd10db43928304940573387eda776da0ccc42"
)

BOOL_VALUES: frozenset[object] = frozenset({True, False, "yes", "no"})
"""nixpkgs' ``boolValues`` (nixos/lib/systemd-lib.nix)."""

# checkExec, checkFiles, checkNetwork: assertOnlyFields.
NSPAWN_KEYS: dict[str, frozenset[str]] = {
    "execConfig": frozenset(
        {
            "Boot",
            "ProcessTwo",
            "Parameters",
            "Environment",
            "User",
            "WorkingDirectory",
            "PivotRoot",
            "Capability",
            "DropCapability",
            "NoNewPrivileges",
            "KillSignal",
            "Personality",
            "MachineID",
            "PrivateUsers",
            "NotifyReady",
            "SystemCallFilter",
            "LimitCPU",
            "LimitFSIZE",
            "LimitDATA",
            "LimitSTACK",
            "LimitCORE",
            "LimitRSS",
            "LimitNOFILE",
            "LimitAS",
            "LimitNPROC",
            "LimitMEMLOCK",
            "LimitLOCKS",
            "LimitSIGPENDING",
            "LimitMSGQUEUE",
            "LimitNICE",
            "LimitRTPRIO",
            "LimitRTTIME",
            "OOMScoreAdjust",
            "CPUAffinity",
            "Hostname",
            "ResolvConf",
            "Timezone",
            "LinkJournal",
            "Ephemeral",
            "AmbientCapability",
        }
    ),
    "filesConfig": frozenset(
        {
            "ReadOnly",
            "Volatile",
            "Bind",
            "BindReadOnly",
            "TemporaryFileSystem",
            "Overlay",
            "OverlayReadOnly",
            "PrivateUsersChown",
            "BindUser",
            "Inaccessible",
            "PrivateUsersOwnership",
        }
    ),
    "networkConfig": frozenset(
        {
            "Private",
            "VirtualEthernet",
            "VirtualEthernetExtra",
            "Interface",
            "MACVLAN",
            "IPVLAN",
            "Bridge",
            "Zone",
            "Port",
        }
    ),
}

# The other options of a `systemd.nspawn.<name>` instance: no unit section, so no keys to check
# (`extraDrvConfig` is a file nixpkgs appends to the unit as it is).
NSPAWN_OTHER_OPTIONS = frozenset({"enable", "extraDrvConfig"})

# assertValueOneOf of the same checks.
NSPAWN_VALUES: dict[str, dict[str, frozenset[object]]] = {
    "execConfig": {"Boot": BOOL_VALUES, "ProcessTwo": BOOL_VALUES, "NotifyReady": BOOL_VALUES},
    "filesConfig": {
        "ReadOnly": BOOL_VALUES,
        "Volatile": BOOL_VALUES | {"state"},
        "PrivateUsersChown": BOOL_VALUES,
        "PrivateUsersOwnership": frozenset({"off", "chown", "map", "auto"}),
    },
    "networkConfig": {"Private": BOOL_VALUES, "VirtualEthernet": BOOL_VALUES},
}

# Options of a network unit (systemd.network.networks.<name>) in networkd.nix's
# commonNetworkOptions and networkOptions, as far as the eval cases use them. Of these, nixpkgs
# checks the keys of the sections below; `matchConfig` takes any key, `extraConfig` is text.
NETWORK_OPTIONS = frozenset(
    {
        "enable",
        "matchConfig",
        "extraConfig",
        "linkConfig",
        "networkConfig",
        "dhcpServerConfig",
    }
)

# check.network.sectionLink, sectionNetwork, sectionDHCPServer: assertOnlyFields.
NETWORK_KEYS: dict[str, frozenset[str]] = {
    "linkConfig": frozenset(
        {
            "MACAddress",
            "MTUBytes",
            "ARP",
            "Multicast",
            "AllMulticast",
            "Unmanaged",
            "Group",
            "RequiredForOnline",
            "RequiredFamilyForOnline",
            "ActivationPolicy",
            "Promiscuous",
        }
    ),
    "networkConfig": frozenset(
        {
            "Description",
            "DHCP",
            "DHCPServer",
            "LinkLocalAddressing",
            "IPv4LLRoute",
            "DefaultRouteOnDevice",
            "LLMNR",
            "MulticastDNS",
            "DNSOverTLS",
            "DNSSEC",
            "DNSSECNegativeTrustAnchors",
            "LLDP",
            "EmitLLDP",
            "BindCarrier",
            "Address",
            "Gateway",
            "DNS",
            "Domains",
            "DNSDefaultRoute",
            "NTP",
            "IPForward",
            "IPMasquerade",
            "IPv6PrivacyExtensions",
            "IPv6AcceptRA",
            "IPv6DuplicateAddressDetection",
            "IPv6HopLimit",
            "IPv4ProxyARP",
            "IPv6ProxyNDP",
            "IPv6ProxyNDPAddress",
            "IPv6SendRA",
            "DHCPPrefixDelegation",
            "IPv6MTUBytes",
            "Bridge",
            "Bond",
            "VRF",
            "VLAN",
            "IPVLAN",
            "MACVLAN",
            "VXLAN",
            "Tunnel",
            "MACsec",
            "ActiveSlave",
            "PrimarySlave",
            "ConfigureWithoutCarrier",
            "IgnoreCarrierLoss",
            "Xfrm",
            "KeepConfiguration",
            "BatmanAdvanced",
        }
    ),
    "dhcpServerConfig": frozenset(
        {
            "ServerAddress",
            "PoolOffset",
            "PoolSize",
            "DefaultLeaseTimeSec",
            "MaxLeaseTimeSec",
            "UplinkInterface",
            "EmitDNS",
            "DNS",
            "EmitNTP",
            "NTP",
            "EmitSIP",
            "SIP",
            "EmitPOP3",
            "POP3",
            "EmitSMTP",
            "SMTP",
            "EmitLPR",
            "LPR",
            "EmitRouter",
            "Router",
            "EmitTimezone",
            "Timezone",
            "SendOption",
            "SendVendorOption",
            "BindToInterface",
            "RelayTarget",
            "RelayAgentCircuitId",
            "RelayAgentRemoteId",
        }
    ),
}

# assertValueOneOf of those sections, for the keys whose values nixpkgs restricts.
NETWORK_VALUES: dict[str, dict[str, frozenset[object]]] = {
    "linkConfig": {
        "ARP": BOOL_VALUES,
        "Multicast": BOOL_VALUES,
        "AllMulticast": BOOL_VALUES,
        "Promiscuous": BOOL_VALUES,
        "Unmanaged": BOOL_VALUES,
        "RequiredForOnline": BOOL_VALUES
        | {
            "missing",
            "off",
            "no-carrier",
            "dormant",
            "degraded-carrier",
            "carrier",
            "degraded",
            "enslaved",
            "routable",
        },
        "RequiredFamilyForOnline": frozenset({"ipv4", "ipv6", "both", "any"}),
        "ActivationPolicy": frozenset(
            {"up", "always-up", "manual", "always-down", "down", "bound"}
        ),
    },
    "networkConfig": {
        "DHCP": frozenset({"yes", "no", "ipv4", "ipv6"}),
        "DHCPServer": BOOL_VALUES,
        "LinkLocalAddressing": frozenset(
            {"yes", "no", "ipv4", "ipv6", "fallback", "ipv4-fallback"}
        ),
        "IPv4LLRoute": BOOL_VALUES,
        "DefaultRouteOnDevice": BOOL_VALUES,
        "LLMNR": BOOL_VALUES | {"resolve"},
        "MulticastDNS": BOOL_VALUES | {"resolve"},
        "DNSOverTLS": BOOL_VALUES | {"opportunistic"},
        "DNSSEC": BOOL_VALUES | {"allow-downgrade"},
        "LLDP": BOOL_VALUES | {"routers-only"},
        "EmitLLDP": BOOL_VALUES | {"nearest-bridge", "non-tpmr-bridge", "customer-bridge"},
        "DNSDefaultRoute": BOOL_VALUES,
        "IPForward": BOOL_VALUES | {"ipv4", "ipv6"},
        "IPMasquerade": BOOL_VALUES | {"ipv4", "ipv6", "both"},
        "IPv6PrivacyExtensions": BOOL_VALUES | {"prefer-public", "kernel"},
        "IPv6AcceptRA": BOOL_VALUES,
        "IPv4ProxyARP": BOOL_VALUES,
        "IPv6ProxyNDP": BOOL_VALUES,
        "IPv6SendRA": BOOL_VALUES,
        "DHCPPrefixDelegation": BOOL_VALUES,
        "ActiveSlave": BOOL_VALUES,
        "PrimarySlave": BOOL_VALUES,
        "ConfigureWithoutCarrier": BOOL_VALUES,
        "KeepConfiguration": BOOL_VALUES | {"static", "dhcp-on-stop", "dhcp"},
    },
    "dhcpServerConfig": {
        key: BOOL_VALUES
        for key in (
            "EmitDNS",
            "EmitNTP",
            "EmitSIP",
            "EmitPOP3",
            "EmitSMTP",
            "EmitLPR",
            "EmitRouter",
            "EmitTimezone",
            "BindToInterface",
        )
    },
}

# check.netdev.sectionNetdev (a netdev's `netdevConfig`): assertOnlyFields, assertHasField,
# and the kinds of assertValueOneOf "Kind".
NETDEV_KEYS = frozenset({"Description", "Name", "Kind", "MTUBytes", "MACAddress"})
NETDEV_REQUIRED = frozenset({"Name", "Kind"})
NETDEV_KINDS = frozenset(
    {
        "bond",
        "bridge",
        "dummy",
        "gre",
        "gretap",
        "erspan",
        "ip6gre",
        "ip6tnl",
        "ip6gretap",
        "ipip",
        "ipvlan",
        "macvlan",
        "macvtap",
        "sit",
        "tap",
        "tun",
        "veth",
        "vlan",
        "vti",
        "vti6",
        "vxlan",
        "geneve",
        "l2tp",
        "macsec",
        "vrf",
        "vcan",
        "vxcan",
        "wireguard",
        "netdevsim",
        "nlmon",
        "fou",
        "xfrm",
        "ifb",
        "batadv",
    }
)
