"""Runtime tier, lifecycle part (tests/runtime/plan_lifecycle.py): reload, crash policy, host
network and namespace, removed containers; each negative control must fail naming its symptom."""

import pytest
from plan_lifecycle import Control, plan
from runtime_plan import RunRecord, Step

pytestmark = pytest.mark.runtime

ENTRIES = plan("eth0")
"""The ids do not depend on the VM's interface name (the entries that use it carry labels)."""


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.id)
def test_lifecycle_entry(runtime_run: RunRecord, entry: object) -> None:
    if isinstance(entry, Step):
        assert runtime_run.steps[entry.id], f"step {entry.id} failed (see the progress log)"
    elif isinstance(entry, Control):
        result = runtime_run.results[entry.id]
        assert not result["ok"], f"{entry.id} passed, but must fail: {result['message']}"
        assert entry.message in result["message"], result["message"]
    else:
        result = runtime_run.results[entry.id]
        assert result["ok"], result["message"]
