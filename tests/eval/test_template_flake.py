"""Eval tier: the downstream template's flake.nix (templates/default), called as a user's flake.

tests/eval/nix/template-eval.nix gives it the stand-in nixpkgs of flake-stand-ins.nix and, as
its `nixos-nspawn` input, this repository's flake evaluated with that same nixpkgs (what the
template's `follows` makes of it). This proves the downstream wiring: `lib.scenarioChecks` makes
one check per generated test, each test receives the flake's own modules as `userModules` (the
scenario's `modules = ["web"]` reaches the host), and its `imports` are the user's files.
"""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.catalogue import find_root, walk

pytestmark = pytest.mark.eval

ROOT = find_root(Path(__file__))
TEMPLATE = ROOT / "templates" / "default"
TEMPLATE_EVAL = ROOT / "tests" / "eval" / "nix" / "template-eval.nix"
SYSTEMS = {"x86_64-linux", "aarch64-linux"}
HOST_MODULE = str(ROOT / "nix" / "host.nix")
WEB_MODULE = [HOST_MODULE, str(TEMPLATE / "hosts" / "web.nix")]


@pytest.fixture(scope="module")
def template(nixpkgs_lib: Path) -> dict[str, Any]:
    argv = ["nix-instantiate", "--eval", "--strict", "--json", str(TEMPLATE_EVAL)]
    argv += ["--argstr", "libPath", str(nixpkgs_lib)]
    result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_nixos_nspawn_follows_the_users_nixpkgs(template: dict[str, Any]) -> None:
    assert template["inputs"]["nixos-nspawn"]["inputs"] == {"nixpkgs": {"follows": "nixpkgs"}}
    assert template["inputs"]["nixpkgs"] == {"url": "github:NixOS/nixpkgs/nixos-unstable"}


def test_the_host_is_a_module_and_the_machine_adds_its_hardware(
    template: dict[str, Any],
) -> None:
    assert template["nixosModules"] == {"web": WEB_MODULE}
    assert template["nixosConfigurations"] == {
        "web": {
            "standIn": "nixosSystem",
            "modules": [WEB_MODULE, str(TEMPLATE / "hosts" / "web-machine.nix")],
        }
    }


def test_one_check_per_scenario_with_the_users_modules_and_files(
    template: dict[str, Any],
) -> None:
    scenarios = sorted(path.stem for path in walk(TEMPLATE / "scenarios"))
    assert scenarios == ["example"]
    containers = TEMPLATE / "containers"
    for system in SYSTEMS:
        assert sorted(template["checks"][system]) == scenarios
        assert template["checks"][system]["example"] == {
            "name": "example",
            "system": system,
            # nixos-nspawn's host module, then `modules = ["web"]`: the flake's nixosModules.web.
            "hostImports": [HOST_MODULE, WEB_MODULE],
            # `imports = ["../containers/db.nix"]`: the user's files, as path literals.
            "containerImports": {
                "db": [str(containers / "db.nix")],
                "app": [str(containers / "app.nix")],
            },
            "zones": {"db": "backend", "app": "backend"},
        }


def test_dev_shell_is_python_with_the_harness(template: dict[str, Any]) -> None:
    for system in SYSTEMS:
        assert template["devShellPackages"][system] == [
            {"name": "python3-env", "packages": [template["harness"]]}
        ]
