"""Eval tier: flake.nix's outputs, called with a stand-in nixpkgs input (real lib).

The stand-in (tests/eval/nix/flake-stand-ins.nix, called by flake-eval.nix) records how the
flake calls nixpkgs, so this proves the wiring: the modules exist, and checks.<system> and
packages.<system>.checks are exactly the scenario catalogue, each the NixOS test of its generated
module with our host module, and hydraJobs.<scenario>.<system> offers the same tests to CI
systems; `lib` builds one file or a directory of them, packages.<system>.harness is the harness
as a Python package, and templates.default is the downstream template. nixosModules.default is
evaluated itself (tests/eval/default-module.nix): both sides, each inert until used.
"""

import io
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from expected import TEMPLATE_DROPIN
from nspawn_eval import report

from harness.catalogue import find_root, scenario_files
from harness.cli import main

pytestmark = pytest.mark.eval

ROOT = find_root(Path(__file__))
FLAKE_EVAL = ROOT / "tests" / "eval" / "nix" / "flake-eval.nix"
DEFAULT_MODULE = ROOT / "tests" / "eval" / "default-module.nix"
SYSTEMS = {"x86_64-linux", "aarch64-linux"}


def evaluated(file: Path, nixpkgs_lib: Path, *args: str) -> dict[str, Any]:
    """``file`` (a function of ``libPath`` and ``args``) evaluated to JSON data."""
    argv = ["nix-instantiate", "--eval", "--read-write-mode", "--strict", "--json", str(file)]
    argv += ["--argstr", "libPath", str(nixpkgs_lib), *args]
    result = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def flake(nixpkgs_lib: Path) -> dict[str, Any]:
    return evaluated(FLAKE_EVAL, nixpkgs_lib)


def scenario_names() -> list[str]:
    return sorted(path.stem for path in scenario_files(ROOT))


def test_nixos_modules(flake: dict[str, Any]) -> None:
    assert flake["nixosModules"] == {
        name: str(ROOT / "nix" / f"{name}.nix") for name in ("host", "container", "default")
    }


def test_checks_are_exactly_the_scenarios(flake: dict[str, Any]) -> None:
    assert len(scenario_names()) >= 6
    assert flake["checks"] == {system: scenario_names() for system in SYSTEMS}
    assert flake["testNames"] == {
        system: {name: name for name in scenario_names()} for system in SYSTEMS
    }


def test_hydra_jobs_are_each_scenario_for_each_system(flake: dict[str, Any]) -> None:
    assert flake["hydraJobs"] == {
        name: {system: {"test": name, "system": system} for system in SYSTEMS}
        for name in scenario_names()
    }


@pytest.mark.parametrize("system", sorted(SYSTEMS))
def test_every_ci_job_of_list_json_is_a_check_of_the_flake(
    flake: dict[str, Any], system: str
) -> None:
    out = io.StringIO()
    assert main(["--root", str(ROOT), "list", "--json", "--system", system], out=out) == 0
    attrs = {job["attr"] for job in json.loads(out.getvalue())}
    assert attrs == {f"checks.{system}.{name}" for name in flake["checks"][system]}


def test_checks_aggregate_is_exactly_the_scenarios(flake: dict[str, Any]) -> None:
    assert flake["packagesChecks"] == {system: scenario_names() for system in SYSTEMS}


def test_each_test_runs_our_host_module_and_ships_the_checks(flake: dict[str, Any]) -> None:
    host = str(ROOT / "nix" / "host.nix")
    for system in SYSTEMS:
        assert set(flake["hostModules"][system].values()) == {host}
        assert set(map(tuple, flake["checksPackage"][system].values())) == {
            ("nixos-nspawn-harness-checks",)
        }
    (script,) = flake["checksPackageScripts"]
    # The driver type-checks testScripts with mypy: the package must carry its py.typed marker.
    for installed in ('"$dest/__init__.py"', '"$dest/py.typed"', '"$dest/checks"'):
        assert installed in script


def test_lib_builds_one_file_or_a_directory(flake: dict[str, Any]) -> None:
    assert flake["lib"]["functions"] == ["mkScenarioTest", "scenarioChecks", "scenarioTest"]
    assert flake["lib"]["scenarioTest"] == "simple-container"
    nix_files = sorted(path.stem for path in (ROOT / "tests" / "eval").glob("*.nix"))
    assert len(nix_files) >= 3
    assert flake["lib"]["directoryNames"] == nix_files
    # A file rendered by an older harness (no `userModules` argument) still builds.
    assert flake["lib"]["olderFile"] == [str(ROOT / "nix" / "host.nix")]


def test_harness_package_is_built_from_pyproject_and_harness_only(flake: dict[str, Any]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for system in SYSTEMS:
        package = flake["harness"][system]
        assert package["name"] == f"{project['name']}-{project['version']}"
        assert package["description"] == project["description"]
        assert package["license"] == project["license"]
        assert package["pyproject"] is True
        assert package["buildSystem"] == ["setuptools"]
        # Each runtime dependency of pyproject.toml, in its order, by its nixpkgs name.
        assert package["dependencies"] == [
            re.split(r"[<>=!~ ]", requirement)[0] for requirement in project["dependencies"]
        ]
        assert package["pythonImportsCheck"] == ["harness.cli", "harness.plugin"]
        assert package["source"] == {
            "LICENSE": "regular",
            "README.md": "regular",
            "harness": "directory",
            "pyproject.toml": "regular",
        }
        assert "__pycache__" not in package["sourceHarness"]
        assert {"__init__.py", "py.typed", "checks", "plugin"} <= set(package["sourceHarness"])


def test_template_is_listed_with_its_path(flake: dict[str, Any]) -> None:
    assert flake["templates"] == {
        "default": {
            "path": str(ROOT / "templates" / "default"),
            "description": "A NixOS host with nixos-nspawn containers, and scenario tests about it",
        }
    }


def test_dev_shell_and_formatter(flake: dict[str, Any]) -> None:
    for system in SYSTEMS:
        assert flake["devShellPackages"][system] == ["python3-env", "ruff", "nixfmt"]
        assert flake["formatter"][system] == "nixfmt"


@pytest.fixture(scope="module")
def default_module(flake: dict[str, Any], nixpkgs_lib: Path) -> dict[str, Any]:
    module = flake["nixosModules"]["default"]
    return evaluated(DEFAULT_MODULE, nixpkgs_lib, "--arg", "module", module)


INERT_HOST = {
    "failedAssertions": [],
    "warnings": [],
    "nspawn": {},
    # All the host side sets without containers: the switch that removes the last container
    # still stops it, and leaves machines it did not declare alone (nix/host/lifecycle.nix).
    "services": {"systemd-nspawn@": TEMPLATE_DROPIN},
    "networkd": False,
    "networks": {},
    "firewall": {},
    "dhcpcdDenyInterfaces": [],
}


def test_default_module_is_inert_when_unused(default_module: dict[str, Any]) -> None:
    assert default_module["unused"] == INERT_HOST | {
        "isContainer": False,
        "bootIsContainer": False,
        "useNetworkd": False,
        "useHostResolvConf": True,
        "nixEnable": True,
    }


def test_default_module_builds_a_prebuilt_container_system(
    default_module: dict[str, Any],
) -> None:
    # What a system for `nixos-nspawn.containers.<name>.path` needs: the container side, and
    # nothing of the host side.
    assert default_module["container"] == INERT_HOST | {
        "isContainer": True,
        "bootIsContainer": True,
        "useNetworkd": True,
        "useHostResolvConf": False,
        "nixEnable": False,
    }


def test_default_module_runs_containers_as_the_host_module_does(nixpkgs_lib: Path) -> None:
    assert report(nixpkgs_lib, "runtime-features", "default") == report(
        nixpkgs_lib, "runtime-features"
    )
