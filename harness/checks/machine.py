"""What the checks need from the machine they run on, and from the clock.

The checks are driven by the NixOS test driver (``host`` in a testScript is its ``Machine``) and,
in the runtime test tier, by :class:`harness.vm.console.ConsoleMachine` on a Debian VM. The
checks call exactly one method of it, :meth:`Machine.execute` (always with a timeout): it is the
one method that returns the exit status *and* the output, which is what a failure message must
show. The protocol declares that method alone, as the checks call it: the command and a
keyword ``timeout``, which the driver's own signature
(``nixos/lib/test-driver/src/test_driver/machine/__init__.py``) accepts.
"""

import time
from typing import Protocol


class Machine(Protocol):
    """The part of the NixOS test driver's ``Machine`` API that the checks call."""

    def execute(self, command: str, *, timeout: int) -> tuple[int, str]: ...


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
