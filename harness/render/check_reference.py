"""The check reference of ``docs/scenarios.md`` (the manual's page on the scenario format),
generated from the check registry.

Everything between :data:`BEGIN` and :data:`END` is written from :data:`harness.checks.CHECKS`:
one section per check (its ``doc``) with a table of its parameters (type, default, ``doc``);
between :data:`STEP_BEGIN` and :data:`STEP_END`, an index of the steps of
:data:`harness.checks.registry.STEPS`.
``python -m harness render`` rewrites it and ``render --check`` reports it stale, so a new check
or parameter only needs its ``doc`` strings.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from harness.checks import CHECKS, CheckSpec, Param
from harness.checks.registry import STEPS

README = Path("docs", "scenarios.md")
"""The document holding the reference, relative to the repository root."""

BEGIN = (
    "<!-- BEGIN check-reference: generated from harness/checks by `python -m harness render` -->"
)
END = "<!-- END check-reference -->"

STEP_BEGIN = (
    "<!-- BEGIN step-index: generated from harness/checks by `python -m harness render` -->"
)
STEP_END = "<!-- END step-index -->"
"""The step index (optional in a README): one row per step of the registry, linking to the
step's hand-written section."""

WIDTH = 100

_TYPES = {str: "string", int: "integer", bool: "boolean"}


class MarkersMissing(ValueError):
    """The document has no (or a broken) BEGIN/END pair to write the reference between."""


def _literal(value: object) -> str:
    """A parameter default as TOML writes it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _type(param: Param) -> str:
    if param.choices:
        return ", ".join(f"`{_literal(choice)}`" for choice in param.choices)
    if param.node:
        return "node"
    kind = _TYPES.get(param.type, param.type.__name__)
    if param.bounds is not None:
        low, high = param.bounds
        return f"{kind}, {low} to {high}"
    return kind


def _default(param: Param) -> str:
    if param.required:
        return "required"
    if param.default is None:
        return "none"
    return f"`{_literal(param.default)}`"


def section(spec: CheckSpec) -> str:
    """One check: heading, what it proves, its parameters."""
    lines = [f"### {spec.name}", textwrap.fill(spec.doc, WIDTH), ""]
    lines.append("| parameter | type | default | |")
    lines.append("| --- | --- | --- | --- |")
    for param in spec.params:
        lines.append(
            f"| `{param.name}` | {_cell(_type(param))} | {_cell(_default(param))} "
            f"| {_cell(param.doc)} |"
        )
    return "\n".join(lines) + "\n"


def reference() -> str:
    """Every check of the registry, in registry order."""
    return "\n".join(section(spec) for spec in CHECKS.values())


def step_index() -> str:
    """Every step of the registry: its parameters and what it does."""
    lines = ["| step | parameters | what it does |", "| --- | --- | --- |"]
    for spec in STEPS.values():
        params = ", ".join(f"`{param.name}`" for param in spec.params) or "none"
        lines.append(f"| [`{spec.name}`](#{spec.name}) | {params} | {_cell(spec.doc)} |")
    return "\n".join(lines) + "\n"


def _between(text: str, begin: str, end: str, body: str) -> str:
    start, stop = text.find(begin), text.find(end)
    if start < 0 or stop < start or text.count(begin) != 1 or text.count(end) != 1:
        raise MarkersMissing(f"{README}: needs one line {begin!r} and, after it, one {end!r}")
    return f"{text[: start + len(begin)]}\n{body}{text[stop:]}"


def updated(text: str) -> str:
    """``text`` with the reference (and the step index, when it has one) between its markers
    replaced by a fresh one."""
    text = _between(text, BEGIN, END, reference())
    if STEP_BEGIN in text or STEP_END in text:
        text = _between(text, STEP_BEGIN, STEP_END, step_index())
    return text
