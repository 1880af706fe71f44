"""The history of past runs: one record format, written and read by one code path, and the
summary `python -m harness history` prints."""

import json

from harness.run import history
from harness.run.history import Record


def record(id_: str, outcome: str, *attempts: bool | None) -> Record:
    return Record("2026-12-07T00:00:00+00:00", "demo", id_, attempts, outcome)


def test_records_round_trip_and_unreadable_lines_are_skipped(tmp_path):
    written = [record("a", "passed", True), record("b", "flaky", False, None, True)]
    history.append(tmp_path, written)
    path = history.history_path(tmp_path)
    with path.open("a") as handle:
        handle.write('{"time": "t", "scenario": "demo", "id": "c", "attempts": [], ')  # cut off
        handle.write("\n" + json.dumps({**json.loads(written[0].to_json()), "outcome": "won"}))
        handle.write("\n" + json.dumps({**json.loads(written[0].to_json()), "attempts": [1]}))
        handle.write("\n[]\n")
    history.append(tmp_path, [record("a", "failed", False)])
    assert list(history.read(tmp_path)) == [*written, record("a", "failed", False)]


def test_no_history_yet(tmp_path):
    assert list(history.read(tmp_path)) == []
    assert history.report(history.summarise([])) == ["no runs recorded yet"]
    assert history.report(history.summarise([]), only_flaky=True) == ["no flaky expectations"]


def test_summary_counts_outcomes_per_expectation():
    (a, b) = history.summarise(
        [
            record("a", "passed", True),
            record("b", "failed", False),
            record("a", "flaky", False, True),
            record("a", "failed", False, False),
        ]
    )
    assert (a.id, a.runs, a.passed, a.flaky, a.failed, a.last) == ("a", 3, 1, 1, 1, "failed")
    assert (round(a.pass_rate, 2), round(a.first_attempt_rate, 2)) == (0.67, 0.33)
    assert (b.runs, b.pass_rate) == (1, 0.0)
