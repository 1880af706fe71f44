"""Runtime VM: container start -> reachable, against VM boot -> shell (several runs each).

The runtime tier's machinery (:mod:`harness.vm`): its cached Debian host image booted under QEMU
(KVM where it can boot a stock kernel, else TCG) and driven over the serial console. A boot is
timed from starting QEMU until the console's command shell answers. In the first VM the module's
exported ``runtime-pair`` settings are installed, and container ``alpha`` (own veth link, a
writable bind, ephemeral) is started and stopped again and again: timed from
``systemctl start`` until the harness's own ``reachable`` check (host -> alpha, ipv4) passes,
which waits for machined, the container's DHCP address and a ping answer.

Only one VM runs on the machine at a time: the run holds ``/tmp/runtime-vm.lock``, as every user
of the runtime VM does (``flock /tmp/runtime-vm.lock ...``).
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.catalogue import find_root
from harness.checks import Session
from harness.checks.machine import Machine
from harness.vm.console import ConsoleMachine, VmConfig
from harness.vm.image import ensure_image
from harness.vm.install import install_case, template_entries, topology_of

ROOT = find_root(Path(__file__))
REFERENCE = ROOT / "tests" / "reference" / "runtime-pair.json"
CONTAINER = "alpha"
LOCK = Path("/tmp/runtime-vm.lock")


class VmBenchError(RuntimeError):
    """The container did not become reachable."""


@dataclass(frozen=True)
class VmTimes:
    boots: tuple[float, ...]
    starts: tuple[float, ...]


def missing_requirement() -> str | None:
    """Why the VM cannot run here, or None (the image build needs root and debootstrap)."""
    for tool in ("qemu-system-x86_64", "debootstrap", "mke2fs"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if os.geteuid() != 0:
        return "the runtime VM's image is built as root (debootstrap, chroot)"
    return None


def measure(runs: int, out_dir: Path, progress: Callable[[str], None]) -> VmTimes:
    """``runs`` VM boots; in the first VM, ``runs`` container starts."""
    image = ensure_image(progress=progress)
    reference = json.loads(REFERENCE.read_text())
    boots: list[float] = []
    starts: list[float] = []
    with LOCK.open("a") as lock:
        progress(f"[bench] waiting for {LOCK}")
        fcntl.flock(lock, fcntl.LOCK_EX)
        for run in range(runs):
            with ConsoleMachine(VmConfig(image, log_dir=out_dir / f"vm-{run}")) as machine:
                boots.append(machine.boot_seconds)
                progress(f"[bench] VM boot {run + 1}/{runs}: {machine.boot_seconds:.1f} s")
                if run == 0:
                    starts = _container_starts(machine, reference, runs, out_dir, progress)
    return VmTimes(tuple(boots), tuple(starts))


def _container_starts(
    machine: Machine, reference: dict[str, object], runs: int, out_dir: Path,
    progress: Callable[[str], None],
) -> list[float]:
    install_case(machine, reference)
    nspawn = reference["nspawn"]
    assert isinstance(nspawn, dict)
    session = Session(machine, topology_of(nspawn, template_entries(machine)), out_dir,
                      stdout=io.StringIO())
    unit = f"systemd-nspawn@{CONTAINER}.service"
    times = []
    for run in range(runs):
        started = time.monotonic()
        machine.succeed(f"systemctl start --no-block {unit}")
        result = session.check(f"reachable[{run}]", "reachable",
                               {"from": "host", "to": CONTAINER})
        if not result.ok:
            raise VmBenchError(f"start {run + 1}: {result.message}")
        times.append(time.monotonic() - started)
        progress(f"[bench] container start {run + 1}/{runs}: {times[-1]:.1f} s")
        machine.succeed(f"systemctl stop {unit}")
    return times
