"""The runtime tier's expectation ids, without a VM (a unit test: it imports the plan only).

The plan's ids are the ones a scenario file gives the same entries (the registry's
``CheckSpec.expectation_id``, ``#2``, ``#3`` on repeats within a session, as the loader numbers a
file's), so a runtime result and a scenario's result name an expectation alike; the run's record
keys every session's results by id, so they must be unique across the run.
"""

import json
from collections import Counter

import pytest
from runtime_plan import (
    AFTER_FAILED_STEP,
    BEYOND,
    FAILED_STEP,
    FEATURES,
    GOOD,
    LIFECYCLE,
    NEGATIVE,
    REFERENCE,
    WAVES,
    Expect,
    Step,
    make_plan,
    merge_cases,
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


REFERENCES = (REFERENCE, FEATURES, BEYOND)


@pytest.mark.skipif(
    not all(path.exists() for path in REFERENCES), reason="the eval tier exports the references"
)
def test_the_plan_of_the_exported_cases_starts_every_container_once() -> None:
    references = [json.loads(path.read_text()) for path in REFERENCES]
    plan = make_plan(references, ("bin", "etc", "usr"))
    started = [name for wave in plan.waves for name in wave]
    assert sorted(started) == sorted(plan.case["nspawn"])
    assert len(started) == len(set(started))
    assert len(plan.waves) == len(WAVES)
    assert set(plan.negative) == {broken.name for broken in NEGATIVE}


def test_cases_may_share_a_setting_but_not_disagree_on_it() -> None:
    one = {"case": "a", "description": "a", "sysctl": {"fs.x": 1}, "nspawn": {"web": {}}}
    two = {"case": "b", "description": "b", "sysctl": {"fs.x": 1}, "nspawn": {"db": {}}}
    assert merge_cases(one, two)["sysctl"] == {"fs.x": 1}
    with pytest.raises(ValueError, match="sysctl"):
        merge_cases(one, {**two, "sysctl": {"fs.x": 2}})
    with pytest.raises(ValueError, match="nspawn"):
        merge_cases(one, {**two, "nspawn": {"web": {"x": 1}}})


def test_cases_mounts_follow_one_another_once_per_mount_point() -> None:
    image = {"what": "/nix/store/a-img", "where": "/run/a"}
    one = {"case": "a", "description": "a", "mounts": [image]}
    two = {"case": "b", "description": "b", "mounts": [image, {"what": "x", "where": "/run/b"}]}
    assert merge_cases(one, two)["mounts"] == [image, {"what": "x", "where": "/run/b"}]
    assert merge_cases({"case": "c", "description": "c"})["mounts"] == []
    with pytest.raises(ValueError, match="mounts"):
        merge_cases(one, {**two, "mounts": [{**image, "what": "/nix/store/b-img"}]})


@pytest.mark.skipif(not BEYOND.exists(), reason="the eval tier exports the references")
def test_the_leaky_control_binds_the_whole_store_instead_of_the_image() -> None:
    references = [json.loads(path.read_text()) for path in REFERENCES]
    case = make_plan(references, ("bin", "etc", "usr")).case
    [delta_store] = [
        s for s in case["nspawn"]["delta"]["filesConfig"]["BindReadOnly"] if "store" in s
    ]
    assert delta_store.startswith("/run/nixos-nspawn/store/")
    assert case["nspawn"]["leaky"]["filesConfig"]["BindReadOnly"] == ["/usr", "/nix/store"]


def test_the_lifecycle_parts_ids_are_unique_in_the_runs_record() -> None:
    from plan_lifecycle import Control, plan

    entries = plan("eth0")
    results = [e.id for e in entries if not isinstance(e, Step)]
    steps = [e.id for e in entries if isinstance(e, Step)]
    others = {e.id for e in (*GOOD, *LIFECYCLE, AFTER_FAILED_STEP, *(b.expect for b in NEGATIVE))}
    assert len(set(results)) == len(results)
    assert len(set(steps)) == len(steps)
    assert not others & set(results)
    assert any(isinstance(e, Control) for e in entries)
