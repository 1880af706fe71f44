"""harness.render.nixos_test: generated modules parse, carry exact values, lint like the driver.

The NixOS test driver lints every testScript with pyflakes, predefining the machine names and
the driver's symbols (nixos/lib/testing/driver.nix, ``Driver.test_symbols`` in
nixos/lib/test-driver/src/test_driver/driver.py); the same is done here.
"""

import ast
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from pyflakes.checker import Checker

from harness.catalogue import SCENARIOS_DIR, find_root, rendered, scenario_files
from harness.render.escape import to_nix
from harness.render.nixos_test import render_test_script
from harness.scenario.driver_names import GENERAL_SYMBOLS
from harness.scenario.load import load_scenario
from harness.scenario.nixvalues import PrebuiltSystem

ROOT = find_root(Path(__file__))
SCENARIOS = scenario_files(ROOT)

# Driver.test_symbols() (general_symbols), plus `machines` of older drivers; the single VM is
# also exposed as `machine`.
DRIVER_SYMBOLS = GENERAL_SYMBOLS | {"machines"}
MACHINES = frozenset({"host", "machine"})

needs_nix = pytest.mark.skipif(
    shutil.which("nix-instantiate") is None, reason="nix-instantiate not installed"
)

HOSTILE = Path(__file__).with_name("hostile.toml")


def pyflakes_messages(script: str, nodes: frozenset[str] = frozenset()) -> list[str]:
    """As the driver lints: its symbols and every node's machine are predefined."""
    tree = ast.parse(script)
    checker = Checker(tree, filename="testScript", builtins=DRIVER_SYMBOLS | MACHINES | nodes)
    return [str(message) for message in checker.messages]


def nix_eval_json(expr: str, cwd: Path) -> object:
    result = subprocess.run(
        ["nix-instantiate", "--eval", "--read-write-mode", "--strict", "--json", "-E", expr],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def generated_fields(path: Path) -> dict[str, object]:
    """name, globalTimeout, testScript and the containers' settings of a generated module, with
    stand-ins for its arguments (the host module is only referenced, never evaluated here)."""
    expr = f"""
      let
        test = import {path} {{
          nixosModules = {{ host = {{ }}; default = "default-module"; }};
          checksPackage = p: p;
        }};
        # pkgs.nixos: the modules of a prebuilt system, and its toplevel
        pkgs.nixos = modules: {{
          toplevel.modules = map (m: if builtins.isFunction m then "<function>" else m) modules;
        }};
        host = test.nodes.host {{ lib = {{ mkDefault = v: v; }}; inherit pkgs; }};
        strip = c: removeAttrs c [ "config" ];
      in {{
        inherit (test) name globalTimeout testScript;
        containers = builtins.mapAttrs (_: strip) host.nixos-nspawn.containers;
        extra = test.extraPythonPackages "python-packages";
      }}
    """
    value = nix_eval_json(expr, path.parent)
    assert isinstance(value, dict)
    return value


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_test_script_compiles_and_passes_pyflakes(path: Path) -> None:
    scenario = load_scenario(path)
    script = render_test_script(scenario)
    compile(script, "testScript", "exec")
    assert pyflakes_messages(script, frozenset(node.name for node in scenario.nodes)) == []


def test_pyflakes_check_catches_undefined_names() -> None:
    assert pyflakes_messages("web.succeed('true')\n") == ["testScript:1:1: undefined name 'web'"]


@needs_nix
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_generated_module_parses_and_holds_the_scenario(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    out = tmp_path / f"{scenario.name}.nix"
    out.write_text(rendered(ROOT, scenario))
    parsed = subprocess.run(
        ["nix-instantiate", "--parse", str(out)], capture_output=True, text=True, check=False
    )
    assert parsed.returncode == 0, parsed.stderr
    fields = generated_fields(out)
    assert fields["name"] == scenario.name
    assert fields["testScript"] == render_test_script(scenario)
    assert fields["extra"] == ["python-packages"]
    assert set(fields["containers"]) == {c.name for c in scenario.containers}  # type: ignore[arg-type]


@needs_nix
def test_hostile_values_stay_values(tmp_path: Path) -> None:
    scenario = load_scenario(HOSTILE)
    out = tmp_path / "hostile.nix"
    out.write_text(rendered(ROOT, scenario))
    fields = generated_fields(out)
    (bind,) = scenario.containers[0].binds
    evil = fields["containers"]["evil"]  # type: ignore[index]
    assert evil["binds"] == {bind.path: {"hostPath": "/srv/''${x}'''"}}
    assert evil["network"]["veth"]["config"]["host"] == scenario.containers[0].veth.host_config
    script = render_test_script(scenario)
    assert fields["testScript"] == script
    # The Python side: the check's parameters arrive exactly, as data.
    calls = [
        node
        for node in ast.walk(ast.parse(script))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "check"
    ]
    (call,) = calls
    params = ast.literal_eval(call.args[2])
    assert params == dict(scenario.expectations[0].params)
    assert pyflakes_messages(script) == []
    # The description becomes comment lines only.
    header = out.read_text().split("{ nixosModules", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines())


def test_rendering_is_deterministic() -> None:
    scenario = load_scenario(SCENARIOS[0])
    assert rendered(ROOT, scenario) == rendered(ROOT, load_scenario(SCENARIOS[0]))


def test_header_names_the_source_and_command() -> None:
    text = rendered(ROOT, load_scenario(ROOT / SCENARIOS_DIR / "basic-veth.toml"))
    assert text.startswith(
        "# Generated from scenarios/basic-veth.toml by `python -m harness render`; do not edit.\n"
    )
    assert "\n{ nixosModules, checksPackage, userModules ? { }, ... }:\n" in text
    assert "extraPythonPackages = p: [ (checksPackage p) ];" in text


def test_container_config_is_imported_as_code_of_its_own() -> None:
    text = rendered(ROOT, load_scenario(ROOT / SCENARIOS_DIR / "reverse-proxy.toml"))
    assert "config = (import (builtins.toFile \"scenario-config.nix\" ''\n" in text
    assert to_nix("{ }") == '"{ }"'  # plain strings stay strings


@needs_nix
def test_a_prebuilt_path_is_a_system_built_from_its_module(tmp_path: Path) -> None:
    """`[containers.<n>.path] config` becomes the toplevel of `pkgs.nixos` over
    nixosModules.default and exactly the scenario's module."""
    scenario = load_scenario(ROOT / SCENARIOS_DIR / "prebuilt-path.toml")
    (container,) = scenario.containers
    assert isinstance(container.path, PrebuiltSystem)
    out = tmp_path / "prebuilt-path.nix"
    out.write_text(rendered(ROOT, scenario))
    fields = generated_fields(out)
    default, module = fields["containers"]["prebuilt"]["path"]["modules"]  # type: ignore[index]
    assert default == "default-module"
    assert module == nix_eval_json(container.path.module.code, tmp_path)
    assert module["nixos-nspawn"] == {"isContainer": True}
    assert "{ lib, pkgs, ... }:" in out.read_text()
    assert "{ lib, ... }:" in rendered(ROOT, load_scenario(ROOT / SCENARIOS_DIR / "zones.toml"))
