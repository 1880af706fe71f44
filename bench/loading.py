"""Load + validate (+ render) of scenario files, against the loader's guarded TOML parse alone.

Every phase reads the file through the loader's bounded reading
(:func:`harness.scenario.source.read_source`); the baseline is the loader's guarded ``tomllib``
parse (:func:`harness.scenario.reader.parse_toml`), so no phase reads a file another way.
Times are this process's CPU time, so other work on a busy machine distorts them less than
wall time; each phase runs ``repeat`` times, interleaved with the others, and the best run
counts. The templates are compiled once per process, before the timed runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from harness.render.nixos_test import render_scenario
from harness.scenario.load import load_scenario
from harness.scenario.reader import parse_toml
from harness.scenario.source import read_source


@dataclass(frozen=True)
class LoadTimes:
    """Best CPU seconds for all ``count`` files, per phase."""

    count: int
    tomllib: float
    validate: float
    render: float

    def per_scenario_ms(self, seconds: float) -> float:
        return seconds / self.count * 1000

    def ratio(self, seconds: float) -> float:
        """``seconds`` as a multiple of plain tomllib."""
        return seconds / self.tomllib


def _parse(path: Path) -> object:
    return parse_toml(path, read_source(path))


def _render(path: Path) -> object:
    """As ``python -m harness render`` does for a file of the catalogue's top directory."""
    return render_scenario(load_scenario(path), f"scenarios/{path.name}")


def _cpu_seconds(phase: Callable[[Path], object], files: Sequence[Path]) -> float:
    started = time.process_time()
    for path in files:
        phase(path)
    return time.process_time() - started


def measure(files: Sequence[Path], repeat: int) -> LoadTimes:
    phases: tuple[Callable[[Path], object], ...] = (_parse, load_scenario, _render)
    best = [float("inf")] * len(phases)
    _render(files[0])
    for _ in range(repeat):
        for index, phase in enumerate(phases):
            best[index] = min(best[index], _cpu_seconds(phase, files))
    return LoadTimes(len(files), *best)
