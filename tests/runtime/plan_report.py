"""The runtime tier's run as pytest-html shows a scenario run (see test_runtime_report.py).

The Debian VM's checks write the same results file a scenario's testScript writes. Handed to
the pytest plugin through the stand-in ``nix`` (tests/support/fake_nix.py), with a scenario file
whose expectations are some of the run's (:data:`REPORTED`), it gives a real report: the
expectations' evidence from the VM, its timeline (container starts, steps, checks of every
session of the run) and the scenario's topology; the negative control :data:`SHOWN_FAILURE`
shows a real failure's evidence.
"""

from __future__ import annotations

import json

from runtime_plan import NEGATIVE, PAIR, Expect

NAME = "runtime-pair"
"""The scenario's name (its file's stem)."""
REPORTED: tuple[Expect, ...] = tuple(
    expect
    for expect in PAIR
    if expect.label is None and expect.check in ("unit-active", "userns", "store-readonly")
)
"""Expectations on alpha and beta that need no setting a scenario would have to repeat."""
SHOWN_FAILURE = next(broken for broken in NEGATIVE if broken.name == "rwstore")
"""A negative control whose failure the report shows: its store is bound read-write."""


def scenario_text() -> str:
    """The scenario file: alpha, beta in zone ``lab``, the broken container, the checks."""
    lines = [
        f'description = "the runtime tier\'s Debian VM run ({NAME} and {SHOWN_FAILURE.name})"',
        "",
        "[containers.alpha]",
        'config = "{ }"',
        "",
        "[containers.beta]",
        'config = "{ }"',
        'network.veth.zone = "lab"',
        "",
        f"[containers.{SHOWN_FAILURE.name}]",
        'config = "{ }"',
    ]
    for expect in (*REPORTED, SHOWN_FAILURE.expect):
        lines += ["", "[[expect]]", f"check = {json.dumps(expect.check)}"]
        lines += [f"{key} = {json.dumps(value)}" for key, value in expect.params.items()]
    return "\n".join(lines) + "\n"
