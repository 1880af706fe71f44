"""Runtime VM: container start -> reachable, against VM boot -> shell (several runs each).

The runtime tier's machinery (:mod:`support.vm`): its cached Debian host image booted under QEMU
(KVM where it can boot a stock kernel, else TCG) and driven over the serial console. Each run
boots a VM, timed from starting QEMU until the console's command shell answers, installs the
module's exported ``runtime-pair`` settings in it and starts container ``alpha`` (own veth link,
a writable bind, ephemeral) twice; the second start counts. So a boot and a start are measured
under the same load, which on a shared machine changes from minute to minute. A start is timed
on the VM's own clock, so neither the serial console's round trips nor a check's polling
interval count: from ``systemctl start`` until machined has registered the container (machined's
own timestamp), and until the host's first ``ping -4`` of the container's name (its addresses,
through nss-mymachines) is answered. The host starts pinging once the container has an IPv4
address, which it waits for on events rather than by polling (see :data:`_START`). The
harness's own ``reachable`` check (host -> alpha, ipv4) must then pass too.

Where the start's time goes is read from the container (same clock: the VM's kernel): when its
networkd starts (its manager's record), when its ``host0`` link gains a carrier (both ends of the
veth are up) and when its DHCPv4 lease arrives (its journal). Only reported, never subtracted:
the start is timed until the ping answers, whatever happens in between.

Only one VM runs on the machine at a time: the run holds ``/tmp/runtime-vm.lock``, as every user
of the runtime VM does (``flock /tmp/runtime-vm.lock ...``).
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import shlex
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from support.vm.console import ConsoleMachine, VmConfig
from support.vm.image import ensure_image
from support.vm.install import install_case, template_entries, topology_of

from harness.catalogue import find_root
from harness.checks import Session

ROOT = find_root(Path(__file__))
REFERENCE = ROOT / "tests" / "reference" / "runtime-pair.json"
CONTAINER = "alpha"
LOCK = Path("/tmp/runtime-vm.lock")
POLL = 0.1
"""Seconds between two tries, inside the VM."""
START_TIMEOUT = 600
"""Seconds a container may take to become reachable."""

_START = (
    "started=$(date +%s%N); systemctl start --no-block {unit}; "
    'until leader=$(machinectl show {name} -p Leader --value 2>/dev/null) && [ -n "$leader" ]; '
    "do sleep {poll}; done; "
    # Wait for the container's first IPv4 address on events in its network namespace, not by
    # polling: a check every 0.1 s costs the VM's two emulated CPUs a process start each time.
    'exec {{events}}< <(exec nsenter -t "$leader" -n ip -4 monitor address); monitor=$!; '
    'until nsenter -t "$leader" -n ip -4 -o address show | grep -v " lo " >/dev/null; '
    'do read -r -t 5 -u "$events" _ || true; done; kill "$monitor" 2>/dev/null || true; '
    "until ping -4 -n -c 1 -W 1 {name} >/dev/null 2>&1; do sleep {poll}; done; "
    "reachable=$(date +%s%N); "
    "registered=$(busctl get-property org.freedesktop.machine1 {path} "
    "org.freedesktop.machine1.Machine Timestamp | cut -d ' ' -f 2); "
    "echo $started $(( registered * 1000 - started )) $(( reachable - started ))"
)
"""Start the container; print the wall-clock time it began at, and nanoseconds from then until
machined registered the container (its own record) and until the container answers a ping of
its name. Between registration and the ping, the script sleeps until the container has an
IPv4 address: the host's pings by name (through nss-mymachines and machined, which enters the
container to read its addresses) every 0.1 s took over a second of CPU from the container's
boot on the emulated VM."""

_EVENTS = "journalctl -M {name} -o short-unix --no-pager --since=@{since} -u systemd-networkd"
"""The container's networkd, and systemd's messages about its unit: one line per event, prefixed
with its wall-clock time in seconds (``date`` above is the same clock)."""

_NETWORKD_STARTED = (
    "busctl --machine={name} get-property org.freedesktop.systemd1 "
    "/org/freedesktop/systemd1/unit/systemd_2dnetworkd_2eservice "
    "org.freedesktop.systemd1.Unit InactiveExitTimestamp"
)
"""When the container's manager began to start its networkd: ``t <microseconds since the
epoch>`` (``t 0``: never). Asked of the manager, since the journal can miss its "Starting" line:
networkd may start before journald does."""

JOURNAL_PHASES = (
    ("host0 has a carrier", "host0: Gained carrier"),
    ("its DHCPv4 lease arrives", "host0: DHCPv4 address "),
)
"""Events of a container start in its networkd's journal: what the bench calls them, and the
start of the message text after the unit's ``name[pid]: ``."""

PHASES = ("its networkd starts", *(label for label, _ in JOURNAL_PHASES))
"""What the bench reports of a start, in this order (:attr:`VmTimes.phases`)."""


class VmBenchError(RuntimeError):
    """The container did not become reachable."""


@dataclass(frozen=True)
class VmTimes:
    """Seconds per run: VM boots; container starts until reachable and until registered;
    per :data:`PHASES` entry, seconds from the start until that event (None: not seen)."""

    boots: tuple[float, ...]
    starts: tuple[float, ...]
    registrations: tuple[float, ...]
    phases: tuple[tuple[float | None, ...], ...]


def missing_requirement() -> str | None:
    """Why the VM cannot run here, or None (the image build needs root and debootstrap)."""
    for tool in ("qemu-system-x86_64", "debootstrap", "mke2fs"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if os.geteuid() != 0:
        return "the runtime VM's image is built as root (debootstrap, chroot)"
    return None


def measure(runs: int, out_dir: Path, progress: Callable[[str], None]) -> VmTimes:
    """``runs`` VMs: each one's boot, and in it the start of a container after a first one."""
    image = ensure_image(progress=progress)
    reference = json.loads(REFERENCE.read_text())
    boots: list[float] = []
    starts: list[tuple[float, float, tuple[float | None, ...]]] = []
    with LOCK.open("a") as lock:
        progress(f"[bench] waiting for {LOCK}")
        fcntl.flock(lock, fcntl.LOCK_EX)
        for run in range(runs):
            started = time.monotonic()
            with ConsoleMachine(VmConfig(image, log_dir=out_dir / f"vm-{run}")) as machine:
                boots.append(time.monotonic() - started)
                starts.append(_container_start(machine, reference, out_dir))
            progress(
                f"[bench] run {run + 1}/{runs}: VM boot {boots[-1]:.1f} s; container "
                f"registered after {starts[-1][0]:.1f} s, reachable after "
                f"{starts[-1][1]:.1f} s"
            )
    return VmTimes(
        tuple(boots),
        tuple(start for _, start, _ in starts),
        tuple(registered for registered, _, _ in starts),
        tuple(zip(*(phases for _, _, phases in starts), strict=True)),
    )


def _container_start(
    machine: ConsoleMachine, reference: dict[str, object], out_dir: Path
) -> tuple[float, float, tuple[float | None, ...]]:
    """Seconds until the container is registered with machined, until it is reachable, and
    until each of :data:`PHASES`.

    The container is started twice; the second start counts. The first one reads the container's
    programs from the VM's disk into its page cache, a cost of the first start after a boot only
    (and one that the VM's own boot has paid for the same files already).
    """
    install_case(machine, reference)
    nspawn = reference["nspawn"]
    assert isinstance(nspawn, dict)
    session = Session(
        machine, topology_of(nspawn, template_entries(machine)), out_dir, stdout=io.StringIO()
    )
    unit = shlex.quote(f"systemd-nspawn@{CONTAINER}.service")
    assert CONTAINER.isalnum()  # its machined object path is its name as it is
    path = f"/org/freedesktop/machine1/machine/{CONTAINER}"
    script = _START.format(unit=unit, name=shlex.quote(CONTAINER), poll=POLL, path=path)
    for attempt in ("first", "timed"):
        started, registered, reachable = (
            int(nanoseconds)
            for nanoseconds in machine.succeed(script, timeout=START_TIMEOUT).split()
        )
        result = session.check(
            f"reachable[{attempt}]", "reachable", {"from": "host", "to": CONTAINER}
        )
        if not result.ok:
            raise VmBenchError(f"{attempt} start: {result.message}")
        events = machine.succeed(
            _EVENTS.format(name=shlex.quote(CONTAINER), since=started // 10**9)
        )
        networkd = machine.succeed(_NETWORKD_STARTED.format(name=shlex.quote(CONTAINER)))
        machine.succeed(f"systemctl stop {unit}")
    # The timed start's.
    return (
        registered / 1e9,
        reachable / 1e9,
        (unit_started(networkd, started / 1e9), *phase_times(events, started / 1e9)),
    )


def unit_started(timestamp: str, started: float) -> float | None:
    """Seconds from *started* until a unit's ``InactiveExitTimestamp`` (``busctl`` output),
    or None if the unit has not started since."""
    kind, _, value = timestamp.strip().partition(" ")
    if kind != "t" or not value.isdigit():
        raise VmBenchError(f"unexpected InactiveExitTimestamp {timestamp!r}")
    when = int(value) / 1e6
    return when - started if when >= started else None


def phase_times(journal: str, started: float) -> tuple[float | None, ...]:
    """Seconds from *started* until the first line at or after it of each of
    :data:`JOURNAL_PHASES`, in ``journalctl -o short-unix`` output."""
    found: dict[str, float] = {}
    for line in journal.splitlines():
        stamp, _, rest = line.partition(" ")
        message = rest.partition(": ")[2]
        try:
            when = float(stamp)
        except ValueError:
            continue  # "-- No entries --" and the like
        for label, prefix in JOURNAL_PHASES:
            if when >= started and label not in found and message.startswith(prefix):
                found[label] = when - started
    return tuple(found.get(label) for label, _ in JOURNAL_PHASES)
