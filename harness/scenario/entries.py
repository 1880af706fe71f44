"""The entries of a scenario: ``[[expect]]`` (an expectation, checked by one check) and ``[[step]]``
(an action between expectations), each validated against its spec in the check registry."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from harness.checks import CHECKS
from harness.checks.registry import STEPS
from harness.checks.spec import HOST, CheckSpec, describe
from harness.checks.steps import BASE_SYSTEM
from harness.scenario.model import Expectation, Step
from harness.scenario.reader import Reader, numbered, suggest
from harness.scenario.tomlpos import KeyPath


def entry(
    reader: Reader,
    key: KeyPath,
    value: object,
    containers: Sequence[str],
    vms: Sequence[str],
    kind: str,
    specs: Mapping[str, CheckSpec],
) -> tuple[CheckSpec, dict[str, object]] | None:
    """An ``[[expect]]`` (``kind`` "check") or ``[[step]]`` (``kind`` "action") table: the
    spec it names and its parameters, or None after reporting what is wrong."""
    table = reader.table(value, key)
    if table is None:
        return None
    name = reader.get(table, key, kind, str, required=True)
    spec = specs.get(name) if name is not None else None
    what = "check" if kind == "check" else "step"
    if name is not None and spec is None:
        reader.error((*key, kind), f"unknown {what} {name!r}" + suggest(name, list(specs)))
    if spec is None:
        # Without a spec its parameters are unknown, but a key none has is still wrong
        # (`chek = "userns"` next to the missing `check`).
        any_key = sorted({kind, *(p.name for other in specs.values() for p in other.params)})
        reader.table(table, key, any_key)
        return None
    params = {param: item for param, item in table.items() if param != kind}
    known = [param.name for param in spec.params]
    errors_before = len(reader.errors)
    for problem in spec.validate(params):
        if (*key, problem.key) in reader.unrepresentable:
            continue
        if problem.key in params and problem.key not in known:
            reader.error(
                (*key, problem.key),
                f"unknown parameter for {what} {name!r}" + suggest(problem.key, known),
            )
        else:
            reader.error((*key, problem.key), problem.message)
    for param in spec.params:
        node = params.get(param.name)
        # A `container` parameter names a container (or the host, which its check refuses);
        # a `vm` one the host or a [nodes] VM.
        nodes = (
            (HOST, *containers)
            if param.name == "container"
            else (HOST, *vms)
            if param.vm
            else (HOST, *containers, *vms)
        )
        if param.node and isinstance(node, str) and node not in nodes:
            if param.vm and node in containers:
                reader.error(
                    (*key, param.name),
                    f"{node!r} is a container; {what} {name!r} takes the host or a [nodes] VM",
                )
            else:
                reader.error((*key, param.name), f"unknown node {node!r}" + suggest(node, nodes))
    if len(reader.errors) > errors_before:
        return None
    return spec, params


def expectation(
    reader: Reader,
    index: int,
    value: object,
    containers: Sequence[str],
    vms: Sequence[str],
    line: int | None,
) -> Expectation | None:
    key: KeyPath = ("expect", index)
    found = entry(reader, key, value, containers, vms, "check", CHECKS)
    if found is None:
        return None
    spec, params = found
    return Expectation(
        id=spec.expectation_id(params),
        check=spec.name,
        params=MappingProxyType(spec.with_defaults(params)),
        line=line,
    )


def steps(
    reader: Reader,
    raw: object,
    containers: Sequence[str],
    vms: Sequence[str],
    expect_lines: Sequence[int | None],
    specialisations: Sequence[str],
) -> tuple[Step, ...]:
    """The ``[[step]]`` entries, each placed before the first expectation below it."""
    if not isinstance(raw, list):
        reader.error(("step",), f"expected an array of tables ([[step]]), got {describe(raw)}")
        return ()
    steps: list[Step] = []
    seen: dict[str, int] = {}
    marks: set[str] = set()
    step_lines = reader.array_lines("step", len(raw))
    for index, value in enumerate(raw):
        key: KeyPath = ("step", index)
        found = entry(reader, key, value, containers, vms, "action", STEPS)
        line = step_lines[index]
        if found is None or line is None or None in expect_lines:
            continue  # without lines the order is unknown: reported below
        spec, params = found
        target = params.get("to")
        if spec.name == "switch" and target != BASE_SYSTEM and target not in specialisations:
            known = [BASE_SYSTEM, *specialisations]
            reader.error(
                (*key, "to"), f"unknown specialisation {target!r}" + suggest(str(target), known)
            )
            continue
        if spec.name == "mark":
            mark = str(params["name"])
            if mark in marks:
                reader.error((*key, "name"), f"mark {mark!r} is already recorded above")
                continue
            marks.add(mark)
        # TOML ends every key/value pair with a line break, so no step shares a line with an
        # expectation: the lines order them.
        before = sum(1 for other in expect_lines if other is not None and other < line)
        if before == len(expect_lines):
            reader.error(
                key,
                "no expectation follows this step, so nothing would show its "
                "effect: add an [[expect]] after it",
            )
            continue
        steps.append(
            Step(
                id=numbered(spec.expectation_id(params), seen),
                action=spec.name,
                params=MappingProxyType(spec.with_defaults(params)),
                line=line,
                before=before,
            )
        )
    if None in step_lines or None in expect_lines:
        reader.error(
            ("step",),
            "the order of steps and expectations is unknown: the file's lines could not be scanned",
        )
    return tuple(steps)


def marks_before(
    reader: Reader, steps: Sequence[Step], expectations: Iterable[tuple[int, Expectation]]
) -> None:
    """Report every ``since`` of an expectation that names no ``mark`` step above it."""
    marks = [(step.params["name"], step.line or 0) for step in steps if step.action == "mark"]
    for index, expectation in expectations:
        since = expectation.params.get("since")
        if since is None:
            continue
        above = [name for name, line in marks if line < (expectation.line or 0)]
        if since not in above:
            reader.error(
                ("expect", index, "since"),
                f"no mark {since!r} above this expectation (a [[step]] with action = "
                f'"mark" and name = {since!r})' + suggest(str(since), [str(m) for m in above]),
            )


def unique_ids(expectations: list[Expectation]) -> tuple[Expectation, ...]:
    """Append ``#2``, ``#3`` to repeated ids so every result names one expectation."""
    seen: dict[str, int] = {}
    return tuple(
        dataclasses.replace(expectation, id=numbered(expectation.id, seen))
        for expectation in expectations
    )
