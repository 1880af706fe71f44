"""pytest-xdist scheduling that keeps each scenario file's items on one worker.

A scenario's VM test is one ``nix build`` shared by all its expectation items; spreading them
over workers would build (and boot) it once per worker. With ``-n`` xdist defaults to
``--dist load``; for it, ``--dist loadgroup`` and ``--dist worksteal`` the plugin supplies this
scheduler (work stealing would hand a scenario's remaining items to an idle worker, which would
build and boot the scenario again; here the stealing is lost, the grouping wins): every
scenario file is one unit of work (like ``loadfile``), a test whose node id xdist suffixed with
``@<group>`` (an ``xdist_group`` mark) joins its group, and any other test is distributed alone,
as with ``load``.

The plugin sets no ``xdist_group`` marks of its own: pytest-xdist (3.8) implements them by
rewriting ``item._nodeid``, which pytest 9 no longer reads, so they would change nothing, and
this scheduler groups by file already. ``loadscope`` and ``loadfile`` group scenario files as
well.

Importing this module needs pytest-xdist; the plugin imports it only from xdist's own hook.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

SCENARIO_SUFFIX = ".toml"
DISTRIBUTIONS = ("load", "loadgroup", "worksteal")


def scope_of(nodeid: str) -> str:
    """The unit of work a node id belongs to (see the module doc)."""
    if nodeid.rfind("@") > nodeid.rfind("]"):
        return nodeid.rsplit("@", 1)[1]
    file_part = nodeid.split("::", 1)[0]
    return file_part if file_part.endswith(SCENARIO_SUFFIX) else nodeid


class ScenarioScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """``--dist load`` with each scenario file's items kept together."""

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)
