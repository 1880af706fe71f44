"""Reading the per-expectation results that the scenario's testScript records.

The checks library (``harness.checks``) records every expectation twice: as one JSON line in
``<out>/nixos-nspawn-results.jsonl`` (the test's output, present only when ``nix build``
succeeded) and as one ``nixos-nspawn-result: <json>`` line on the driver's stdout, which lands in
the build log. The log is the only source when the build failed, so both are parsed here into the
same record. Malformed lines are ignored: a half-written line of a killed build must not hide
the results before it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

RESULTS_FILE = "nixos-nspawn-results.jsonl"
_RESULT_LINE = re.compile(r"nixos-nspawn-result: (\{.*\})\s*$")


@dataclass(frozen=True)
class ExpectationResult:
    """One expectation's outcome, as the checks library wrote it (contract (1))."""

    id: str
    check: str
    ok: bool
    message: str
    evidence: Mapping[str, str]
    seconds: float

    def describe(self) -> str:
        """The failure text a pytest item shows: what was expected, what was seen, evidence."""
        lines = [f"{self.id}: {'passed' if self.ok else 'FAILED'} ({self.seconds:.1f} s)"]
        if self.message:
            lines.append(self.message)
        for key, value in self.evidence.items():
            body = value.rstrip("\n")
            if "\n" in body:
                lines.append(f"--- evidence: {key} ---")
                lines.append(body)
            else:
                lines.append(f"evidence {key}: {body}")
        return "\n".join(lines)


def parse_record(text: str) -> ExpectationResult | None:
    """One JSON record, or None when it is not a well-formed result."""
    try:
        raw = json.loads(text)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    evidence = raw.get("evidence", {})
    fields_ok = (
        isinstance(raw.get("id"), str)
        and isinstance(raw.get("check"), str)
        and isinstance(raw.get("ok"), bool)
        and isinstance(raw.get("message", ""), str)
        and isinstance(raw.get("seconds", 0.0), int | float)
        and isinstance(evidence, dict)
    )
    if not fields_ok:
        return None
    return ExpectationResult(
        id=raw["id"],
        check=raw["check"],
        ok=raw["ok"],
        message=raw.get("message", ""),
        evidence={str(k): str(v) for k, v in evidence.items()},
        seconds=float(raw.get("seconds", 0.0)),
    )


def result_from_log_line(line: str) -> ExpectationResult | None:
    """The result a log line carries, wherever nix prefixed it (``vm-test-run-x> ...``)."""
    match = _RESULT_LINE.search(line)
    return None if match is None else parse_record(match.group(1))


def results_from_log(lines: Iterable[str]) -> dict[str, ExpectationResult]:
    """Every result printed in a build log; a later line for the same id wins."""
    found: dict[str, ExpectationResult] = {}
    for line in lines:
        result = result_from_log_line(line)
        if result is not None:
            found[result.id] = result
    return found


def results_from_file(path: Path) -> dict[str, ExpectationResult]:
    """Results of ``nixos-nspawn-results.jsonl``; empty when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    found: dict[str, ExpectationResult] = {}
    # Only "\n" ends a record: str.splitlines() would also split inside a JSON string that
    # holds a raw U+2028, U+2029 or U+0085 and lose the record.
    for line in text.split("\n"):
        result = parse_record(line)
        if result is not None:
            found[result.id] = result
    return found


def dump_results(results: Mapping[str, ExpectationResult], path: Path) -> None:
    """Write results in the checks library's JSON-lines format (the last run, for --interactive)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps(
            {
                "id": r.id,
                "check": r.check,
                "ok": r.ok,
                "message": r.message,
                "evidence": dict(r.evidence),
                "seconds": r.seconds,
            }
        )
        for r in results.values()
    ]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
