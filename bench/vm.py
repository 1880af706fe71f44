"""Runtime VM: container start -> reachable, against VM boot -> shell (several runs each).

The runtime tier's machinery (:mod:`harness.vm`): its cached Debian host image booted under QEMU
(KVM where it can boot a stock kernel, else TCG) and driven over the serial console. Each run
boots a VM, timed from starting QEMU until the console's command shell answers, installs the
module's exported ``runtime-pair`` settings in it and starts container ``alpha`` (own veth link,
a writable bind, ephemeral) twice; the second start counts. So a boot and a start are measured
under the same load, which on a shared machine changes from minute to minute. A start is timed
on the VM's own clock, so neither the serial console's round trips nor a check's polling
interval count: from ``systemctl start`` until machined has registered the container, and until
the host's first ``ping -4`` of the container's name (its addresses, through nss-mymachines) is
answered. The harness's own ``reachable`` check (host -> alpha, ipv4) must then pass too.

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

from harness.catalogue import find_root
from harness.checks import Session
from harness.vm.console import ConsoleMachine, VmConfig
from harness.vm.image import ensure_image
from harness.vm.install import install_case, template_entries, topology_of

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
    'until [ -n "$(machinectl show {name} -p Leader --value 2>/dev/null)" ]; do sleep {poll}; '
    "done; registered=$(date +%s%N); "
    "until ping -4 -n -c 1 -W 1 {name} >/dev/null 2>&1; do sleep {poll}; done; "
    "echo $(( registered - started )) $(( $(date +%s%N) - started ))"
)
"""Start the container; print nanoseconds until it is registered and until it answers."""


class VmBenchError(RuntimeError):
    """The container did not become reachable."""


@dataclass(frozen=True)
class VmTimes:
    """Seconds per run: VM boots; container starts until reachable and until registered."""

    boots: tuple[float, ...]
    starts: tuple[float, ...]
    registrations: tuple[float, ...]


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
    starts: list[tuple[float, float]] = []
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
        tuple(start for _, start in starts),
        tuple(registered for registered, _ in starts),
    )


def _container_start(
    machine: ConsoleMachine, reference: dict[str, object], out_dir: Path
) -> tuple[float, float]:
    """Seconds until the container is registered with machined, and until it is reachable.

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
    script = _START.format(unit=unit, name=shlex.quote(CONTAINER), poll=POLL)
    for attempt in ("first", "timed"):
        printed = machine.succeed(script, timeout=START_TIMEOUT).split()
        result = session.check(
            f"reachable[{attempt}]", "reachable", {"from": "host", "to": CONTAINER}
        )
        if not result.ok:
            raise VmBenchError(f"{attempt} start: {result.message}")
        machine.succeed(f"systemctl stop {unit}")
    registered, reachable = (int(nanoseconds) / 1e9 for nanoseconds in printed)  # the timed one
    return registered, reachable
