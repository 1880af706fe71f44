"""``pytest --collect-only -q`` over a generated catalogue, timed as a user sees it.

Each run is a fresh pytest process in the catalogue's directory (with an empty ``pytest.ini``,
so no configuration from around the temporary directory applies). Hypothesis' pytest plugin, a
development dependency and not ours, is disabled: it imports hypothesis at the end of every run
(about a second here), whatever was collected. The best of ``repeat`` runs counts, for the
process's wall time and for pytest's own "collected in" figure (collection alone).
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PYTEST_ARGS = ("--collect-only", "-q", "-p", "no:hypothesispytest", "-p", "no:cacheprovider")
_SUMMARY = re.compile(r"^(\d+) tests? collected in ([0-9.]+)s", re.MULTILINE)


class CollectionError(RuntimeError):
    """pytest did not collect what the catalogue holds."""


@dataclass(frozen=True)
class CollectTime:
    count: int
    items: int
    wall: float
    collecting: float


def measure(directory: Path, count: int, items: int, repeat: int) -> CollectTime:
    (directory / "pytest.ini").write_text("[pytest]\n")
    argv = [sys.executable, "-m", "pytest", *PYTEST_ARGS, "scenarios"]
    walls, own = [], []
    for _ in range(repeat):
        started = time.monotonic()
        done = subprocess.run(argv, cwd=directory, capture_output=True, text=True, check=False)
        walls.append(time.monotonic() - started)
        summary = _SUMMARY.search(done.stdout)
        if done.returncode != 0 or summary is None or int(summary.group(1)) != items:
            raise CollectionError(
                f"expected {items} items from {count} scenarios, `{' '.join(argv)}` in "
                f"{directory} said (exit {done.returncode}):\n{done.stdout[-2000:]}{done.stderr}"
            )
        own.append(float(summary.group(2)))
    return CollectTime(count, items, min(walls), min(own))
