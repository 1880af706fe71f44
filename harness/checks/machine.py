"""What the checks need from the machine they run on, and from the clock.

The checks are driven by the NixOS test driver (``host`` in a testScript is its ``Machine``) and,
in the runtime test tier, by :class:`support.vm.console.ConsoleMachine` on a Debian VM. The
checks call exactly one method of it, :meth:`Machine.execute` (always with a timeout): it is the
one method that returns the exit status *and* the output, which is what a failure message must
show. The protocol declares that method alone, as the checks call it: the command and a
keyword ``timeout``, which the driver's own signature
(``nixos/lib/test-driver/src/test_driver/machine/__init__.py``) accepts.

The ``reboot`` step alone needs two more of the driver's documented methods, ``shutdown()`` and
``start()`` (:class:`PowerCycled`); it asks the machine whether it has them.
"""

import time
from typing import Protocol, runtime_checkable


class Machine(Protocol):
    """The part of the NixOS test driver's ``Machine`` API that the checks call."""

    def execute(self, command: str, *, timeout: int) -> tuple[int, str]: ...


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
