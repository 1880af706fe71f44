"""pytest-xdist scheduling that keeps each scenario file's items on one worker.

A scenario's VM test is one ``nix build`` shared by all its expectation items; spreading them
over workers would build (and boot) it once per worker. With ``-n`` xdist defaults to
``--dist load``; the plugin swaps in this scheduler for it, which is ``load`` for every other
test and one unit per scenario file (like ``loadfile``) for scenario items. ``--dist loadscope``,
``loadfile`` and ``loadgroup`` (with the plugin's ``xdist_group`` marks) group scenarios as well.

Importing this module needs pytest-xdist; the plugin imports it only from xdist's own hook.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

SCENARIO_SUFFIX = ".toml"


def scope_of(nodeid: str) -> str:
    """A scenario item's scope is its file; any other test is a scope of its own."""
    file_part = nodeid.split("::", 1)[0]
    return file_part if file_part.endswith(SCENARIO_SUFFIX) else nodeid


class ScenarioScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """``--dist load`` with each scenario file's items kept together."""

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)
