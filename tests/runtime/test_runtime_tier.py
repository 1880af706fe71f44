"""Runtime tier: the checks on a real Debian systemd host VM (see conftest.py for the run).

Every expectation on the good runtime-pair containers must pass; every negative control must
fail, and its failure message must name the broken setting's symptom.
"""

import pytest
from runtime_plan import BEYOND_GOOD, GOOD, NEGATIVE, Broken, Expect, RunRecord

pytestmark = pytest.mark.runtime


@pytest.mark.parametrize("expect", GOOD + BEYOND_GOOD, ids=lambda e: e.id)
def test_good_setup_passes(runtime_run: RunRecord, expect: Expect) -> None:
    result = runtime_run.results[expect.id]
    assert result["ok"], result["message"]


@pytest.mark.parametrize("broken", NEGATIVE, ids=lambda b: f"{b.name}:{b.what}")
def test_negative_control_fails_naming_the_problem(runtime_run: RunRecord, broken: Broken) -> None:
    result = runtime_run.results[broken.expect.id]
    assert not result["ok"], f"{broken.what} went unnoticed: {result['message']}"
    assert broken.message in result["message"], result["message"]


@pytest.mark.parametrize("broken", NEGATIVE, ids=lambda b: b.name)
def test_session_finish_names_each_failed_negative_control(
    runtime_run: RunRecord, broken: Broken
) -> None:
    assert f"{broken.expect.id}: " in runtime_run.negative_finish
