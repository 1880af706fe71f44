"""Running one long external command (``nix build``) with a deadline, a log and no leftovers.

Why not ``subprocess.run(timeout=...)``: it kills only the direct child. ``nix build`` forks
builders that call ``setsid()`` (they leave nix's process group), and those start QEMU; a
process that double-forks is reparented to init and cannot even be found from nix any more; and
when pytest itself is killed (``kill -9``), nothing in it can clean up. So the command runs under
:mod:`harness.run.reaper` (its module doc says why that design): a small process of its own, in a
session of its own (no terminal's Ctrl-C reaches the tree directly), which every orphan below it
is reparented to and which the kernel signals when pytest dies. On a timeout or a
KeyboardInterrupt the runner asks the reaper to stop (SIGTERM): ``SIGTERM`` to the whole tree
first — nix then stops its builders itself — and ``SIGKILL`` for whatever is left after the
grace period (at once on a second Ctrl-C). Whatever the command leaves behind when it exits by
itself is killed the same way.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO

KILL_GRACE_SECONDS = 5.0
REAPER = Path(__file__).with_name("reaper.py")


@dataclass(frozen=True)
class ProcessOutcome:
    """How a command ended. ``returncode`` is None when it was killed for the deadline."""

    argv: tuple[str, ...]
    returncode: int | None
    timed_out: bool
    stdout: tuple[str, ...]
    seconds: float


def reaped(argv: Sequence[str], pid_file: Path | None = None) -> list[str]:
    """The command line that runs ``argv`` under :mod:`harness.run.reaper`, started from here
    (with ``pid_file``: the reaper writes the PID of ``argv``'s process there)."""
    options = [] if pid_file is None else ["--pid-file", str(pid_file)]
    return [
        sys.executable,
        "-I",
        str(REAPER),
        "--parent",
        str(os.getpid()),
        "--grace",
        f"{KILL_GRACE_SECONDS:g}",
        *options,
        "--",
        *argv,
    ]


def stop(send_signal: Callable[[int], object], wait: Callable[[], object]) -> bool:
    """Have a reaper stop its command's tree and wait until it has; True when Ctrl-C came meanwhile.

    ``send_signal`` signals the reaper (a no-op once it has ended), ``wait`` returns once it has
    ended. The reaper bounds the wait (its grace period). A Ctrl-C meanwhile raises nothing: it
    asks the reaper again, which then kills at once, and the caller learns of it.
    """
    interrupted = False

    def hurry(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupted
        interrupted = True
        send_signal(signal.SIGTERM)

    with _on_sigint(hurry):
        send_signal(signal.SIGTERM)
        wait()
    return interrupted


@contextlib.contextmanager
def _on_sigint(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():  # only it may set handlers
        yield
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def _write_log(log: IO[str], text: str) -> None:
    log.write(text)
    log.flush()


def run_logged(
    argv: Sequence[str],
    *,
    cwd: Path,
    log_path: Path,
    timeout: float,
    on_line: Callable[[str], None],
) -> ProcessOutcome:
    """Run ``argv``; every output line goes to ``log_path`` and to ``on_line`` as it arrives.

    stderr (nix's build log) and stdout (the out paths) are both logged; stdout lines are also
    returned. A KeyboardInterrupt (or any exception from ``on_line``) kills the tree and is
    re-raised; a Ctrl-C while the tree is being killed for the deadline raises one too.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    deadline = started + timeout
    stdout_lines: list[str] = []
    with open(log_path, "w", encoding="utf-8") as log:
        _write_log(log, f"# {shlex.join(argv)}\n# cwd: {cwd}\n# timeout: {timeout:g} s\n")
        proc = subprocess.Popen(
            reaped(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            timed_out = _pump(proc, log, deadline, on_line, stdout_lines)
            returncode: int | None = None
            if not timed_out:
                try:
                    returncode = proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
                except subprocess.TimeoutExpired:
                    timed_out = True
            if timed_out and stop(proc.send_signal, proc.wait):
                raise KeyboardInterrupt  # Ctrl-C during the grace period: the tree is gone
        except BaseException:
            stop(proc.send_signal, proc.wait)
            _write_log(log, "# interrupted: process tree killed\n")
            raise
        seconds = time.monotonic() - started
        if timed_out:
            _write_log(log, f"# timed out after {timeout:g} s: process tree killed\n")
        else:
            _write_log(log, f"# exit status {returncode} after {seconds:.1f} s\n")
    return ProcessOutcome(
        argv=tuple(argv),
        returncode=returncode,
        timed_out=timed_out,
        stdout=tuple(stdout_lines),
        seconds=seconds,
    )


def _pump(
    proc: subprocess.Popen[bytes],
    log: IO[str],
    deadline: float,
    on_line: Callable[[str], None],
    stdout_lines: list[str],
) -> bool:
    """Copy both pipes line by line until they close; True when the deadline passed first."""
    assert proc.stdout is not None
    assert proc.stderr is not None
    selector = selectors.DefaultSelector()
    pending = {proc.stdout.fileno(): b"", proc.stderr.fileno(): b""}
    is_stdout = {proc.stdout.fileno(): True, proc.stderr.fileno(): False}
    for stream in (proc.stdout, proc.stderr):
        selector.register(stream, selectors.EVENT_READ)

    def emit(fd: int, raw: bytes) -> None:
        line = raw.decode("utf-8", errors="replace")
        _write_log(log, line + "\n")
        if is_stdout[fd]:
            stdout_lines.append(line)
        on_line(line)

    try:
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            for key, _ in selector.select(timeout=remaining):
                fd = key.fd
                chunk = os.read(fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    if pending[fd]:
                        emit(fd, pending[fd])
                    continue
                *lines, pending[fd] = (pending[fd] + chunk).split(b"\n")
                for raw in lines:
                    emit(fd, raw)
        return False
    finally:
        selector.close()
