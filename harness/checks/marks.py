"""Points of a scenario and what happened to a container since: ``mark``, ``unchanged``,
``restarted``.

A ``mark`` step records a snapshot of every container under a name (:class:`Snapshot`); the
``unchanged`` and ``restarted`` checks compare a container with its snapshot at a named mark.
With ``switch`` they express idempotence of NixOS activation: what did not change is untouched,
what changed is restarted once.

A restart is told by the container unit's InvocationID, which systemd renews at every start
(``NRestarts`` counts only its automatic restarts, so it is evidence, not the proof); "exactly
once" counts the unit's invocations that systemd (PID 1) logged to the host's journal after the
mark's cursor.
"""

import json
import re
import shlex
from collections.abc import Mapping

from .nodes import Context, Failure, HostNode
from .spec import CheckSpec, Param, Params, Problem, not_host
from .state import Snapshot
from .steps import boot_id

MARK_NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
"""What a mark may be called: it appears in expectation ids (``unchanged[web@before]``)."""

UNIT_FACTS = ("ActiveState", "InvocationID", "NRestarts")


def _restarts(props: Mapping[str, str]) -> int:
    value = props.get("NRestarts", "")
    return int(value) if value.isdigit() else 0


def journal_cursor(host: HostNode) -> str:
    """The cursor of the host journal's newest entry ("" for an empty journal)."""
    out = host.run("journalctl --no-pager -q -n 1 -o json")
    for line in out.text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("__CURSOR"), str):
            return str(entry["__CURSOR"])
    if not out.ok:
        raise Failure(f"cannot read the host's journal cursor (journalctl exited {out.status})")
    return ""


def invocations_since(host: HostNode, unit: str, cursor: str) -> list[str]:
    """InvocationIDs of ``unit`` in the messages systemd (PID 1) logged after ``cursor``, in
    order, each once."""
    after = f" --after-cursor={shlex.quote(cursor)}" if cursor else ""
    out = host.run(
        f"journalctl --no-pager -q -o json --output-fields=INVOCATION_ID{after} "
        f"_PID=1 UNIT={shlex.quote(unit)}"
    )
    if not out.ok:
        raise Failure(f"cannot read {unit}'s messages from the journal (exit {out.status})")
    found: list[str] = []
    for line in out.text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        value = entry.get("INVOCATION_ID") if isinstance(entry, dict) else None
        if isinstance(value, str) and value and value not in found:
            found.append(value)
    return found


def snapshot(ctx: Context, name: str, boot_id: str, cursor: str) -> Snapshot:
    """Container ``name`` now (``boot_id`` and ``cursor`` are the host's, read once)."""
    props = ctx.host().unit_properties(ctx.topology.container(name).unit, UNIT_FACTS)
    return Snapshot(
        leader=ctx.container(name).leader_now(),
        invocation=props.get("InvocationID", ""),
        restarts=_restarts(props),
        boot_id=boot_id,
        cursor=cursor,
    )


def describe(snap: Snapshot) -> str:
    leader = snap.leader if snap.leader is not None else "none (not running)"
    return (
        f"Leader PID {leader}, InvocationID {snap.invocation or 'none'}, "
        f"NRestarts {snap.restarts}, boot ID {snap.boot_id}"
    )


def step_mark(ctx: Context, p: Params) -> str:
    name = p.text("name")
    if name in ctx.state.marks:
        raise Failure(f"mark {name!r} was already recorded")
    host = ctx.host()
    boot, cursor = boot_id(host), journal_cursor(host)
    snaps = {c: snapshot(ctx, c, boot, cursor) for c in ctx.topology.names}
    ctx.state.marks[name] = snaps
    for container, snap in snaps.items():
        ctx.evidence.fact(f"{container} at mark {name}", describe(snap))
    running = [c for c, snap in snaps.items() if snap.leader is not None]
    return f"marked {name}: {len(running)} of {len(snaps)} containers running"


def _at(ctx: Context, p: Params) -> tuple[str, str, Snapshot]:
    """The container, the mark's name and the container's snapshot there; a Failure when the
    mark was not recorded or the container was not running then."""
    name, since = p.text("container"), p.text("since")
    marks = ctx.state.marks
    if since not in marks:
        known = ", ".join(sorted(marks)) or "none"
        raise Failure(f"no mark {since!r} was recorded before this check (marks: {known})")
    then = marks[since][name]
    ctx.evidence.fact(f"{name} at mark {since}", describe(then))
    if then.leader is None:
        raise Failure(f"{name} was not running at mark {since}: there is nothing to compare with")
    return name, since, then


def check_unchanged(ctx: Context, p: Params) -> str:
    name, since, then = _at(ctx, p)
    host = ctx.host()
    now = snapshot(ctx, name, boot_id(host), "")
    ctx.evidence.fact(f"{name} now", describe(now))
    changes = [
        f"{what} {old} -> {new}"
        for what, old, new in (
            ("Leader PID", then.leader, now.leader or "none (not running)"),
            ("InvocationID", then.invocation, now.invocation or "none"),
            ("boot ID", then.boot_id, now.boot_id),
        )
        if old != new
    ]
    if changes:
        raise Failure(f"expected {name} untouched since mark {since}; " + "; ".join(changes))
    return f"{name} is untouched since mark {since}: {describe(now)}"


def check_restarted(ctx: Context, p: Params) -> str:
    name, since, then = _at(ctx, p)
    host = ctx.host()
    unit = ctx.topology.container(name).unit
    state: dict[str, str] = {}

    def settled() -> list[str] | None:
        """The new invocations once the unit has settled: active in an invocation the journal
        shows, or down; None while it is between states."""
        state.clear()
        state.update(host.unit_properties(unit, UNIT_FACTS))
        active, invocation = state.get("ActiveState", ""), state.get("InvocationID", "")
        if active in ("inactive", "failed"):
            return []
        if active != "active":
            return None
        if invocation == then.invocation:
            return []
        new = [i for i in invocations_since(host, unit, then.cursor) if i != then.invocation]
        return new if invocation in new else None

    new, seconds = ctx.poll(settled)
    active, invocation = state.get("ActiveState", "unknown"), state.get("InvocationID", "")
    if new is None:
        raise Failure(
            f"expected {name} restarted once since mark {since}; {unit} is still {active!r} "
            f"after {seconds:.0f}s (InvocationID {invocation or 'none'})"
        )
    ctx.evidence.fact(f"{unit} invocations since mark {since}", ", ".join(new) or "none")
    if active != "active":
        raise Failure(f"expected {name} restarted once since mark {since}; {unit} is {active!r}")
    if not new:
        raise Failure(
            f"expected {name} restarted once since mark {since}; it was not restarted "
            f"(InvocationID {invocation}, as at the mark)"
        )
    if len(new) > 1:
        raise Failure(
            f"expected {name} restarted once since mark {since}; {unit} was started "
            f"{len(new)} times: {', '.join(new)}"
        )
    node = ctx.container(name)
    leader = node.leader
    node.wait_booted()
    return (
        f"{name} was restarted once since mark {since}: InvocationID {then.invocation} -> "
        f"{invocation}, Leader PID {then.leader} -> {leader}, NRestarts (automatic restarts) "
        f"{then.restarts} -> {_restarts(state)}"
    )


def _mark_name(params: Mapping[str, object]) -> list[Problem]:
    for key in ("name", "since"):
        value = params.get(key)
        if isinstance(value, str) and not MARK_NAME.match(value):
            return [Problem(key, f"invalid mark name {value!r}: use a-z, 0-9 and '-'")]
    return []


SINCE_PARAMS = (
    Param("container", str, required=True, node=True, doc="container name"),
    Param("since", str, required=True, doc="the name of an earlier `mark` step"),
)


def _since_label(params: Mapping[str, object]) -> str:
    return f"{params['container']}@{params['since']}"


MARK = CheckSpec(
    "mark",
    "Record a named point of the scenario: every container's Leader PID, its unit's "
    "InvocationID and NRestarts, the boot ID and the journal's cursor, for `unchanged` and "
    "`restarted` to compare with.",
    (Param("name", str, required=True, doc="the point's name (a-z, 0-9, '-'), unique"),),
    lambda p: str(p["name"]),
    (_mark_name,),
)
UNCHANGED = CheckSpec(
    "unchanged",
    "The container's Leader PID, its unit's InvocationID and the boot ID are the same as at "
    "the mark `since`: nothing stopped, restarted or rebooted it.",
    SINCE_PARAMS,
    _since_label,
    (not_host, _mark_name),
)
RESTARTED = CheckSpec(
    "restarted",
    "The container was restarted exactly once since the mark `since`: its unit is active in "
    "a new InvocationID, the only new one systemd logged since the mark, and it has booted.",
    SINCE_PARAMS,
    _since_label,
    (not_host, _mark_name),
)
