"""``pytest --interactive NAME[::EXPECTATION]``: a scenario's VM, kept for hands-on debugging.

The scenario's ``driverInteractive`` is built and its ``nixos-test-driver`` started under pexpect.
Once the driver's REPL prompt appears, the testScript runs up to (not including) the top-level
statement that checks the chosen expectation — by default the first expectation that failed or
recorded nothing in the scenario's last run, or the whole script when the last run passed or
there was none — and the terminal is handed to the user, with ``host``, ``session`` and every
other testScript name defined.

The cut is made inside the driver, on the very script it runs (``driver.tests``), by a small
prelude file: it parses the script with :mod:`ast` and finds the statement that mentions the
expectation's id as a string constant, so it does not depend on how the script is formatted.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pexpect

from harness.escape import py_string
from harness.progress import Progress
from harness.render import generated_path, render_scenario
from harness.results import ExpectationResult, results_from_file
from harness.runner import (
    STATE_DIR,
    NixOptions,
    build_driver_interactive,
    last_results_path,
    out_path,
    plan_target,
)
from harness.scenario import Scenario

_ANSI = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"


def prompt(number: int | None = None) -> re.Pattern[bytes]:
    """The REPL prompt ``In [n]: `` (any n when None), as pexpect sees it.

    ptpython's IPython-style prompt; tolerant of the colour codes prompt_toolkit puts in it.
    """
    digits = r"\d+" if number is None else str(number)
    return re.compile(rf"In {_ANSI}\[{_ANSI}(?P<n>{digits}){_ANSI}\]{_ANSI}: ".encode())


BOOT_TIMEOUT_SECONDS = 300.0
EXIT_GRACE_SECONDS = 10.0

_PRELUDE = '''\
"""Run a scenario's testScript up to an expectation (written by the nixos-nspawn pytest plugin)."""

_scenario = {name}
_stop = {stop}


def _nixos_nspawn_prefix(script, stop):
    # A function: the REPL runs this file with separate globals and locals, where a nested
    # scope (the generator below) could not see names bound at the top level.
    import ast

    tree = ast.parse(script)
    body = []
    for statement in tree.body:
        if stop is not None and any(
            isinstance(node, ast.Constant) and node.value == stop for node in ast.walk(statement)
        ):
            break
        body.append(statement)
    return ast.Module(body=body, type_ignores=[]), len(body), len(tree.body)


_code, _count, _total = _nixos_nspawn_prefix(driver.tests, _stop)
print(f"nixos-nspawn: {{_scenario}}: running {{_count}} of {{_total}} testScript statements")
exec(compile(_code, "testScript", "exec"), globals())
'''


@dataclass(frozen=True)
class Stop:
    """Where the script stops: before ``expectation``, or nowhere (None), and why."""

    expectation: str | None
    reason: str


def choose_stop(
    expectation_ids: tuple[str, ...],
    last_results: Mapping[str, ExpectationResult],
    requested: str | None,
) -> Stop:
    """The expectation to stop before (see the module doc)."""
    if requested is not None:
        return Stop(requested, "as requested")
    if not last_results:
        return Stop(None, "no recorded run: running the whole script")
    for expectation in expectation_ids:
        result = last_results.get(expectation)
        if result is None:
            return Stop(expectation, "it recorded no result in the last run")
        if not result.ok:
            return Stop(expectation, "it failed in the last run")
    return Stop(None, "every expectation passed in the last run: running the whole script")


def write_prelude(path: Path, scenario: str, stop: Stop) -> Path:
    """The prelude file the REPL executes; every value goes in as a Python literal."""
    path.parent.mkdir(parents=True, exist_ok=True)
    stop_literal = "None" if stop.expectation is None else py_string(stop.expectation)
    path.write_text(
        _PRELUDE.format(name=py_string(scenario), stop=stop_literal), encoding="utf-8"
    )
    return path


class DriverError(Exception):
    """The driver did not get to (or back to) its REPL prompt."""


def hand_over(child: pexpect.spawn[bytes]) -> None:
    """Give the terminal to the user until the driver exits."""
    child.interact()


def run_driver(
    driver: Path,
    prelude: Path,
    *,
    cwd: Path,
    timeout: float,
    interact: Callable[[pexpect.spawn[bytes]], None] = hand_over,
) -> int:
    """Start ``driver`` (``nixos-test-driver`` of driverInteractive), run the prelude, hand over.

    Returns the driver's exit status (after the user leaves the REPL).
    """
    child: pexpect.spawn[bytes] = pexpect.spawn(
        str(driver), cwd=str(cwd), timeout=BOOT_TIMEOUT_SECONDS
    )
    child.logfile_read = sys.stdout.buffer
    try:
        try:
            child.expect(prompt())
            assert isinstance(child.match, re.Match)  # expect() returned: a pattern matched
            number = int(child.match.group("n"))
            child.sendline(f"exec(open({py_string(str(prelude))}).read())")
            # The next number: the REPL may redraw the current prompt while echoing the input.
            child.expect(prompt(number + 1), timeout=timeout)
        except pexpect.EOF as error:
            raise DriverError(f"{driver} exited before its REPL was ready") from error
        except pexpect.TIMEOUT as error:
            raise DriverError(f"{driver} showed no `In [n]: ` prompt in time") from error
        child.logfile_read = None
        sys.stdout.write(
            "\nnixos-nspawn: the VM is yours; `session`, `host` and the testScript's names are "
            "defined. Leave with Ctrl-D.\n"
        )
        sys.stdout.flush()
        interact(child)
        # interact() returns when the driver closed its terminal; let it finish exiting.
        child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=EXIT_GRACE_SECONDS)
    finally:
        child.close(force=True)
    return child.exitstatus if child.exitstatus is not None else 1


def debug_scenario(
    scenario: Scenario,
    flake_root: Path,
    system: str,
    *,
    timeout: float,
    requested: str | None,
    say: Callable[[str], None],
    interact: Callable[[pexpect.spawn[bytes]], None] = hand_over,
    nix_options: NixOptions = (),
) -> int:
    """Build the driver, start it and hand it over; the exit status for pytest."""
    ids = tuple(expectation.id for expectation in scenario.expectations)
    if requested is not None and requested not in ids:
        say(f"{scenario.path}: no expectation {requested!r}; expectations: {', '.join(ids)}\n")
        return 4
    target = plan_target(
        flake_root, system, scenario.name, render_scenario(scenario),
        generated_path(flake_root, scenario),
        nix_options,
    )
    progress = Progress(say, scenario.name, ids)
    progress.say(f"nix build of the {target.describe()}'s driverInteractive")
    process, log = build_driver_interactive(target, timeout=timeout, on_line=progress.feed)
    out = out_path(process)
    if out is None:
        progress.say(f"building driverInteractive failed; log: {log}")
        return 1
    stop = choose_stop(
        ids, results_from_file(last_results_path(flake_root, scenario.name)), requested
    )
    where = "the whole script" if stop.expectation is None else f"up to {stop.expectation}"
    progress.say(f"running {where} ({stop.reason})")
    prelude = write_prelude(
        flake_root / STATE_DIR / "interactive" / f"{scenario.name}.py", scenario.name, stop
    )
    try:
        return run_driver(
            out / "bin" / "nixos-test-driver", prelude, cwd=prelude.parent, timeout=timeout,
            interact=interact,
        )
    except DriverError as error:
        progress.say(str(error))
        return 1
