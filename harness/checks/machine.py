"""What the checks need from the machine they run on, and from the clock.

The checks are driven by the NixOS test driver (``host`` in a testScript is its ``Machine``) and,
in the runtime test tier, by :class:`support.vm.console.ConsoleMachine` on a Debian VM. The
checks call exactly one method of it, :meth:`Machine.execute` (always with a timeout): it is the
one method that returns the exit status *and* the output, which is what a failure message must
show. The protocol declares that method alone, as the checks call it: the command and a
keyword ``timeout``, which the driver's own signature
(``nixos/lib/test-driver/src/test_driver/machine/__init__.py``) accepts.

The driver's timeouts changed type: nixpkgs' driver types them as ``int`` in the releases the
module supports up to 26.05, and as ``Duration`` (``datetime.timedelta | int | float``) since
nixpkgs PR #542374 (merged into nixos-unstable in July 2026), warning when a bare number is
passed. :func:`timed_execute` passes each driver what its ``execute`` signature asks for.

The ``reboot`` step alone needs two more of the driver's documented methods, ``shutdown()`` and
``start()`` (:class:`PowerCycled`); it asks the machine whether it has them.
"""

import inspect
import time
from datetime import timedelta
from functools import cache
from typing import Protocol, cast, runtime_checkable


class Machine(Protocol):
    """The part of the NixOS test driver's ``Machine`` API that the checks call."""

    def execute(self, command: str, *, timeout: int) -> tuple[int, str]: ...


class DurationMachine(Protocol):
    """A machine whose ``execute`` takes its timeout as a ``timedelta`` (the current driver)."""

    def execute(self, command: str, *, timeout: timedelta) -> tuple[int, str]: ...


@cache
def takes_timedelta(kind: type[Machine]) -> bool:
    """Whether the ``execute`` of machines of class ``kind`` types its timeout as a duration
    (its annotation names ``timedelta`` or ``Duration``), read from its signature: the
    annotation is an object, or a string under ``from __future__ import annotations``."""
    try:
        parameter = inspect.signature(kind.execute).parameters.get("timeout")
    except (AttributeError, TypeError, ValueError):
        return False
    if parameter is None or parameter.annotation is inspect.Parameter.empty:
        return False
    annotation = parameter.annotation
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return "timedelta" in text or "Duration" in text


def timed_execute(machine: Machine, command: str, seconds: int) -> tuple[int, str]:
    """``machine.execute(command)`` with a timeout of ``seconds``, typed as the machine's
    ``execute`` takes it."""
    if takes_timedelta(type(machine)):
        return cast(DurationMachine, machine).execute(command, timeout=timedelta(seconds=seconds))
    return machine.execute(command, timeout=seconds)


@runtime_checkable
class PowerCycled(Protocol):
    """A machine that can be powered off and on, as the driver's ``Machine`` can:
    ``shutdown()`` powers the VM off cleanly (``poweroff`` over the backdoor shell) and waits
    until QEMU has exited; ``start()`` boots it again from its disk, without waiting (the next
    ``execute`` waits for the backdoor shell). The driver's ``reboot()`` is not used: it presses
    Ctrl-Alt-Del, and a VM started without ``allow_reboot`` (as ``start_all()`` and ``start()``
    start it) runs under ``-no-reboot``, so QEMU would exit instead."""

    def shutdown(self) -> None: ...

    def start(self) -> None: ...


class Clock(Protocol):
    """Time source for polling; injected so that unit tests can run timeouts instantly."""

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock (the default of :class:`harness.checks.Session`)."""

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)
