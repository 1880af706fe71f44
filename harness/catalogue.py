"""The repository's scenario catalogue and its generated files: find, render, compare.

The generated files are the tests in ``nix/tests`` and the manual's scenario pages
(:mod:`harness.render.manual`).

``render --check`` must catch both a stale generated file and an orphan (a generated file whose
scenario was deleted or renamed: flake.nix would still build it). Only files that carry the
generated header count as ours, so a hand-written file in ``nix/tests`` is reported, not deleted.

The catalogue is every ``*.toml`` entry, at any depth, of the scenario directories
(``scenarios/`` unless :mod:`harness.settings` names others); the pytest plugin walks a
scenario directory with the same function (:func:`scenario_entries`), so both see the same
entries, and both read each through :func:`harness.source.read_source`, so both report the
same ones as errors (a FIFO, a device, a directory named ``*.toml``, a symlink loop).
A scenario's name is its file stem and names its flake check, its generated test, its logs and
its results, so two files with one stem are an error for both (:func:`name_clashes`).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness import settings
from harness.render import manual
from harness.render.escape import NixEscapeError
from harness.render.nixos_test import RENDER_COMMAND, render_scenario
from harness.run.build import NixOptions, NixTarget, plan_target
from harness.scenario.load import load_scenario, parse_nix_code_of
from harness.scenario.model import Scenario, ScenarioError, ValidationError
from harness.scenario.usercode import FLAKE_FILE

SCENARIOS_DIR = Path("scenarios")
ROOT_MARKER = FLAKE_FILE


class RootNotFound(Exception):
    """No directory with flake.nix and a scenario directory above the starting point."""


def find_root(start: Path) -> Path:
    """The repository root: the nearest directory at or above ``start`` with flake.nix and one
    of its scenario directories (:mod:`harness.settings`; so a flake.nix of some other project
    higher up does not match). Raises :class:`SettingsError` for a bad settings file."""
    start = start.resolve()
    for directory in (start, *start.parents):
        if (directory / ROOT_MARKER).is_file() and any(
            path.is_dir() for path in settings.load(directory).scenario_paths
        ):
            return directory
    raise RootNotFound(
        f"no {ROOT_MARKER} with a scenario directory ({SCENARIOS_DIR}/ unless its pyproject.toml "
        f"sets [tool.nixos-nspawn] scenario-dirs) at or above {start}; use --root"
    )


def scenario_entries(directory: Path) -> tuple[list[Path], list[Path]]:
    """One level of the catalogue walk: the subdirectories to walk into and the scenario
    entries of ``directory``, each sorted by name.

    Every ``*.toml`` entry is a scenario entry, whatever it is (reading it reports what is
    wrong with it). Only real directories are walked into: not a symlink to one (it may
    loop), not one named ``*.toml`` (an entry itself). An unreadable directory has none.
    """
    try:
        with os.scandir(directory) as found:
            entries = sorted(found, key=lambda entry: entry.name)
    except OSError:
        return [], []
    files = [Path(entry.path) for entry in entries if entry.name.endswith(".toml")]
    directories = [
        Path(entry.path)
        for entry in entries
        if not entry.name.endswith(".toml") and _is_real_directory(entry)
    ]
    return directories, files


def _is_real_directory(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def walk(directory: Path) -> list[Path]:
    """Every scenario entry at any depth below ``directory`` (:func:`scenario_entries`),
    sorted by path (iteratively: a tree may be deeper than Python's recursion limit)."""
    files: list[Path] = []
    pending = [directory]
    while pending:
        directories, found = scenario_entries(pending.pop())
        files += found
        pending += directories
    return sorted(files)


def scenario_files(root: Path) -> list[Path]:
    """The catalogue: every ``*.toml`` entry at any depth of the scenario directories
    (``scenarios/`` unless the settings say otherwise), sorted by path."""
    return sorted(
        {path for directory in settings.load(root).scenario_paths for path in walk(directory)}
    )


class ScenarioNames:
    """Scenario files by name (file stem), each path resolved once: looking one file up costs
    one lookup, so checking a whole tree for clashes is linear in its size."""

    def __init__(self, files: Iterable[Path]) -> None:
        # realpath, not Path.resolve(): that raises on a symlink loop (Python 3.11).
        self._real = {path: os.path.realpath(path) for path in files}
        self._by_stem: dict[str, dict[str, Path]] = {}
        for path, real in self._real.items():
            self._by_stem.setdefault(path.stem, {})[real] = path

    def clash(self, path: Path) -> ValidationError | None:
        """An error naming the other files with ``path``'s name, None if there are none."""
        real = self._real.get(path) or os.path.realpath(path)
        same = sorted(
            str(other)
            for other_real, other in self._by_stem.get(path.stem, {}).items()
            if other_real != real
        )
        if not same:
            return None
        return ValidationError(
            path,
            1,
            "(file name)",
            f"the scenario name {path.stem!r} is also the name of {', '.join(same)}: a "
            "scenario's file stem names its flake check, generated test and logs, so it "
            "must be unique",
        )


def name_clashes(files: Iterable[Path], others: Iterable[Path] = ()) -> list[ValidationError]:
    """An error for each of ``files`` whose name (file stem) another file of ``files`` or
    ``others`` has too, naming those files."""
    files = list(files)
    names = ScenarioNames((*others, *files))
    return [error for path in files if (error := names.clash(path)) is not None]


@dataclass(frozen=True)
class Loaded:
    """The outcome of loading every file: the valid scenarios and all errors of the others."""

    scenarios: tuple[Scenario, ...]
    errors: tuple[ValidationError, ...]


def load_all(files: Sequence[Path], others: Iterable[Path] = ()) -> Loaded:
    """Load ``files``; a file whose name another of them or of ``others`` has is an error."""
    clashes = {error.path: error for error in name_clashes(files, others)}
    parse_nix_code_of(files)
    scenarios: list[Scenario] = []
    errors: list[ValidationError] = []
    for path in files:
        if path in clashes:
            errors.append(clashes[path])
        try:
            scenario = load_scenario(path)
        except ScenarioError as error:
            errors.extend(error.errors)
            continue
        if path not in clashes:
            scenarios.append(scenario)
    return Loaded(tuple(scenarios), tuple(errors))


def source_label(root: Path, scenario: Scenario) -> str:
    """How a generated header names the scenario file (below ``root``): relative to ``root``,
    nested directories included. The pytest plugin renders with it too, so that it recognises
    a committed generated file as fresh. Lexical (symlinks kept): an entry may be a symlink to
    a file elsewhere, and its label is still its place in the catalogue."""
    path = Path(os.path.abspath(scenario.path))
    return path.relative_to(os.path.abspath(root)).as_posix()


def generated_path(root: Path, scenario: Scenario) -> Path:
    """The generated test of ``scenario`` in the repository at ``root`` (``tests-dir``)."""
    return settings.load(root).generated_path(scenario.name)


def rendered(root: Path, scenario: Scenario, output: Path | None = None) -> str:
    """The generated test of ``scenario`` as ``render`` writes it into ``root``: the one
    rendering of the CLI, the pytest plugin and ``--interactive`` (so each recognises a
    committed, fresh file as such). ``output`` is where the text goes (default: the
    committed place, :func:`generated_path`): the paths it imports are relative to it."""
    where = output if output is not None else generated_path(root, scenario)
    return render_scenario(scenario, source_label(root, scenario), where.parent)


def build_target(
    root: Path, scenario: Scenario, system: str, nix_options: NixOptions = ()
) -> NixTarget:
    """What the runner builds for ``scenario`` (:func:`harness.run.build.plan_target`): its
    committed check when that is current, else its fresh rendering."""
    return plan_target(
        settings.load(root),
        system,
        scenario.name,
        lambda output: rendered(root, scenario, output),
        nix_options,
        scenario.imported,
    )


def is_generated(text: str) -> bool:
    """Whether a file in nix/tests or a page of the manual's catalogue carries our generated
    header."""
    first = text.split("\n", 1)[0]
    nix = first.startswith("# Generated from ") and f"`{RENDER_COMMAND}`" in first
    return nix or manual.is_generated(text)


@dataclass(frozen=True)
class Drift:
    """A generated file that differs from what ``render`` would write.

    ``expected`` None: an orphan that should not exist; ``actual`` None: missing.
    """

    path: Path
    expected: str | None
    actual: str | None

    def diff(self, root: Path) -> str:
        name = self.path.relative_to(root).as_posix()
        lines = difflib.unified_diff(
            (self.actual or "").splitlines(keepends=True),
            (self.expected or "").splitlines(keepends=True),
            fromfile=f"a/{name}" if self.actual is not None else "/dev/null",
            tofile=f"b/{name}" if self.expected is not None else "/dev/null",
        )
        return "".join(lines)


def expected_files(root: Path, scenarios: tuple[Scenario, ...]) -> dict[Path, str]:
    """What ``render`` writes: generated path → text, for every scenario (its test and its
    page in the manual), and the manual's catalogue index and wiring picture.

    The loader rejects every value without a Nix form; should one slip through anyway, this
    raises :class:`ScenarioError` naming each such file rather than a bare escape traceback.
    """
    expected: dict[Path, str] = {}
    errors: list[ValidationError] = []
    for scenario in scenarios:
        try:
            expected[generated_path(root, scenario)] = rendered(root, scenario)
        except NixEscapeError as error:
            errors.append(ValidationError(scenario.path, 1, "(render)", f"cannot render: {error}"))
    if errors:
        raise ScenarioError(tuple(errors))
    return expected | manual.expected_pages(
        root, scenarios, lambda scenario: source_label(root, scenario)
    )


def drift(root: Path, scenarios: tuple[Scenario, ...]) -> list[Drift]:
    """Every stale, missing or orphaned generated file, sorted by path (raises
    :class:`ScenarioError` as :func:`expected_files` does)."""
    expected = expected_files(root, scenarios)
    tests = settings.load(root).tests_path
    present = {p: p.read_text(encoding="utf-8") for p in tests.glob("*.nix")}
    present |= manual.present_pages(root)
    found = [
        Drift(path, text, present.get(path))
        for path, text in expected.items()
        if present.get(path) != text
    ]
    found += [Drift(path, None, text) for path, text in present.items() if path not in expected]
    return sorted(found, key=lambda d: d.path)


def write(root: Path, scenarios: tuple[Scenario, ...]) -> list[Drift]:
    """Bring the generated tests (``tests-dir``) up to date: write stale or missing files,
    delete generated orphans.

    Returns what changed; orphans without our header are left alone (and stay in the result
    of :func:`drift`, so ``render --check`` keeps reporting them).
    """
    changed = []
    for item in drift(root, scenarios):
        if item.expected is not None:
            item.path.parent.mkdir(parents=True, exist_ok=True)
            item.path.write_text(item.expected, encoding="utf-8")
            changed.append(item)
        elif item.actual is not None and is_generated(item.actual):
            item.path.unlink()
            changed.append(item)
    return changed
