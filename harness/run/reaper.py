"""The reaper: runs one command and sees to it that nothing the command started outlives it.

``python -I harness/run/reaper.py --parent PID --grace SECONDS [--pid-file PATH] -- COMMAND
[ARG...]`` is how :mod:`harness.run.processes` runs ``nix build`` and
:mod:`harness.run.interactive` runs the test driver (with ``--pid-file``: the reaper writes the
command's PID there once it runs, so that a Ctrl-C can be delivered to the driver alone).
Nothing else: a user never calls it. The command inherits the reaper's stdin, stdout, stderr,
working directory and environment; the reaper exits with the command's status (its exit code, or
its signal raised again).

The reaper stops the command's whole tree (see :func:`stop_tree`: SIGTERM to every descendant,
SIGKILL for whatever is left after the grace period) when

* it gets SIGTERM or SIGHUP — what the runner sends on a timeout or a Ctrl-C, and what a closed
  terminal sends; a second one during the grace period skips the rest of it;
* the process that started it dies, however it dies (``kill -9`` of pytest included);
* the command exits by itself, for whatever it left behind.

Why a process of its own, and why this way:

* ``PR_SET_CHILD_SUBREAPER``: every process below the reaper that loses its parent is reparented
  to the reaper instead of to init — nix's builders (which call ``setsid()``), a daemon that
  double-forked (fork, ``setsid()``, fork, exit). So the reaper's descendants are exactly what the
  command started, found by walking ``/proc``, and "no child left" (``waitpid`` fails with
  ``ECHILD``) proves that nothing is left. Walking ``/proc`` from the command alone (what the
  runner did before) misses every orphan; killing the process group misses every ``setsid()``.
* ``PR_SET_PDEATHSIG``: the kernel itself sends the reaper SIGTERM when its parent dies. Nothing in
  a dead pytest can clean up, so the cleaner must be another process, and this is the one
  notification that even ``kill -9`` cannot skip. (It fires when the parent *thread* ends: the
  runner starts the reaper from the thread that then waits for it.)
* Not a cgroup (a transient systemd scope): that would catch everything as well, but needs a
  systemd user manager with delegation, which containers, CI runners and ``sudo`` sessions
  often lack; two ``prctl`` calls work for every Linux user.
* SIGINT and SIGQUIT belong to the command: the interactive driver shares the reaper's terminal
  and process group, and a SIGINT meant for the driver must not stop the reaper. The reaper
  catches them with a handler that does nothing (an *ignored* signal would be inherited).
* Standard library only, started with ``-I`` by path: it must not depend on how pytest found
  the harness, nor on the caller's ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import resource
import select
import signal
import sys
import time
from types import FrameType
from typing import NoReturn

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
KILL_POLL_SECONDS = 0.05


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    unused = ctypes.c_ulong(0)
    if libc.prctl(option, ctypes.c_ulong(value), unused, unused, unused) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl({option}): {os.strerror(error)}")


def _parent_map() -> dict[int, int]:
    """pid → ppid of every process visible in /proc."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as stat:
                text = stat.read()
        except OSError:
            continue
        # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
        fields = text[text.rfind(")") + 2 :].split()
        if len(fields) > 1 and fields[1].isdigit():
            parents[int(entry)] = int(fields[1])
    return parents


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` in the process tree, whatever session it moved to."""
    children: dict[int, list[int]] = {}
    for child, parent in _parent_map().items():
        children.setdefault(parent, []).append(child)
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class Reaper:
    """The reaper's state: its signals, as a wake-up pipe plus counters, and the command."""

    def __init__(self) -> None:
        self.stop_requests = 0
        self.command: int | None = None
        self.status: int | None = None  # the command's, as subprocess reports it
        self._wakeup, wakeup_write = os.pipe()
        for end in (self._wakeup, wakeup_write):
            os.set_blocking(end, False)
        signal.set_wakeup_fd(wakeup_write, warn_on_full_buffer=False)
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._request_stop)
        # SIGINT and SIGQUIT are the command's (module doc); SIGCHLD only has to wake us up.
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGCHLD):
            signal.signal(sig, _ignore)

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requests += 1

    def sleep(self, timeout: float | None) -> None:
        """Wait until a signal arrives or ``timeout`` passes."""
        select.select([self._wakeup], [], [], timeout)
        with contextlib.suppress(BlockingIOError):
            while os.read(self._wakeup, 4096):
                pass

    def reap(self) -> bool:
        """Collect every child that has ended; False once no child is left at all."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return False
            if pid == 0:
                return True
            if pid == self.command:
                self.status = os.waitstatus_to_exitcode(status)

    def signal_all(self, sig: signal.Signals) -> None:
        for pid in descendants(os.getpid()):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def stop_tree(self, grace: float) -> None:
        """SIGTERM to every descendant (nix stops its builds on it); after ``grace`` seconds, or
        at a stop request made meanwhile, SIGKILL until no process is left."""
        asked = self.stop_requests
        self.signal_all(signal.SIGTERM)
        self.signal_all(signal.SIGCONT)  # a stopped process acts on SIGTERM only once continued
        deadline = time.monotonic() + grace
        while self.reap():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.stop_requests > asked:
                break
            self.sleep(remaining)
        while self.reap():
            self.signal_all(signal.SIGKILL)
            self.sleep(KILL_POLL_SECONDS)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """A handler that does nothing (unlike SIG_IGN, it is reset for the command by exec)."""


def _exit_like(status: int | None) -> NoReturn:
    """Exit with the command's status: its exit code, or the signal that ended it."""
    if status is None:
        sys.exit(1)
    if status >= 0:
        sys.exit(status)
    signal.signal(-status, signal.SIG_DFL)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the command's core dump, not the reaper's
    os.kill(os.getpid(), -status)
    sys.exit(128 - status)  # a signal whose default action is not to end the process


def _write_pid(path: str, pid: int) -> None:
    """Write ``pid`` to ``path`` whole: a reader sees no file or the complete number."""
    partial = f"{path}.partial"
    with open(partial, "w", encoding="utf-8") as file:
        file.write(f"{pid}\n")
    os.replace(partial, path)


def main(argv: list[str]) -> NoReturn:
    parser = argparse.ArgumentParser(prog="reaper", description="Run COMMAND; leave nothing.")
    parser.add_argument("--parent", type=int, required=True, help="pid of the starting process")
    parser.add_argument("--grace", type=float, required=True, help="seconds from SIGTERM to KILL")
    parser.add_argument("--pid-file", help="where to write the command's PID once it runs")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    reaper = Reaper()
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != args.parent or reaper.stop_requests:  # the parent died, or asks to stop
        sys.exit(1)
    try:
        reaper.command = os.posix_spawnp(args.command[0], args.command, os.environ)
    except OSError as error:
        print(f"reaper: cannot run {args.command[0]}: {error}", file=sys.stderr)
        sys.exit(127)
    if args.pid_file is not None:
        _write_pid(args.pid_file, reaper.command)
    while reaper.reap() and reaper.status is None and reaper.stop_requests == 0:
        reaper.sleep(None)
    reaper.stop_tree(args.grace)
    _exit_like(reaper.status)


if __name__ == "__main__":
    main(sys.argv[1:])
