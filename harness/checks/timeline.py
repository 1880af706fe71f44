"""When things happened inside a VM, on the test driver's clock.

systemd stamps each unit's state changes with the VM's ``CLOCK_MONOTONIC`` in microseconds
(``InactiveExitTimestampMonotonic``, ``ActiveEnterTimestampMonotonic``, ...). One command reads
those together with the VM's uptime (``/proc/uptime``: seconds since its kernel started; the
boot-time clock, which equals the monotonic one in a VM that is never suspended), and the driver
notes its own time just before and after the command. A VM moment ``m`` then happened at
``midpoint - (uptime - m)`` on the driver's clock, give or take half the command's round trip
(:class:`Reading`). Neither the VM's wall clock (set from the host at boot, then free to drift
or be stepped by time synchronisation) nor its time zone is involved; a reboot starts a new
monotonic clock, so each reading converts only moments of the boot it was taken in.
"""

import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

UNIT_PROPERTIES = (
    "Id",
    "InvocationID",
    "ActiveState",
    "InactiveExitTimestampMonotonic",
    "ActiveEnterTimestampMonotonic",
    "InactiveEnterTimestampMonotonic",
)
BOOTED_UNIT = "multi-user.target"
"""The unit whose activation ends a VM's boot on the timeline (what the testScript waits for)."""


def query(units: Iterable[str]) -> str:
    """The command that reads the VM's uptime and the state-change times of ``units``."""
    properties = " ".join(f"-p {name}" for name in UNIT_PROPERTIES)
    names = " ".join(shlex.quote(unit) for unit in units)
    return f"cat /proc/uptime && systemctl show {properties} -- {names}"


@dataclass(frozen=True)
class Reading:
    """The VM's uptime, read between ``before`` and ``after`` on the driver's clock."""

    before: float
    after: float
    uptime: float

    @property
    def uncertainty(self) -> float:
        """How far a converted moment can be off: half the command's round trip."""
        return round((self.after - self.before) / 2, 3)

    def at(self, monotonic_us: int) -> float:
        """The driver's time of the VM's monotonic moment ``monotonic_us``."""
        midpoint = (self.before + self.after) / 2
        return round(midpoint - (self.uptime - monotonic_us / 1e6), 3)

    def describe(self) -> str:
        """The conversion, for the evidence."""
        return (
            f"VM uptime {self.uptime:.2f} s read between {self.before:.3f} and {self.after:.3f} "
            f"(Unix time on the driver's clock): VM times are converted to within "
            f"±{self.uncertainty:.3f} s"
        )


@dataclass(frozen=True)
class UnitTimes:
    """One unit's last start, in VM monotonic microseconds (0: has not happened)."""

    unit: str
    invocation: str
    state: str
    inactive_exit: int
    active_enter: int
    inactive_enter: int

    @property
    def active(self) -> bool:
        """Started, and active since this start (not still starting, not failed)."""
        return self.state in ("active", "reloading") and self.active_enter >= self.inactive_exit

    @property
    def failed(self) -> bool:
        """This start failed: the unit went to ``failed`` after it began."""
        return self.state == "failed" and self.inactive_enter >= self.inactive_exit


def parse(output: str, before: float, after: float) -> tuple[Reading, list[UnitTimes]] | None:
    """The reading and the units' times in the output of :func:`query`; None when the output
    is not what the command prints (the VM was not reachable, systemctl failed)."""
    first, _, rest = output.partition("\n")
    try:
        uptime = float(first.split()[0])
    except (IndexError, ValueError):
        return None
    units = []
    for block in _blocks(rest):
        try:
            units.append(
                UnitTimes(
                    unit=block["Id"],
                    invocation=block.get("InvocationID", ""),
                    state=block.get("ActiveState", ""),
                    inactive_exit=int(block.get("InactiveExitTimestampMonotonic", "0")),
                    active_enter=int(block.get("ActiveEnterTimestampMonotonic", "0")),
                    inactive_enter=int(block.get("InactiveEnterTimestampMonotonic", "0")),
                )
            )
        except (KeyError, ValueError):
            return None
    return Reading(before, after, uptime), units


def _blocks(text: str) -> Iterator[dict[str, str]]:
    """``systemctl show``'s output for several units: ``Key=value`` lines, a blank line
    between units."""
    block: dict[str, str] = {}
    for line in text.splitlines():
        key, equals, value = line.partition("=")
        if equals:
            block[key.strip()] = value.strip()
        elif not line.strip() and block:
            yield block
            block = {}
    if block:
        yield block
