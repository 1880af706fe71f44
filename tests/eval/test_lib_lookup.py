"""Where the eval tier finds nixpkgs lib: NIXPKGS_LIB, <nixpkgs/lib>, the flake's input — in order.

These tests need only the real ``nix`` (unit tier): the "nixpkgs" is a directory with a
``lib/default.nix`` of our own, and the flake a stand-in whose nixpkgs input is a local path.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from nspawn_eval import lookup_nixpkgs_lib

needs_nix = pytest.mark.skipif(shutil.which("nix") is None, reason="needs the real nix")


@pytest.fixture
def fake_nixpkgs(tmp_path: Path) -> Path:
    tree = tmp_path / "nixpkgs"
    (tree / "lib").mkdir(parents=True)
    (tree / "lib" / "default.nix").write_text("{ }\n")
    (tree / "flake.nix").write_text("{ outputs = _: { }; }\n")
    return tree


@pytest.fixture
def stand_in_flake(tmp_path: Path, fake_nixpkgs: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "flake.nix").write_text(
        f'{{ inputs.nixpkgs.url = "path:{fake_nixpkgs}"; outputs = _: {{ }}; }}\n'
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "flake.nix"], cwd=root, check=True)
    return root


def environment(**values: str) -> dict[str, str]:
    """This process's environment without the machine's ways to nixpkgs, plus ``values``."""
    env = {k: v for k, v in os.environ.items() if k not in ("NIXPKGS_LIB", "NIX_PATH")}
    if "NIX_PATH" not in values:  # nix.conf's nix-path would otherwise still apply
        env["NIX_CONFIG"] = env.get("NIX_CONFIG", "") + "\nnix-path ="
    env.update(values)
    return env


def test_nixpkgs_lib_comes_first_and_a_wrong_one_is_reported(
    fake_nixpkgs: Path, tmp_path: Path
) -> None:
    found = lookup_nixpkgs_lib(environment(NIXPKGS_LIB=str(fake_nixpkgs / "lib")), tmp_path)
    assert found.path == fake_nixpkgs / "lib"
    assert found.origin == f"NIXPKGS_LIB={fake_nixpkgs / 'lib'}"

    wrong = lookup_nixpkgs_lib(environment(NIXPKGS_LIB=str(tmp_path)), tmp_path)
    assert wrong.path is None
    assert wrong.origin == f"NIXPKGS_LIB={tmp_path} has no default.nix"


@needs_nix
def test_nixpkgs_on_nix_path_comes_second(fake_nixpkgs: Path, tmp_path: Path) -> None:
    found = lookup_nixpkgs_lib(environment(NIX_PATH=f"nixpkgs={fake_nixpkgs}"), tmp_path)
    assert found.path == fake_nixpkgs / "lib"
    assert found.origin == f"<nixpkgs/lib> = {fake_nixpkgs / 'lib'}"


@needs_nix
def test_then_the_flakes_nixpkgs_input_fetched_by_nix(stand_in_flake: Path) -> None:
    found = lookup_nixpkgs_lib(environment(), stand_in_flake)
    assert found.path is not None
    assert found.path.name == "lib"
    assert (found.path / "default.nix").read_text() == "{ }\n"
    assert str(found.path).startswith("/nix/store/")  # a copy Nix made, not our directory
    assert found.origin.startswith("the flake's nixpkgs input at ")
    assert not (stand_in_flake / "flake.lock").exists()  # looking does not write a lock file


@needs_nix
def test_nothing_found_says_what_was_tried(stand_in_flake: Path, tmp_path: Path) -> None:
    flake = stand_in_flake / "flake.nix"
    flake.write_text(flake.read_text().replace('"path:', '"path:/nonexistent'))
    found = lookup_nixpkgs_lib(environment(), stand_in_flake)
    assert found.path is None
    assert found.origin.startswith(
        "nixpkgs lib not found: NIXPKGS_LIB is not set, <nixpkgs/lib> is not on NIX_PATH, and "
        "the flake's nixpkgs input cannot be fetched (`nix flake metadata` failed: "
    )
    assert "/nonexistent" in found.origin
