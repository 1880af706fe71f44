"""The runtime tier's expectation ids, without a VM (a unit test: it imports the plan only).

The plan's ids are the ones a scenario file gives the same entries (the registry's
``CheckSpec.expectation_id``, ``#2``, ``#3`` on repeats within a session, as the loader numbers a
file's), so a runtime result and a scenario's result name an expectation alike; the run's record
keys every session's results by id, so they must be unique across the run.
"""

from collections import Counter

from runtime_plan import (
    AFTER_FAILED_STEP,
    FAILED_STEP,
    GOOD,
    LIFECYCLE,
    NEGATIVE,
    Expect,
    Step,
)

from harness.checks.registry import CHECKS, STEPS


def _compare(session: tuple[Expect, ...]) -> None:
    """Every unlabelled entry of ``session`` has the registry's id, numbered on repeats."""
    seen: Counter[str] = Counter()
    for entry in session:
        registry = STEPS if isinstance(entry, Step) else CHECKS
        expected = registry[entry.check].expectation_id(entry.params)
        seen[expected] += 1
        if seen[expected] > 1:
            expected += f"#{seen[expected]}"
        if entry.label is None:
            assert entry.id == expected, entry


def test_the_good_sessions_ids_are_the_registrys() -> None:
    _compare(GOOD + LIFECYCLE)
    # The repeats after a restart are numbered as a scenario file numbers them.
    assert {e.id for e in LIFECYCLE} >= {"reachable[host->alpha,ipv4]#2", "http[host->alpha:80/]#2"}


def test_the_failing_and_negative_sessions_ids_are_the_registrys() -> None:
    _compare((FAILED_STEP, AFTER_FAILED_STEP))
    for broken in NEGATIVE:
        _compare((broken.expect,))


def test_ids_are_unique_in_the_runs_record() -> None:
    results = [
        e.id
        for e in (*GOOD, *LIFECYCLE, AFTER_FAILED_STEP, *(b.expect for b in NEGATIVE))
        if not isinstance(e, Step)
    ]
    steps = [e.id for e in (*LIFECYCLE, FAILED_STEP) if isinstance(e, Step)]
    assert len(results) == len(set(results))
    assert len(steps) == len(set(steps))


def test_only_commands_and_a_repeat_across_sessions_have_labels() -> None:
    # A command's registry label is its clipped command line: not unique. The control after the
    # failed step runs in a session of its own; its registry id is the good session's too.
    labelled = [
        e
        for e in (*GOOD, *LIFECYCLE, FAILED_STEP, AFTER_FAILED_STEP, *(b.expect for b in NEGATIVE))
        if e.label is not None
    ]
    assert {e.check for e in labelled} == {"command", "unit-active"}
    assert [e for e in labelled if e.check != "command"] == [AFTER_FAILED_STEP]
    assert Expect("unit-active", AFTER_FAILED_STEP.params).id in {e.id for e in GOOD}
