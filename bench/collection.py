"""``pytest --collect-only -q`` over generated catalogues, timed as a user sees it and alone.

Each run is a fresh pytest process in the catalogue's directory (with an empty ``pytest.ini``,
so no configuration from around the temporary directory applies). Hypothesis' pytest plugin, a
development dependency and not ours, is disabled: it imports hypothesis at the end of every run
(about a second here), whatever was collected. Per catalogue the best of ``repeat`` runs counts,
for the process's wall time and CPU time and for the CPU time of the collection phase alone
(:mod:`bench.collect_timer`); the catalogues take turns, so a busy spell hits them alike.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PYTEST_ARGS = ("--collect-only", "-q", "-p", "no:hypothesispytest", "-p", "no:cacheprovider")
_TIMER = ("-p", "bench.collect_timer")
_ITEMS = re.compile(r"^(\d+) tests? collected in", re.MULTILINE)
_COLLECTION = re.compile(r"^bench: collection took ([0-9.]+) s of CPU$", re.MULTILINE)


class CollectionError(RuntimeError):
    """pytest did not collect what the catalogue holds."""


@dataclass(frozen=True)
class Catalogue:
    directory: Path
    count: int
    items: int


@dataclass(frozen=True)
class CollectTime:
    """Best seconds of a catalogue's runs."""

    count: int
    items: int
    wall: float
    cpu: float
    collecting: float


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(catalogue: Catalogue) -> tuple[float, float, float]:
    """One pytest process: its wall time, its CPU time, and its collection's CPU time."""
    argv = [sys.executable, "-m", "pytest", *PYTEST_ARGS, *_TIMER, "scenarios"]
    root = str(Path(__file__).resolve().parents[1])
    path = os.pathsep.join(filter(None, (root, os.environ.get("PYTHONPATH"))))
    cpu, started = _children_cpu(), time.monotonic()
    done = subprocess.run(
        argv,
        cwd=catalogue.directory,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    wall, cpu = time.monotonic() - started, _children_cpu() - cpu
    items, collecting = _ITEMS.search(done.stdout), _COLLECTION.search(done.stdout)
    if (
        done.returncode != 0
        or items is None
        or collecting is None
        or int(items.group(1)) != catalogue.items
    ):
        raise CollectionError(
            f"expected {catalogue.items} items from {catalogue.count} scenarios, "
            f"`{' '.join(argv)}` in {catalogue.directory} said (exit {done.returncode}):\n"
            f"{done.stdout[-2000:]}{done.stderr}"
        )
    return wall, cpu, float(collecting.group(1))


def measure(catalogues: Sequence[Catalogue], repeat: int) -> list[CollectTime]:
    for catalogue in catalogues:
        (catalogue.directory / "pytest.ini").write_text("[pytest]\n")
    runs: list[list[tuple[float, float, float]]] = [[] for _ in catalogues]
    for _ in range(repeat):
        for index, catalogue in enumerate(catalogues):
            runs[index].append(_run(catalogue))
    results = []
    for catalogue, times in zip(catalogues, runs, strict=True):
        walls, cpus, collecting = zip(*times, strict=True)
        results.append(
            CollectTime(catalogue.count, catalogue.items, min(walls), min(cpus), min(collecting))
        )
    return results
