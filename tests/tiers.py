"""Tier accounting: every test session ends with one line per test tier, and can insist on some.

The suite proves one link of the evidence chain per tier (CONTRIBUTING.md, "Test tiers"), told
apart by marker: ``eval`` (nixpkgs lib), ``runtime`` (a Debian VM with real nspawn), ``vm`` (a
scenario's NixOS VM test); everything else is ``unit``. A tier whose requirement is missing
skips, so a green run can be weaker than the last one: the closing lines say how each tier fared
and why it skipped.

``NIXOS_NSPAWN_REQUIRE_TIERS=unit,eval,runtime`` (set by ``.ci/run`` for what its machine can run)
fails the session when a named tier skipped a test or ran none.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field

import pytest

TIERS = ("unit", "eval", "runtime", "vm")
REQUIRE_ENV = "NIXOS_NSPAWN_REQUIRE_TIERS"
# A test of the eval tier records where nixpkgs lib came from (tests/eval/conftest.py).
LIB_PROPERTY = "nixpkgs-lib"


TIER_PROPERTY = "tier"


def tier_of(item: pytest.Item) -> str:
    """The tier of a test: its tier marker's name, else unit."""
    for tier in TIERS[1:]:
        if item.get_closest_marker(tier) is not None:
            return tier
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every report carries its test's tier (markers do not travel from xdist workers)."""
    for item in items:
        item.user_properties.append((TIER_PROPERTY, tier_of(item)))


def reported_tier(report: pytest.TestReport) -> str:
    return next((value for name, value in report.user_properties if name == TIER_PROPERTY), "unit")


def skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple | list) else str(longrepr)
    return text.removeprefix("Skipped: ")


@dataclass
class Tier:
    """The outcomes of one tier's tests (a test counts once, by its worst phase)."""

    outcomes: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)

    def record(self, report: pytest.TestReport) -> None:
        nodeid = report.nodeid
        if self.outcomes.get(nodeid) == "failed":
            return
        if report.failed:
            self.outcomes[nodeid] = "failed"
        elif report.skipped and hasattr(report, "wasxfail"):
            self.outcomes[nodeid] = "xfailed"
        elif report.skipped:
            self.outcomes[nodeid] = "skipped"
            self.reasons[nodeid] = skip_reason(report)
        elif report.when == "call":
            self.outcomes[nodeid] = "passed"
        self.sources.update(value for name, value in report.user_properties if name == LIB_PROPERTY)

    def counts(self) -> Counter[str]:
        return Counter(self.outcomes.values())

    def summary(self) -> str:
        counts = self.counts()
        parts = [f"{counts[outcome]} {outcome}" for outcome in ("passed", "failed", "skipped")]
        parts += [f"{counts[o]} {o}" for o in ("xfailed",) if counts[o]]
        line = " · ".join(parts)
        if self.sources:
            line += f" — nixpkgs lib: {'; '.join(sorted(self.sources))}"
        reasons = Counter(self.reasons.values())
        if reasons:
            line += " — skipped: " + "; ".join(
                f"{reason} ({n} tests)" if n > 1 else reason for reason, n in reasons.most_common()
            )
        return line

    def shortfall(self) -> str | None:
        """Why this tier, when required, did not run in full; None when it did."""
        counts = self.counts()
        if counts["skipped"]:
            return f"{counts['skipped']} skipped"
        if not counts["passed"] and not counts["failed"]:
            return "ran no test"
        return None


class TierReport:
    """Collects every report (on the xdist controller: the workers' too) by tier."""

    def __init__(self, required: tuple[str, ...]) -> None:
        self.required = required
        self.tiers = {tier: Tier() for tier in TIERS}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.tiers[reported_tier(report)].record(report)

    def problems(self) -> list[str]:
        found = []
        for tier in self.required:
            shortfall = self.tiers[tier].shortfall()
            if shortfall is not None:
                found.append(f"tier {tier} must run in full here ({REQUIRE_ENV}) but {shortfall}")
        return found

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.problems() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        terminalreporter.write_sep("-", "test tiers")
        for tier in TIERS:
            terminalreporter.write_line(f"{tier:<8} {self.tiers[tier].summary()}")
        for problem in self.problems():
            terminalreporter.write_line(f"FAILED: {problem}", red=True, bold=True)


def required_tiers(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = [name for name in names if name not in TIERS]
    if unknown:
        raise pytest.UsageError(
            f"{REQUIRE_ENV}: unknown tier {', '.join(unknown)} (tiers: {', '.join(TIERS)})"
        )
    return names


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # an xdist worker: its reports reach the controller, which counts them
    required = required_tiers(os.environ.get(REQUIRE_ENV, ""))
    config.pluginmanager.register(TierReport(required), "nixos-nspawn-tiers")
