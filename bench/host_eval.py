"""The host module's own evaluation cost for N containers that run a prebuilt system (``path``).

Evaluated through the eval tier's machinery: ``tests/eval/harness.nix`` (the real nixpkgs
module system with stand-ins for the NixOS options the module writes) and its runner
``tests/eval/nspawn_eval.py``, with the cases of ``bench/host-eval-cases.nix``. Each run forces
the module's unit settings (``reference``), its assertions and warnings; Nix reports its own
counters (``NIX_SHOW_STATS``). A ``path`` container has no NixOS system to evaluate, and the eval
tier could not evaluate one anyway: the figures exclude the containers' NixOS systems, which
dominate a real host's evaluation.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from harness.catalogue import find_root

ROOT = find_root(Path(__file__))
CASES = Path(__file__).with_name("host-eval-cases.nix")
TIER_MODULE = "bench_nspawn_eval"
FORCED = ("failedAssertions", "reference", "warnings")
"""Printed in this order, without separators: the output starts with ``[]`` when no assertion
failed."""


def eval_tier() -> ModuleType:
    """``tests/eval/nspawn_eval.py`` (the tests directory is no package), loaded afresh: it
    caches where it found nixpkgs' lib, which depends on the environment at the time."""
    spec = importlib.util.spec_from_file_location(
        TIER_MODULE, ROOT / "tests" / "eval" / "nspawn_eval.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[TIER_MODULE] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class EvalStats:
    """One evaluation: Nix's CPU time (best of the runs) and its deterministic counters."""

    containers: int
    cpu_seconds: float
    function_calls: int
    thunks: int
    allocated_bytes: int


class EvalError(RuntimeError):
    """nix-instantiate failed, or the module's assertions did."""


def measure(lib: Path, containers: int, repeat: int) -> EvalStats:
    argv = eval_tier().harness_argv(lib, FORCED, f"path-{containers}", cases_file=CASES)
    best = float("inf")
    stats: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as scratch:
        stats_path = Path(scratch) / "stats.json"
        env = {**os.environ, "NIX_SHOW_STATS": "1", "NIX_SHOW_STATS_PATH": str(stats_path)}
        for _ in range(repeat):
            done = subprocess.run(
                argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            if done.returncode != 0:
                raise EvalError(f"{' '.join(argv)} failed:\n{done.stderr}")
            if not done.stdout.startswith("[]"):
                raise EvalError(f"path-{containers}: failed assertions: {done.stdout[:500]}")
            stats = json.loads(stats_path.read_text())
            best = min(best, float(stats["cpuTime"]))
    return EvalStats(
        containers,
        best,
        int(stats["nrFunctionCalls"]),
        int(stats["nrThunks"]),
        int(stats["gc"]["totalBytes"]),
    )
