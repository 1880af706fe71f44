"""What a container sees of the Nix store (nix/host/store.nix): host, closure, overlay.

Evaluated by nixpkgs' real module system (see test_module_eval.py). `pkgs.closureInfo` and
`pkgs.runCommand` are stand-ins that name store paths after their inputs; what the store view's
builder does is tested on its own (tests/unit/test_store_view.py) and on the runtime VM.
"""

from pathlib import Path

import pytest
from nspawn_eval import evaluate

pytestmark = pytest.mark.eval


def test_the_host_store_is_one_read_only_bind_by_default(run) -> None:
    unit = run("seed-simple")["reference"]["nspawn"]["mycontainer"]
    assert unit["filesConfig"]["BindReadOnly"] == ["/nix/store"]
    assert "Overlay" not in unit["filesConfig"]
    assert "extraDrvConfig" not in unit
    assert run("seed-simple")["guests"]["mycontainer"]["nixEnable"] is False


def test_closure_replaces_the_store_bind_with_the_store_view(run) -> None:
    data = run("store-closure")
    unit = data["reference"]["nspawn"]["sealed"]
    # No bind of the whole store; the binds of the closure come from the store view, a
    # derivation that nixpkgs' nspawn module appends to the .nspawn file.
    assert unit["filesConfig"] == {"PrivateUsersOwnership": "chown", "Bind": [], "BindReadOnly": []}
    assert unit["extraDrvConfig"].startswith("/nix/store/")
    assert unit["extraDrvConfig"].endswith("-nixos-nspawn-sealed-store-view")
    assert data["guests"]["sealed"]["nixEnable"] is False


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


def test_overlay_cannot_stack_on_the_closure_only_store(nixpkgs_lib: Path) -> None:
    assert evaluate(nixpkgs_lib, "failedAssertions", "nix-overlay-closure") == [
        'nixos-nspawn.containers.builder: `nix = "overlay"` needs `nixStore = "host"`: overlayfs '
        "cannot take the closure-only store, a stack of bind mounts, as its lower layer."
    ]
