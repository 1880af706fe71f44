"""The unit renderer must produce the text nixpkgs' systemd-lib produces, byte for byte.

Expected texts are written by hand from nixpkgs' ``attrsToSection``/``toOption``
(nixos/lib/systemd-lib.nix), ``instanceToUnit`` (nixos/modules/system/boot/systemd/nspawn.nix) and
``networkToUnit``/``netdevToUnit`` (nixos/lib/systemd-network-units.nix).
"""

import json
import re
from pathlib import Path

import pytest
from support.vm.units import (
    Translation,
    UnitFile,
    UnitLink,
    UnitRenderError,
    attrs_to_section,
    mount_unit_name,
    netdev_unit,
    network_unit,
    nix_to_string,
    nspawn_unit,
    render_case,
    to_option,
    translate_nspawn,
    translate_service,
    translated_mounts,
)

REFERENCE = Path(__file__).resolve().parents[2] / "reference"
STORE_PATH = re.compile(r"/nix/store/[^\s:/\"]")
OVERLAY = "/nix/store:+/nix/.nixos-nspawn/upper:/nix/store"


def test_to_option_renders_booleans_as_words_and_the_rest_with_tostring():
    assert to_option(True) == "true"
    assert to_option(False) == "false"
    assert to_option(65536) == "65536"
    assert to_option("pick") == "pick"
    assert to_option(None) == ""
    assert to_option(1.5) == "1.500000"


def test_tostring_of_nested_lists_joins_with_spaces_and_bools_as_nix_does():
    assert nix_to_string(["a", 1, True, False]) == "a 1 1 "


def test_attrs_to_section_sorts_keys_and_repeats_lists():
    text = attrs_to_section({"Zone": "lab", "Address": ["10.0.0.1/24", "fd00::1/64"], "DHCP": True})
    assert text == "Address=10.0.0.1/24\nAddress=fd00::1/64\nDHCP=true\nZone=lab\n"


def test_attrs_to_section_sorts_like_nix_uppercase_before_lowercase():
    assert attrs_to_section({"b": 1, "B": 2, "a": 3}) == "B=2\na=3\nb=1\n"


def test_empty_list_renders_nothing():
    assert attrs_to_section({"Bind": []}) == ""


def test_nspawn_unit_has_all_three_sections_even_when_empty():
    text = nspawn_unit(
        {
            "execConfig": {"Ephemeral": True, "PrivateUsers": "pick"},
            "networkConfig": {"Zone": "lab"},
        }
    )
    assert text == (
        "[Exec]\nEphemeral=true\nPrivateUsers=pick\n\n\n[Files]\n\n\n[Network]\nZone=lab\n\n"
    )


def test_nspawn_unit_rejects_unknown_sections():
    with pytest.raises(UnitRenderError, match="unsupported keys"):
        nspawn_unit({"serviceConfig": {}})


def test_network_unit_layout():
    text = network_unit(
        {
            "matchConfig": {"Name": "ve-web", "Kind": "veth"},
            "linkConfig": {"RequiredForOnline": "no"},
            "networkConfig": {"DHCPServer": True, "Address": ["0.0.0.0/28"]},
            "address": ["10.1.0.1/24"],
            "dhcpServerConfig": {"PoolOffset": 10},
            "routes": [{"routeConfig": {"Gateway": "10.1.0.254"}}],
        }
    )
    assert text == (
        "[Match]\nKind=veth\nName=ve-web\n\n"
        "[Link]\nRequiredForOnline=no\n\n"
        "[Network]\nAddress=0.0.0.0/28\nDHCPServer=true\n"
        "Address=10.1.0.1/24\n"
        "\n"
        "[Route]\nGateway=10.1.0.254\n\n"
        "[DHCPServer]\nPoolOffset=10\n\n"
    )


def test_network_unit_without_match_or_link_starts_with_network():
    assert network_unit({"networkConfig": {"DHCP": "yes"}}) == "[Network]\nDHCP=yes\n\n"


def test_network_unit_appends_extra_config_verbatim():
    text = network_unit({"networkConfig": {}, "extraConfig": "[CAN]\nBitRate=1\n"})
    assert text == "[Network]\n\n[CAN]\nBitRate=1\n"


def test_network_unit_rejects_unknown_and_disabled_units():
    with pytest.raises(UnitRenderError, match="unsupported keys"):
        network_unit({"networkConfig": {}, "bogusConfig": {}})
    with pytest.raises(UnitRenderError, match="disabled"):
        network_unit({"networkConfig": {}, "enable": False})


def test_netdev_unit_layout():
    text = netdev_unit(
        {
            "netdevConfig": {"Name": "vz-lab", "Kind": "bridge"},
            "bridgeConfig": {"STP": False},
        }
    )
    assert text == "[NetDev]\nKind=bridge\nName=vz-lab\n\n[Bridge]\nSTP=false\n\n"


def test_translation_maps_the_nixos_init_and_store_only():
    translated = translate_nspawn(
        {
            "execConfig": {"Parameters": "/nix/store/abc-nixos-system-web/init", "Boot": False},
            "filesConfig": {"BindReadOnly": ["/nix/store", "/srv/ro:/ro"], "Bind": ["/srv/a:/a"]},
        }
    )
    assert translated == {
        "execConfig": {"Parameters": "/usr/lib/systemd/systemd", "Boot": False},
        "filesConfig": {"BindReadOnly": ["/usr", "/srv/ro:/ro"], "Bind": ["/srv/a:/a"]},
    }


def test_untranslated_nixos_paths_are_refused():
    with pytest.raises(UnitRenderError, match="no Debian translation"):
        translate_nspawn({"filesConfig": {"Bind": ["/nix/store"]}})
    with pytest.raises(UnitRenderError, match="no Debian translation"):
        translate_nspawn({"execConfig": {"Parameters": "/nix/store/abc-other/bin/init"}})


IMAGE_MOUNT = "/run/nixos-nspawn/store/" + "a1" * 16


def test_a_store_without_a_store_bind_still_gets_the_debian_system():
    for files in (
        {"BindReadOnly": [], "Overlay": [OVERLAY]},
        {"Overlay": [f"{IMAGE_MOUNT}:+/nix/.nixos-nspawn/upper:/nix/store"]},
        {"BindReadOnly": [f"{IMAGE_MOUNT}:/nix/store"]},
    ):
        translated = translate_nspawn({"filesConfig": files})
        # the overlay and the image's mount point are the same paths in the VM
        assert translated == {
            "filesConfig": {**files, "BindReadOnly": ["/usr", *files.get("BindReadOnly", [])]}
        }


def test_only_the_module_s_image_mount_points_pass_as_stores():
    for spec in (
        "/run/nixos-nspawn/store/short:/nix/store",
        f"{IMAGE_MOUNT}/nix/store:/nix/store",
        f"{IMAGE_MOUNT}:/nix/store/x",
    ):
        with pytest.raises(UnitRenderError, match="no Debian translation"):
            translate_nspawn({"filesConfig": {"BindReadOnly": [spec]}})


def test_the_registration_and_the_systemd_package_have_debian_counterparts():
    files = translate_nspawn(
        {
            "filesConfig": {
                "BindReadOnly": [
                    "/nix/store/abc-closure-info/registration:/nix/.nixos-nspawn/registration"
                ]
            }
        }
    )
    assert files["filesConfig"] == {
        "BindReadOnly": ["/usr", "/srv/nixos-nspawn/registration:/nix/.nixos-nspawn/registration"]
    }
    service = translate_service(
        {
            "ExecStart": [
                "",
                '/nix/store/abc-systemd-258/bin/systemd-nspawn --quiet --machine=%i "--x=a b"',
            ]
        }
    )
    assert service == {"ExecStart": ["", 'systemd-nspawn --quiet --machine=%i "--x=a b"']}
    with pytest.raises(UnitRenderError, match="no Debian translation"):
        translate_service({"ExecStart": "/nix/store/abc-other/bin/tool"})


STORE_IMAGE = "/nix/store/" + "a1" * 16 + "-nixos-nspawn-delta-store.erofs"


def test_a_store_image_mount_is_rendered_as_nixpkgs_writes_it():
    files = render_case(
        {
            "mounts": [
                {
                    "what": STORE_IMAGE,
                    "where": IMAGE_MOUNT,
                    "type": "erofs",
                    "options": "loop,ro",
                    "unitConfig": {"StopWhenUnneeded": True},
                }
            ]
        }
    )
    assert [(f.path, f.text) for f in files] == [
        (
            "/etc/systemd/system/run-nixos\\x2dnspawn-store-" + "a1" * 16 + ".mount",
            "[Unit]\nStopWhenUnneeded=true\n\n[Mount]\nOptions=loop,ro\nType=erofs\n"
            "What=/srv/nixos-nspawn/delta.store.erofs\nWhere=" + IMAGE_MOUNT + "\n\n",
        )
    ]


def test_a_mount_of_anything_else_from_the_store_is_refused():
    for mount, error in (
        ({"what": "/nix/store/abc-other.img", "where": "/mnt"}, "no Debian translation"),
        ({"what": STORE_IMAGE, "where": "/mnt", "device": "x"}, "unsupported keys"),
        ({"where": "/mnt"}, "must be strings"),
    ):
        with pytest.raises(UnitRenderError, match=error):
            translated_mounts({"mounts": [mount]})


@pytest.mark.parametrize(
    ("where", "name"),
    [
        ("/", "-.mount"),
        ("/run/nixos-nspawn/store/abc", "run-nixos\\x2dnspawn-store-abc.mount"),
        ("/mnt/.hidden/a b:c_d.e", "mnt-.hidden-a\\x20b:c_d.e.mount"),
        ("/.x/é", "\\x2ex-\\xc3\\xa9.mount"),
        ("/srv/", "srv.mount"),
    ],
)
def test_mount_unit_names_are_escaped_as_systemd_escape_does(where: str, name: str) -> None:
    assert mount_unit_name(where) == name


@pytest.mark.parametrize("where", ["relative", "/a//b", "/a/../b", "/a/./b"])
def test_mount_points_must_be_normalized_absolute_paths(where: str) -> None:
    with pytest.raises(UnitRenderError, match="normalized absolute path"):
        mount_unit_name(where)


def test_a_translation_needs_section_key_and_the_whole_value():
    rule = Translation("filesConfig", "BindReadOnly", r"/nix/store", "/usr", "why")
    assert rule.apply("filesConfig", "BindReadOnly", "/nix/store") == "/usr"
    assert rule.apply("filesConfig", "Bind", "/nix/store") is None
    assert rule.apply("filesConfig", "BindReadOnly", "/nix/store/x") is None


def test_the_debian_system_is_added_read_only_unless_bound_read_write():
    closure = translate_nspawn({"filesConfig": {"BindReadOnly": ["/srv/x"]}})
    assert closure["filesConfig"]["BindReadOnly"] == ["/usr", "/srv/x"]
    writable = translate_nspawn({"filesConfig": {"Bind": ["/usr"], "BindReadOnly": []}})
    assert writable["filesConfig"] == {"Bind": ["/usr"], "BindReadOnly": []}


def test_render_case_places_every_file():
    case = {
        "nspawn": {"web": {"execConfig": {"Boot": False}}},
        "hostNetworks": {"10-ve-web": {"networkConfig": {"DHCPServer": True}}},
        "hostNetdevs": {"10-vz-lab.netdev": {"netdevConfig": {"Kind": "bridge"}}},
        "containerNetworks": {"web": {"10-host0": {"networkConfig": {"DHCP": "yes"}}}},
        "serviceOverrides": {"web": {"TimeoutStartSec": "5min"}},
    }
    files = {f.path: f.text for f in render_case(case)}
    assert list(files) == [
        "/etc/systemd/nspawn/web.nspawn",
        "/etc/systemd/network/10-ve-web.network",
        "/etc/systemd/network/10-vz-lab.netdev",
        "/etc/systemd/system/systemd-nspawn@web.service.d/overrides.conf",
        "/var/lib/machines/web/etc/systemd/network/10-host0.network",
    ]
    assert files["/etc/systemd/system/systemd-nspawn@web.service.d/overrides.conf"] == (
        "[Service]\nTimeoutStartSec=5min\n"
    )


def test_a_drop_in_gets_its_unit_section_first():
    case = {
        "serviceOverrides": {"web": {"TimeoutStartSec": "5min", "DeviceAllow": ["/dev/fuse rw"]}},
        "unitOverrides": {
            "web": {"RequiresMountsFor": ["/srv/a\\ b", "/srv/50%%"], "Wants": "x.device y.device"}
        },
    }
    (dropin,) = render_case(case)
    assert dropin.text == (
        "[Unit]\nRequiresMountsFor=/srv/a\\ b\nRequiresMountsFor=/srv/50%%\n"
        "Wants=x.device y.device\n\n"
        "[Service]\nDeviceAllow=/dev/fuse rw\nTimeoutStartSec=5min\n"
    )


def test_a_unit_section_without_its_drop_in_is_refused():
    with pytest.raises(UnitRenderError, match="unitOverrides"):
        render_case({"serviceOverrides": {}, "unitOverrides": {"web": {"Wants": "x.device"}}})


def test_the_environment_comes_first_in_the_service_section_quoted_as_json():
    case = {
        "serviceOverrides": {"web": {"TimeoutStartSec": "5min"}},
        "serviceEnvironment": {
            "web": {
                "SYSTEMD_NSPAWN_UNIFIED_HIERARCHY": "1",
                "A_QUOTE": 'say "hi" \\ tab\tend',
                "UNSET": None,
                "Ü": "ä",
            }
        },
    }
    (dropin,) = render_case(case)
    assert dropin.text == (
        "[Service]\n"
        'Environment="A_QUOTE=say \\"hi\\" \\\\ tab\\tend"\n'
        'Environment="SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1"\n'
        'Environment="Ü=ä"\n'
        "TimeoutStartSec=5min\n"
    )


def test_an_environment_without_its_drop_in_is_refused():
    with pytest.raises(UnitRenderError, match="serviceEnvironment"):
        render_case({"serviceOverrides": {}, "serviceEnvironment": {"web": {"A": "1"}}})


@pytest.mark.skipif(not (REFERENCE / "runtime-pair.json").exists(), reason="no reference yet")
def test_runtime_pair_reference_renders_to_the_expected_alpha_unit():
    case = json.loads((REFERENCE / "runtime-pair.json").read_text())
    files = {f.path: f.text for f in render_case(case) if isinstance(f, UnitFile)}
    alpha = files["/etc/systemd/nspawn/alpha.nspawn"]
    assert "Parameters=/usr/lib/systemd/systemd\n" in alpha
    assert "BindReadOnly=/usr\n" in alpha
    assert "\nBind=/srv/alpha:/var/lib/alpha:idmap\n" in alpha
    assert "NotifyReady=true\n" in alpha
    assert "Ephemeral=true\n" in alpha
    assert "/nix/" not in "".join(files.values())


IPROUTE2 = "/nix/store/" + "5" * 32 + "-iproute2-6.17.0"
HOST0_UP = {
    "unit": {
        "Before": "systemd-networkd.service",
        "DefaultDependencies": False,
        "Description": "Bring up host0",
    },
    "service": {"ExecStart": f"{IPROUTE2}/bin/ip link set dev host0 up", "Type": "oneshot"},
    "wantedBy": ["systemd-networkd.service", "network-pre.target"],
}


def test_a_container_service_is_written_as_nixos_writes_it_with_its_wants_links():
    files = render_case({"containerServices": {"web": {"nixos-nspawn-host0": HOST0_UP}}})
    units = "/var/lib/machines/web/etc/systemd/system"
    assert files == (
        UnitFile(
            f"{units}/nixos-nspawn-host0.service",
            "[Unit]\nBefore=systemd-networkd.service\nDefaultDependencies=false\n"
            "Description=Bring up host0\n\n"
            "[Service]\nExecStart=/usr/bin/ip link set dev host0 up\nType=oneshot\n\n"
            "[Install]\nWantedBy=systemd-networkd.service network-pre.target\n",
        ),
        UnitLink(
            f"{units}/systemd-networkd.service.wants/nixos-nspawn-host0.service",
            "../nixos-nspawn-host0.service",
        ),
        UnitLink(
            f"{units}/network-pre.target.wants/nixos-nspawn-host0.service",
            "../nixos-nspawn-host0.service",
        ),
    )


def test_a_container_service_wanted_by_nothing_has_no_install_section_and_no_link():
    service = {**HOST0_UP, "wantedBy": [], "unit": {}}
    (unit,) = render_case({"containerServices": {"web": {"x": service}}})
    assert isinstance(unit, UnitFile)
    assert unit.text == (
        "[Unit]\n\n[Service]\nExecStart=/usr/bin/ip link set dev host0 up\nType=oneshot\n"
    )


@pytest.mark.parametrize(
    ("name", "service", "error"),
    [
        ("../escape", HOST0_UP, "not a unit name"),
        ("x", {**HOST0_UP, "wantedBy": ["../../etc/passwd"]}, "not a unit name"),
        ("x", {**HOST0_UP, "wantedBy": [".."]}, "not a unit name"),
        ("x", {**HOST0_UP, "environment": {"A": "1"}}, "unsupported keys"),
        ("x", {**HOST0_UP, "service": {"ExecStart": "/nix/store/abc-tool/bin/x"}}, "no Debian"),
        ("x", {**HOST0_UP, "service": {"ExecStartPre": f"{IPROUTE2}/bin/ip a"}}, "no Debian"),
    ],
)
def test_a_container_service_that_cannot_be_written_faithfully_is_refused(name, service, error):
    with pytest.raises(UnitRenderError, match=error):
        render_case({"containerServices": {"web": {name: service}}})


def test_sysctl_settings_are_written_as_nixos_writes_them():
    case = {
        "sysctl": {
            "fs.inotify.max_user_instances": 8192,
            "net.ipv4.ip_forward": True,
            "kernel.sysrq": False,
            "vm.swappiness": None,
            "kernel.domainname": "lab",
        }
    }
    (conf,) = render_case(case)
    assert conf.path == "/etc/sysctl.d/60-nixos.conf"
    assert conf.text == (
        "fs.inotify.max_user_instances=8192\nkernel.domainname=lab\n"
        "kernel.sysrq=0\nnet.ipv4.ip_forward=1\n"
    )


@pytest.mark.parametrize("settings", [{"a=b": 1}, {"kernel.x": "1\nvm.y=2"}, {"vm.x": [1]}])
def test_a_sysctl_setting_that_would_change_the_file_is_refused(settings):
    with pytest.raises(UnitRenderError, match="sysctl"):
        render_case({"sysctl": settings})


def test_render_case_refuses_keys_it_would_leave_out():
    with pytest.raises(UnitRenderError, match="firewall"):
        render_case({"nspawn": {}, "firewall": {"rules": []}})


@pytest.mark.parametrize("reference", sorted(REFERENCE.glob("*.json")), ids=lambda p: p.stem)
def test_every_exported_case_renders_for_debian(reference):
    files = render_case(json.loads(reference.read_text()))
    assert files, "a case without units"
    # No NixOS store path is left (Debian's Nix store directory itself may be named).
    texts = [(f.path, f.text if isinstance(f, UnitFile) else f.target) for f in files]
    assert [path for path, text in texts if STORE_PATH.search(text)] == []
