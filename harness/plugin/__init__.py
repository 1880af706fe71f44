"""pytest plugin: ``pytest scenarios/`` turns every scenario file into tests.

Registered through the ``pytest11`` entry point ``nixos_nspawn``. All hooks live in this module,
all options are declared in :func:`pytest_addoption`, and per-session state lives on
``config.stash`` (one ``_State`` per pytest process, so also one per xdist worker).

Per scenario file (``*.toml`` entry under a directory named by the ``nixos_nspawn_scenario_dirs``
ini option; without it, under one named ``scenarios`` or one of the ``scenario-dirs`` that
:mod:`harness.settings` reads for the flake at the rootdir; such directories are walked as the
CLI walks them, :class:`ScenarioDirectory`):

* ``<file>::validate-render`` loads, validates and renders the file. It runs everywhere. A file
  that does not validate yields only this item, failing with every validation message; the other
  files are collected as usual. Two files with one name (file stem) in the same scenario
  directory tree fail this way too: they would share a flake check, a generated test and logs.
* ``<file>::<expectation id>`` per expectation (marker ``vm``). The first of them builds the
  scenario's NixOS VM test (:mod:`harness.run.build`); every item then reports its own
  expectation's result. They skip with the reason when the machine cannot run VM tests
  (:mod:`harness.run.capabilities`).

Each expectation's call report carries the facts of its run for the HTML report (pytest-html),
JUnit XML and the terminal summary (:mod:`harness.plugin.report`, registered here).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import shlex
import sys
import traceback
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from harness import catalogue, settings
from harness.plugin import report as run_report
from harness.render.nixos_test import DEFAULT_TEST_TIMEOUT
from harness.run import history
from harness.run.build import (
    BUILD_MARGIN,
    NixOptions,
    current_system,
)
from harness.run.capabilities import Capabilities, probe
from harness.run.progress import Progress
from harness.run.reruns import Attempts, build_with_reruns
from harness.scenario.load import load_scenario, parse_nix_code_of
from harness.scenario.model import MAX_TIMEOUT, Expectation, Scenario, ScenarioError
from harness.scenario.usercode import find_flake_root

RENDER_ITEM = "validate-render"
SCENARIO_DIRS_INI = "nixos_nspawn_scenario_dirs"
DEFAULT_SCENARIO_DIR = "scenarios"
LOG_TAIL_LINES = 30


@dataclass
class _State:
    """What one pytest process learnt: machine capabilities and each scenario's build."""

    capabilities: dict[Path | None, Capabilities] = field(default_factory=dict)
    builds: dict[Path, Attempts | str] = field(default_factory=dict)
    trees: dict[Path, catalogue.ScenarioNames] = field(default_factory=dict)
    scenario_paths: tuple[Path, ...] | None = None


STATE = pytest.StashKey[_State]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nixos-nspawn", "nixos-nspawn scenario VM tests")
    group.addoption(
        "--nixos-nspawn-timeout",
        type=_positive_seconds,
        metavar="SECONDS",
        default=None,
        help="limit for each scenario's whole `nix build`, building NixOS and the VM included "
        f"(default: the file's `timeout`, else {DEFAULT_TEST_TIMEOUT}, plus {BUILD_MARGIN})",
    )
    group.addoption(
        "--nixos-nspawn-reruns",
        type=_reruns,
        metavar="N",
        default=0,
        help="build a scenario whose build failed up to N more times; an expectation that "
        "failed and then passed is reported as flaky (default: 0)",
    )
    group.addoption(
        "--nixos-nspawn-allow-tcg",
        action="store_true",
        default=False,
        help="run VM tests without usable KVM (QEMU's TCG emulation: slow)",
    )
    group.addoption(
        "--nixos-nspawn-system",
        metavar="SYSTEM",
        default=None,
        help="Nix system of the checks to build (default: this machine's, e.g. x86_64-linux)",
    )
    group.addoption(
        "--nixos-nspawn-nix-option",
        dest="nixos_nspawn_nix_options",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        default=[],
        help="pass `--option NAME VALUE` to every nix call (repeatable), e.g. `builders` to "
        "build on other machines; restricted settings need the user in nix.conf's "
        "trusted-users",
    )
    group.addoption(
        "--interactive",
        dest="nixos_nspawn_interactive",
        metavar="NAME[::EXPECTATION]",
        default=None,
        help="build scenario NAME's driverInteractive, run its testScript up to EXPECTATION "
        "(default: the first one that failed last time) and hand over the driver's REPL",
    )
    parser.addini(
        SCENARIO_DIRS_INI,
        "names of directories whose *.toml files (at any depth) are scenario files (default: "
        "`scenarios`, and pyproject.toml's [tool.nixos-nspawn] scenario-dirs)",
        type="linelist",
        default=[],
    )


MAX_BUILD_TIMEOUT = MAX_TIMEOUT + BUILD_MARGIN
"""Largest ``--nixos-nspawn-timeout``: the longest default a scenario can get (see
:data:`harness.scenario.MAX_TIMEOUT` for the limits of the paths the timeout takes)."""


def _positive_seconds(text: str) -> int:
    """``--nixos-nspawn-timeout``'s value; argparse turns the error into a usage error."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 0 < value <= MAX_BUILD_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds up to {MAX_BUILD_TIMEOUT}, got {text}"
        )
    return value


MAX_RERUNS = 20


def _reruns(text: str) -> int:
    """``--nixos-nspawn-reruns``'s value; argparse turns the error into a usage error."""
    if not text.isdigit() or int(text) > MAX_RERUNS:
        raise argparse.ArgumentTypeError(f"expected a number of reruns from 0 to {MAX_RERUNS}")
    return int(text)


def pytest_configure(config: pytest.Config) -> None:
    config.stash[STATE] = _State()
    _settings_trees(config)  # a bad settings file is a usage error, before any collection
    config.pluginmanager.register(run_report.ReportHooks(config), "nixos-nspawn-report")
    config.addinivalue_line("markers", "vm: builds and runs a scenario's NixOS VM test with nix")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> int | None:
    """``--interactive NAME[::EXPECTATION]`` replaces the test run (see harness.run.interactive)."""
    request: str | None = config.getoption("nixos_nspawn_interactive")
    if request is None:
        return None
    say = _stderr_writer(config)
    name, _, expectation = request.partition("::")
    path = _find_scenario(config, name)
    if path is None:
        say(f"--interactive: no scenario file {name}.toml under {', '.join(config.args)}\n")
        return pytest.ExitCode.USAGE_ERROR
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        say(f"{error}\n")
        return pytest.ExitCode.USAGE_ERROR
    root = find_flake_root(path.parent)
    reason = _probe(config, root)
    if root is None or reason.skip_reason is not None:
        say(f"--interactive {name}: cannot run the VM here: {reason.skip_reason}\n")
        return pytest.ExitCode.USAGE_ERROR
    capman = config.pluginmanager.getplugin("capturemanager")
    if capman is not None:
        capman.suspend_global_capture(in_=True)
    from harness.run.interactive import debug_scenario

    try:
        return debug_scenario(
            scenario,
            root,
            _system(config),
            timeout=build_timeout(config, scenario),
            requested=expectation or None,
            say=say,
            nix_options=_nix_options(config),
        )
    except KeyboardInterrupt:  # the build's process tree is already gone (harness.run.processes)
        say("--interactive: interrupted\n")
        return pytest.ExitCode.INTERRUPTED


def _find_scenario(config: pytest.Config, name: str) -> Path | None:
    """The scenario file ``NAME.toml`` among the paths pytest was given (or its testpaths)."""
    for arg in config.args or [str(config.rootpath)]:
        start = config.invocation_params.dir / arg.split("::", 1)[0]
        candidates = [start] if start.is_file() else catalogue.walk(start)
        for candidate in candidates:
            if candidate.stem == name and is_scenario_file(candidate.absolute(), config):
                return candidate.absolute()
    return None


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``-n`` (``--dist load``, ``loadgroup`` or ``worksteal``), keep each scenario on one
    worker (see :mod:`harness.plugin.scheduling`)."""
    from harness.plugin.scheduling import DISTRIBUTIONS, ScenarioScheduling

    if config.getvalue("dist") not in DISTRIBUTIONS:
        return None

    return ScenarioScheduling(config, log)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Place a VM item's skip on its scenario file (``-ra`` then shows one line per file);
    give an expectation's call report the facts of its run (:mod:`harness.plugin.report`)."""
    report = yield
    if not isinstance(item, ExpectationItem):
        return report
    if report.skipped and isinstance(report.longrepr, tuple):
        report.longrepr = (str(item.path), 1, report.longrepr[2])
    attempts = item.config.stash[STATE].builds.get(item.scenario.path)
    if report.when == "call" and isinstance(attempts, Attempts):
        expectation = item.expectation.id
        command = _interactive_command(item.config, item.scenario, expectation)
        run_report.describe(item.config, report, item.scenario, expectation, attempts.last, command)
    return report


def is_scenario_file(path: Path, config: pytest.Config) -> bool:
    """A ``.toml`` file below a scenario directory (relative to the rootdir when inside it)."""
    return path.suffix == ".toml" and _scenario_tree(path.parent, config) is not None


def _settings_trees(config: pytest.Config) -> tuple[Path, ...]:
    """The scenario directories that the settings (:mod:`harness.settings`) of the flake at or
    above the rootdir name; read once per pytest process (``--interactive`` asks before
    pytest_configure)."""
    state = config.stash.setdefault(STATE, _State())
    if state.scenario_paths is None:
        root = find_flake_root(config.rootpath)
        try:
            state.scenario_paths = settings.load(root).scenario_paths if root else ()
        except settings.SettingsError as error:
            raise pytest.UsageError(str(error)) from None
    return state.scenario_paths


def _scenario_tree(directory: Path, config: pytest.Config) -> Path | None:
    """The outermost scenario directory at or above ``directory``: a directory named by the
    ini option when it is set (names relative to the rootdir when inside it), else one named
    ``scenarios`` or one of the settings' ``scenario-dirs``. The tree is where scenario names
    must be unique."""
    names = set(config.getini(SCENARIO_DIRS_INI))
    if not names:
        names = {DEFAULT_SCENARIO_DIR}
        for tree in _settings_trees(config):
            if directory == tree or tree in directory.parents:
                return tree
    try:
        base = config.rootpath
        parts = directory.relative_to(base).parts
    except ValueError:
        base = Path(directory.anchor)
        parts = directory.relative_to(base).parts
    for index, part in enumerate(parts):
        if part in names:
            return base.joinpath(*parts[: index + 1])
    return None


def _name_clashes(path: Path, config: pytest.Config) -> list[str]:
    """Messages for the other scenario files of ``path``'s tree with its name (file stem)."""
    tree = _scenario_tree(path.parent, config)
    assert tree is not None, "only scenario files are collected"
    trees = config.stash[STATE].trees
    if tree not in trees:
        trees[tree] = catalogue.ScenarioNames(catalogue.walk(tree))
    clash = trees[tree].clash(path)
    return [] if clash is None else [str(clash)]


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A scenario directory, and every directory below it, is walked as the CLI walks it."""
    if _scenario_tree(path, parent.config) is not None:
        return ScenarioDirectory.from_parent(parent, path=path)
    return None


class ScenarioDirectory(pytest.Directory):
    """A directory of a scenario tree. Its entries are those of
    :func:`harness.catalogue.scenario_entries`, the CLI's walk: every ``*.toml`` entry is a
    scenario file whatever it is (a FIFO, a device, a directory, a symlink loop fail their
    ``validate-render`` item, as ``python -m harness validate`` reports them), and only real
    directories are walked into. Nothing else in the tree is collected."""

    def collect(self) -> Iterator[pytest.Collector]:
        directories, files = catalogue.scenario_entries(self.path)
        parse_nix_code_of(files)
        for path in sorted([*directories, *files], key=lambda entry: entry.name):
            is_directory = path in directories
            if not self.session.isinitpath(
                path, with_parents=is_directory
            ) and self.ihook.pytest_ignore_collect(collection_path=path, config=self.config):
                continue
            if is_directory:
                yield ScenarioDirectory.from_parent(self, path=path)
            else:
                yield ScenarioFile.from_parent(self, path=path)


class ScenarioFailure(Exception):
    """A failure whose message says everything: shown without a traceback."""


def _stderr_writer(config: pytest.Config) -> Callable[[str], None]:
    """Write to the real stderr even while pytest captures output (also in xdist workers)."""
    capman = config.pluginmanager.getplugin("capturemanager")

    def write(text: str) -> None:
        suspended = capman.global_and_fixture_disabled() if capman else contextlib.nullcontext()
        with suspended:
            sys.stderr.write(text)
            sys.stderr.flush()

    return write


class ScenarioFile(pytest.File):
    """One scenario file: its validate-render item, then one item per expectation."""

    def collect(self) -> Iterator[pytest.Item]:
        clashes = _name_clashes(self.path, self.config)
        try:
            scenario = load_scenario(self.path)
        except ScenarioError as error:
            message = "\n".join([*clashes, str(error)])
            yield InvalidScenarioItem.from_parent(self, name=RENDER_ITEM, message=message)
            return
        except Exception:
            message = f"unexpected error while loading {self.path}:\n{traceback.format_exc()}"
            yield InvalidScenarioItem.from_parent(self, name=RENDER_ITEM, message=message)
            return
        if clashes:
            message = "\n".join(clashes)
            yield InvalidScenarioItem.from_parent(self, name=RENDER_ITEM, message=message)
            return
        render = RenderItem.from_parent(self, name=RENDER_ITEM, scenario=scenario)
        yield render
        for expectation in scenario.expectations:
            item = ExpectationItem.from_parent(
                self, name=expectation.id, scenario=scenario, expectation=expectation
            )
            item.add_marker(pytest.mark.vm)
            yield item


class _ScenarioItem(pytest.Item):
    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> Any:
        if isinstance(excinfo.value, ScenarioFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)


class InvalidScenarioItem(_ScenarioItem):
    """Stands for a file that does not validate: fails with all of its messages."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def runtest(self) -> None:
        raise ScenarioFailure(self.message)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}: invalid scenario"


class RenderItem(_ScenarioItem):
    """The file validated (at collection); this proves it also renders to a NixOS test."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        tree = _scenario_tree(self.path, self.config)
        assert tree is not None, "only scenario files are collected"
        root = find_flake_root(self.path.parent) or tree.parent
        try:
            catalogue.rendered(root, self.scenario)
        except settings.SettingsError as error:
            raise ScenarioFailure(str(error)) from error
        except (ScenarioError, ValueError) as error:
            raise ScenarioFailure(f"{self.path}: cannot render: {error}") from error

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}: validate and render"


class ExpectationItem(_ScenarioItem):
    """One expectation of a scenario, judged from the shared VM test's recorded results."""

    def __init__(self, *, scenario: Scenario, expectation: Expectation, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.expectation = expectation

    def setup(self) -> None:
        reason = _capabilities(self.config, self.scenario).skip_reason
        if reason is not None:
            pytest.skip(reason)

    def runtest(self) -> None:
        attempts = _build(self.config, self.scenario)
        if isinstance(attempts, str):
            raise ScenarioFailure(attempts)
        expectation_id = self.expectation.id
        verdict = attempts.verdict(expectation_id)
        outcome, result = attempts.last, verdict.last
        story = attempts.story(expectation_id) if len(attempts.outcomes) > 1 else ""
        if verdict.outcome == history.FLAKY:
            self.user_properties.append((FLAKY_PROPERTY, story))
            self.add_report_section("call", "attempts", story)
            return
        hint = f"debug it: {_interactive_command(self.config, self.scenario, expectation_id)}"
        attempts_text = f"\n{story}\n" if story else ""
        if result is None:
            raise ScenarioFailure(
                f"no result recorded for {expectation_id}: the VM test ended before checking it "
                f"({outcome.status()})\n"
                f"--- last {LOG_TAIL_LINES} lines of {outcome.log_path} ---\n"
                f"{outcome.log_tail(LOG_TAIL_LINES)}\n"
                f"--- end of log tail ---\nfull log: {outcome.log_path}\n{attempts_text}{hint}"
            )
        if not result.ok:
            raise ScenarioFailure(
                f"{result.describe()}\n\nfull log: {outcome.log_path}\n{attempts_text}{hint}"
            )

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, max((self.expectation.line or 1) - 1, 0), self.expectation.id


def _interactive_command(config: pytest.Config, scenario: Scenario, expectation_id: str) -> str:
    try:
        where = scenario.path.relative_to(config.invocation_params.dir)
    except ValueError:
        where = scenario.path
    request = f"{scenario.name}::{expectation_id}"
    return f"pytest {shlex.quote(str(where))} --interactive {shlex.quote(request)}"


def _system(config: pytest.Config) -> str:
    chosen: str | None = config.getoption("nixos_nspawn_system")
    return chosen or current_system()


def _nix_options(config: pytest.Config) -> NixOptions:
    """``--nixos-nspawn-nix-option NAME VALUE`` pairs, in the order given."""
    pairs: list[list[str]] = config.getoption("nixos_nspawn_nix_options")
    return tuple((name, value) for name, value in pairs)


def _probe(config: pytest.Config, root: Path | None) -> Capabilities:
    """Can this machine run the VM tests of the flake at ``root``, with this run's options."""
    return probe(
        root,
        _system(config),
        bool(config.getoption("nixos_nspawn_allow_tcg")),
        _nix_options(config),
    )


def _capabilities(config: pytest.Config, scenario: Scenario) -> Capabilities:
    """Probed once per flake and pytest process (each xdist worker probes for itself)."""
    state = config.stash[STATE]
    root = find_flake_root(scenario.path.parent)
    if root not in state.capabilities:
        state.capabilities[root] = _probe(config, root)
    return state.capabilities[root]


def _label(config: pytest.Config, scenario: Scenario) -> str:
    """The scenario's name, with the xdist worker running it (xdist sets ``workerinput``)."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    worker = workerinput.get("workerid") if workerinput else None
    return f"{scenario.name} [{worker}]" if worker else scenario.name


def build_timeout(config: pytest.Config, scenario: Scenario) -> int:
    """The deadline of the scenario's whole ``nix build``: the command-line limit, else the
    test's ``globalTimeout`` (the file's ``timeout``, else the default) plus the time to build
    NixOS and the VM (:data:`harness.runner.BUILD_MARGIN`)."""
    chosen: int | None = config.getoption("nixos_nspawn_timeout")
    if chosen is not None:
        return chosen
    test = scenario.timeout if scenario.timeout is not None else DEFAULT_TEST_TIMEOUT
    return test + BUILD_MARGIN


def _build(config: pytest.Config, scenario: Scenario) -> Attempts | str:
    """The scenario's build, run by its first expectation item; a string when it cannot run."""
    state = config.stash[STATE]
    if scenario.path in state.builds:
        return state.builds[scenario.path]
    root = find_flake_root(scenario.path.parent)
    assert root is not None, "the capability probe skips scenarios outside a flake"
    try:
        target = catalogue.build_target(root, scenario, _system(config), _nix_options(config))
    except settings.SettingsError as error:
        state.builds[scenario.path] = str(error)
        return state.builds[scenario.path]
    except (ScenarioError, ValueError) as error:
        state.builds[scenario.path] = f"{scenario.path}: cannot render: {error}"
        return state.builds[scenario.path]
    timeout = build_timeout(config, scenario)
    progress = Progress(
        _stderr_writer(config),
        _label(config, scenario),
        tuple(expectation.id for expectation in scenario.expectations),
    )
    progress.say(f"nix build of the {target.describe()}, timeout {timeout} s")
    attempts = build_with_reruns(
        target,
        timeout=timeout,
        reruns=config.getoption("nixos_nspawn_reruns"),
        on_line=progress.feed,
        say=progress.say,
    )
    progress.say(f"{attempts.last.status()}; log: {attempts.last.log_path}")
    now = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    ids = [expectation.id for expectation in scenario.expectations]
    history.append(root, attempts.records(scenario.name, ids, now))
    state.builds[scenario.path] = attempts
    return attempts


FLAKY_PROPERTY = "flaky"
"""The user property (a JUnit ``<property>``) of an expectation that failed, then passed in a
rerun; its value tells each attempt's outcome and log."""


def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    """A flaky expectation is no plain pass: its own category (``1 flaky`` in the summary line),
    ``K`` in the progress, ``FLAKY`` with ``-v``."""
    if report.when == "call" and report.passed and _flaky(report):
        return "flaky", "K", "FLAKY"
    return None


def _flaky(report: pytest.TestReport) -> str | None:
    for name, value in report.user_properties:
        if name == FLAKY_PROPERTY:
            return str(value)
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """List each flaky expectation with its attempts."""
    reports: list[pytest.TestReport] = terminalreporter.stats.get("flaky", [])
    if not reports:
        return
    terminalreporter.section("flaky expectations (failed, then passed in a rerun)", yellow=True)
    for report in reports:
        terminalreporter.write_line(f"FLAKY {report.nodeid}")
        for line in (_flaky(report) or "").splitlines():
            terminalreporter.write_line(f"  {line}")
