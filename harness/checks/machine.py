"""What the checks need from the machine they run on, and from the clock.

The checks are driven by the NixOS test driver (``host`` in a testScript is its ``Machine``) and,
in the runtime test tier, by a pexpect wrapper around a Debian VM's serial console. Both only have
to provide the methods below, so they are spelled out as a :class:`typing.Protocol` with the
driver's own signatures (``nixos/lib/test-driver/src/test_driver/machine/__init__.py``).

The checks themselves only call :meth:`Machine.execute` (with a timeout): it is the one method
that returns the exit status *and* the output, which is what a failure message must show. The
other methods are part of the contract so that test scripts can use the same object freely.
"""

import time
from typing import Protocol


class Machine(Protocol):
    """The subset of the NixOS test driver's ``Machine`` API that the harness relies on."""

    def succeed(self, *commands: str, timeout: int | None = None) -> str: ...

    def fail(self, *commands: str, timeout: int | None = None) -> str: ...

    def execute(
        self,
        command: str,
        check_return: bool = True,
        check_output: bool = True,
        timeout: int | None = 900,
    ) -> tuple[int, str]: ...

    def wait_until_succeeds(self, command: str, timeout: int = 900) -> str: ...

    def wait_for_unit(self, unit: str, user: str | None = None, timeout: int = 900) -> None: ...

    def systemctl(self, q: str, user: str | None = None) -> tuple[int, str]: ...


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
