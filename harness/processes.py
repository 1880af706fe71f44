"""Running one long external command (``nix build``) with a deadline, a log and no leftovers.

Why not ``subprocess.run(timeout=...)``: it kills only the direct child. ``nix build`` forks
builders that call ``setsid()`` (they leave nix's process group), and those start QEMU. So the
command runs in a session of its own, and on a timeout or a KeyboardInterrupt the whole tree is
signalled: the process group *and* every descendant found by walking ``/proc`` (taken before the
signal, since orphans get reparented and can no longer be found from the root). ``SIGTERM``
first — nix then stops its builders itself — and ``SIGKILL`` for whatever is left after a grace
period.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

KILL_GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class ProcessOutcome:
    """How a command ended. ``returncode`` is None when it was killed for the deadline."""

    argv: tuple[str, ...]
    returncode: int | None
    timed_out: bool
    stdout: tuple[str, ...]
    seconds: float


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


def _state(pid: int) -> str | None:
    """The one-letter process state (R, S, T, Z, ...), None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _send(pids: set[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def freeze(pid: int) -> set[int]:
    """Stop ``pid`` and its whole tree with SIGSTOP, so that nothing can fork any more.

    Walks again until a walk finds no new process and every process found has really stopped:
    a process that was forking when its SIGSTOP came shows its child in the next walk.
    """
    frozen: set[int] = set()
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while True:
        new = ({pid} | descendants(pid)) - frozen
        if not new:
            running = {p for p in frozen if _state(p) not in (None, "T", "t", "Z", "X")}
            if not running or time.monotonic() > deadline:
                return frozen
            time.sleep(0.01)
            continue
        _send(new, signal.SIGSTOP)
        frozen |= new


def kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """Stop ``proc``, its process group and all its descendants; reap ``proc``.

    The tree is frozen first and every member remembered, because a member that loses its
    parent is reparented and can no longer be found from ``proc``. Then SIGTERM (nix stops its
    builds on it), and SIGKILL for whatever is left after the grace period.
    """
    tree = freeze(proc.pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    _send(tree, signal.SIGTERM)
    _send(tree, signal.SIGCONT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_GRACE_SECONDS)
    if proc.poll() is None:
        tree |= freeze(proc.pid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    _send(tree, signal.SIGKILL)
    proc.wait()
    _wait_gone(tree)


def _wait_gone(pids: set[int]) -> None:
    """Return once every process has died (a zombie is dead), so none outlives the caller."""
    deadline = time.monotonic() + KILL_GRACE_SECONDS
    while time.monotonic() < deadline:
        if all(_state(pid) in (None, "Z", "X") for pid in pids):
            return
        time.sleep(0.01)


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
    re-raised.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    deadline = started + timeout
    stdout_lines: list[str] = []
    with open(log_path, "w", encoding="utf-8") as log:
        _write_log(log, f"# {shlex.join(argv)}\n# cwd: {cwd}\n# timeout: {timeout:g} s\n")
        proc = subprocess.Popen(
            list(argv),
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
            if timed_out:
                kill_tree(proc)
        except BaseException:
            kill_tree(proc)
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
