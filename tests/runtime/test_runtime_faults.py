"""Runtime tier: fault steps and lifecycle checks on real nspawn containers (plan_faults.py).

Every step of :data:`FAULTS` must succeed and every expectation after it pass (with the other
steps, in test_runtime_tier.py); every negative control must fail, naming what went wrong.
The ids are checked without a VM.
"""

import pytest
from plan_faults import CONTROLS, FAULTS, Control
from runtime_plan import AFTER_FAILED_STEP, GOOD, LIFECYCLE, NEGATIVE, RunRecord, Step

from harness.checks.registry import CHECKS, STEPS


def test_every_fault_step_and_lifecycle_check_is_in_the_plan() -> None:
    used = {e.check for e in FAULTS} | {s.check for c in CONTROLS for s in c.steps}
    new_steps = {"mark", "partition", "heal", "kill", "freeze", "thaw", "kill-unit"}
    assert new_steps <= used
    assert new_steps <= set(STEPS)
    assert {"unchanged", "restarted"} <= used
    assert {"unchanged", "restarted"} <= set(CHECKS)


def test_result_ids_are_unique_in_the_runs_record() -> None:
    entries = (*GOOD, *LIFECYCLE, AFTER_FAILED_STEP, *(b.expect for b in NEGATIVE))
    entries += (*FAULTS, *(c.expect for c in CONTROLS))
    results = [e.id for e in entries if not isinstance(e, Step)]
    assert len(results) == len(set(results))
    steps = [e.id for e in FAULTS if isinstance(e, Step)]
    assert len(steps) == len(set(steps))


@pytest.mark.runtime
@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.name)
def test_negative_control_fails_naming_the_problem(
    runtime_run: RunRecord, control: Control
) -> None:
    steps = [runtime_run.steps[f"{control.name}:{s.id}"] for s in control.steps]
    expected = [True] * len(steps)
    if control.failing_step:
        expected[-1] = False
    assert steps == expected
    result = runtime_run.results[control.expect.id]
    assert not result["ok"], f"{control.name} went unnoticed: {result['message']}"
    assert control.message in result["message"], result["message"]
    for step in control.cleanup:
        assert runtime_run.steps[f"{control.name}:cleanup:{step.id}"], step.id
