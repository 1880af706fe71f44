"""The runtime tier's reading of nspawn settings into the checks' Topology."""

import pytest

from harness.checks import Bind, Container
from harness.vm.install import bind_sources, container_of, split_bind, topology_of
from harness.vm.units import UnitRenderError

ALPHA = {
    "execConfig": {"Parameters": "/nix/store/abc-nixos-system-alpha/init"},
    "filesConfig": {
        "Bind": ["/srv/alpha:/var/lib/alpha", "/srv/same", "/dev/fuse"],
        "BindReadOnly": ["/nix/store", "/etc/ro:/ro:norbind"],
    },
    "networkConfig": {"VirtualEthernet": True},
}


def test_container_of_reads_binds_without_the_store_and_device_nodes():
    assert container_of("alpha", ALPHA, "/usr") == Container(
        name="alpha",
        zone=None,
        veth=True,
        binds=(
            Bind("/var/lib/alpha", read_only=False),
            Bind("/srv/same", read_only=False),
            Bind("/ro", read_only=True),
        ),
    )


def test_a_zone_means_a_veth_on_the_zone_bridge():
    beta = {"networkConfig": {"VirtualEthernet": True, "Zone": "lab"}}
    assert container_of("beta", beta, "/usr") == Container("beta", zone="lab", veth=True)


def test_no_virtual_ethernet_means_no_host_interface():
    assert container_of("c", {"networkConfig": {"VirtualEthernet": False}}, "/usr").veth is False


def test_bind_sources_are_the_host_side_directories():
    assert bind_sources(ALPHA) == ("/srv/alpha", "/srv/same", "/nix/store", "/etc/ro")


def test_topology_carries_the_debian_store_and_skeleton():
    topology = topology_of({"alpha": ALPHA}, ("etc", "usr"))
    assert topology.store_path == "/usr"
    assert topology.root_skeleton == ("etc", "usr")
    assert topology.names == ("alpha",)


@pytest.mark.parametrize(("spec", "parts"), [
    ("/srv/same", ("/srv/same",)),
    ("/srv/a:/a", ("/srv/a", "/a")),
    ("/srv/a:/a:idmap,norbind", ("/srv/a", "/a", "idmap,norbind")),
    # What the module writes for /a:b, /a\b and /a\ (eval tier, unit-escaped).
    ("/a\\:b:/a\\:b:idmap", ("/a:b", "/a:b", "idmap")),
    ("/a\\\\b:/a\\\\b:idmap", ("/a\\b", "/a\\b", "idmap")),
    ("/srv/a\\\\:/a\\\\:idmap", ("/srv/a\\", "/a\\", "idmap")),
    # nspawn's reading of what the module wrote before it escaped backslashes.
    ("/a\\b:/a\\b", ("/ab", "/ab")),
    ("/srv/a\\:/a:idmap", ("/srv/a:/a", "idmap")),
    ("/srv/a:/a:", ("/srv/a", "/a", "")),
])
def test_split_bind_reads_bind_as_nspawn_does(spec: str, parts: tuple[str, ...]) -> None:
    assert split_bind(spec) == parts


def test_split_bind_refuses_an_unpaired_trailing_backslash() -> None:
    with pytest.raises(UnitRenderError, match="unpaired backslash"):
        split_bind("/srv/a:/a\\")


def test_escaped_binds_name_the_right_directories_on_both_sides():
    odd = {"filesConfig": {"Bind": ["/srv/odd\\:dir\\\\x:/var/lib/odd\\:dir\\\\x:idmap"]}}
    assert bind_sources(odd) == ("/srv/odd:dir\\x",)
    assert container_of("odd", odd, "/usr").binds == (Bind("/var/lib/odd:dir\\x", False),)
