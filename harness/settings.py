"""The harness's settings for one repository: ``[tool.nixos-nspawn]`` in its ``pyproject.toml``.

The repository is a flake (the directory with ``flake.nix``); its ``pyproject.toml`` is the
ecosystem's place for a tool's settings, and a flake without one gets the defaults below. The
CLI (``python -m harness``), the pytest plugin and the runner all read them through
:func:`load`, so they agree on where scenarios live, where generated tests go, which flake
attribute builds a committed test and through which input an uncommitted one is built::

    [tool.nixos-nspawn]
    scenario-dirs = ["scenarios"]          # relative to the flake root, walked at any depth
    tests-dir = "nix/tests"                # where `python -m harness render` writes <name>.nix
    checks-attr = "checks.{system}.{name}" # what the runner builds for a committed test
    input = "nixos-nspawn"                 # the flake input that is nixos-nspawn ("self": this
                                           # flake is nixos-nspawn itself)

A bad value is a located error (``pyproject.toml:LINE: tool.nixos-nspawn.KEY: message``), as
a scenario's are; it never falls back to a default silently.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.render.escape import nix_attr_name
from harness.scenario.model import ScenarioError, ValidationError
from harness.scenario.reader import parse_toml
from harness.scenario.source import read_source
from harness.scenario.tomlpos import key_lines

PYPROJECT = "pyproject.toml"
TABLE = ("tool", "nixos-nspawn")
SELF_INPUT = "self"
"""``input`` of a flake that is nixos-nspawn itself (this repository)."""

_ATTR = re.compile(r"[A-Za-z_][A-Za-z0-9_'-]*\Z")
_PLACEHOLDERS = ("{system}", "{name}")


class SettingsError(ScenarioError):
    """The settings file is unreadable or has bad values; ``errors`` lists every problem (each
    located as a scenario's are)."""


@dataclass(frozen=True)
class Settings:
    """The settings of the flake at ``root`` (defaults: this repository's layout)."""

    root: Path
    scenario_dirs: tuple[str, ...] = ("scenarios",)
    tests_dir: str = "nix/tests"
    checks_attr: str = "checks.{system}.{name}"
    input: str = "nixos-nspawn"

    @property
    def scenario_paths(self) -> tuple[Path, ...]:
        """The scenario directories, below the root."""
        return tuple(self.root / directory for directory in self.scenario_dirs)

    @property
    def tests_path(self) -> Path:
        """The directory of the generated tests."""
        return self.root / self.tests_dir

    def generated_path(self, name: str) -> Path:
        """The generated test of the scenario ``name``."""
        return self.tests_path / f"{name}.nix"

    def check_attr(self, system: str, name: str) -> str:
        """The flake attribute (``checks-attr``) of a committed test, each part a Nix
        attribute name (quoted when it must be)."""
        return ".".join(
            nix_attr_name(system)
            if part == "{system}"
            else nix_attr_name(name)
            if part == "{name}"
            else part
            for part in self.checks_attr.split(".")
        )

    def checks_set(self, system: str) -> str:
        """The attribute set that holds the committed tests: ``checks-attr`` up to ``{name}``."""
        parts = self.checks_attr.split(".")
        before = parts[: parts.index("{name}")]
        return ".".join(nix_attr_name(system) if part == "{system}" else part for part in before)


def _relative_problem(value: str) -> str | None:
    """Why ``value`` is no plain relative directory path below the root, or None."""
    if not value or not value.isprintable():
        return "expected a non-empty relative path of printable characters"
    if value.startswith("/"):
        return f"expected a path relative to the flake root, got {value!r}"
    if ".." in Path(value).parts:
        return f"{value!r} leaves the flake root"
    return None


def _attr_problem(value: str) -> str | None:
    parts = value.split(".")
    for part in parts:
        if part not in _PLACEHOLDERS and not _ATTR.match(part):
            return (
                f"{value!r}: each part of the attribute path is a plain attribute name "
                "(letters, digits, '_', '-', \"'\"), {system} or {name}"
            )
    if parts.count("{name}") != 1 or parts[0] == "{name}":
        return (
            f"{value!r} must contain {{name}} (the scenario's name) once, in an attribute "
            "set of the flake's outputs (such as checks.{system}.{name})"
        )
    return None


def _input_problem(value: str) -> str | None:
    if not _ATTR.match(value):
        return f"expected the name of a flake input (or {SELF_INPUT!r}), got {value!r}"
    return None


def _dirs_problem(value: object) -> str | None:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return "expected a non-empty array of strings"
    return next(filter(None, map(_relative_problem, value)), None)


def _string_problem(check: Callable[[str], str | None]) -> Callable[[object], str | None]:
    return lambda value: check(value) if isinstance(value, str) else "expected a string"


_CHECKS: Mapping[str, Callable[[object], str | None]] = {
    "scenario-dirs": _dirs_problem,
    "tests-dir": _string_problem(_relative_problem),
    "checks-attr": _string_problem(_attr_problem),
    "input": _string_problem(_input_problem),
}


def parse(root: Path, path: Path, source: str) -> Settings:
    """The settings in ``source``, the text of ``path`` (the flake at ``root``)."""
    try:
        data = parse_toml(path, source)
    except ScenarioError as error:
        raise SettingsError(error.errors) from None
    lines = key_lines(source)
    prefix = ".".join(TABLE)
    tool = data.get(TABLE[0], {})
    table = tool.get(TABLE[1], {}) if isinstance(tool, dict) else {}
    if not isinstance(table, dict):
        raise SettingsError((ValidationError(path, lines.line(TABLE), prefix, "expected a table"),))
    errors: list[ValidationError] = []

    def report(name: str, problem: str) -> None:
        errors.append(
            ValidationError(path, lines.line((*TABLE, name)), f"{prefix}.{name}", problem)
        )

    for name, value in table.items():
        check = _CHECKS.get(name)
        if check is None:
            close = difflib.get_close_matches(name, list(_CHECKS), n=1)
            known = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(_CHECKS)})"
            report(name, "unknown key" + known)
        elif (problem := check(value)) is not None:
            report(name, problem)
    if errors:
        raise SettingsError(tuple(sorted(errors, key=lambda error: error.line or 0)))
    defaults = Settings(root)
    return Settings(
        root,
        scenario_dirs=tuple(table.get("scenario-dirs", defaults.scenario_dirs)),
        tests_dir=table.get("tests-dir", defaults.tests_dir),
        checks_attr=table.get("checks-attr", defaults.checks_attr),
        input=table.get("input", defaults.input),
    )


def load(root: Path) -> Settings:
    """The settings of the flake at ``root``: its ``pyproject.toml``'s ``[tool.nixos-nspawn]``,
    the defaults without one (:class:`SettingsError` on a bad file)."""
    path = root / PYPROJECT
    if not os.path.lexists(path):
        return Settings(root)
    try:
        source = read_source(path)
    except ScenarioError as error:
        raise SettingsError(error.errors) from None
    return parse(root, path, source)
