"""Tier accounting (tests/tiers.py): the closing lines, and required tiers that fail the session."""

from pathlib import Path

import pytest

from tests.tiers import REQUIRE_ENV

SUITE = """
import pytest

def test_unit():
    pass

@pytest.mark.eval
def test_eval_runs(record_property):
    record_property("nixpkgs-lib", "NIXPKGS_LIB=/somewhere/lib")

@pytest.mark.eval
def test_eval_skips():
    pytest.skip("nixpkgs lib not found")

@pytest.mark.runtime
def test_runtime_fails():
    assert False

@pytest.mark.runtime
@pytest.mark.xfail(reason="known", strict=True)
def test_runtime_xfails():
    assert False

@pytest.mark.vm
@pytest.mark.parametrize("n", [1, 2])
def test_vm(n):
    pytest.skip("no usable KVM")

@pytest.fixture
def broken():
    raise RuntimeError("setup")

def test_unit_error(broken):
    pass
"""

ROOT = Path(__file__).resolve().parents[2]
MARKERS = "[pytest]\nmarkers =\n  eval: e\n  runtime: r\n  vm: v\n"


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    pytester.makeini(MARKERS)
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def tier_lines(result: pytest.RunResult) -> dict[str, str]:
    lines = result.outlines
    start = next(i for i, line in enumerate(lines) if "test tiers" in line)
    return {line.split()[0]: line.split(None, 1)[1] for line in lines[start + 1 : start + 5]}


def test_one_line_per_tier_with_counts_and_reasons(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-p", "tests.tiers")
    assert tier_lines(result) == {
        "unit": "1 passed · 1 failed · 0 skipped",
        "eval": "1 passed · 0 failed · 1 skipped — nixpkgs lib: NIXPKGS_LIB=/somewhere/lib"
        " — skipped: nixpkgs lib not found",
        "runtime": "0 passed · 1 failed · 0 skipped · 1 xfailed",
        "vm": "0 passed · 0 failed · 2 skipped — skipped: no usable KVM (2 tests)",
    }


def test_under_xdist_the_controller_counts_the_workers_reports(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the subprocess imports tests.tiers from here
    result = suite.runpytest_subprocess("-p", "tests.tiers", "-n", "2")
    vm_line = "0 passed · 0 failed · 2 skipped — skipped: no usable KVM (2 tests)"
    assert tier_lines(result)["vm"] == vm_line
    assert tier_lines(result)["unit"] == "1 passed · 1 failed · 0 skipped"


def test_a_required_tier_that_skipped_fails_a_green_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(MARKERS)
    pytester.makepyfile(
        test_green="""
        import pytest

        def test_unit():
            pass

        @pytest.mark.eval
        def test_eval():
            pytest.skip("nixpkgs lib not found")
        """
    )
    monkeypatch.setenv(REQUIRE_ENV, "unit")
    assert pytester.runpytest("-p", "tests.tiers").ret == pytest.ExitCode.OK

    monkeypatch.setenv(REQUIRE_ENV, "unit,eval,runtime")
    result = pytester.runpytest("-p", "tests.tiers")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            f"FAILED: tier eval must run in full here ({REQUIRE_ENV}) but 1 skipped",
            f"FAILED: tier runtime must run in full here ({REQUIRE_ENV}) but ran no test",
        ]
    )


def test_an_unknown_required_tier_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(REQUIRE_ENV, "unit,evl")
    result = pytester.runpytest("-p", "tests.tiers")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*NIXOS_NSPAWN_REQUIRE_TIERS: unknown tier evl*"])
