"""Read and validate a scenario file into a :class:`harness.scenario.model.Scenario`: the one
guarded path from a file to the model (bounded reading, one TOML parse, every error located).

The parts: :mod:`harness.scenario.reader` (the located-error reader and the TOML parse),
:mod:`harness.scenario.sections` (host, containers, nodes) and :mod:`harness.scenario.entries`
(``[[expect]]`` and ``[[step]]``); this module puts them together, and parses the Nix code of
many files in one batch (:func:`parse_nix_code_of`). User errors are never tracebacks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from harness.checks.spec import describe
from harness.scenario import entries, sections
from harness.scenario.model import (
    MAX_TIMEOUT,
    Expectation,
    Host,
    Scenario,
    ScenarioError,
    Step,
    ValidationError,
)
from harness.scenario.nixparse import parse_all
from harness.scenario.reader import NAME, Reader, T, parse_toml
from harness.scenario.source import read_source

STORE_NAME_MAX = 211
"""Longest name of a Nix store path (after the hash)."""
TEST_DRIVER_PREFIX = "nixos-test-driver-"
"""nixpkgs' name of a test's driver derivation, before the test's name (nixos/lib/testing)."""
MAX_TEST_NAME = STORE_NAME_MAX - len(TEST_DRIVER_PREFIX)

TOP_KEYS = ("description", "timeout", "host", "nodes", "containers", "expect", "step")


def _each(
    reader: Reader,
    data: Mapping[str, object],
    name: str,
    read: Callable[[str, object], T | None],
) -> list[T]:
    table = reader.table(data[name], (name,)) if name in data else None
    return [item for key, value in (table or {}).items() if (item := read(key, value)) is not None]


def parse_scenario(path: Path, source: str) -> Scenario:
    """Validate the TOML text ``source`` of the scenario file ``path``."""
    data = parse_toml(path, source)
    reader = Reader(path, source)
    reader.representable(data)
    if not NAME.match(path.stem):
        reader.errors.append(
            ValidationError(
                path,
                1,
                "(file name)",
                f"the file stem {path.stem!r} names the test: use letters, digits and '-'",
            )
        )
    elif len(path.stem) > MAX_TEST_NAME:
        reader.errors.append(
            ValidationError(
                path,
                1,
                "(file name)",
                f"the file stem names the test, whose driver is the store path "
                f"{TEST_DRIVER_PREFIX}<stem>: a store path name has at most "
                f"{STORE_NAME_MAX} characters, so use at most {MAX_TEST_NAME}",
            )
        )
    reader.table(data, (), TOP_KEYS)
    description = reader.get(data, (), "description", str, required=True)
    timeout = reader.get(data, (), "timeout", int)
    if timeout is not None and not 0 < timeout <= MAX_TIMEOUT:
        reader.error(
            ("timeout",),
            f"expected a positive number of seconds up to {MAX_TIMEOUT} (one week), got {timeout}",
        )
    host = sections.read_host(reader, data["host"]) if "host" in data else Host()
    containers = _each(
        reader, data, "containers", lambda name, value: sections.read_container(reader, name, value)
    )
    names = [container.name for container in containers]
    nodes = _each(
        reader, data, "nodes", lambda name, value: sections.read_node(reader, name, value)
    )
    vm_names = [node.name for node in nodes]
    sections.case_clashes(reader, names, vm_names)
    sections.specialised_containers(reader, host, containers)
    expectations: list[Expectation] = []
    indexes: list[int] = []  # of each valid expectation in the [[expect]] array
    expect_lines: Sequence[int | None] = []
    raw = data.get("expect")
    if raw is None or raw == []:  # `expect = []` would check nothing
        reader.error(("expect",), "a scenario needs at least one [[expect]] entry")
    elif not isinstance(raw, list):
        reader.error(("expect",), f"expected an array of tables ([[expect]]), got {describe(raw)}")
    else:
        expect_lines = reader.array_lines("expect", len(raw))
        for index, value in enumerate(raw):
            expectation = entries.expectation(
                reader, index, value, names, vm_names, expect_lines[index]
            )
            if expectation is not None:
                expectations.append(expectation)
                indexes.append(index)
    steps: tuple[Step, ...] = ()
    if "step" in data:
        steps = entries.steps(
            reader,
            data["step"],
            names,
            vm_names,
            expect_lines,
            [specialisation.name for specialisation in host.specialisations],
        )
    entries.marks_before(reader, steps, zip(indexes, expectations, strict=True))
    reader.check_nix()
    if reader.errors:
        # In file order, as an editor walks them (the walk itself goes by section).
        raise ScenarioError(tuple(sorted(reader.errors, key=lambda error: error.line or 0)))
    assert description is not None
    return Scenario(
        name=path.stem,
        path=path,
        description=description,
        timeout=timeout,
        host=host,
        containers=tuple(containers),
        expectations=entries.unique_ids(expectations),
        steps=steps,
        nodes=tuple(nodes),
    )


def parse_nix_code_of(paths: Iterable[Path]) -> None:
    """Parse the Nix code of many scenario files in one go (:mod:`harness.scenario.nixparse`), so
    that loading each of them afterwards starts no process. A file that cannot be read or is
    not TOML is passed over: loading it reports that."""
    codes: list[str] = []
    for path in paths:
        try:
            data = parse_toml(path, read_source(path))
        except ScenarioError:
            continue
        codes.extend(_config_strings(data))
    parse_all(codes)


def _config_strings(value: object) -> Iterator[str]:
    """Every string at a key ``config``: the format's Nix code (elsewhere an error anyway)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "config" and isinstance(item, str):
                yield item
            else:
                yield from _config_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _config_strings(item)


def load_scenario(path: Path) -> Scenario:
    """Read (:func:`harness.source.read_source`: bounded) and validate one scenario file;
    :class:`ScenarioError` lists all its problems."""
    return parse_scenario(path, read_source(path))
