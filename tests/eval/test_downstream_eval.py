"""Eval tier: a downstream project's generated test evaluates with the stand-ins, and what the
user's own modules set (imported by path and by name) is visible in the evaluated host and
container (see tests/eval/nix/eval-test.nix; issue #23)."""

import io
import json
from pathlib import Path
from typing import Any

import pytest
from support.downstream import FILES, write_project
from test_generated import evaluate

from harness.cli import main

pytestmark = pytest.mark.eval

USER_FILES = {
    **FILES,
    "hosts/web.nix": (
        '{ ... }: { systemd.network.networks."50-myinfra-host".matchConfig.Name = "eth9"; }\n'
    ),
    "containers/db.nix": (
        '{ ... }: { systemd.network.networks."50-myinfra-db".matchConfig.Name = "eth8"; }\n'
    ),
    "modules/monitoring.nix": "{ lib, ... }: { services.nginx.enable = lib.mkDefault true; }\n",
}


@pytest.fixture
def myinfra(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "myinfra", USER_FILES)
    out = io.StringIO()
    assert main(["--root", str(root), "render"], out=out) == 0, out.getvalue()
    return root


def test_the_users_modules_reach_the_host_and_the_container(
    nixpkgs_lib: Path, myinfra: Path
) -> None:
    modules = f"{{ monitoring = {myinfra / 'modules' / 'monitoring.nix'}; }}"
    result = evaluate(nixpkgs_lib, myinfra / "nix/tests/web.nix", "--arg", "userModules", modules)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    assert data["failedAssertions"] == []
    assert data["hostNetworks"]["50-myinfra-host"]["matchConfig"]["Name"] == "eth9"
    assert "50-myinfra-db" not in data["hostNetworks"]
    db = data["guestNetworks"]["db"]
    assert db["50-myinfra-db"]["matchConfig"]["Name"] == "eth8"
    assert "50-myinfra-host" not in db
    assert data["hostNginx"]["enable"] is True  # nixosModules.monitoring, by name


def test_a_module_the_flake_lacks_fails_with_the_scenarios_message(
    nixpkgs_lib: Path, myinfra: Path
) -> None:
    result = evaluate(nixpkgs_lib, myinfra / "nix/tests/web.nix", "--arg", "userModules", "{ }")
    assert result.returncode != 0
    assert (
        "scenario scenarios/web.toml: [host] modules: the flake has no nixosModules.monitoring"
        in result.stderr
    )
