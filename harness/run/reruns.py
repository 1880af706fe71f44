"""Flaky runs: rebuild a scenario whose build failed, and judge each expectation over attempts.

``--nixos-nspawn-reruns N`` builds a failed scenario up to N more times. Nix does not cache a
failed build (a derivation whose builder fails registers no output), so each ``nix build`` of
the test runs its VM and testScript again; tests/unit/runner/test_runner_real_nix.py proves
this with the real ``nix`` on a failing derivation. Every attempt keeps its own log (the
evidence of each result is in it).

An expectation is judged by its last attempt: it passed (every attempt passed), is flaky (the
last attempt passed, an earlier one did not) or failed (the last attempt did not pass).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from harness.checks.result import Result
from harness.run.build import BuildOutcome, NixTarget, build
from harness.run.history import FAILED, FLAKY, PASSED, Record


@dataclass(frozen=True)
class Verdict:
    """One expectation over the attempts: each attempt's result (None: not recorded), and the
    outcome (:data:`harness.run.history.OUTCOMES`)."""

    results: tuple[Result | None, ...]
    outcome: str

    @property
    def last(self) -> Result | None:
        return self.results[-1]

    def passes(self) -> tuple[bool | None, ...]:
        return tuple(None if r is None else r.ok for r in self.results)


@dataclass(frozen=True)
class Attempts:
    """Every build of one scenario in this run, in order (at least one)."""

    outcomes: tuple[BuildOutcome, ...]

    @property
    def last(self) -> BuildOutcome:
        return self.outcomes[-1]

    def verdict(self, expectation_id: str) -> Verdict:
        results = tuple(o.results.get(expectation_id) for o in self.outcomes)
        passes = [r is not None and r.ok for r in results]
        outcome = PASSED if all(passes) else FLAKY if passes[-1] else FAILED
        return Verdict(results, outcome)

    def story(self, expectation_id: str) -> str:
        """Each attempt's outcome for ``expectation_id`` and its log, one line each."""
        lines = []
        for n, (result, outcome) in enumerate(
            zip(self.verdict(expectation_id).results, self.outcomes, strict=True), 1
        ):
            said = (
                "no result"
                if result is None
                else "passed"
                if result.ok
                else "failed: " + result.message.split("\n", 1)[0]
            )
            lines.append(f"attempt {n}: {said} (log: {outcome.log_path})")
        return "\n".join(lines)

    def records(self, scenario: str, ids: Iterable[str], time: str) -> list[Record]:
        """The history's records of this run (see :mod:`harness.run.history`)."""
        return [
            Record(time, scenario, id, self.verdict(id).passes(), self.verdict(id).outcome)
            for id in ids
        ]


def build_with_reruns(
    target: NixTarget,
    *,
    timeout: float,
    reruns: int,
    on_line: Callable[[str], None],
    say: Callable[[str], None],
) -> Attempts:
    """Build ``target``; while the build fails, rebuild it, at most ``reruns`` more times."""
    outcomes = [build(target, timeout=timeout, on_line=on_line)]
    while not outcomes[-1].succeeded and len(outcomes) <= reruns:
        say(f"attempt {len(outcomes)}: {outcomes[-1].status()}; building again")
        outcomes.append(build(target, timeout=timeout, on_line=on_line, attempt=len(outcomes) + 1))
    return Attempts(tuple(outcomes))
