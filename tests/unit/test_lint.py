"""Lint gates: ruff (lint and format), mypy --strict on the harness and the bench, a parse
of every .nix file."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tracked_nix_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "*.nix"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [ROOT / name for name in out.split("\0") if name and (ROOT / name).exists()]


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_clean() -> None:
    result = run([sys.executable, "-m", "ruff", "check", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_formatted() -> None:
    result = run([sys.executable, "-m", "ruff", "format", "--check", "."])
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_harness() -> None:
    result = run(
        [sys.executable, "-m", "mypy", "--strict", "harness/", "bench/", "tests/support/vm/"]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_there_are_nix_files() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in tracked_nix_files()}
    assert {"flake.nix", "nix/checks-package.nix", "templates/default/flake.nix"} <= names


@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="nix-instantiate not installed")
@pytest.mark.parametrize("path", tracked_nix_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_nix_file_parses(path: Path) -> None:
    result = run(["nix-instantiate", "--parse", str(path)])
    assert result.returncode == 0, result.stderr


@pytest.mark.skipif(shutil.which("nix-instantiate") is None, reason="nix-instantiate not installed")
def test_parse_check_catches_syntax_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.nix"
    broken.write_text("{ a = 1; b = ; }\n")
    result = run(["nix-instantiate", "--parse", str(broken)])
    assert result.returncode != 0
    assert "syntax error" in result.stderr
