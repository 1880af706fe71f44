"""Render the module's unit settings to the files NixOS would put in /etc, for a Debian VM.

The eval tier exports what the module sets (``tests/reference/<case>.json``): the attrsets NixOS
turns into ``/etc/systemd/nspawn/<n>.nspawn`` and ``/etc/systemd/network/<unit>.network`` /
``.netdev``. This module turns them into text *exactly* as nixpkgs does, so the runtime VM runs
what a NixOS host would:

- ``toOption`` / ``attrsToSection`` from ``nixos/lib/systemd-lib.nix``: ``true``/``false`` for
  booleans, ``toString`` for the rest, a list becomes the key repeated once per element, keys in
  Nix attribute order (sorted);
- ``instanceToUnit`` from ``nixos/modules/system/boot/systemd/nspawn.nix`` for ``.nspawn``;
- ``networkToUnit`` / ``netdevToUnit`` from ``nixos/lib/systemd-network-units.nix``;
- ``mountToUnit`` from ``nixos/lib/systemd-lib.nix`` for the module's ``systemd.mounts`` (a
  closure's store image).

The only changes are the Debian translations in :data:`DEBIAN_TRANSLATIONS` (a NixOS system's
``init`` and store, the systemd package and what the module builds have Debian counterparts) and
the Debian system (:data:`DEBIAN_SYSTEM`) in every container; every other value passes through
unchanged, and a ``/nix/`` path that no translation covers is an error rather than a silent
mismatch. Service drop-ins are rendered as NixOS writes them too (``serviceToUnit``: the
``environment`` as ``Environment=`` lines, then ``attrsToSection``), and so are the services the
module gives a container (``serviceToUnit`` and ``generateUnits``' ``.wants/`` links).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from harness.checks.topology import MACHINES_DIR


class UnitRenderError(ValueError):
    """The settings cannot be rendered faithfully (unknown key, untranslated NixOS path...)."""


# -- systemd-lib.nix ---------------------------------------------------------------------------


def nix_to_string(value: object) -> str:
    """``builtins.toString`` for JSON values (lists join with spaces, as in Nix)."""
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, list):
        return " ".join(nix_to_string(item) for item in value)
    raise UnitRenderError(f"cannot coerce {value!r} to a string")


def to_option(value: object) -> str:
    """``toOption``: booleans become ``true``/``false``, everything else ``toString``."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return nix_to_string(value)


def attrs_to_section(attrs: Mapping[str, object]) -> str:
    """``attrsToSection``: one ``Key=value`` line per value, lists repeat the key."""
    lines = []
    for name in sorted(attrs):
        value = attrs[name]
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{name}={to_option(item)}\n")
    return "".join(lines)


def environment_lines(environment: Mapping[str, object]) -> str:
    """``serviceToUnit``'s ``environment``: one ``Environment=`` line per variable that is not
    null, in attribute order, each assignment quoted by ``builtins.toJSON``."""
    lines = []
    for name in sorted(environment):
        value = environment[name]
        if value is not None:
            assignment = f"{name}={nix_to_string(value)}"
            lines.append(f"Environment={json.dumps(assignment, ensure_ascii=False)}\n")
    return "".join(lines)


# -- nspawn.nix ----------------------------------------------------------------------------------

NSPAWN_SECTIONS = (("execConfig", "Exec"), ("filesConfig", "Files"), ("networkConfig", "Network"))


def nspawn_unit(settings: Mapping[str, object]) -> str:
    """``instanceToUnit``: all three sections, always, each followed by a blank line."""
    _only_keys(settings, {key for key, _ in NSPAWN_SECTIONS}, "nspawn unit")
    return (
        "\n\n".join(
            f"[{section}]\n{attrs_to_section(_attrs(settings, key))}"
            for key, section in NSPAWN_SECTIONS
        )
        + "\n"
    )


# -- systemd-network-units.nix ---------------------------------------------------------------

NETWORK_LIST_KEYS = (
    ("address", "Address"),
    ("gateway", "Gateway"),
    ("dns", "DNS"),
    ("ntp", "NTP"),
    ("bridge", "Bridge"),
    ("bond", "Bond"),
    ("vrf", "VRF"),
    ("vlan", "VLAN"),
    ("macvlan", "MACVLAN"),
    ("macvtap", "MACVTAP"),
    ("vxlan", "VXLAN"),
    ("tunnel", "Tunnel"),
    ("xfrm", "Xfrm"),
)

# (option, section, inner attribute for lists of submodules or None for a plain attrset), in
# the order networkToUnit emits them after the [Network] section.
NETWORK_TRAILING_SECTIONS: tuple[tuple[str, str, str | None], ...] = (
    ("addresses", "Address", "addressConfig"),
    ("routingPolicyRules", "RoutingPolicyRule", "routingPolicyRuleConfig"),
    ("routes", "Route", "routeConfig"),
    ("dhcpV4Config", "DHCPv4", None),
    ("dhcpV6Config", "DHCPv6", None),
    ("dhcpPrefixDelegationConfig", "DHCPPrefixDelegation", None),
    ("ipv6AcceptRAConfig", "IPv6AcceptRA", None),
    ("dhcpServerConfig", "DHCPServer", None),
    ("ipv6SendRAConfig", "IPv6SendRA", None),
    ("ipv6Prefixes", "IPv6Prefix", "ipv6PrefixConfig"),
    ("ipv6RoutePrefixes", "IPv6RoutePrefix", "ipv6RoutePrefixConfig"),
    ("dhcpServerStaticLeases", "DHCPServerStaticLease", "dhcpServerStaticLeaseConfig"),
    ("bridgeConfig", "Bridge", None),
    ("bridgeFDBs", "BridgeFDB", "bridgeFDBConfig"),
    ("bridgeMDBs", "BridgeMDB", "bridgeMDBConfig"),
    ("lldpConfig", "LLDP", None),
    ("canConfig", "CAN", None),
    ("ipoIBConfig", "IPoIB", None),
    ("qdiscConfig", "QDisc", None),
    ("networkEmulatorConfig", "NetworkEmulator", None),
    ("tokenBucketFilterConfig", "TokenBucketFilter", None),
    ("pieConfig", "PIE", None),
    ("flowQueuePIEConfig", "FlowQueuePIE", None),
    ("stochasticFairBlueConfig", "StochasticFairBlue", None),
    ("stochasticFairnessQueueingConfig", "StochasticFairnessQueueing", None),
    ("bfifoConfig", "BFIFO", None),
    ("pfifoConfig", "PFIFO", None),
    ("pfifoHeadDropConfig", "PFIFOHeadDrop", None),
    ("pfifoFastConfig", "PFIFOFast", None),
    ("cakeConfig", "CAKE", None),
    ("controlledDelayConfig", "ControlledDelay", None),
    ("deficitRoundRobinSchedulerConfig", "DeficitRoundRobinScheduler", None),
    ("deficitRoundRobinSchedulerClassConfig", "DeficitRoundRobinSchedulerClass", None),
    ("enhancedTransmissionSelectionConfig", "EnhancedTransmissionSelection", None),
    ("genericRandomEarlyDetectionConfig", "GenericRandomEarlyDetection", None),
    ("fairQueueingControlledDelayConfig", "FairQueueingControlledDelay", None),
    ("fairQueueingConfig", "FairQueueing", None),
    ("trivialLinkEqualizerConfig", "TrivialLinkEqualizer", None),
    ("hierarchyTokenBucketConfig", "HierarchyTokenBucket", None),
    ("hierarchyTokenBucketClassConfig", "HierarchyTokenBucketClass", None),
    ("heavyHitterFilterConfig", "HeavyHitterFilter", None),
    ("quickFairQueueingConfig", "QuickFairQueueing", None),
    ("quickFairQueueingConfigClass", "QuickFairQueueingClass", None),
    ("bridgeVLANs", "BridgeVLAN", "bridgeVLANConfig"),
)

NETDEV_SECTIONS: tuple[tuple[str, str, str | None], ...] = (
    ("bridgeConfig", "Bridge", None),
    ("vlanConfig", "VLAN", None),
    ("ipvlanConfig", "IPVLAN", None),
    ("ipvtapConfig", "IPVTAP", None),
    ("macvlanConfig", "MACVLAN", None),
    ("vxlanConfig", "VXLAN", None),
    ("tunnelConfig", "Tunnel", None),
    ("fooOverUDPConfig", "FooOverUDP", None),
    ("peerConfig", "Peer", None),
    ("tunConfig", "Tun", None),
    ("tapConfig", "Tap", None),
    ("l2tpConfig", "L2TP", None),
    ("l2tpSessions", "L2TPSession", "l2tpSessionConfig"),
    ("wireguardConfig", "WireGuard", None),
    ("wireguardPeers", "WireGuardPeer", "wireguardPeerConfig"),
    ("bondConfig", "Bond", None),
    ("xfrmConfig", "Xfrm", None),
    ("vrfConfig", "VRF", None),
    ("wlanConfig", "WLAN", None),
    ("batmanAdvancedConfig", "BatmanAdvanced", None),
)

_UNIT_META_KEYS = {"enable", "extraConfig", "name"}


def network_unit(settings: Mapping[str, object]) -> str:
    """``networkToUnit``."""
    _only_keys(
        settings,
        {"matchConfig", "linkConfig", "networkConfig", *_UNIT_META_KEYS}
        | {key for key, _ in NETWORK_LIST_KEYS}
        | {key for key, _, _ in NETWORK_TRAILING_SECTIONS},
        "network unit",
    )
    _require_enabled(settings)
    text = _match_section(settings) + _optional_section(settings, "linkConfig", "Link")
    text += "[Network]\n" + attrs_to_section(_attrs(settings, "networkConfig"))
    for key, name in NETWORK_LIST_KEYS:
        values = _strings(settings, key)
        if values:
            text += "\n".join(f"{name}={value}" for value in values) + "\n"
    text += "\n" + _sections(settings, NETWORK_TRAILING_SECTIONS)
    return text + _extra(settings)


def netdev_unit(settings: Mapping[str, object]) -> str:
    """``netdevToUnit``."""
    _only_keys(
        settings,
        {"matchConfig", "netdevConfig", *_UNIT_META_KEYS} | {key for key, _, _ in NETDEV_SECTIONS},
        "netdev unit",
    )
    _require_enabled(settings)
    text = _match_section(settings)
    text += f"[NetDev]\n{attrs_to_section(_attrs(settings, 'netdevConfig'))}\n"
    return text + _sections(settings, NETDEV_SECTIONS) + _extra(settings)


def _match_section(settings: Mapping[str, object]) -> str:
    """``commonMatchText``."""
    return _optional_section(settings, "matchConfig", "Match")


def _optional_section(settings: Mapping[str, object], key: str, section: str) -> str:
    attrs = _attrs(settings, key)
    return f"[{section}]\n{attrs_to_section(attrs)}\n" if attrs else ""


def _sections(settings: Mapping[str, object], table: Sequence[tuple[str, str, str | None]]) -> str:
    text = ""
    for key, section, inner in table:
        if inner is None:
            text += _optional_section(settings, key, section)
            continue
        for item in _list(settings, key):
            if not isinstance(item, Mapping):
                raise UnitRenderError(f"{key}: expected a list of attrsets, got {item!r}")
            text += f"[{section}]\n{attrs_to_section(_attrs(item, inner))}\n"
    return text


def _extra(settings: Mapping[str, object]) -> str:
    extra = settings.get("extraConfig", "")
    if not isinstance(extra, str):
        raise UnitRenderError(f"extraConfig: expected a string, got {extra!r}")
    return extra


def _require_enabled(settings: Mapping[str, object]) -> None:
    if settings.get("enable", True) is not True:
        raise UnitRenderError("disabled units (enable = false) are not supported here")


def _only_keys(settings: Mapping[str, object], allowed: set[str], what: str) -> None:
    unknown = sorted(set(settings) - allowed)
    if unknown:
        raise UnitRenderError(f"{what}: unsupported keys {unknown}")


def _attrs(settings: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = settings.get(key, {})
    if not isinstance(value, Mapping):
        raise UnitRenderError(f"{key}: expected an attrset, got {value!r}")
    return value


def _list(settings: Mapping[str, object], key: str) -> list[object]:
    value = settings.get(key, [])
    if not isinstance(value, list):
        raise UnitRenderError(f"{key}: expected a list, got {value!r}")
    return value


def _strings(settings: Mapping[str, object], key: str) -> list[str]:
    values = _list(settings, key)
    if not all(isinstance(v, str) for v in values):
        raise UnitRenderError(f"{key}: expected a list of strings, got {values!r}")
    return [str(v) for v in values]


# -- Debian translation ----------------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    """One NixOS-only value and its Debian counterpart, with the reason it is needed."""

    section: str
    key: str
    pattern: str
    """Regular expression that must match the whole value (one list element)."""
    replacement: str
    """The value instead (``\\1`` for a group of the pattern)."""
    why: str

    def apply(self, section: str, key: str, value: str) -> str | None:
        if (section, key) != (self.section, self.key):
            return None
        match = re.fullmatch(self.pattern, value)
        return None if match is None else match.expand(self.replacement)


DEBIAN_SYSTEM = "/usr"
"""The Debian system a container runs (what ``Parameters=`` points into): bound read-only into
every container, also where NixOS binds no store (a closure-only store, an overlay store)."""

STAND_IN_DIR = "/srv/nixos-nspawn"
"""Where the VM keeps the Debian stand-ins for what NixOS builds (see :mod:`support.vm.install`)."""

CLOSURE_MOUNT = "/run/nixos-nspawn/store/[0-9a-z]{32}"
"""Where the module mounts a closure's store image (``nixStore = "closure"``), as a pattern."""

DEBIAN_TRANSLATIONS: tuple[Translation, ...] = (
    Translation(
        "execConfig",
        "Parameters",
        r"/nix/store/[^/]+/init",
        "/usr/lib/systemd/systemd",
        "the container's NixOS system init script; on Debian, systemd itself is the init",
    ),
    Translation(
        "filesConfig",
        "BindReadOnly",
        r"/nix/store",
        DEBIAN_SYSTEM,
        "the shared read-only software tree: NixOS' store, Debian's /usr (the container root "
        "is otherwise nearly empty, as on NixOS)",
    ),
    Translation(
        "filesConfig",
        "BindReadOnly",
        CLOSURE_MOUNT + ":/nix/store",
        r"\g<0>",
        "the closure's store image, mounted on the host by its mount unit (What= translated "
        "below): the same mount point in the VM",
    ),
    Translation(
        "filesConfig",
        "Overlay",
        f"(?:/nix/store|{CLOSURE_MOUNT})" + r":\+/nix/[^:]+:/nix/store",
        r"\g<0>",
        "the container's overlay store (nix = overlay) over the host's store or the closure's "
        "image: Debian's Nix keeps its store at /nix/store too, so the overlay is made over the "
        "VM's own Nix store or the image built from the stand-in closure",
    ),
    Translation(
        "filesConfig",
        "BindReadOnly",
        r"/nix/store/[^/]+-closure-info/registration(:.+)",
        STAND_IN_DIR + r"/registration\1",
        "the registration of the container's closure (closureInfo); on Debian, nix-store "
        "--dump-db of the VM's stand-in closure",
    ),
    Translation(
        "mount",
        "What",
        r"/nix/store/[^/]+-nixos-nspawn-([^/]+)-store\.erofs",
        STAND_IN_DIR + r"/\1.store.erofs",
        "the closure's store image; on Debian, the module's store-image.sh run in the VM over "
        "the stand-in closure",
    ),
    Translation(
        "containerService",
        "ExecStart",
        r"/nix/store/[0-9a-z]{32}-iproute2-[^/ ]+/bin/ip( .+)",
        r"/usr/bin/ip\1",
        "iproute2 from the container's store; Debian's ip is in the /usr the container binds",
    ),
    Translation(
        "service",
        "ExecStart",
        r"/nix/store/[^/ ]+/bin/(systemd-nspawn .*)",
        r"\1",
        "NixOS' systemd package; Debian's own template calls systemd-nspawn by name",
    ),
    Translation(
        "service",
        "ExecReload",
        r"/nix/store/[^/ ]+/bin/(systemd-run .*)",
        r"\1",
        "NixOS' systemd package (reloadIfChanged); Debian's systemd-run by name",
    ),
)


def translate_nspawn(
    settings: Mapping[str, object],
    translations: Sequence[Translation] = DEBIAN_TRANSLATIONS,
) -> dict[str, object]:
    """Apply *translations* to an nspawn settings attrset; refuse leftover ``/nix/`` values.

    Every container gets :data:`DEBIAN_SYSTEM` read-only, first (NixOS' store bind becomes it;
    where NixOS binds no whole store, it is added), unless it is bound read-write already.
    """
    out: dict[str, object] = {}
    for section, attrs in settings.items():
        if not isinstance(attrs, Mapping):
            raise UnitRenderError(f"{section}: expected an attrset, got {attrs!r}")
        out[section] = {
            key: _translate_value(section, key, value, translations) for key, value in attrs.items()
        }
    files = out.setdefault("filesConfig", {})
    assert isinstance(files, dict)
    read_only = [str(v) for v in _as_list(files.get("BindReadOnly"))]
    writable = [str(v) for v in _as_list(files.get("Bind"))]
    if DEBIAN_SYSTEM not in read_only + writable:  # bound read-write: a negative control's
        files["BindReadOnly"] = [DEBIAN_SYSTEM, *read_only]
    return out


def translate_service(
    settings: Mapping[str, object],
    translations: Sequence[Translation] = DEBIAN_TRANSLATIONS,
    section: str = "service",
) -> dict[str, object]:
    """A service's settings with *translations* of ``section`` applied: ``service`` for the
    systemd-nspawn@ drop-in, ``containerService`` for a container's own services."""
    return {
        key: _translate_value(section, key, value, translations) for key, value in settings.items()
    }


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _translate_value(
    section: str, key: str, value: object, translations: Sequence[Translation]
) -> object:
    if isinstance(value, list):
        return [_translate_value(section, key, item, translations) for item in value]
    if not isinstance(value, str):
        return value
    for translation in translations:
        replaced = translation.apply(section, key, value)
        if replaced is not None:
            return replaced
    if "/nix/" in value or value.startswith("/nix"):
        raise UnitRenderError(
            f"{section}.{key} = {value!r} names a NixOS path with no Debian translation"
        )
    return value


# -- a whole reference case --------------------------------------------------------------------


@dataclass(frozen=True)
class UnitFile:
    """One file to install in the VM."""

    path: str
    text: str


@dataclass(frozen=True)
class UnitLink:
    """One symbolic link to install in the VM (a ``.wants/`` link)."""

    path: str
    target: str


CASE_KEYS = {
    "case",
    "description",
    "nspawn",
    "hostNetworks",
    "hostNetdevs",
    "containerNetworks",
    "containerServices",
    "tmpfiles",
    "serviceOverrides",
    "serviceEnvironment",
    "unitOverrides",
    "sysctl",
    "mounts",
}
"""Top-level keys of an exported case; ``tmpfiles`` is applied by :mod:`support.vm.install`."""


def render_case(case: Mapping[str, object]) -> tuple[UnitFile | UnitLink, ...]:
    """All files of an exported reference case, ``tests/reference/<case>.json``.

    Container-side networks go below the container's directory in /var/lib/machines, where its
    root is made from the template; the host's to /etc. Keys this function does not know are
    refused, so that nothing the module exports is silently left out of the VM.
    """
    _only_keys(case, CASE_KEYS, "reference case")
    files: list[UnitFile | UnitLink] = []
    for name, settings in sorted(_attrs(case, "nspawn").items()):
        files.append(
            UnitFile(
                f"/etc/systemd/nspawn/{name}.nspawn",
                nspawn_unit(translate_nspawn(_mapping(settings, name))),
            )
        )
    for mount in translated_mounts(case):
        files.append(UnitFile(f"/etc/systemd/system/{mount_unit_name(mount.where)}", mount.text))
    for unit, settings in sorted(_attrs(case, "hostNetworks").items()):
        files.append(
            UnitFile(
                f"/etc/systemd/network/{_unit_stem(unit, '.network')}.network",
                network_unit(_mapping(settings, unit)),
            )
        )
    for unit, settings in sorted(_attrs(case, "hostNetdevs").items()):
        files.append(
            UnitFile(
                f"/etc/systemd/network/{_unit_stem(unit, '.netdev')}.netdev",
                netdev_unit(_mapping(settings, unit)),
            )
        )
    services = _attrs(case, "serviceOverrides")
    unit_sections = _attrs(case, "unitOverrides")
    environments = _attrs(case, "serviceEnvironment")
    _only_keys(unit_sections, set(services), "unitOverrides (a [Unit] section without a drop-in)")
    _only_keys(environments, set(services), "serviceEnvironment (variables without a drop-in)")
    for name, settings in sorted(services.items()):
        # NixOS' drop-in for an upstream template instance (overrideStrategy = "asDropin").
        section = _mapping(unit_sections.get(name, {}), name)
        files.append(
            UnitFile(
                f"/etc/systemd/system/systemd-nspawn@{name}.service.d/overrides.conf",
                (f"[Unit]\n{attrs_to_section(section)}\n" if section else "")
                + "[Service]\n"
                + environment_lines(_mapping(environments.get(name, {}), name))
                + attrs_to_section(translate_service(_mapping(settings, name))),
            )
        )
    for container, units in sorted(_attrs(case, "containerNetworks").items()):
        for unit, settings in sorted(_mapping(units, container).items()):
            files.append(
                UnitFile(
                    f"{MACHINES_DIR}/{container}/etc/systemd/network/"
                    f"{_unit_stem(unit, '.network')}.network",
                    network_unit(_mapping(settings, unit)),
                )
            )
    for container, own in sorted(_attrs(case, "containerServices").items()):
        files.extend(
            container_service_files(f"{MACHINES_DIR}/{container}", _mapping(own, container))
        )
    sysctl = _attrs(case, "sysctl")
    if sysctl:
        files.append(UnitFile(SYSCTL_FILE, sysctl_conf(sysctl)))
    return tuple(files)


UNIT_NAME = re.compile(r"[a-zA-Z0-9@%:_.\-]+")
"""The characters of nixpkgs' ``unitNameType``: a name that is one file name."""
SERVICE_KEYS = {"unit", "service", "wantedBy"}


def container_service_files(
    root: str, services: Mapping[str, object]
) -> tuple[UnitFile | UnitLink, ...]:
    """A container's own services (``containerServices.<container>``) in its root, as NixOS
    writes them: ``serviceToUnit``'s text in ``/etc/systemd/system/<name>.service`` (``[Unit]``,
    ``[Service]``, and ``[Install]`` with the ``wantedBy`` units), and a
    ``<unit>.wants/<name>.service`` link for each of those (``generateUnits``).

    NixOS also writes ``Environment=`` lines of its global environment (PATH, LOCALE_ARCHIVE,
    TZDIR: store paths) into every service; they are left out here, which is why a command must
    be an absolute path that :data:`DEBIAN_TRANSLATIONS` (section ``containerService``) covers.
    """
    out: list[UnitFile | UnitLink] = []
    for name, entry in sorted(services.items()):
        settings = _mapping(entry, name)
        _only_keys(settings, SERVICE_KEYS, f"container service {name}")
        wanted_by = _strings(settings, "wantedBy")
        for unit in (name, *wanted_by):
            if not UNIT_NAME.fullmatch(unit) or unit in (".", ".."):
                raise UnitRenderError(f"container service {name}: {unit!r} is not a unit name")
        service = translate_service(_attrs(settings, "service"), section="containerService")
        text = f"[Unit]\n{attrs_to_section(_attrs(settings, 'unit'))}\n"
        text += f"[Service]\n{attrs_to_section(service)}"
        if wanted_by:
            text += f"\n[Install]\nWantedBy={' '.join(wanted_by)}\n"
        units = f"{root}/etc/systemd/system"
        out.append(UnitFile(f"{units}/{name}.service", text))
        out.extend(
            UnitLink(f"{units}/{unit}.wants/{name}.service", f"../{name}.service")
            for unit in wanted_by
        )
    return tuple(out)


@dataclass(frozen=True)
class MountUnit:
    """One of the module's ``systemd.mounts``, Debian-translated."""

    what: str
    where: str
    text: str
    """The unit file, as nixpkgs' ``mountToUnit`` writes it."""


MOUNT_KEYS = {"what", "where", "type", "options", "unitConfig", "mountConfig"}


def translated_mounts(case: Mapping[str, object]) -> tuple[MountUnit, ...]:
    """The case's ``systemd.mounts``, their ``What=`` translated (section ``mount``).

    nixpkgs' mount options become ``[Mount]`` settings (``what`` -> ``What=``, ``where``,
    ``type`` and ``options`` if not empty) over ``mountConfig``; ``unitConfig`` is ``[Unit]``.
    """
    mounts = case.get("mounts", [])
    if not isinstance(mounts, list):
        raise UnitRenderError(f"mounts: expected a list, got {mounts!r}")
    out = []
    for index, entry in enumerate(mounts):
        mount = _mapping(entry, f"mounts[{index}]")
        _only_keys(mount, MOUNT_KEYS, f"mounts[{index}]")
        what, where = mount.get("what"), mount.get("where")
        if not isinstance(what, str) or not isinstance(where, str):
            raise UnitRenderError(f"mounts[{index}]: `what` and `where` must be strings")
        settings = {
            **_mapping(mount.get("mountConfig", {}), f"mounts[{index}].mountConfig"),
            "What": _translate_value("mount", "What", what, DEBIAN_TRANSLATIONS),
            "Where": where,
        }
        for key, name in (("type", "Type"), ("options", "Options")):
            if mount.get(key):
                settings[name] = mount[key]
        unit = _mapping(mount.get("unitConfig", {}), f"mounts[{index}].unitConfig")
        text = f"[Unit]\n{attrs_to_section(unit)}\n[Mount]\n{attrs_to_section(settings)}\n"
        out.append(MountUnit(str(settings["What"]), where, text))
    return tuple(out)


def mount_unit_name(where: str) -> str:
    """The name of the mount unit for mount point *where* (``systemd-escape --path
    --suffix=mount``): slashes at either end dropped, the others ``-``; a byte that is no ASCII
    letter or digit, nor ``:``, ``_`` or ``.`` (not first), as ``\\xNN``."""
    if (
        not where.startswith("/")
        or "//" in where
        or any(part in (".", "..") for part in where.split("/"))
    ):
        raise UnitRenderError(f"mount point {where!r} is not a normalized absolute path")
    path = where.strip("/")
    if not path:
        return "-.mount"
    escaped = []
    for index, byte in enumerate(path.encode()):
        char = chr(byte)
        if char == "/":
            escaped.append("-")
        elif (char.isascii() and char.isalnum()) or char in ":_" or (char == "." and index > 0):
            escaped.append(char)
        else:
            escaped.append(f"\\x{byte:02x}")
    return "".join(escaped) + ".mount"


SYSCTL_FILE = "/etc/sysctl.d/60-nixos.conf"
"""Where NixOS writes ``boot.kernel.sysctl`` (nixos/modules/config/sysctl.nix)."""
SAFE_SYSCTL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.*/-]*")


def sysctl_conf(settings: Mapping[str, object]) -> str:
    """``boot.kernel.sysctl`` as NixOS writes it: ``name=value`` lines, ``false`` as ``0``, a
    ``null`` value left out."""
    lines = []
    for name, value in sorted(settings.items()):
        if value is None:
            continue
        if not isinstance(value, bool | int | str):
            raise UnitRenderError(f"sysctl {name}: expected a bool, int or string, got {value!r}")
        text = ("1" if value else "0") if isinstance(value, bool) else str(value)
        if not SAFE_SYSCTL.fullmatch(name) or "\n" in text:
            raise UnitRenderError(f"sysctl {name}={text!r}: not a sysctl setting")
        lines.append(f"{name}={text}\n")
    return "".join(lines)


def _mapping(value: object, where: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise UnitRenderError(f"{where}: expected an attrset, got {value!r}")
    return value


def _unit_stem(unit: str, suffix: str) -> str:
    return unit.removesuffix(suffix)
