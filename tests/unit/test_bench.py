"""``python -m bench`` runs: every part with tiny sizes, so the benchmark cannot rot unnoticed.

The figures are not judged here (the sizes are far too small for the targets); what is checked
is that each part measured what it should: the generated files, the collected item count (the
bench itself fails on a mismatch), and that missing prerequisites are reported, not crashed on.
"""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import __main__ as bench
from bench import vm
from bench.scenarios import collected_items, generate
from harness.catalogue import find_root, scenario_files
from harness.scenario.load import load_scenario

ROOT = find_root(Path(__file__))


def test_generated_catalogue_has_unique_names_and_valid_files(tmp_path):
    sources = scenario_files(ROOT)
    files = generate(sources, len(sources) + 2, tmp_path)
    assert len({path.stem for path in files}) == len(files)
    assert [path.read_bytes() for path in files[-2:]] == [p.read_bytes() for p in sources[:2]]
    assert collected_items(files) == sum(
        1 + len(load_scenario(path).expectations) for path in files
    )


def test_bench_runs_every_part_with_tiny_sizes(monkeypatch, tmp_path):
    monkeypatch.setenv("NIXPKGS_LIB", "/nonexistent/nixpkgs/lib")
    monkeypatch.setattr(vm, "missing_requirement", lambda: "qemu-system-x86_64 is not installed")
    out = io.StringIO()
    status = bench.main(["--sizes", "3", "--collect-sizes", "2", "--repeat", "1", "--vm"], out=out)
    text = out.getvalue()
    assert status in (0, 1), text  # 1: a target missed, which tiny sizes may well do
    assert re.search(r"^ +3 +[0-9.]+ ms +[0-9.]+ ms +[0-9.]+x +[0-9.]+ ms +[0-9.]+x$", text, re.M)
    items = collected_items(generate(scenario_files(ROOT), 2, tmp_path))
    assert re.search(rf"^ +2 +{items} +[0-9.]+ s +[0-9.]+ s +[0-9.]+ s$", text, re.M), text
    assert "skipped: NIXPKGS_LIB=/nonexistent/nixpkgs/lib has no default.nix" in text
    assert "skipped: qemu-system-x86_64 is not installed" in text
    assert re.search(
        r"load \+ validate \+ render <= 5x tomllib \(worst: [0-9.]+x\): (met|MISSED)", text
    )
    assert "1000 scenarios collected in < 3 s (whole process): not measured" in text
    assert "container start <= 1/5 of VM boot: not measured" in text


def test_documented_command_runs(tmp_path):
    """As documented, in a process of its own (nothing of the test session loaded)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--sizes", "2", "--collect-sizes", "--repeat", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NIXPKGS_LIB": str(tmp_path / "no-lib")},
    )
    assert done.returncode in (0, 1), done.stderr
    assert "host module evaluation" in done.stdout
    assert f"skipped: NIXPKGS_LIB={tmp_path / 'no-lib'} has no default.nix" in done.stdout


def test_start_phases_are_read_from_the_containers_journal():
    journal = (
        "-- Journal begins at Sun 2026-11-29 21:00:00 UTC. --\n"
        "99.500000 alpha systemd[1]: Starting systemd-networkd.service - Network Configuration...\n"
        "100.000000 alpha systemd[1]: Stopped systemd-networkd.service - Network Configuration.\n"
        "104.250000 alpha systemd[1]: Starting systemd-networkd.service - Network Config...\n"
        "105.500000 alpha systemd-networkd[28]: host0: Gained carrier\n"
        "105.600000 alpha systemd-networkd[28]: host0: Gained IPv6LL\n"
        "109.500000 alpha systemd-networkd[28]: host0: DHCPv4 address 192.168.1.2/28, gateway "
        "192.168.1.1 acquired from 192.168.1.1\n"
        "109.700000 alpha systemd-networkd[28]: host0: DHCPv4 address 192.168.1.2/28 again\n"
    )
    assert vm.phase_times(journal, 100.0) == (5.5, 9.5)
    assert vm.phase_times(journal, 106.0) == (None, 3.5)


def test_networkd_start_is_its_units_timestamp_if_after_the_start():
    assert vm.unit_started("t 104250000\n", 100.0) == 4.25
    assert vm.unit_started("t 99500000", 100.0) is None  # an earlier start's
    assert vm.unit_started("t 0", 100.0) is None  # never started
    with pytest.raises(vm.VmBenchError, match="InactiveExitTimestamp"):
        vm.unit_started("Failed to get property", 100.0)
