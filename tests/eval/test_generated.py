"""Eval tier: every generated test module evaluates against the NixOS test framework's option
names and our real nix/host.nix, so every scenario value is type-checked by our option types.

See tests/eval/nix/eval-test.nix; only NixOS itself is stood in for.
"""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.catalogue import find_root, generated_path, rendered, scenario_files
from harness.render.nixos_test import render_test_script
from harness.scenario.load import load_scenario

pytestmark = pytest.mark.eval

ROOT = find_root(Path(__file__))
EVAL_TEST = ROOT / "tests" / "eval" / "nix" / "eval-test.nix"
SCENARIOS = scenario_files(ROOT)


def evaluate(lib: Path, module: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """eval-test.nix of the generated test ``module``; ``args`` are more of its arguments."""
    return subprocess.run(
        [
            "nix-instantiate",
            "--eval",
            "--read-write-mode",
            "--strict",
            "--json",
            str(EVAL_TEST),
            "--argstr",
            "libPath",
            str(lib),
            "--arg",
            "file",
            str(module),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def evaluated(lib: Path, module: Path) -> dict[str, Any]:
    result = evaluate(lib, module)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_generated_module_evaluates_with_the_real_host_module(
    nixpkgs_lib: Path, path: Path
) -> None:
    scenario = load_scenario(path)
    data = evaluated(nixpkgs_lib, generated_path(ROOT, scenario))
    assert data["failedAssertions"] == []
    assert data["name"] == scenario.name
    assert data["testScript"] == render_test_script(scenario)
    assert data["extraPythonPackages"] == ["nixos-nspawn-harness-checks"]
    names = {c.name for c in scenario.containers}
    assert set(data["nspawn"]) == names
    assert set(data["containers"]) == names
    for container in scenario.containers:
        evaluated_container = data["containers"][container.name]
        path = data["paths"][container.name]
        assert data["nspawn"][container.name]["execConfig"]["Parameters"] == f"{path}/init"
        if isinstance(container.path, str):
            assert path == container.path
        elif container.path is not None:  # a system the test builds with pkgs.nixos
            assert re.fullmatch(r"/nix/store/[0-9a-f]{32}-nixos-system-[^/]+", path), path
        veth = evaluated_container["network"]
        assert veth["zone"] == container.veth.zone
        if container.veth.host_config is not None:
            assert veth["config"]["host"] == container.veth.host_config
        for bind in container.binds:
            declared = evaluated_container["binds"][bind.path]
            if bind.read_only is not None:
                assert declared["readOnly"] == bind.read_only
            if bind.host_path is not None:
                assert declared["hostPath"] == bind.host_path


def test_static_addresses_reach_the_networkd_units(nixpkgs_lib: Path) -> None:
    data = evaluated(nixpkgs_lib, ROOT / "nix" / "tests" / "static-address.nix")
    host = data["hostNetworks"]["10-ve-static"]["networkConfig"]
    assert host["Address"] == ["fc42::1/64", "192.168.42.1/24"]
    assert host["DHCPServer"] is False
    guest = data["guestNetworks"]["static"]["10-host0"]["networkConfig"]
    assert guest["Gateway"] == ["fc42::1", "192.168.42.1"]


def test_zones_and_binds_reach_the_nspawn_units(nixpkgs_lib: Path) -> None:
    zones = evaluated(nixpkgs_lib, ROOT / "nix" / "tests" / "zones.nix")
    assert {n: u["networkConfig"].get("Zone") for n, u in zones["nspawn"].items()} == {
        "alpha": "lab",
        "beta": "lab",
        "gamma": "dmz",
    }
    binds = evaluated(nixpkgs_lib, ROOT / "nix" / "tests" / "ephemeral-binds.nix")
    files = binds["nspawn"]["keeper"]["filesConfig"]
    assert "/srv/state:/var/lib/state:idmap" in files["Bind"]
    assert "/srv/shared:/mnt/shared:idmap" in files["BindReadOnly"]


def test_mdns_is_on_at_both_ends_of_the_zone(nixpkgs_lib: Path) -> None:
    """What scenarios/mdns.toml relies on without configuring anything."""
    data = evaluated(nixpkgs_lib, ROOT / "nix" / "tests" / "mdns.nix")
    assert data["hostNetworks"]["10-vz-lan"]["networkConfig"]["MulticastDNS"] is True
    for guest in ("alpha", "beta"):
        assert data["guestNetworks"][guest]["10-host0"]["networkConfig"]["MulticastDNS"] is True


def test_the_forwarded_port_reaches_the_unit(nixpkgs_lib: Path) -> None:
    data = evaluated(nixpkgs_lib, ROOT / "nix" / "tests" / "port-forward.nix")
    assert data["nspawn"]["web"]["networkConfig"]["Port"] == ["tcp:8080:80"]


def test_host_config_is_part_of_the_node(nixpkgs_lib: Path) -> None:
    data = evaluated(nixpkgs_lib, ROOT / "nix" / "tests" / "reverse-proxy.nix")
    assert data["hostNginx"]["enable"] is True
    assert data["memorySize"] == 1024 + 256


def test_a_prebuilt_system_is_built_from_the_scenarios_module(nixpkgs_lib: Path) -> None:
    data = evaluated(nixpkgs_lib, ROOT / "nix" / "tests" / "prebuilt-path.nix")
    assert data["paths"]["prebuilt"].endswith("-nixos-system-prebuilt")
    assert "prebuilt" not in data["guestNetworks"]  # the host evaluates nothing of it


def test_a_prebuilt_system_that_is_no_container_fails(nixpkgs_lib: Path, tmp_path: Path) -> None:
    broken = _broken(tmp_path, "nixos-nspawn.isContainer = true;", "", name="prebuilt-path")
    result = evaluate(nixpkgs_lib, broken)
    assert result.returncode != 0
    assert "does not specify your root file system" in result.stderr


def _broken(tmp_path: Path, old: str, new: str, name: str = "ephemeral-binds") -> Path:
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    text = rendered(ROOT, scenario)
    assert old in text
    out = tmp_path / "broken.nix"
    out.write_text(text.replace(old, new, 1))
    return out


def test_misspelt_framework_option_fails(nixpkgs_lib: Path, tmp_path: Path) -> None:
    result = evaluate(nixpkgs_lib, _broken(tmp_path, "globalTimeout =", "globalTimout ="))
    assert result.returncode != 0
    assert "globalTimout" in result.stderr


def test_misspelt_module_option_fails(nixpkgs_lib: Path, tmp_path: Path) -> None:
    result = evaluate(nixpkgs_lib, _broken(tmp_path, "hostPath =", "hostpath ="))
    assert result.returncode != 0
    assert "hostpath" in result.stderr


def test_wrongly_typed_module_value_fails(nixpkgs_lib: Path, tmp_path: Path) -> None:
    result = evaluate(nixpkgs_lib, _broken(tmp_path, "readOnly = true;", 'readOnly = "yes";'))
    assert result.returncode != 0
    assert "readOnly" in result.stderr
