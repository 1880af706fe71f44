"""``python -m bench [--vm]``: the harness's performance figures, each checked against its target.

Exit status 1 when a measured target is missed. The VM part boots the runtime VM several times
(minutes under TCG), so it runs only with ``--vm``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bench import collection, host_eval, loading, vm
from bench.scenarios import collected_items, generate
from harness.catalogue import find_root, scenario_files

LOAD_RATIO_MAX = 5.0
LOAD_MS_MAX = 20.0
COLLECT_SECONDS_MAX = 3.0
COLLECT_SIZES = (100, 1000)
COLLECT_GROWTH_MAX = 12.0
START_SHARE_MAX = 1 / 5
EVAL_CONTAINERS = (1, 10, 50)


@dataclass
class Targets:
    """Each target's verdict, in the order checked."""

    lines: list[str]
    missed: int = 0

    def check(self, what: str, met: bool | None) -> str:
        verdict = "not measured" if met is None else "met" if met else "MISSED"
        self.missed += met is False
        self.lines.append(f"  {what}: {verdict}")
        return verdict


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{model}, {os.cpu_count()} logical CPUs, load average {load}; "
        f"Python {platform.python_version()}"
    )


def _loading(
    sources: Sequence[Path], sizes: Sequence[int], repeat: int, out: TextIO, targets: Targets
) -> None:
    print(
        f"\nload + validate (+ render), per scenario: CPU time of this process, best of {repeat}",
        file=out,
    )
    print(f"  {'N':>5}  {'tomllib':>9}  {'+ validate':>15}  {'+ render':>15}", file=out)
    worst_ratio, worst_ms = 0.0, 0.0
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
            times = loading.measure(generate(sources, size, Path(scratch)), repeat)
        row = f"  {size:>5}  {times.per_scenario_ms(times.tomllib):6.3f} ms"
        for seconds in (times.validate, times.render):
            row += f"  {times.per_scenario_ms(seconds):6.3f} ms {times.ratio(seconds):4.1f}x"
        print(row, file=out)
        worst_ratio = max(worst_ratio, times.ratio(times.render))
        worst_ms = max(worst_ms, times.per_scenario_ms(times.render))
    measured = bool(sizes) or None
    targets.check(
        f"load + validate + render <= {LOAD_RATIO_MAX:g}x tomllib (worst: {worst_ratio:.1f}x)",
        measured and worst_ratio <= LOAD_RATIO_MAX,
    )
    targets.check(
        f"load + validate + render <= {LOAD_MS_MAX:g} ms per scenario (worst: {worst_ms:.2f} ms)",
        measured and worst_ms <= LOAD_MS_MAX,
    )


def _collection(
    sources: Sequence[Path], sizes: Sequence[int], repeat: int, out: TextIO, targets: Targets
) -> None:
    print(
        f"\npytest --collect-only -q {' '.join(collection.PYTEST_ARGS[2:])}: best of "
        f"{repeat}; the whole process, and the collection phase alone",
        file=out,
    )
    print(f"  {'N':>5}  {'items':>6}  {'wall':>7}  {'CPU':>7}  {'collection CPU':>14}", file=out)
    with tempfile.TemporaryDirectory(prefix="bench-collect-") as scratch:
        catalogues = []
        for size in sizes:
            directory = Path(scratch) / str(size)
            files = generate(sources, size, directory)
            catalogues.append(collection.Catalogue(directory, size, collected_items(files)))
        found = {timing.count: timing for timing in collection.measure(catalogues, repeat)}
    for timing in found.values():
        print(
            f"  {timing.count:>5}  {timing.items:>6}  {timing.wall:5.2f} s  "
            f"{timing.cpu:5.2f} s  {timing.collecting:12.2f} s",
            file=out,
        )
    small, large = (found.get(size) for size in COLLECT_SIZES)
    targets.check(
        f"{COLLECT_SIZES[1]} scenarios collected in < {COLLECT_SECONDS_MAX:g} s (whole process"
        + (f": {large.wall:.2f} s)" if large else ")"),
        None if large is None else large.wall < COLLECT_SECONDS_MAX,
    )
    growth = large.collecting / small.collecting if small and large else None
    targets.check(
        f"collection CPU t({COLLECT_SIZES[1]}) / t({COLLECT_SIZES[0]}) <= {COLLECT_GROWTH_MAX:g}"
        + (f" ({growth:.1f})" if growth else ""),
        None if growth is None else growth <= COLLECT_GROWTH_MAX,
    )


def _host_eval(repeat: int, out: TextIO) -> None:
    print(
        f"\nhost module evaluation, N containers with a prebuilt `path` (eval tier: the "
        f"containers' NixOS systems are excluded); Nix's CPU time best of {repeat}",
        file=out,
    )
    tier = host_eval.eval_tier()
    lib = tier.find_nixpkgs_lib()
    if lib is None:
        print(f"  skipped: {tier.missing_lib_reason()}", file=out)
        return
    print(f"  {'N':>5}  {'CPU':>9}  {'calls':>7}  {'thunks':>7}  {'allocated':>9}", file=out)
    found = {count: host_eval.measure(lib, count, repeat) for count in (0, *EVAL_CONTAINERS)}
    for count, stats in found.items():
        print(
            f"  {count:>5}  {stats.cpu_seconds * 1000:6.1f} ms  {stats.function_calls:>7}  "
            f"{stats.thunks:>7}  {stats.allocated_bytes / 2**20:6.1f} MB",
            file=out,
        )
    first, last = found[EVAL_CONTAINERS[0]], found[EVAL_CONTAINERS[-1]]
    more = last.containers - first.containers
    print(
        f"  each further container ({first.containers} -> {last.containers}): "
        f"{(last.cpu_seconds - first.cpu_seconds) / more * 1000:.2f} ms CPU, "
        f"{(last.function_calls - first.function_calls) // more} calls, "
        f"{(last.allocated_bytes - first.allocated_bytes) / more / 1024:.0f} KB",
        file=out,
    )


def _vm(runs: int, out: TextIO, targets: Targets) -> None:
    print(
        f"\nruntime VM (support.vm): {runs} runs, each a VM boot and a container start in it",
        file=out,
    )
    reason = vm.missing_requirement()
    if reason is not None:
        print(f"  skipped: {reason}", file=out)
        targets.check("container start <= 1/5 of VM boot", None)
        return
    with tempfile.TemporaryDirectory(prefix="bench-vm-") as scratch:
        times = vm.measure(runs, Path(scratch), lambda line: print(line, file=sys.stderr))
    for label, values in (
        ("VM boot -> shell", times.boots),
        ("container start -> reachable", times.starts),
        ("  of which until registered", times.registrations),
    ):
        print(
            f"  {label}: median {statistics.median(values):.1f} s "
            f"(runs: {', '.join(f'{value:.1f}' for value in values)})",
            file=out,
        )
    for label, phase in zip(vm.PHASES, times.phases, strict=True):
        found = [value for value in phase if value is not None]
        median = f"{statistics.median(found):.1f} s" if found else "-"
        listed = ", ".join("-" if value is None else f"{value:.1f}" for value in phase)
        print(f"    until {label}: median {median} (runs: {listed})", file=out)
    share = statistics.median(
        start / boot for start, boot in zip(times.starts, times.boots, strict=True)
    )
    print(f"  start / boot of the same run: median {share:.2f}", file=out)
    targets.check(f"container start <= 1/5 of VM boot ({share:.2f})", share <= START_SHARE_MAX)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="*",
        default=[10, 100, 1000],
        help="scenario counts for load/validate/render (default: 10 100 1000)",
    )
    parser.add_argument(
        "--collect-sizes",
        type=int,
        nargs="*",
        default=[100, 200, 1000],
        help="scenario counts for collection (default: 100 200 1000)",
    )
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure (default: 7)")
    parser.add_argument(
        "--vm",
        action="store_true",
        help="also time the runtime VM (boots it --vm-runs times: minutes)",
    )
    parser.add_argument(
        "--vm-runs", type=int, default=5, help="VM boots and container starts (default: 5)"
    )
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = _parser().parse_args(argv)
    sources = scenario_files(find_root(Path(__file__)))
    print(f"nixos-nspawn bench on {_machine()}", file=out)
    print(
        f"Generated catalogues: the {len(sources)} scenarios of scenarios/ copied under new "
        "names into a temporary directory.",
        file=out,
    )
    targets = Targets(["\ntargets:"])
    _loading(sources, args.sizes, args.repeat, out, targets)
    _collection(sources, args.collect_sizes, args.repeat, out, targets)
    _host_eval(args.repeat, out)
    if args.vm:
        _vm(args.vm_runs, out, targets)
    print("\n".join(targets.lines), file=out)
    return 1 if targets.missed else 0


if __name__ == "__main__":
    sys.exit(main())
