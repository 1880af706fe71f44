"""The flake's lock and its downstream template, with the real nix (no nixpkgs, no network).

- ``flake.lock`` pins nixpkgs with an ``original`` equal to ``flake.nix``'s input URL, so Nix
  uses the lock as it is: a mismatch makes Nix re-lock, which needs the network;
- ``nix flake init -t git+file://<snapshot of this checkout>`` works offline with the committed
  lock and gives exactly the template's files; the ``templates`` output needs no nixpkgs;
- the template names nixos-nspawn as the README does, and it is not part of this repository's
  catalogue, pytest run or wheel (its .nix files parse: tests/unit/test_lint.py).

The snapshot is this checkout's working tree (tracked and new files) committed to a fresh git
repository, so uncommitted changes are what is tested. ``HOME`` is a temporary directory (Nix's
fetcher and evaluation caches), ``NIX_CONFIG`` the hermetic one of tests/conftest.py.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.catalogue import find_root, scenario_files

ROOT = find_root(Path(__file__))
TEMPLATE = Path("templates") / "default"
LOCK = json.loads((ROOT / "flake.lock").read_text())
README_URL = "github:<owner>/nixos-nspawn"

needs_nix = pytest.mark.skipif(shutil.which("nix") is None, reason="needs the real nix")


def run(argv: list[str], cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"HOME": str(home)}
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120
    )


def evaluate(expression: str) -> object:
    argv = ["nix-instantiate", "--eval", "--strict", "--json", "--expr", expression]
    result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def files_below(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(directory).parts
    }


def git_repository(directory: Path) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main"]
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "snapshot"]):
        subprocess.run([*git, *argv], cwd=directory, check=True)


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's working tree (tracked and new, not ignored files) as a git repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    copy = tmp_path_factory.mktemp("checkout")
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a tracked file deleted in the working tree is gone
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    git_repository(copy)
    return copy


def test_lock_pins_the_input_url_of_flake_nix() -> None:
    url = evaluate(f"(import {ROOT}/flake.nix).inputs.nixpkgs.url")
    assert url == "github:NixOS/nixpkgs/nixos-unstable"
    owner, repo, ref = str(url).removeprefix("github:").split("/")
    assert LOCK["version"] == 7
    assert LOCK["nodes"]["root"] == {"inputs": {"nixpkgs": "nixpkgs"}}
    node = LOCK["nodes"]["nixpkgs"]
    assert node["original"] == {"owner": owner, "repo": repo, "ref": ref, "type": "github"}
    locked = node["locked"]
    assert sorted(locked) == ["lastModified", "narHash", "owner", "repo", "rev", "type"]
    assert (locked["owner"], locked["repo"], locked["type"]) == (owner, repo, "github")
    assert re.fullmatch(r"[0-9a-f]{40}", locked["rev"])
    assert re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", locked["narHash"])
    assert isinstance(locked["lastModified"], int)


def minimal_flake(directory: Path, lock: dict[str, object]) -> Path:
    directory.mkdir()
    shutil.copy2(ROOT / "flake.nix", directory / "flake.nix")
    (directory / "flake.lock").write_text(json.dumps(lock, indent=2) + "\n")
    git_repository(directory)
    return directory


@needs_nix
def test_nix_takes_the_lock_as_it_is_offline(tmp_path: Path) -> None:
    flake = minimal_flake(tmp_path / "flake", LOCK)
    argv = ["nix", "flake", "metadata", "--json", "--offline", "--no-update-lock-file"]
    result = run([*argv, f"git+file://{flake}"], tmp_path, tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["locks"] == LOCK


@needs_nix
def test_a_lock_whose_original_differs_from_the_url_needs_the_network(tmp_path: Path) -> None:
    # Why `original` must match flake.nix exactly: Nix resolves the input again.
    lock = json.loads(json.dumps(LOCK))
    lock["nodes"]["nixpkgs"]["original"]["owner"] = "nixos"
    flake = minimal_flake(tmp_path / "flake", lock)
    argv = ["nix", "flake", "metadata", "--json", "--offline", "--no-update-lock-file"]
    result = run([*argv, f"git+file://{flake}"], tmp_path, tmp_path)
    assert result.returncode != 0
    assert "nixos-unstable" in result.stderr  # resolving the branch, not using the lock


@needs_nix
def test_flake_init_gives_exactly_the_template_offline(snapshot: Path, tmp_path: Path) -> None:
    project = tmp_path / "myinfra"
    project.mkdir()
    result = run(
        ["nix", "flake", "init", "--offline", "-t", f"git+file://{snapshot}"], project, tmp_path
    )
    assert result.returncode == 0, result.stderr
    expected = files_below(snapshot / TEMPLATE)
    assert {"flake.nix", "pyproject.toml", ".gitignore", "scenarios/example.toml"} <= set(expected)
    assert files_below(project) == expected


def test_templates_output_needs_no_nixpkgs() -> None:
    templates = evaluate(
        f"""let
          flake = import {ROOT}/flake.nix;
          self = flake.outputs {{ inherit self; nixpkgs = throw "nixpkgs was evaluated"; }};
        in builtins.mapAttrs (_: t: {{ inherit (t) description; path = toString t.path; }})
          self.templates"""
    )
    assert templates == {
        "default": {
            "description": "A NixOS host with nixos-nspawn containers, and scenario tests about it",
            "path": str(ROOT / TEMPLATE),
        }
    }


def test_template_names_nixos_nspawn_as_the_readme_and_follows_the_users_nixpkgs() -> None:
    inputs = evaluate(f"(import {ROOT}/{TEMPLATE}/flake.nix).inputs")
    assert inputs == {
        "nixpkgs": {"url": evaluate(f"(import {ROOT}/flake.nix).inputs.nixpkgs.url")},
        "nixos-nspawn": {"url": README_URL, "inputs": {"nixpkgs": {"follows": "nixpkgs"}}},
    }
    for doc in ("README.md", "docs/testing-your-hosts.md"):
        urls = set(re.findall(r"github:[^/\s\"`]+/nixos-nspawn", (ROOT / doc).read_text()))
        assert urls == {README_URL}, doc


def test_template_is_not_this_repositorys() -> None:
    # Not in the catalogue (python -m harness), ...
    assert not [path for path in scenario_files(ROOT) if "templates" in path.parts]
    # ... nor collected by a pytest run that walks the whole repository (nor in the wheel:
    # tests/unit/test_wheel.py).
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q"),
            *("--ignore=tests", "--ignore=scenarios", "."),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 5, result.stdout  # 5: no tests collected
    assert "templates" not in result.stdout
