"""What a container sees of the Nix store (nix/host/store.nix): host, closure, overlay.

Evaluated by nixpkgs' real module system (see test_module_eval.py). `pkgs.closureInfo` and
`pkgs.runCommand` are stand-ins that name store paths after their inputs; what the store image's
builder does is tested on its own (tests/unit/test_store_image.py) and on the runtime VM.
"""

import re

import pytest

pytestmark = pytest.mark.eval


def test_the_host_store_is_one_read_only_bind_by_default(run) -> None:
    unit = run("seed-simple")["reference"]["nspawn"]["mycontainer"]
    assert unit["filesConfig"]["BindReadOnly"] == ["/nix/store"]
    assert "Overlay" not in unit["filesConfig"]
    assert "extraDrvConfig" not in unit
    assert run("seed-simple")["guests"]["mycontainer"]["nixEnable"] is False


MOUNT_POINT = re.compile(r"/run/nixos-nspawn/store/([0-9a-z]{32})")


def _image_mount(data: dict, name: str) -> dict:
    """The one mount of container *name*'s store image, checked for what every such mount is."""
    [mount] = [m for m in data["reference"]["mounts"] if f"-nixos-nspawn-{name}-store" in m["what"]]
    assert mount["what"].startswith("/nix/store/")
    assert mount["what"].endswith(f"-nixos-nspawn-{name}-store.erofs")
    # named after the image: a changed system is a new mount unit, not a remount of the old one
    assert MOUNT_POINT.fullmatch(mount["where"]).group(1) == mount["what"][11:43]
    assert mount["type"] == "erofs"
    assert mount["options"] == "loop,ro,nodev,nosuid"
    # unmounted when no container needs it any more
    assert mount["unitConfig"] == {"StopWhenUnneeded": True}
    # the container's unit pulls the mount in and starts after it
    unit = data["reference"]["unitOverrides"][name]
    assert mount["where"] in unit["RequiresMountsFor"]
    return mount


def test_closure_binds_the_closure_image_as_the_store(run) -> None:
    data = run("store-closure")
    mount = _image_mount(data, "sealed")
    # one bind, of the mounted image, in place of the host's whole store
    files = data["reference"]["nspawn"]["sealed"]["filesConfig"]
    assert files["BindReadOnly"] == [f"{mount['where']}:/nix/store"]
    assert "Overlay" not in files
    assert "extraDrvConfig" not in data["reference"]["nspawn"]["sealed"]
    assert data["guests"]["sealed"]["nixEnable"] is False


def test_only_closure_containers_get_an_image(run) -> None:
    assert run("seed-simple")["reference"]["mounts"] == []
    data = run("runtime-beyond")
    assert sorted(m["what"].split("-nixos-nspawn-")[1] for m in data["reference"]["mounts"]) == [
        "delta-store.erofs",
        "zeta-store.erofs",
    ]
    # every container's own image, mounted at its own place
    assert _image_mount(data, "delta")["where"] != _image_mount(data, "zeta")["where"]


def test_the_image_changes_with_the_system(run) -> None:
    sealed = run("store-closure")["reference"]["mounts"][0]
    other = run("runtime-beyond")["reference"]["mounts"]
    assert sealed["what"] not in [m["what"] for m in other]
    assert sealed["where"] not in [m["where"] for m in other]


def test_overlay_gives_the_container_a_store_of_its_own(run) -> None:
    data = run("nix-overlay")
    files = data["reference"]["nspawn"]["builder"]["filesConfig"]
    # lower: the host's store; upper: a directory in the container's ephemeral root
    assert files["Overlay"] == ["/nix/store:+/nix/.nixos-nspawn/upper:/nix/store"]
    [registration] = files["BindReadOnly"]
    source, target = registration.split(":")
    assert source.startswith("/nix/store/")
    assert source.endswith("-closure-info/registration")
    assert target == "/nix/.nixos-nspawn/registration"
    assert files["Bind"] == []
    # nspawn makes the work directory beside the upper layer, but not the upper layer itself
    upper = "/var/lib/machines/builder/nix/.nixos-nspawn/upper"
    assert data["reference"]["tmpfiles"][upper] == {
        "d": {"user": "root", "group": "root", "mode": "0755"}
    }
    guest = data["guests"]["builder"]
    assert guest["nixEnable"] is True
    assert guest["postBootCommands"] == (
        "/nix/store/33333333333333333333333333333333-nix-2.31.2/bin/nix-store --load-db "
        "< /nix/.nixos-nspawn/registration\n"
        "mkdir -p /nix/var/nix/gcroots\n"
        "ln -sfn /run/current-system /nix/var/nix/gcroots/nixos-nspawn-system\n"
    )


def test_overlay_never_binds_the_host_daemon_or_state(run) -> None:
    files = run("nix-overlay")["reference"]["nspawn"]["builder"]["filesConfig"]
    for spec in files["Bind"] + files["BindReadOnly"] + files["Overlay"]:
        assert "/nix/var" not in spec, spec


def test_overlay_stacks_on_the_closure_image(run) -> None:
    data = run("nix-overlay-closure")
    mount = _image_mount(data, "builder")
    files = data["reference"]["nspawn"]["builder"]["filesConfig"]
    # the closure's image is the lower layer: the container's Nix sees only its closure
    assert files["Overlay"] == [f"{mount['where']}:+/nix/.nixos-nspawn/upper:/nix/store"]
    [registration] = files["BindReadOnly"]
    assert registration.endswith("-closure-info/registration:/nix/.nixos-nspawn/registration")
    assert data["failedAssertions"] == []
    assert data["guests"]["builder"]["nixEnable"] is True
