"""harness.settings: [tool.nixos-nspawn] of pyproject.toml, defaults without it, located errors."""

import os
from pathlib import Path

import pytest

from harness import settings
from harness.catalogue import find_root
from harness.settings import Settings, SettingsError


def load(root: Path, text: str) -> Settings:
    (root / "pyproject.toml").write_text(text)
    return settings.load(root)


def problems(root: Path, text: str) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        load(root, text)
    return [str(error) for error in caught.value.errors]


def test_defaults_without_a_pyproject_or_without_the_table(tmp_path: Path) -> None:
    assert settings.load(tmp_path) == Settings(tmp_path)
    assert load(tmp_path, '[project]\nname = "x"\n') == Settings(tmp_path)
    default = Settings(tmp_path)
    assert default.scenario_paths == (tmp_path / "scenarios",)
    assert default.generated_path("web") == tmp_path / "nix" / "tests" / "web.nix"
    assert default.check_attr("x86_64-linux", "web") == "checks.x86_64-linux.web"
    assert default.checks_set("x86_64-linux") == "checks.x86_64-linux"
    assert default.input == "nixos-nspawn"


def test_every_key(tmp_path: Path) -> None:
    chosen = load(
        tmp_path,
        "[tool.nixos-nspawn]\n"
        'scenario-dirs = ["tests/scenarios", "more"]\n'
        'tests-dir = "generated/tests"\n'
        'checks-attr = "legacyPackages.{system}.nixos-nspawn\'.{name}"\n'
        'input = "nn"\n',
    )
    assert chosen == Settings(
        tmp_path,
        ("tests/scenarios", "more"),
        "generated/tests",
        "legacyPackages.{system}.nixos-nspawn'.{name}",
        "nn",
    )
    assert chosen.check_attr("x86_64-linux", "a.b") == (
        'legacyPackages.x86_64-linux.nixos-nspawn\'."a.b"'
    )
    assert chosen.checks_set("x86_64-linux") == "legacyPackages.x86_64-linux.nixos-nspawn'"


def test_this_repository_builds_through_itself() -> None:
    root = find_root(Path(__file__))
    assert settings.load(root) == Settings(root, input="self")


BAD = [
    ("scenario-dirs = []", "expected a non-empty array of strings"),
    ('scenario-dirs = "scenarios"', "expected a non-empty array of strings"),
    ('scenario-dirs = ["/abs"]', "expected a path relative to the flake root, got '/abs'"),
    ('scenario-dirs = ["a/../.."]', "'a/../..' leaves the flake root"),
    ('tests-dir = ""', "expected a non-empty relative path of printable characters"),
    ('tests-dir = "a\\nb"', "expected a non-empty relative path of printable characters"),
    ("tests-dir = 1", "expected a string"),
    ('checks-attr = "checks.{system}"', "must contain {name} (the scenario's name) once"),
    ('checks-attr = "{name}"', "must contain {name} (the scenario's name) once"),
    ('checks-attr = "checks.{name}.{name}"', "must contain {name}"),
    ('checks-attr = "checks.${x}.{name}"', "each part of the attribute path is a plain"),
    ('checks-attr = "checks..{name}"', "each part of the attribute path is a plain"),
    ('checks-attr = "checks.\\"a\\".{name}"', "each part of the attribute path is a plain"),
    ('input = "nixos nspawn"', "expected the name of a flake input (or 'self')"),
    ('input = "a.b"', "expected the name of a flake input (or 'self')"),
    ('input = ""', "expected the name of a flake input (or 'self')"),
    ("tests_dir = 'x'", "unknown key; did you mean 'tests-dir'?"),
]


@pytest.mark.parametrize(("line", "message"), BAD, ids=[line for line, _ in BAD])
def test_a_bad_value_is_a_located_error(tmp_path: Path, line: str, message: str) -> None:
    (error,) = problems(tmp_path, f'[project]\nname = "x"\n[tool.nixos-nspawn]\n{line}\n')
    key = line.split(" = ")[0]
    assert error.startswith(f"{tmp_path / 'pyproject.toml'}:4: tool.nixos-nspawn.{key}: ")
    assert message in error


def test_a_file_that_is_no_settings_file(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    assert problems(tmp_path, '[tool]\n"nixos-nspawn" = 1\n') == [
        f"{path}:2: tool.nixos-nspawn: expected a table"
    ]
    (error,) = problems(tmp_path, "[tool.nixos-nspawn\n")
    assert error.startswith(f"{path}:1: (syntax): invalid TOML: ")
    path.unlink()
    os.mkfifo(path)  # read bounded: never blocks
    with pytest.raises(SettingsError) as caught:
        settings.load(tmp_path)
    assert str(caught.value) == f"{path}: (file): a named pipe (FIFO), not a regular file"
