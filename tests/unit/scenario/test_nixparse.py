"""Validation parses the Nix code fields with `nix-instantiate --parse` when Nix is there."""

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.scenario import nixparse
from harness.scenario.load import load_scenario
from harness.scenario.model import ScenarioError

needs_nix = pytest.mark.skipif(
    shutil.which("nix-instantiate") is None, reason="nix-instantiate is not on PATH"
)

TEXT = '''\
description = "x"

[host]
config = """{ pkgs, ... }: {
  environment.systemPackages = [ pkgs.curl ];
}"""

[containers.web]
config = "{ }"

[containers.db]
config = \'\'\'
{ lib, ... }: { networking.firewall.enable = lib.mkForce false; }
\'\'\'

[[expect]]
check = "userns"
container = "web"
'''


@pytest.fixture(autouse=True)
def _fresh_verdicts(monkeypatch) -> None:
    """Each test parses for itself (the module remembers every verdict of the process)."""
    monkeypatch.setattr(nixparse, "_verdicts", {})


def errors(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "case.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return [str(error).removeprefix(f"{path}:") for error in caught.value.errors]


@pytest.fixture
def runs(monkeypatch) -> list[list[str]]:
    """Every command the check runs."""
    seen: list[list[str]] = []
    real = subprocess.run

    def run(argv, **kwargs):
        seen.append(argv)
        return real(argv, **kwargs)

    monkeypatch.setattr(nixparse.subprocess, "run", run)
    return seen


@needs_nix
def test_valid_nix_code_passes_in_one_subprocess(tmp_path: Path, runs) -> None:
    path = tmp_path / "case.toml"
    path.write_text(TEXT)
    assert load_scenario(path).host.config is not None
    assert len(runs) == 1
    assert len(runs[0]) == 2 + 3  # nix-instantiate --parse and the three config fields


@needs_nix
def test_a_syntax_error_is_located_at_its_field(tmp_path: Path) -> None:
    text = TEXT.replace("[ pkgs.curl ];", "[ pkgs.curl ")
    (error,) = errors(tmp_path, text)  # Nix versions word the rest differently
    assert error.startswith("4: host.config: not valid Nix: syntax error, unexpected '}'")
    assert error.endswith(" (line 3, column 1 of the Nix code)")


@needs_nix
def test_an_undefined_variable_is_reported(tmp_path: Path) -> None:
    text = TEXT.replace("{ lib, ... }:", "{ ... }:")
    (error,) = errors(tmp_path, text)
    assert error.startswith("12: containers.db.config: not valid Nix: undefined variable 'lib' ")


@needs_nix
def test_the_first_broken_field_in_file_order_is_reported(tmp_path: Path, runs) -> None:
    text = TEXT.replace('config = "{ }"', 'config = "{ a = ; }"').replace("{ lib, ... }:", "{")
    (error,) = errors(tmp_path, text)
    assert error.startswith("9: containers.web.config: not valid Nix: syntax error, ")
    assert error.endswith(" (line 1, column 7 of the Nix code)")
    assert len(runs) == 2  # the second run goes on after the broken field


@needs_nix
def test_many_codes_are_parsed_in_one_run_and_remembered(runs) -> None:
    codes = [f"{{ a = {index}; }}" for index in range(1200)]
    nixparse.parse_all([*codes, *codes])
    assert [len(argv) - 2 for argv in runs] == [nixparse.BATCH, nixparse.BATCH, 200]
    assert nixparse.first_syntax_error(codes[::-1]) is None
    assert len(runs) == 3


@needs_nix
def test_each_broken_code_costs_one_more_run_and_none_is_skipped(runs) -> None:
    codes = ["{ }", "{ a = ; }", "x: x", "{", "[ ]"]
    nixparse.parse_all(codes)
    assert [len(argv) - 2 for argv in runs] == [5, 3, 1]  # from the start, after each error
    found = [nixparse.first_syntax_error([code]) for code in codes]
    assert [error is not None for error in found] == [False, True, False, True, False]
    assert len(runs) == 3


@needs_nix
def test_other_errors_are_reported_with_it(tmp_path: Path) -> None:
    text = TEXT.replace('config = "{ }"', 'config = "{"\nautostart = true')
    assert [error.split(":")[1] for error in errors(tmp_path, text)] == [
        " containers.web.config",
        " containers.web.autostart",
    ]


def test_without_nix_the_check_is_skipped(tmp_path: Path, monkeypatch, runs) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    path = tmp_path / "case.toml"
    path.write_text(TEXT.replace('config = "{ }"', 'config = "{ a = ; }"'))
    load_scenario(path)
    assert runs == []


def test_a_nix_failure_that_names_no_field_is_ignored(tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "nix-instantiate"
    fake.write_text("#!/bin/sh\necho 'error: cannot open connection' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert nixparse.first_syntax_error(["{ a = ; }"]) is None
