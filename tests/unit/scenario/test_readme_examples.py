"""The examples of README.md and of the manual's Getting started are the catalogue's scenarios:
each example, evaluated by Nix, defines exactly the containers (options and container config) of
its scenario's generated test, and the host settings it shows are the scenario's host config. An
edit to one side without the other fails here, so neither page can drift from what the VM tests
prove."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.catalogue import find_root, rendered
from harness.scenario.load import load_scenario

ROOT = find_root(Path(__file__))
PAGES = ("README.md", "docs/getting-started.md")

EXAMPLES = {
    "Example: a simple container": "simple-container",
    "Example: reverse proxy on the host for a container": "reverse-proxy",
    "Example: static addresses on the veth link": "static-address",
}

pytestmark = pytest.mark.skipif(
    shutil.which("nix-instantiate") is None, reason="nix-instantiate not installed"
)

COMPARE = """
let
  readme = import ./readme.nix;
  test = import ./test.nix { nixosModules.host = { }; checksPackage = p: p; };
  host = test.nodes.host { lib = { mkDefault = v: v; }; };
  hostConfig = if builtins.length host.imports > 1 then builtins.elemAt host.imports 1 else { };
  # A module function is compared by what it gives for stand-in arguments: the packages the
  # examples use, as strings (a package missing here fails the evaluation).
  moduleArgs = {
    pkgs = { htop = "pkgs.htop"; };
    lib = { };
    config = { };
    options = { };
  };
  applied = m: if builtins.isFunction m then m moduleArgs else m;
  plain = c: c // { config = applied c.config; };
  containers = cs: builtins.mapAttrs (_: plain) cs;
  shown = removeAttrs readme [ "nixos-nspawn" ];
in {
  readme = { containers = containers readme.nixos-nspawn.containers; host = shown; };
  scenario = {
    containers = containers host.nixos-nspawn.containers;
    host = builtins.intersectAttrs shown hostConfig;
  };
}
"""


def example(page: str, heading: str) -> str:
    text = (ROOT / page).read_text()
    match = re.search(rf"^### {re.escape(heading)}\n.*?```nix\n(.*?)^```", text, re.M | re.S)
    assert match, f"{page} has no example {heading!r}"
    return match.group(1)


@pytest.mark.parametrize("page", PAGES)
def test_every_example_has_its_scenario(page: str) -> None:
    """A new example needs a scenario (and an entry above) to be proven."""
    assert re.findall(r"^### (Example: .*)$", (ROOT / page).read_text(), re.M) == list(EXAMPLES)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize(("heading", "scenario"), EXAMPLES.items())
def test_example_equals_its_scenario(page: str, heading: str, scenario: str, tmp_path: Path):
    (tmp_path / "readme.nix").write_text(example(page, heading))
    loaded = load_scenario(ROOT / "scenarios" / f"{scenario}.toml")
    (tmp_path / "test.nix").write_text(rendered(ROOT, loaded))
    result = subprocess.run(
        ["nix-instantiate", "--eval", "--strict", "--json", "--read-write-mode", "-E", COMPARE],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    both = json.loads(result.stdout)
    assert both["readme"] == both["scenario"]
