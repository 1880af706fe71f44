"""Reading the per-expectation results that the scenario's testScript records.

The checks library (``harness.checks``) records every expectation twice: as one JSON line in
``<out>/nixos-nspawn-results.jsonl`` (the test's output, present only when ``nix build``
succeeded) and as one ``nixos-nspawn-result: <json>`` line on the driver's stdout, which lands in
the build log. The log is the only source when the build failed, so both are parsed here, by
:meth:`Result.from_json`, the reader of the record that :meth:`Result.to_json` writes. Malformed
lines are ignored: a half-written line of a killed build must not hide the results before it.

Only the driver's own stdout lines count: the line prefix (:data:`STDOUT_PREFIX`) at the start
of a line, or behind the ``<derivation name>> `` prefix that ``nix build -L`` adds. The marker
in the middle of a line (a VM's journal forwarded to the serial console, nix's indented error
tail) is text, not a result. An id recorded twice cannot be trusted either way, so it becomes a
failed result that shows every record.

Besides the expectations' results, the records hold the run's timeline (steps, boots, container
starts; :data:`harness.checks.result.KINDS`): :func:`records_from_file` and
:func:`records_from_log` return every record in the order written, :func:`expectations` picks
the expectations' results by id from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from harness.checks.result import CHECK, Result
from harness.checks.session import STDOUT_PREFIX

# nix's prefix is the derivation name (no spaces) and "> "; see the module doc.
_RESULT_LINE = re.compile(rf"(?:[^\s>]+> )?{re.escape(STDOUT_PREFIX)}(\{{.*\}})\s*\Z")


def result_from_log_line(line: str) -> Result | None:
    """The result a driver's stdout line carries, bare or behind nix's ``vm-test-run-x> ``."""
    match = _RESULT_LINE.match(line)
    return None if match is None else Result.from_json(match.group(1))


def _by_id(results: Iterable[Result], source: str) -> dict[str, Result]:
    """Results by id; an id recorded more than once becomes one failed result showing all."""
    records: dict[str, list[Result]] = {}
    for result in results:
        records.setdefault(result.id, []).append(result)
    return {
        id: same[0] if len(same) == 1 else _recorded_repeatedly(same, source)
        for id, same in records.items()
    }


def _recorded_repeatedly(same: list[Result], source: str) -> Result:
    return Result.failed(
        id=same[0].id,
        check=same[0].check,
        message=f"recorded {len(same)} times in the {source}, but each expectation runs once: "
        "no record can be trusted",
        evidence={f"record {n}": record.describe() for n, record in enumerate(same, 1)},
        seconds=sum(record.seconds for record in same),
    )


def expectations(records: Iterable[Result], source: str) -> dict[str, Result]:
    """The expectations' results among ``records`` (read from ``source``), by id."""
    return _by_id((record for record in records if record.kind == CHECK), source)


def records_from_log(lines: Iterable[str]) -> list[Result]:
    """Every record the driver printed in a build log (see the module doc), in order."""
    found = (result_from_log_line(line.rstrip("\n")) for line in lines)
    return [result for result in found if result is not None]


def results_from_log(lines: Iterable[str]) -> dict[str, Result]:
    """Every expectation's result the driver printed in a build log."""
    return expectations(records_from_log(lines), "build log")


def _records(text: str) -> Iterator[Result]:
    # Only "\n" ends a record: str.splitlines() would also split inside a JSON string that
    # holds a raw U+2028, U+2029 or U+0085 and lose the record.
    for line in text.split("\n"):
        result = Result.from_json(line)
        if result is not None:
            yield result


def records_from_file(path: Path) -> list[Result]:
    """Records of ``nixos-nspawn-results.jsonl`` in order; empty when it does not exist."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return list(_records(text))


def results_from_file(path: Path) -> dict[str, Result]:
    """Expectations' results of ``nixos-nspawn-results.jsonl`` (empty without the file)."""
    return expectations(records_from_file(path), f"results file {path.name}")


def dump_results(results: Mapping[str, Result], path: Path) -> None:
    """Write results as the checks library does (the last run, for --interactive)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(r.to_json() + "\n" for r in results.values()), encoding="utf-8")
