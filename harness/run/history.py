"""The results of past runs: ``.nixos-nspawn/history.jsonl``, and each expectation's pass rate.

After every scenario build (all its attempts, see :mod:`harness.run.reruns`) the pytest plugin
appends one :class:`Record` per expectation; ``python -m harness history`` reads them back and
summarises them (:func:`summarise`). :meth:`Record.to_json` and :meth:`Record.from_json` are the
one writer and the one reader of the format; a line they cannot read (a half-written line of a
killed run, another version's record) is skipped.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.run.build import STATE_DIR

HISTORY_FILE = "history.jsonl"

PASSED, FAILED, FLAKY = "passed", "failed", "flaky"
OUTCOMES = (PASSED, FAILED, FLAKY)
"""An expectation's outcome in one run: passed at the first attempt, failed at the last one, or
flaky (failed, then passed in a rerun)."""


def history_path(flake_root: Path) -> Path:
    return flake_root / STATE_DIR / HISTORY_FILE


@dataclass(frozen=True)
class Record:
    """One expectation in one run: when (``time``, UTC ISO 8601), which (scenario, id), whether
    each attempt passed (None: no result recorded) and the outcome."""

    time: str
    scenario: str
    id: str
    attempts: tuple[bool | None, ...]
    outcome: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=True)

    @classmethod
    def from_json(cls, line: str) -> Record | None:
        try:
            raw = json.loads(line)
        except ValueError:
            return None
        if not isinstance(raw, dict):
            return None
        attempts = raw.get("attempts")
        texts = [raw.get(key) for key in ("time", "scenario", "id", "outcome")]
        if (
            not all(isinstance(text, str) for text in texts)
            or raw.get("outcome") not in OUTCOMES
            or not isinstance(attempts, list)
            or not attempts
            or not all(a is None or isinstance(a, bool) for a in attempts)
        ):
            return None
        return cls(raw["time"], raw["scenario"], raw["id"], tuple(attempts), raw["outcome"])


def append(flake_root: Path, records: Iterable[Record]) -> None:
    """Add ``records`` to the history, under a lock (xdist workers append at once)."""
    path = history_path(flake_root)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(record.to_json() + "\n" for record in records)
    with path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(text)


def read(flake_root: Path) -> Iterator[Record]:
    """Every readable record, oldest first; none when there is no history yet."""
    try:
        text = history_path(flake_root).read_text(encoding="utf-8")
    except FileNotFoundError:
        return
    for line in text.split("\n"):
        record = Record.from_json(line)
        if record is not None:
            yield record


@dataclass(frozen=True)
class Summary:
    """One expectation over the runs in the history."""

    scenario: str
    id: str
    runs: int
    passed: int
    flaky: int
    failed: int
    last: str

    @property
    def pass_rate(self) -> float:
        """Runs whose outcome was a pass (flaky included: it passed in the end)."""
        return (self.passed + self.flaky) / self.runs

    @property
    def first_attempt_rate(self) -> float:
        """Runs that passed at the first attempt."""
        return self.passed / self.runs


def summarise(records: Iterable[Record]) -> list[Summary]:
    """Per expectation (by scenario and id, in order of first appearance) its counts."""
    grouped: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        grouped.setdefault((record.scenario, record.id), []).append(record)
    return [
        Summary(
            scenario,
            id,
            len(runs),
            sum(r.outcome == PASSED for r in runs),
            sum(r.outcome == FLAKY for r in runs),
            sum(r.outcome == FAILED for r in runs),
            runs[-1].outcome,
        )
        for (scenario, id), runs in grouped.items()
    ]


def report(summaries: list[Summary], only_flaky: bool = False) -> list[str]:
    """The lines ``python -m harness history`` prints: a table, then the flaky ones."""
    shown = [s for s in summaries if s.flaky or not only_flaky]
    if not shown:
        return ["no flaky expectations" if only_flaky else "no runs recorded yet"]
    lines = [f"{'pass':>5} {'1st':>5} {'runs':>4} {'flaky':>5} {'last':<6}  expectation"]
    for s in shown:
        lines.append(
            f"{s.pass_rate:>5.0%} {s.first_attempt_rate:>5.0%} {s.runs:>4} {s.flaky:>5} "
            f"{s.last:<6}  {s.scenario}::{s.id}"
        )
    flaky = [f"{s.scenario}::{s.id}" for s in summaries if s.flaky]
    lines.append(f"flaky: {', '.join(flaky)}" if flaky else "flaky: none")
    return lines
