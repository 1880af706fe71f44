"""Fault steps: ``partition``/``heal``, ``kill``, ``freeze``/``thaw``, ``kill-unit``.

Each step does one fault and proves it happened (the evidence shows the state before and
after); what the system does about it is then for the expectations to show.

**Partitions** are policy routing rules, not firewall rules: on each side, one
``ip rule add to <address of the other side> iif lo priority 9000 blackhole`` per address of
the other side, so neither sends the other anything (``iif lo``: only what the node sends
itself, not what it forwards). A container's rules live in its own network namespace, which
also cuts peers of one zone (whose traffic crosses the ``vz-<zone>`` bridge, where the host's
inet rules never see it). ``ip`` (iproute2) is on every NixOS system and every Debian, whatever
firewall backend (nftables or iptables) the host uses, and a firewall reload (a ``switch``)
does not flush policy rules. ``heal`` deletes exactly the rules its ``partition`` added. A
restart of the container (a new network namespace) or of systemd-networkd on a node
(``ManageForeignRoutingPolicyRules=``) drops them earlier; ``heal`` then says so.

**kill** sends SIGKILL to the container's leader (its init): systemd-nspawn exits with a
failure, as in a crash; what follows is the unit's ``Restart=`` policy, which ``then`` states.
**freeze**/**thaw** are ``systemctl freeze``/``thaw`` of the container's unit (systemd ≥ 246,
unified cgroup hierarchy). **kill-unit** sends SIGKILL to a service's main process inside a
container, whose own ``Restart=`` then acts.
"""

import re
import shlex
from collections.abc import Callable, Mapping

from .nodes import ContainerNode, Context, Failure, Node, parse_addresses
from .spec import (
    CONTAINER_PARAMS,
    CheckSpec,
    Param,
    Params,
    Problem,
    container_label,
    not_host,
)
from .state import BlockRule
from .steps import registered

PARTITION_PRIORITY = 9000
"""The ``ip rule`` priority of a partition's rules: before the main table (32766), after the
local one (0)."""

SETTLE_SECONDS = 5
"""How long a unit must stay down after a kill for ``then = "stays-down"`` (systemd's default
RestartSec is 100 ms)."""

THEN = ("restarts", "stays-down")
DOWN_STATES = ("inactive", "failed")

UNIT_NAME = re.compile(
    r"[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]+)?\.service\Z",
)
"""A service unit's name as systemd's ``unit_name_is_valid`` accepts it (an instance, not a
template); at most :data:`UNIT_NAME_MAX` characters."""
UNIT_NAME_MAX = 255


def _pair(p: Params) -> tuple[str, str]:
    first, second = p.text("between"), p.text("and")
    return (first, second) if first <= second else (second, first)


def _addresses(ctx: Context, name: str) -> list[tuple[str, str]]:
    """(family flag, address) of every address ``name`` has towards the others: a container's
    on host0, a VM's on every interface but the loopback."""
    node = ctx.node(name)
    device = f" dev {node.link}" if isinstance(node, ContainerNode) else ""
    out = node.run(f"ip -o addr show{device}")
    found = [
        ("-4" if a.interface.version == 4 else "-6", a.ip)
        for a in parse_addresses(out.text)
        if a.scope != "host"
    ]
    if not out.ok or not found:
        raise Failure(
            f"{name} has no address to cut off (`ip -o addr show{device}`): is its "
            "network up? put the partition after an expectation that reaches it"
        )
    return found


def _on_each_node(ctx: Context, rules: list[BlockRule], verb: str) -> dict[str, bool]:
    """``ip rule <verb>`` each rule, one command per node (in order); whether each succeeded."""
    done: dict[str, bool] = {}
    for name in dict.fromkeys(rule.node for rule in rules):
        commands = [
            f"ip {r.family} rule {verb} {r.spec(PARTITION_PRIORITY)}"
            for r in rules
            if r.node == name
        ]
        done[name] = ctx.node(name).run(" && ".join(commands)).ok
    return done


def _left(ctx: Context, rules: tuple[BlockRule, ...]) -> list[BlockRule]:
    """The rules still in place (``ip rule show`` of the partition's priority on each node)."""
    shown: dict[str, set[str]] = {}
    for name in dict.fromkeys(rule.node for rule in rules):
        out = ctx.node(name).run(
            f"ip -4 rule show priority {PARTITION_PRIORITY}; "
            f"ip -6 rule show priority {PARTITION_PRIORITY}"
        )
        shown[name] = set(out.text.split())
    return [rule for rule in rules if rule.peer in shown[rule.node]]


def step_partition(ctx: Context, p: Params) -> str:
    pair = _pair(p)
    if pair in ctx.state.partitions:
        raise Failure(f"{pair[0]} and {pair[1]} are already partitioned")
    first, second = pair
    rules = [BlockRule(first, family, address) for family, address in _addresses(ctx, second)]
    rules += [BlockRule(second, family, address) for family, address in _addresses(ctx, first)]
    ctx.state.partitions[pair] = tuple(rules)  # even when some fail: heal removes the others
    failed = [name for name, ok in _on_each_node(ctx, rules, "add").items() if not ok]
    if failed:
        raise Failure(f"could not add the partition's `ip rule`s on {', '.join(failed)}")
    return f"partitioned {first} and {second}: {len(rules)} blackhole rules"


def step_heal(ctx: Context, p: Params) -> str:
    pair = _pair(p)
    rules = ctx.state.partitions.pop(pair, None)
    if rules is None:
        raise Failure(f"{pair[0]} and {pair[1]} are not partitioned (no partition step before)")
    deleted = _on_each_node(ctx, list(rules), "del")
    left = _left(ctx, rules)
    if left:
        ctx.state.partitions[pair] = tuple(left)
        where = ", ".join(sorted({rule.node for rule in left}))
        raise Failure(f"{len(left)} of the partition's rules are still in place on {where}")
    gone = [name for name, ok in deleted.items() if not ok]
    note = f" (some were already gone on {', '.join(gone)}: restarted?)" if gone else ""
    return f"healed {pair[0]} and {pair[1]}: removed {len(rules)} rules{note}"


def _unit(ctx: Context, name: str) -> dict[str, str]:
    return ctx.host().unit_properties(
        ctx.topology.container(name).unit, ("ActiveState", "InvocationID", "NRestarts")
    )


def _wait_outcome(
    ctx: Context, node: Node, unit: str, then: str, came_back: Callable[[Mapping[str, str]], bool]
) -> tuple[dict[str, str], bool]:
    """Wait for what ``then`` expects of ``unit`` on ``node`` after a kill; returns the unit's
    properties last seen and whether the outcome is the expected one."""
    names = ("ActiveState", "SubState", "InvocationID", "NRestarts", "MainPID")
    seen: dict[str, str] = {}
    down_since: list[float] = []

    def settled() -> bool | None:
        seen.clear()
        seen.update(node.unit_properties(unit, names))
        if came_back(seen):
            return True
        if seen.get("ActiveState") not in DOWN_STATES:
            down_since.clear()
            return None
        # A unit whose automatic restart is queued shows inactive/dead for a moment (NRestarts
        # already counted, the start job not yet run): only a unit down for SETTLE_SECONDS
        # stays down.
        if not down_since:
            down_since.append(ctx.clock.monotonic())
        return False if ctx.clock.monotonic() - down_since[0] >= SETTLE_SECONDS else None

    back, _ = ctx.poll(settled)
    return seen, back is (then == "restarts")


def _came_back(before: Mapping[str, str], key: str) -> Callable[[Mapping[str, str]], bool]:
    """Whether a unit came back after a kill: active again with a new ``key`` (InvocationID
    of a container's unit, MainPID of a service)."""
    old = before.get(key)
    return lambda now: now.get("ActiveState") == "active" and now.get(key) not in (old, "", "0")


def _verdict(what: str, then: str, before: Mapping[str, str], after: Mapping[str, str]) -> str:
    return (
        f"{what}: {'came back' if then == 'restarts' else 'stayed down'} as expected "
        f"(InvocationID {before.get('InvocationID') or 'none'} -> "
        f"{after.get('InvocationID') or 'none'}, NRestarts {before.get('NRestarts', '?')} -> "
        f"{after.get('NRestarts', '?')}, now {after.get('ActiveState', 'unknown')}"
        f"/{after.get('SubState', 'unknown')})"
    )


def _unexpected(what: str, then: str, after: Mapping[str, str]) -> Failure:
    state = f"{after.get('ActiveState', 'unknown')}/{after.get('SubState', 'unknown')}"
    if then == "restarts":
        return Failure(f"{what}: expected it to come back (Restart=), it is {state}")
    return Failure(f"{what}: expected it to stay down, it came back ({state})")


def step_kill(ctx: Context, p: Params) -> str:
    name, then = p.text("container"), p.text("then")
    unit = ctx.topology.container(name).unit
    leader = ctx.container(name).leader_now()
    if leader is None:
        raise Failure(f"cannot kill {name}: it is not running (not registered with machined)")
    before = _unit(ctx, name)
    if not ctx.host().run(f"kill -s KILL {leader}").ok:
        raise Failure(f"`kill -s KILL {leader}` ({name}'s leader) failed")
    what = f"killed {name}'s leader {leader}"
    after, ok = _wait_outcome(ctx, ctx.host(), unit, then, _came_back(before, "InvocationID"))
    if not ok:
        raise _unexpected(what, then, after)
    if then == "restarts":
        registered(ctx, name, f"the crash of {unit}", leader)
    return _verdict(what, then, before, after)


def step_kill_unit(ctx: Context, p: Params) -> str:
    name, unit, then = p.text("container"), p.text("unit"), p.text("then")
    node = ctx.container(name)
    node.wait_booted()
    before = node.unit_properties(unit, ("ActiveState", "InvocationID", "NRestarts", "MainPID"))
    pid = before.get("MainPID", "0")
    if before.get("ActiveState") != "active" or pid in ("", "0"):
        raise Failure(
            f"cannot kill {unit} in {name}: it is {before.get('ActiveState', 'unknown')!r} "
            f"with no main process (MainPID {pid or 'none'})"
        )
    if not node.run(f"kill -s KILL {pid}").ok:
        raise Failure(f"`kill -s KILL {pid}` ({unit}'s main process in {name}) failed")
    what = f"killed {unit}'s main process {pid} in {name}"
    after, ok = _wait_outcome(ctx, node, unit, then, _came_back(before, "MainPID"))
    if not ok:
        raise _unexpected(what, then, after)
    return _verdict(what, then, before, after)


def _freezer(ctx: Context, name: str, verb: str, state: str) -> str:
    unit = ctx.topology.container(name).unit
    host = ctx.host()
    out = host.run(f"systemctl {verb} -- {shlex.quote(unit)}")
    if not out.ok:
        raise Failure(f"`systemctl {verb} {unit}` failed (exit {out.status})")
    seen, ok = host.run_until(
        f"systemctl show -p FreezerState --value -- {shlex.quote(unit)}",
        lambda o: o.text.strip() == state,
    )
    if not ok:
        raise Failure(f"{unit}'s FreezerState is {seen.text.strip() or 'unknown'!r}, not {state}")
    return f"{unit} is {state}"


def step_freeze(ctx: Context, p: Params) -> str:
    return _freezer(ctx, p.text("container"), "freeze", "frozen")


def step_thaw(ctx: Context, p: Params) -> str:
    return _freezer(ctx, p.text("container"), "thaw", "running")


def _two_nodes(params: Mapping[str, object]) -> list[Problem]:
    if params.get("between") is not None and params.get("between") == params.get("and"):
        return [Problem("and", "must name another node than `between`")]
    return []


def _unit_name(params: Mapping[str, object]) -> list[Problem]:
    unit = params.get("unit")
    if isinstance(unit, str) and (len(unit) > UNIT_NAME_MAX or not UNIT_NAME.match(unit)):
        return [
            Problem(
                "unit",
                f"not a service unit name: {unit!r} (systemd's grammar: letters, digits, "
                f"':_.-\\', an optional @instance, the suffix .service; at most "
                f"{UNIT_NAME_MAX} characters)",
            )
        ]
    return []


PAIR = (
    Param("between", str, required=True, node=True, doc="a node: host, a container, a VM"),
    Param("and", str, required=True, node=True, doc="another node"),
)
THEN_PARAM = Param(
    "then",
    str,
    default="restarts",
    choices=THEN,
    doc="what the Restart= policy should do: the unit comes back, or stays down",
)


def _pair_label(params: Mapping[str, object]) -> str:
    return f"{params['between']}|{params['and']}"


PARTITION = CheckSpec(
    "partition",
    "Cut `between` and `and` off each other in both directions: each side gets a blackhole "
    "policy routing rule (`ip rule`, priority 9000) per address of the other; a container's "
    "in its own network namespace, so peers of one zone are cut too.",
    PAIR,
    _pair_label,
    (_two_nodes,),
)
HEAL = CheckSpec(
    "heal",
    "Remove exactly the rules the `partition` of the same two nodes added.",
    PAIR,
    _pair_label,
    (_two_nodes,),
)
KILL = CheckSpec(
    "kill",
    "SIGKILL the container's leader (a crash), then wait for what its unit's Restart= policy "
    'does: `then = "restarts"` (a new InvocationID, booted again) or `"stays-down"` '
    f"(inactive or failed, for {SETTLE_SECONDS}s).",
    (*CONTAINER_PARAMS, THEN_PARAM),
    container_label,
    (not_host,),
)
FREEZE = CheckSpec(
    "freeze",
    "`systemctl freeze` the container's unit (FreezerState frozen). Keep it short: "
    "systemd-nspawn is frozen too, and systemd before 258 fires the unit's watchdog.",
    CONTAINER_PARAMS,
    container_label,
    (not_host,),
)
THAW = CheckSpec(
    "thaw",
    "`systemctl thaw` the container's unit (FreezerState running).",
    CONTAINER_PARAMS,
    container_label,
    (not_host,),
)
KILL_UNIT = CheckSpec(
    "kill-unit",
    "SIGKILL the main process of the service `unit` in the container, then wait for what its "
    "Restart= policy does (`then`, as for `kill`: a new MainPID, or down).",
    (
        *CONTAINER_PARAMS,
        Param("unit", str, required=True, doc="a service unit name, e.g. nginx.service"),
        THEN_PARAM,
    ),
    lambda p: f"{p['container']}:{p['unit']}",
    (not_host, _unit_name),
)
