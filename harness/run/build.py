"""Building a scenario's NixOS VM test with ``nix build`` and collecting its results.

Which derivation is built (see :func:`plan_target`):

* The scenario's generated file (``nix/tests/<name>.nix``, or in the settings' ``tests-dir``)
  is tracked by git and identical to a fresh rendering, and so is every file the scenario
  ``imports``: build the flake's own check (``checks-attr``, ``.#checks.<system>.<name>`` by
  default). This is exactly what ``nix build .#checks`` and CI build.
* Otherwise (a new, untracked scenario, a scenario edited since it was last rendered, or one
  importing a file git does not track yet): a git flake only sees tracked files, so the fresh
  rendering is written to ``.nixos-nspawn/rendered/<name>.nix`` and built with ``--impure
  --expr`` through nixos-nspawn's ``lib.mkScenarioTest``: the flake itself when the settings'
  ``input`` is ``self`` (this repository), else the flake's input of that name. Its paths are
  relative to the rendering's place, so they read the working tree (untracked files
  included); ``pkgs`` is the flake's own ``nixpkgs`` input when it has one (the user's pin),
  else nixos-nspawn's; the user's ``nixosModules`` come from the flake. The host module and
  the checks package come from the flakes, so uncommitted edits of tracked files are honoured
  as in any dirty git flake.

Every nix call passes ``--extra-experimental-features "nix-command flakes"`` so that it works
with a stock Nix configuration, where both features are still off by default, and the user's
``--option NAME VALUE`` pairs (e.g. ``builders``, to build on other machines).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.checks.result import Result
from harness.checks.session import RESULTS_FILE
from harness.render.escape import nix_attr_name, nix_string
from harness.run.processes import ProcessOutcome, run_logged
from harness.run.results import (
    dump_results,
    expectations,
    records_from_file,
    records_from_log,
)
from harness.settings import SELF_INPUT, Settings

NIX_FEATURES = ("--extra-experimental-features", "nix-command flakes")
# --json, not --print-out-paths: the latter is missing from Nix 2.8 (Debian's nix-bin).
BUILD_FLAGS = ("--print-build-logs", "--no-link", "--json")
STATE_DIR = ".nixos-nspawn"
BUILD_MARGIN = 3600
"""Seconds a scenario's ``nix build`` may take on top of its test's ``globalTimeout``: the build
also evaluates and builds NixOS, the VM image and the checks package, which takes long on a
cold store; the test itself is bounded by its ``globalTimeout``."""


NixOptions = tuple[tuple[str, str], ...]
"""Settings for every nix call, as ``--option NAME VALUE`` (see :func:`option_args`)."""


def option_args(options: NixOptions) -> tuple[str, ...]:
    """``--option NAME VALUE`` for each setting, in order (a later one wins in Nix)."""
    return tuple(arg for name, value in options for arg in ("--option", name, value))


def current_system() -> str:
    """The Nix system double of this machine (``x86_64-linux``, ``aarch64-linux``)."""
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    return f"{machine}-{platform.system().lower()}"


@dataclass(frozen=True)
class NixTarget:
    """The test derivation of one scenario, as an installable of ``nix build``."""

    flake_root: Path
    system: str
    name: str
    rendered: Path | None  # None: the flake's committed check (``attr``)
    flake_url: str = ""  # how --expr names the flake (see flake_url()); unused without it
    nix_options: NixOptions = ()
    attr: str = ""  # the committed check's flake attribute; default: checks.<system>.<name>
    input: str = SELF_INPUT  # the flake input that is nixos-nspawn (harness.settings)
    untracked: tuple[str, ...] = ()  # imported files git does not track (why it is fresh)

    @property
    def check_attr(self) -> str:
        return self.attr or Settings(self.flake_root).check_attr(self.system, self.name)

    def installable(self, output_attr: str = "") -> tuple[str, ...]:
        """Installable arguments; ``output_attr`` selects an attribute such as driverInteractive."""
        suffix = f".{output_attr}" if output_attr else ""
        if self.rendered is None:
            return (f".#{self.check_attr}{suffix}",)
        return ("--impure", "--expr", f"({self.expression()}){suffix}")

    def expression(self) -> str:
        """The fresh rendering's test through nixos-nspawn's ``lib.mkScenarioTest``."""
        assert self.rendered is not None
        if self.input == SELF_INPUT:
            nixos_nspawn = "flake"
        else:
            missing = (
                f"the flake {self.flake_url} has no input {self.input!r}: name nixos-nspawn's "
                "input in pyproject.toml, [tool.nixos-nspawn] input"
            )
            nixos_nspawn = (
                f"flake.inputs.{nix_attr_name(self.input)} or (throw {nix_string(missing)})"
            )
        return (
            f"let flake = builtins.getFlake {nix_string(self.flake_url)}; "
            f"nn = {nixos_nspawn}; in "
            "nn.lib.mkScenarioTest { "
            "pkgs = (flake.inputs.nixpkgs or nn.inputs.nixpkgs).legacyPackages."
            f"{nix_attr_name(self.system)}; "
            f"file = /. + {nix_string(str(self.rendered))}; "
            "modules = flake.nixosModules or { }; }"
        )

    def build_argv(self, output_attr: str = "") -> tuple[str, ...]:
        """The exact ``nix build`` command line (run in ``flake_root``)."""
        return (
            "nix",
            *NIX_FEATURES,
            *option_args(self.nix_options),
            "build",
            *BUILD_FLAGS,
            *self.installable(output_attr),
        )

    def describe(self) -> str:
        if self.rendered is None:
            return f"flake check {self.check_attr}"
        if self.untracked:
            return (
                f"freshly rendered {self.rendered.name}, from the working tree: it imports "
                f"files git does not track ({', '.join(self.untracked)}), which the flake's "
                "own checks cannot see: `git add` them"
            )
        return f"freshly rendered {self.rendered.name} (not committed or stale)"


def _git_toplevel(root: Path) -> Path | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None
    return Path(result.stdout.strip()) if result.returncode == 0 else None


def flake_url(root: Path) -> str:
    """The flake reference ``builtins.getFlake`` needs for the checkout at ``root``.

    A bare path means a ``path:`` flake there (at least up to Nix 2.8), which copies untracked
    files, ``.venv`` included, into the store; ``.#`` on the command line detects git. So a git
    work tree is named ``git+file://`` explicitly.
    """
    toplevel = _git_toplevel(root)
    url_path = urllib.parse.quote(str(root))
    if toplevel is not None and toplevel.resolve() == root.resolve():
        return f"git+file://{url_path}"
    return f"path:{url_path}"


def _tracked_by_git(root: Path, path: Path) -> bool:
    try:
        result = subprocess.run(
            ["git", "ls-files", "--error-unmatch", "--", str(path.relative_to(root))],
            cwd=root,
            capture_output=True,
            check=False,
        )
    except (OSError, ValueError):
        return False
    return result.returncode == 0


def plan_target(
    settings: Settings,
    system: str,
    name: str,
    render: Callable[[Path], str],
    nix_options: NixOptions = (),
    imports: Sequence[Path] = (),
) -> NixTarget:
    """Build the committed check when it is current, else the fresh rendering (module doc).

    ``render`` gives the scenario's generated test for a place (its imported paths are
    relative to it); ``imports`` are the files the scenario imports."""
    root = settings.root
    generated = settings.generated_path(name)
    try:
        committed = generated.read_text(encoding="utf-8")
    except OSError:
        committed = None
    untracked = tuple(
        os.path.relpath(path, root) for path in imports if not _tracked_by_git(root, path)
    )
    if committed == render(generated) and _tracked_by_git(root, generated) and not untracked:
        attr = settings.check_attr(system, name)
        return NixTarget(root, system, name, None, nix_options=nix_options, attr=attr)
    target = root / STATE_DIR / "rendered" / f"{name}.nix"
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_name(f".{target.name}.{os.getpid()}")
    scratch.write_text(render(target), encoding="utf-8")
    scratch.replace(target)
    return NixTarget(
        root,
        system,
        name,
        target,
        flake_url(root),
        nix_options,
        input=settings.input,
        untracked=untracked,
    )


def log_path(flake_root: Path, name: str, kind: str = "build") -> Path:
    """Where the full log of a scenario's last ``kind`` run is kept."""
    suffix = "" if kind == "build" else f".{kind}"
    return flake_root / STATE_DIR / "logs" / f"{name}{suffix}.log"


def last_results_path(flake_root: Path, name: str) -> Path:
    """The results of a scenario's last run (what ``--interactive`` stops before)."""
    return flake_root / STATE_DIR / "results" / f"{name}.jsonl"


@dataclass(frozen=True)
class BuildOutcome:
    """One scenario's ``nix build``: how it ended and every result it recorded."""

    target: NixTarget
    process: ProcessOutcome
    timeout: float
    log_path: Path
    out_path: Path | None
    results: Mapping[str, Result]
    timeline: tuple[Result, ...] = ()
    """Every record of the run in the order written: expectations, steps, boots, starts."""

    @property
    def succeeded(self) -> bool:
        return self.process.returncode == 0

    def status(self) -> str:
        """One line on how the build ended, for failure messages."""
        if self.process.timed_out:
            return (
                f"nix build timed out after {self.timeout:g} s; its process tree was killed "
                "(raise the limit with --nixos-nspawn-timeout)"
            )
        if self.succeeded:
            return f"nix build succeeded in {self.process.seconds:.0f} s"
        return f"nix build failed with exit status {self.process.returncode}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def out_path(process: ProcessOutcome) -> Path | None:
    """The ``out`` path that ``nix build --json`` printed, when the build succeeded."""
    if process.returncode != 0:
        return None
    try:
        built = json.loads("\n".join(process.stdout))
        return Path(built[0]["outputs"]["out"])
    except (ValueError, LookupError, TypeError):
        return None


def build(
    target: NixTarget, *, timeout: float, on_line: Callable[[str], None], attempt: int = 1
) -> BuildOutcome:
    """Run the test build; results come from its output on success, else from its log. A
    rerun's (``attempt`` 2, 3, ...) log is kept next to the first's, as ``<name>.attempt-N.log``."""
    log = log_path(
        target.flake_root, target.name, "build" if attempt == 1 else f"attempt-{attempt}"
    )
    process = run_logged(
        target.build_argv(),
        cwd=target.flake_root,
        log_path=log,
        timeout=timeout,
        on_line=on_line,
    )
    out = out_path(process)
    records = records_from_file(out / RESULTS_FILE) if out is not None else []
    results = expectations(records, f"results file {RESULTS_FILE}")
    if not results:
        with open(log, encoding="utf-8", errors="replace") as lines:
            records = records_from_log(lines)
        results = expectations(records, "build log")
    dump_results(results, last_results_path(target.flake_root, target.name))
    return BuildOutcome(target, process, timeout, log, out, results, tuple(records))


def build_driver_interactive(
    target: NixTarget, *, timeout: float, on_line: Callable[[str], None]
) -> tuple[ProcessOutcome, Path]:
    """Build the test's ``driverInteractive``; returns the process outcome and its log."""
    log = log_path(target.flake_root, target.name, "interactive")
    process = run_logged(
        target.build_argv("driverInteractive"),
        cwd=target.flake_root,
        log_path=log,
        timeout=timeout,
        on_line=on_line,
    )
    return process, log
