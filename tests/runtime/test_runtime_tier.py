"""Runtime tier: the checks on a real Debian systemd host VM (see conftest.py for the run).

Every expectation on the good runtime-pair containers must pass; every negative control must
fail, and its failure message must name the broken setting's symptom.
"""

import pytest
from plan_faults import FAULTS
from runtime_plan import (
    AFTER_FAILED_STEP,
    FAILED_STEP,
    GOOD,
    LIFECYCLE,
    NEGATIVE,
    Broken,
    Expect,
    RunRecord,
    Step,
)

pytestmark = pytest.mark.runtime


@pytest.mark.parametrize("expect", GOOD, ids=lambda e: e.id)
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


@pytest.mark.parametrize("entry", [*LIFECYCLE, *FAULTS], ids=lambda e: e.id)
def test_steps_run_and_later_expectations_see_their_effect(
    runtime_run: RunRecord, entry: Step | Expect
) -> None:
    if isinstance(entry, Step):
        assert runtime_run.steps[entry.id], f"step {entry.id} failed (see the progress log)"
    else:
        result = runtime_run.results[entry.id]
        assert result["ok"], result["message"]


def test_a_failed_step_fails_the_expectations_after_it(runtime_run: RunRecord) -> None:
    assert runtime_run.steps[FAILED_STEP.id] is False
    result = runtime_run.results[AFTER_FAILED_STEP.id]
    assert not result["ok"]
    assert result["message"].startswith(
        f"not checked: step {FAILED_STEP.id} failed: `echo no such setup >&2; exit 3` on host "
        "exited 3"
    ), result["message"]
    assert "no such setup" in result["message"]  # the step's evidence
