"""A scenario run in pytest's reports: HTML (pytest-html), JUnit XML and the terminal summary.

Each expectation item's call report gets :data:`FACTS_ATTRIBUTE`, a JSON-able dict of the facts
of its run (:class:`RunFacts`: when its check started, how long it took, where its evidence
is, the scenario's timeline). A plain report attribute travels from pytest-xdist's workers to the
controller with the report, so the hooks of :class:`ReportHooks`, which run where the reports
are written, find it there:

* with ``--html`` and pytest-html 4 installed (the ``report`` extra), the item's
  ``report.extras`` carry its evidence, the scenario's topology and the run's timeline as inline
  SVG (static: no script, so it works offline and where HTML is sanitised), links to the build
  log and the results, and the ``--interactive`` command of a failure. Without pytest-html, or
  without ``--html``, no extras are made and pytest-html is never imported;
* with ``--junitxml``, the facts become ``<properties>`` of the ``<testsuite>`` (what
  ``record_testsuite_property`` writes, valid and silent under every ``junit_family``; per-test
  properties warn under the default ``xunit2``), named ``<nodeid> started|seconds|evidence``;
* the terminal summary names each scenario's boots and its slowest steps and checks.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from _pytest.junitxml import xml_key

from harness.checks.result import BOOT, CHECK, CONTAINER, STEP, Result
from harness.checks.session import RESULTS_FILE
from harness.render.diagram import topology_svg
from harness.render.timeline import timeline_svg
from harness.run.build import BuildOutcome
from harness.scenario.model import Scenario

FACTS_ATTRIBUTE = "nixos_nspawn"
"""The report attribute that carries an expectation item's :class:`RunFacts`."""
SLOWEST = 3
"""How many steps and checks per scenario the terminal summary names."""


@dataclass(frozen=True)
class Timed:
    """One record of the timeline, as the summary needs it."""

    kind: str
    id: str
    seconds: float
    ok: bool


@dataclass(frozen=True)
class RunFacts:
    """What the reports say of one expectation item's run (JSON-able through :meth:`as_json`)."""

    scenario: str
    expectation: str
    started: float | None
    seconds: float | None
    evidence: str
    """Where the evidence is: the results file of a finished build, else the build log."""
    timeline: tuple[Timed, ...] = field(default=())

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RunFacts:
        timeline = tuple(Timed(**entry) for entry in raw["timeline"])
        return cls(**{**raw, "timeline": timeline})


def results_path(outcome: BuildOutcome) -> Path | None:
    """The results file of a finished build."""
    return None if outcome.out_path is None else outcome.out_path / RESULTS_FILE


def run_facts(scenario: Scenario, expectation: str, outcome: BuildOutcome) -> RunFacts:
    result = outcome.results.get(expectation)
    return RunFacts(
        scenario=scenario.name,
        expectation=expectation,
        started=None if result is None else result.started,
        seconds=None if result is None else result.seconds,
        evidence=str(results_path(outcome) or outcome.log_path),
        timeline=tuple(Timed(r.kind, r.id, r.seconds, r.ok) for r in outcome.timeline),
    )


def describe(
    config: pytest.Config,
    report: pytest.TestReport,
    scenario: Scenario,
    expectation: str,
    outcome: BuildOutcome,
    interactive: str,
) -> None:
    """Attach the facts of ``expectation``'s run to its call report, and with ``--html``
    (pytest-html active) the extras (``interactive``: the command that debugs a failure)."""
    setattr(report, FACTS_ATTRIBUTE, run_facts(scenario, expectation, outcome).as_json())
    if not (config.pluginmanager.hasplugin("html") and config.getoption("htmlpath", None)):
        return
    from pytest_html import extras

    result = outcome.results.get(expectation)
    parts = [_evidence_html(expectation, result, outcome)]
    if result is None or not result.ok:
        parts.append(f"<p>debug it: <code>{html.escape(interactive)}</code></p>")
    parts.append(f"<div>{timeline_svg(outcome.timeline, expectation, scenario.name)}</div>")
    parts.append(f"<div>{topology_svg(scenario)}</div>")
    found = [*getattr(report, "extras", []), extras.html("\n".join(parts))]
    found.append(extras.url(outcome.log_path.absolute().as_uri(), name="build log"))
    results = results_path(outcome)
    if results is not None:
        found.append(extras.url(results.absolute().as_uri(), name="results"))
    report.extras = found  # type: ignore[attr-defined]


def _evidence_html(expectation: str, result: Result | None, outcome: BuildOutcome) -> str:
    """The verdict and every evidence entry (a command with its output, or a fact)."""
    if result is None:
        tail = html.escape(outcome.log_tail())
        return (
            f"<h4>{html.escape(expectation)}: no result recorded ({html.escape(outcome.status())})"
            f"</h4><pre>{tail}</pre>"
        )
    verdict = "passed" if result.ok else "FAILED"
    summary = result.message.split("\nevidence:", 1)[0]
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th><td><pre>{html.escape(value)}</pre></td></tr>"
        for label, value in result.evidence.items()
    )
    return (
        f"<h4>{html.escape(result.id)}: {verdict} in {result.seconds:.1f} s</h4>"
        f"<p>{html.escape(summary)}</p>"
        f'<table class="nixos-nspawn-evidence">{rows}</table>'
    )


@dataclass
class _Seen:
    """The facts that reached this process' reports, the last item's per scenario."""

    scenarios: dict[str, RunFacts] = field(default_factory=dict)


SEEN = pytest.StashKey[_Seen]()


class ReportHooks:
    """The hooks that run where reports are written (pytest-xdist's controller, else the one
    process): JUnit properties and the terminal summary."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        config.stash[SEEN] = _Seen()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        raw = getattr(report, FACTS_ATTRIBUTE, None)
        if report.when != "call" or not isinstance(raw, dict):
            return
        facts = RunFacts.from_json(raw)
        self.config.stash[SEEN].scenarios[facts.scenario] = facts
        xml = self.config.stash.get(xml_key, None)
        if xml is None:
            return
        if facts.started is not None:
            started = datetime.fromtimestamp(facts.started, UTC).isoformat(timespec="milliseconds")
            xml.add_global_property(f"{report.nodeid} started", started)
        if facts.seconds is not None:
            xml.add_global_property(f"{report.nodeid} seconds", f"{facts.seconds:.3f}")
        xml.add_global_property(f"{report.nodeid} evidence", facts.evidence)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        scenarios = self.config.stash[SEEN].scenarios
        if not any(facts.timeline for facts in scenarios.values()):
            return
        terminalreporter.write_sep("=", "nixos-nspawn: slowest steps and checks")
        for name, facts in sorted(scenarios.items()):
            for line in summary_lines(name, facts.timeline):
                terminalreporter.write_line(line)


def summary_lines(name: str, timeline: tuple[Timed, ...]) -> list[str]:
    """The scenario's boots and container starts, then its slowest steps and checks."""

    def named(kinds: tuple[str, ...], limit: int | None = None) -> str:
        chosen = sorted(
            (t for t in timeline if t.kind in kinds), key=lambda t: t.seconds, reverse=True
        )
        return ", ".join(
            f"{t.id} {t.seconds:.1f} s" + ("" if t.ok else " (failed)") for t in chosen[:limit]
        )

    lines = [f"{name}: " + (named((BOOT, CONTAINER)) or "no boot recorded")]
    for label, kind in (("steps", STEP), ("checks", CHECK)):
        slowest = named((kind,), SLOWEST)
        if slowest:
            lines.append(f"  slowest {label}: {slowest}")
    return lines
