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

The driver embeds one of two REPLs (:data:`REPLS`), told apart by their prompts. nixpkgs' driver
(``nixos/lib/test-driver/src/test_driver/__init__.py``) calls
``ptpython.repl.embed(driver.test_symbols(), {}, history_filename=...)`` (prompt ``>>>``) in older
releases (e.g. at nixpkgs commit 00f4f345a8c4) and
``ptpython.ipython.embed(user_ns=driver.test_symbols(), history_filename=...)`` (``In [n]:``) in
current ones (every version with the debug hook and the vsock SSH backdoor). prompt_toolkit draws
either prompt with colour codes and cursor movements (``ESC[0;1m>>>ESC[0m``, then a cursor move
past the trailing space): :func:`prompt_pattern` allows control sequences between and after the
prompt's characters. The unit tests run the real ptpython, embedded both ways, in a pty. The
driver's run is kept clean of the user's IPython set-up and of prompt_toolkit's cursor position
requests (:func:`driver_environment`).

Signals. The reaper, the driver and every VM the driver starts (QEMU) share the terminal's
foreground process group, so a Ctrl-C written to the terminal while a command runs would stop the
VMs too. While the user holds the REPL, a Ctrl-C typed during a command is therefore delivered as
a SIGINT to the driver's process alone (its PID written by the reaper): the command gets a
KeyboardInterrupt, the REPL prompts again, the VMs run on. At the prompt, where prompt_toolkit
reads keys itself, Ctrl-C stays the key that clears the line (a SIGINT there would break
ptpython's input thread) (:class:`Terminal`). A prelude that outlives the timeout, a driver that
shows no REPL prompt in time, and a Ctrl-C typed before the hand-over (it reaches pytest, whose
terminal is not the driver's) end the same way: the driver is interrupted and the REPL (if it
prompts) left with ``exit()``, so that the driver's own cleanup (``Driver.__exit__``: VMs,
sockets in the state directory) runs; only what has not ended within the grace periods is stopped
by the reaper (SIGTERM, then SIGKILL). Keys typed while a command runs go to the terminal's line
discipline, not to ptpython: a Ctrl-D typed then is lost.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pexpect

from harness.catalogue import build_target
from harness.checks.result import Result
from harness.render.escape import py_string
from harness.run.build import (
    STATE_DIR,
    NixOptions,
    build_driver_interactive,
    last_results_path,
    out_path,
)
from harness.run.processes import reaped, stop
from harness.run.progress import Progress
from harness.run.results import results_from_file
from harness.scenario.model import Scenario

_CONTROL = rb"(?:\x1b\[[0-?]*[ -/]*[@-~])"
"""One terminal control sequence (ECMA-48 CSI: colours, cursor movements, modes)."""


def prompt_pattern(text: str) -> re.Pattern[bytes]:
    """``text`` as a REPL draws it: its characters with any control sequences between them, at
    the start of a line or after a control sequence, and ended by a space, a line end or a
    control sequence (prompt_toolkit moves the cursor past the prompt's trailing space instead
    of printing it). ``N`` stands for the input number."""
    gap = _CONTROL + b"*"
    parts = [rb"\d+" if char == "N" else re.escape(char.encode()) for char in text]
    return re.compile(rb"(?:^|[\r\n]|" + _CONTROL + rb")" + gap.join(parts) + gap + rb"[ \r\n]")


@dataclass(frozen=True)
class Repl:
    """A REPL the NixOS test driver embeds, known by its prompt."""

    name: str
    prompt: re.Pattern[bytes]


REPLS = (
    Repl("ptpython.ipython.embed (`In [n]: `, current nixpkgs)", prompt_pattern("In [N]:")),
    Repl("ptpython.repl.embed (`>>> `, older nixpkgs)", prompt_pattern(">>>")),
)

BOOT_TIMEOUT_SECONDS = 300.0
INTERRUPT_GRACE_SECONDS = 30.0
EXIT_GRACE_SECONDS = 10.0

PRELUDE_STARTED = "nixos-nspawn: prelude started"
"""The prelude's first output: what follows is its run, not the REPL echoing the input line."""

HAND_OVER = (
    "nixos-nspawn: the VM is yours; `session`, `host` and the testScript's names are defined. "
    "Ctrl-C interrupts a running command (the VMs keep running). "
    "Leave with Ctrl-D (ptpython asks to confirm) or exit()."
)

_PRELUDE = '''\
"""Run a scenario's testScript up to an expectation (written by the nixos-nspawn pytest plugin)."""

print({started})
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
# The hand-over notice comes before the REPL draws its prompt: after the script, or before the
# REPL shows its exception; not after an interrupt (the plugin then takes the driver down).
try:
    exec(compile(_code, "testScript", "exec"), globals())
except KeyboardInterrupt:
    raise
except BaseException:
    print({notice})
    raise
print({notice})
'''


@dataclass(frozen=True)
class Stop:
    """Where the script stops: before ``expectation``, or nowhere (None), and why."""

    expectation: str | None
    reason: str


def choose_stop(
    expectation_ids: tuple[str, ...],
    last_results: Mapping[str, Result],
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
    text = _PRELUDE.format(
        started=py_string(PRELUDE_STARTED),
        name=py_string(scenario),
        stop=stop_literal,
        notice=py_string(HAND_OVER),
    )
    path.write_text(text, encoding="utf-8")
    return path


class DriverError(Exception):
    """The driver did not get to (or back to) its REPL prompt."""


@dataclass(frozen=True)
class Terminal:
    """The driver's terminal, seen from here (pexpect's end of its pty), and the driver's PID.

    The driver runs in the terminal's foreground process group together with the reaper and
    every VM it starts: a Ctrl-C written to the terminal while a command runs would make the
    kernel send SIGINT to all of them, QEMU included. So a Ctrl-C goes to the terminal only while
    the REPL reads keys (prompt_toolkit has switched ISIG off: Ctrl-C is then a key that clears
    the line, and a SIGINT would break the REPL's input thread); otherwise, while a command runs,
    it becomes a SIGINT to the driver's process alone.
    """

    child: pexpect.spawn[bytes]
    pid_file: Path
    """Where the reaper wrote the driver's PID (``--pid-file``)."""

    def _interrupt_key(self) -> bytes | None:
        """The terminal's Ctrl-C character, None while it raises no signal (or is closed)."""
        try:
            attributes = termios.tcgetattr(self.child.child_fd)
        except termios.error:
            return None
        key = attributes[6][termios.VINTR]
        return key if isinstance(key, bytes) and attributes[3] & termios.ISIG else None

    def _signal_driver(self) -> None:
        try:
            pid = int(self.pid_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # the reaper has not started the driver
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)

    def interrupt(self) -> None:
        """Ctrl-C for the driver alone: SIGINT to its process while a command runs, the Ctrl-C
        key to its REPL while the REPL reads keys."""
        if self._interrupt_key() is None:
            self.child.sendcontrol("c")
        else:
            self._signal_driver()

    def filter_input(self, data: bytes) -> bytes:
        """What the user types, on its way to the driver: a Ctrl-C typed while a command runs
        becomes a SIGINT to the driver alone (see the class doc)."""
        key = self._interrupt_key()
        if key is None or key not in data:
            return data
        self._signal_driver()
        return data.replace(key, b"")


def hand_over(terminal: Terminal) -> None:
    """Give the terminal to the user until the driver exits (no escape character: every key,
    Ctrl-] included, is the REPL's)."""
    terminal.child.interact(escape_character=None, input_filter=terminal.filter_input)


def run_driver(
    driver: Path,
    prelude: Path,
    *,
    cwd: Path,
    timeout: float,
    interact: Callable[[pexpect.spawn[bytes]], None] | None = None,
) -> int:
    """Start ``driver`` (``nixos-test-driver`` of driverInteractive), run the prelude, hand over
    the terminal to the user (or to ``interact``, in tests).

    Returns the driver's exit status (after the user leaves the REPL). The driver and everything
    it starts (QEMU) end with this call, or with this process, however it ends.
    """
    with tempfile.TemporaryDirectory(prefix="nixos-nspawn-interactive-") as scratch:
        ipython_dir = Path(scratch) / "ipython"
        ipython_dir.mkdir()
        pid_file = Path(scratch) / "driver.pid"
        command = reaped([str(driver)], pid_file=pid_file)
        child: pexpect.spawn[bytes] = pexpect.spawn(
            command[0],
            command[1:],
            cwd=str(cwd),
            timeout=BOOT_TIMEOUT_SECONDS,
            env={**os.environ, **driver_environment(ipython_dir)},
        )
        terminal = Terminal(child, pid_file)
        child.logfile_read = sys.stdout.buffer
        try:
            repl = _wait_for_repl(terminal, driver)
            child.sendline(f"exec(open({py_string(str(prelude))}).read())")
            _run_prelude(terminal, driver, repl, timeout)
            child.logfile_read = None
            if interact is None:
                hand_over(terminal)
            else:
                interact(child)
            # interact() returns when the driver closed its terminal; let it finish exiting.
            child.expect([pexpect.EOF, pexpect.TIMEOUT], timeout=EXIT_GRACE_SECONDS)
        except KeyboardInterrupt:
            # Ctrl-C on pytest's own terminal (before the hand-over): the driver's cleanup first;
            # a second Ctrl-C meanwhile goes straight to the reaper's stop below.
            _stop(terminal, REPLS)
            raise
        finally:
            # The driver runs under harness.run.reaper, which QEMU and every other leftover cannot
            # outlive; close(force=True) alone would SIGKILL the reaper before it is done.
            stop(child.kill, lambda: child.expect(pexpect.EOF, timeout=None))
            child.close(force=True)
    return child.exitstatus if child.exitstatus is not None else 1


def driver_environment(ipython_dir: Path) -> dict[str, str]:
    """What the driver's environment gets on top of ours.

    ``IPYTHONDIR``: a fresh directory, so that IPython reads none of the user's set-up.
    ``PROMPT_TOOLKIT_NO_CPR``: prompt_toolkit asks the terminal for the cursor position
    (``ESC [ 6 n``) when it draws a prompt. Unanswered (nobody answers while this side reads the
    terminal), it waits 2 s, then warns that the terminal does not support it and goes on without
    it for the rest of the session; the user's terminal, shown the request, would answer into
    pytest's own input. Without the request it draws the same prompt at once.
    """
    return {"IPYTHONDIR": str(ipython_dir), "PROMPT_TOOLKIT_NO_CPR": "1"}


def _wait_for_repl(terminal: Terminal, driver: Path) -> Repl:
    """The REPL whose prompt the driver shows first; without one, the driver is stopped."""
    try:
        return REPLS[terminal.child.expect([repl.prompt for repl in REPLS])]
    except pexpect.EOF as error:
        raise DriverError(f"{driver} exited before its REPL was ready") from error
    except pexpect.TIMEOUT as error:
        _stop(terminal, REPLS)
        expected = " or ".join(repl.name for repl in REPLS)
        raise DriverError(
            f"{driver} showed no REPL prompt within {BOOT_TIMEOUT_SECONDS:g} s; expected the "
            f"prompt of {expected}"
        ) from error


def _run_prelude(terminal: Terminal, driver: Path, repl: Repl, timeout: float) -> None:
    """Wait until the prelude ran and ``repl`` prompts again; on timeout, stop the driver."""
    child = terminal.child
    deadline = time.monotonic() + timeout
    try:
        child.expect(re.escape(PRELUDE_STARTED.encode()), timeout=timeout)
    except pexpect.EOF as error:
        raise DriverError(f"{driver} exited before it ran the prelude") from error
    except pexpect.TIMEOUT as error:
        _stop(terminal, (repl,))
        raise DriverError(
            f"{repl.name} of {driver} did not start the prelude within {timeout:g} s"
        ) from error
    try:
        child.expect(repl.prompt, timeout=max(deadline - time.monotonic(), 0.0))
    except pexpect.EOF as error:
        raise DriverError(f"{driver} exited while the prelude ran") from error
    except pexpect.TIMEOUT as error:
        _stop(terminal, (repl,))
        raise DriverError(
            f"the prelude (the testScript up to the chosen expectation) was still running "
            f"after {timeout:g} s; the driver was interrupted and left its REPL "
            "(raise the limit with --nixos-nspawn-timeout)"
        ) from error


def _stop(terminal: Terminal, repls: tuple[Repl, ...]) -> None:
    """Interrupt the driver alone (:meth:`Terminal.interrupt`), then leave its REPL with
    ``exit()``, so that the driver's own cleanup (``Driver.__exit__``) stops its VMs; whatever
    does not answer in time is stopped by the caller (the reaper: SIGTERM, then SIGKILL)."""
    child = terminal.child
    with contextlib.suppress(pexpect.EOF, pexpect.TIMEOUT):
        terminal.interrupt()
        child.expect([repl.prompt for repl in repls], timeout=INTERRUPT_GRACE_SECONDS)
        child.sendline("exit()")
        child.expect(pexpect.EOF, timeout=EXIT_GRACE_SECONDS)


def debug_scenario(
    scenario: Scenario,
    flake_root: Path,
    system: str,
    *,
    timeout: float,
    requested: str | None,
    say: Callable[[str], None],
    interact: Callable[[pexpect.spawn[bytes]], None] | None = None,
    nix_options: NixOptions = (),
) -> int:
    """Build the driver, start it and hand it over; the exit status for pytest."""
    ids = tuple(expectation.id for expectation in scenario.expectations)
    if requested is not None and requested not in ids:
        say(f"{scenario.path}: no expectation {requested!r}; expectations: {', '.join(ids)}\n")
        return 4
    target = build_target(flake_root, scenario, system, nix_options)
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
            out / "bin" / "nixos-test-driver",
            prelude,
            cwd=prelude.parent,
            timeout=timeout,
            interact=interact,
        )
    except DriverError as error:
        progress.say(str(error))
        return 1
