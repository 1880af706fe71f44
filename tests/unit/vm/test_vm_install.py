"""The runtime tier's reading of nspawn settings into the checks' Topology, and the commands
that install what NixOS would build (store images, the stand-in closure) in the VM."""

import base64

import pytest
from support.vm.install import (
    CLOSURE_PATHS,
    NIX,
    REGISTRATION,
    STORE_IMAGE_SCRIPT,
    add_to_store,
    bind_sources,
    container_of,
    install_files,
    install_stand_in_closure,
    install_store_images,
    prepare_bind_sources,
    split_bind,
    topology_of,
)
from support.vm.units import UnitFile, UnitRenderError

from harness.checks import Bind, Container

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


@pytest.mark.parametrize(
    ("spec", "parts"),
    [
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
    ],
)
def test_split_bind_reads_bind_as_nspawn_does(spec: str, parts: tuple[str, ...]) -> None:
    assert split_bind(spec) == parts


def test_split_bind_refuses_an_unpaired_trailing_backslash() -> None:
    with pytest.raises(UnitRenderError, match="unpaired backslash"):
        split_bind("/srv/a:/a\\")


def test_escaped_binds_name_the_right_directories_on_both_sides():
    odd = {"filesConfig": {"Bind": ["/srv/odd\\:dir\\\\x:/var/lib/odd\\:dir\\\\x:idmap"]}}
    assert bind_sources(odd) == ("/srv/odd:dir\\x",)
    assert container_of("odd", odd, "/usr").binds == (Bind("/var/lib/odd:dir\\x", False),)


class Recorder:
    """Stands in for the VM: records each command, answers with the queued outputs."""

    def __init__(self, *outputs: str) -> None:
        self.commands: list[str] = []
        self.outputs = list(outputs)

    def succeed(self, command: str, timeout: int | None = None) -> str:
        self.commands.append(command)
        return self.outputs.pop(0) if self.outputs else ""


def test_files_are_written_byte_for_byte():
    vm = Recorder()
    install_files(vm, [UnitFile("/etc/systemd/nspawn/d e.nspawn", "[Exec]\n'$x'\n")])
    [command] = vm.commands
    payload = base64.b64encode(b"[Exec]\n'$x'\n").decode()
    assert command == (
        f"mkdir -p /etc/systemd/nspawn && echo {payload} | base64 -d > "
        "'/etc/systemd/nspawn/d e.nspawn'"
    )


def test_store_images_are_built_by_the_module_script_over_the_stand_in_closure():
    vm = Recorder()
    install_store_images(vm, ["/srv/nixos-nspawn/d.store.erofs", "/srv/other.img"])
    upload, build = vm.commands
    assert base64.b64encode(STORE_IMAGE_SCRIPT.read_bytes()).decode() in upload
    assert upload.endswith("> /srv/nixos-nspawn/store-image.sh")
    assert build == (
        f"test -s {CLOSURE_PATHS} && rm -f /srv/nixos-nspawn/d.store.erofs && "
        f"sh /srv/nixos-nspawn/store-image.sh {CLOSURE_PATHS} /srv/nixos-nspawn/d.store.erofs"
    )


def test_no_store_image_means_no_command():
    vm = Recorder()
    install_store_images(vm, ["/srv/other.img"])
    assert vm.commands == []


def test_the_stand_in_closure_is_listed_and_registered():
    vm = Recorder("/nix/store/aaa-pkg\n")
    assert add_to_store(vm, "/srv/x/pkg") == "/nix/store/aaa-pkg"
    install_stand_in_closure(vm, ["/nix/store/aaa-pkg", "/nix/store/bbb-conf"])
    assert vm.commands[1] == (
        f"mkdir -p /srv/nixos-nspawn && printf '%s\\n' /nix/store/aaa-pkg /nix/store/bbb-conf "
        f"> {CLOSURE_PATHS} && {NIX}nix-store --dump-db /nix/store/aaa-pkg /nix/store/bbb-conf "
        f"> {REGISTRATION}"
    )


def test_existing_bind_sources_are_left_alone():
    vm = Recorder()
    prepare_bind_sources(vm, ["/srv/nixos-nspawn/registration"])
    assert vm.commands == [
        "test -e /srv/nixos-nspawn/registration || mkdir -p /srv/nixos-nspawn/registration"
    ]
