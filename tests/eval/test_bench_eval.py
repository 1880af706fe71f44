"""Eval tier: the benchmark's host-module part evaluates what it claims to.

``bench/host-eval-cases.nix`` through tests/eval/harness.nix: the case of N containers yields N
nspawn units with the prebuilt path and no failed assertion, and ``python -m bench`` reports
every count.
"""

import io
import json
import re
import subprocess

import pytest

from bench import __main__ as bench
from bench import host_eval

pytestmark = pytest.mark.eval


def test_case_of_n_containers_is_n_path_containers(nixpkgs_lib):
    tier = host_eval.eval_tier()
    argv = tier.harness_argv(nixpkgs_lib, ("reference",), "path-10", cases_file=host_eval.CASES)
    done = subprocess.run(argv, capture_output=True, text=True, check=True, cwd=host_eval.ROOT)
    nspawn = json.loads(done.stdout)["nspawn"]
    assert sorted(nspawn) == sorted(f"c{i}" for i in range(1, 11))
    assert {unit["execConfig"]["Parameters"] for unit in nspawn.values()} == {
        "/nix/store/11111111111111111111111111111111-nixos-system-prebuilt/init"
    }


def test_host_eval_cost_grows_with_the_containers(nixpkgs_lib):
    calls = [host_eval.measure(nixpkgs_lib, n, 1).function_calls for n in (0, 1, 10)]
    assert calls[0] < calls[1] < calls[2]


def test_bench_reports_the_host_module_part(nixpkgs_lib, monkeypatch):
    monkeypatch.setenv("NIXPKGS_LIB", str(nixpkgs_lib))
    out = io.StringIO()
    bench.main(["--sizes", "--collect-sizes", "--repeat", "1"], out=out)
    text = out.getvalue()
    assert "the containers' NixOS systems are excluded" in text
    for count in (0, *bench.EVAL_CONTAINERS):
        assert re.search(rf"^ +{count} +[0-9.]+ ms +\d+ +\d+ +[0-9.]+ MB$", text, re.M), text
    assert re.search(r"each further container \(1 -> 50\): [0-9.]+ ms CPU, \d+ calls", text)
