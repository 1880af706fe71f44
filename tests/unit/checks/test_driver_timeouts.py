"""The checks pass each driver's ``execute`` the timeout type it takes (issue #28, class 7).

nixpkgs' driver up to 26.05 types ``execute(..., timeout: int | None = 900)`` and builds
``timeout {timeout}`` into the shell command, so a ``timedelta`` would break it; the current one
(PR #542374) types ``timeout: Duration | None`` and warns (``warnings.warn``) when a bare number
is passed. The stand-ins below repeat both signatures (the current one with its annotations as
objects and as strings) and their behaviour.
"""

from __future__ import annotations

import datetime as dt
import warnings

import pytest
from checks_fakes import WEB, FakeClock

from harness.checks import Session, Topology
from harness.checks.machine import takes_timedelta

Duration = dt.timedelta | int | float


class OldDriverMachine:
    """``execute`` as in the driver of nixpkgs 25.05 to 26.05."""

    def __init__(self) -> None:
        self.timeouts: list[object] = []

    def execute(
        self,
        command: str,
        check_return: bool = True,
        check_output: bool = True,
        timeout: int | None = 900,
    ) -> tuple[int, str]:
        if not isinstance(timeout, int):
            raise TypeError(f"timeout {timeout} is no number of seconds")
        self.timeouts.append(timeout)
        return 0, "running\n"


class CurrentDriverMachine:
    """``execute`` as in the current driver: a ``Duration``, bare numbers deprecated."""

    def __init__(self) -> None:
        self.timeouts: list[object] = []

    def execute(
        self,
        command: str,
        check_return: bool = True,
        check_output: bool = True,
        timeout: Duration | None = dt.timedelta(seconds=900),
    ) -> tuple[int, str]:
        if isinstance(timeout, int | float) and not isinstance(timeout, bool):
            warnings.warn(
                "execute(): passing a bare int/float as a duration is deprecated.", stacklevel=2
            )
        self.timeouts.append(timeout)
        return 0, "running\n"


class EvaluatedAnnotations(CurrentDriverMachine):
    """The current signature with its annotation evaluated (no ``from __future__``)."""

    def execute(self, command, check_return=True, check_output=True, timeout=None):  # type: ignore[no-untyped-def]
        return super().execute(command, check_return, check_output, timeout)

    execute.__annotations__["timeout"] = dt.timedelta | int | float | None


def _run(machine: object, tmp_path) -> None:
    clock = FakeClock()
    session = Session(machine, Topology((WEB,)), str(tmp_path), timeout=3, clock=clock)  # type: ignore[arg-type]
    result = session.check("c", "command", {"run": "true"})
    assert result.ok, result.message


def test_the_old_driver_gets_integers(tmp_path):
    machine = OldDriverMachine()
    _run(machine, tmp_path)
    assert machine.timeouts
    assert all(type(t) is int for t in machine.timeouts)


def test_the_current_driver_gets_timedeltas_and_warns_about_nothing(tmp_path):
    machine = CurrentDriverMachine()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _run(machine, tmp_path)
    assert machine.timeouts
    assert all(isinstance(t, dt.timedelta) for t in machine.timeouts)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (OldDriverMachine, False),
        (CurrentDriverMachine, True),  # annotations as strings (from __future__ here)
        (EvaluatedAnnotations, True),
        (object, False),  # no execute at all
    ],
)
def test_the_signature_decides(kind, expected):
    assert takes_timedelta(kind) is expected
