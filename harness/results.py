"""Reading the per-expectation results that the scenario's testScript records.

The checks library (``harness.checks``) records every expectation twice: as one JSON line in
``<out>/nixos-nspawn-results.jsonl`` (the test's output, present only when ``nix build``
succeeded) and as one ``nixos-nspawn-result: <json>`` line on the driver's stdout, which lands in
the build log. The log is the only source when the build failed, so both are parsed here into the
same record. Malformed lines are ignored: a half-written line of a killed build must not hide
the results before it.

Only the driver's own stdout lines count: ``nixos-nspawn-result: <json>`` at the start of a
line, or behind the ``<derivation name>> `` prefix that ``nix build -L`` adds. The marker in the
middle of a line (a VM's journal forwarded to the serial console, nix's indented error tail) is
text, not a result. An id recorded twice cannot be trusted either way, so it becomes a failed
result that shows every record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from harness.checks.session import RESULTS_FILE

# nix's prefix is the derivation name (no spaces) and "> "; see the module doc.
_RESULT_LINE = re.compile(r"(?:[^\s>]+> )?nixos-nspawn-result: (\{.*\})\s*\Z")


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
    """The result a driver's stdout line carries, bare or behind nix's ``vm-test-run-x> ``."""
    match = _RESULT_LINE.match(line)
    return None if match is None else parse_record(match.group(1))


def _by_id(results: Iterable[ExpectationResult], source: str) -> dict[str, ExpectationResult]:
    """Results by id; an id recorded more than once becomes one failed result showing all."""
    records: dict[str, list[ExpectationResult]] = {}
    for result in results:
        records.setdefault(result.id, []).append(result)
    return {
        id: same[0] if len(same) == 1 else _recorded_repeatedly(same, source)
        for id, same in records.items()
    }


def _recorded_repeatedly(same: list[ExpectationResult], source: str) -> ExpectationResult:
    first = same[0]
    return ExpectationResult(
        id=first.id,
        check=first.check,
        ok=False,
        message=f"recorded {len(same)} times in the {source}, but each expectation runs once: "
        "no record can be trusted",
        evidence={f"record {n}": record.describe() for n, record in enumerate(same, 1)},
        seconds=sum(record.seconds for record in same),
    )


def results_from_log(lines: Iterable[str]) -> dict[str, ExpectationResult]:
    """Every result the driver printed in a build log (see the module doc)."""
    found = (result_from_log_line(line.rstrip("\n")) for line in lines)
    return _by_id((result for result in found if result is not None), "build log")


def _records(text: str) -> Iterator[ExpectationResult]:
    # Only "\n" ends a record: str.splitlines() would also split inside a JSON string that
    # holds a raw U+2028, U+2029 or U+0085 and lose the record.
    for line in text.split("\n"):
        result = parse_record(line)
        if result is not None:
            yield result


def results_from_file(path: Path) -> dict[str, ExpectationResult]:
    """Results of ``nixos-nspawn-results.jsonl``; empty when the file does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return _by_id(_records(text), f"results file {path.name}")


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
