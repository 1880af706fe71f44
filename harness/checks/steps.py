"""Steps: what happens between expectations (restart a container, run a setup command, wait).

A scenario interleaves ``[[step]]`` entries with its ``[[expect]]`` entries; the generated
testScript calls :meth:`harness.checks.Session.step` for each, in file order. A step is no
expectation (it has no result of its own): when it fails, the session fails every later
expectation with the step's message and evidence, since they would only check a state the
scenario did not reach.

Containers are stopped and started with ``machinectl``, which machined answers for every
``systemd-nspawn@<name>.service``; everything runs through :meth:`Machine.execute`, like the
checks, so the same code runs under the NixOS test driver and in the runtime tier.
"""

import shlex

from .command import MAX_WITHIN, run_label
from .machine import PowerCycled
from .names import specialisation_name_problem, unit_name_problem
from .nodes import ContainerNode, Context, Failure, Node
from .spec import (
    CONTAINER_PARAMS,
    HOST,
    CheckSpec,
    Param,
    Params,
    container_label,
    not_host,
)

BASE_SYSTEM = "base"
"""``switch``'s name for the system the host booted, without a specialisation."""

STOPPED_STATES = ("inactive", "failed")
"""``systemctl show -p ActiveState`` values of a container unit that has stopped."""


def _wait_stopped(ctx: Context, name: str, unit: str) -> str:
    state, ok = ctx.host().run_until(
        f"systemctl show -p ActiveState --value {shlex.quote(unit)}",
        lambda o: o.text.strip() in STOPPED_STATES,
    )
    if not ok:
        raise Failure(
            f"{unit} is still {state.text.strip() or 'unknown'!r} after `machinectl stop {name}`"
        )
    return state.text.strip()


def _stop(ctx: Context, name: str) -> None:
    node = ctx.container(name)
    out = ctx.host().run(f"machinectl stop {shlex.quote(name)}", timeout=ctx.timeout)
    if not out.ok:
        raise Failure(f"`machinectl stop {name}` failed (exit {out.status}): is {name} running?")
    _wait_stopped(ctx, name, node.container.unit)


def _start(ctx: Context, name: str, old_leader: int | None = None) -> ContainerNode:
    out = ctx.host().run(f"machinectl start {shlex.quote(name)}", timeout=ctx.timeout)
    if not out.ok:
        raise Failure(f"`machinectl start {name}` failed (exit {out.status})")
    return registered(ctx, name, f"`machinectl start {name}`", old_leader)


def registered(ctx: Context, name: str, after: str, old_leader: int | None = None) -> ContainerNode:
    """Wait until machined has registered ``name`` with a leader other than ``old_leader``
    and its systemd has booted; ``after`` names what started it, for the failure."""
    node = ctx.container(name)
    pid, seconds = ctx.poll(lambda: _new(node.leader_now(), old_leader))
    if pid is None:
        raise Failure(
            f"container {name} is not registered with machined {seconds:.0f}s after {after}"
        )
    node.leader = pid
    ctx.evidence.fact(f"{name} leader", str(pid))
    node.wait_booted()
    return node


def _new(pid: int | None, old: int | None) -> int | None:
    return pid if pid is not None and pid != old else None


def step_stop(ctx: Context, p: Params) -> str:
    name = p.text("container")
    _stop(ctx, name)
    return f"stopped {name}"


def step_start(ctx: Context, p: Params) -> str:
    name = p.text("container")
    node = _start(ctx, name)
    return f"started {name} (leader {node.leader})"


def step_restart(ctx: Context, p: Params) -> str:
    name = p.text("container")
    old = ctx.container(name).leader_now()
    if old is None:
        raise Failure(f"cannot restart {name}: it is not running (not registered with machined)")
    _stop(ctx, name)
    node = _start(ctx, name, old)
    return f"restarted {name} (leader {old} -> {node.leader})"


def _booted(ctx: Context, name: str) -> Node:
    node = ctx.node(name)
    if isinstance(node, ContainerNode):
        node.wait_booted()
    return node


def step_run(ctx: Context, p: Params) -> str:
    on, run = p.text("on"), p.text("run")
    within = p.opt_integer("within")
    node = _booted(ctx, on)
    if within is None:
        out = node.run(run, timeout=ctx.timeout)
        ok = out.ok
    else:
        out, ok = node.run_until(run, lambda o: o.ok, timeout=within)
    if not ok:
        raise Failure(
            f"`{run}` on {on} exited {out.status}"
            + (f" for {within}s" if within is not None else "")
        )
    return f"`{run}` on {on} succeeded"


def step_wait_unit(ctx: Context, p: Params) -> str:
    on, unit = p.text("on"), p.text("unit")
    node = _booted(ctx, on)
    # After `--`: a unit name may start with '-' (`-.mount`).
    out, ok = node.run_until(
        f"systemctl show -p ActiveState --value -- {shlex.quote(unit)}",
        lambda o: o.text.strip() in ("active", "failed"),
    )
    state = out.text.strip()
    if not ok or state != "active":
        node.run(f"systemctl status --no-pager -n 20 -- {shlex.quote(unit)}")  # evidence only
        raise Failure(f"{unit} on {on} did not become active; it is {state or 'unknown'!r}")
    return f"{unit} on {on} is active"


def step_wait_port(ctx: Context, p: Params) -> str:
    on, port = p.text("on"), p.integer("port")
    node = _booted(ctx, on)
    # A listening TCP socket on the port (any address), as the driver's wait_for_open_port
    # waits for one; `ss` (iproute2) is on every NixOS system and every Debian.
    _, ok = node.run_until(f"ss -Hltn 'sport = :{port}'", lambda o: o.ok and bool(o.text.strip()))
    if not ok:
        raise Failure(f"nothing listens on TCP port {port} on {on}")
    return f"TCP port {port} on {on} is open"


def step_switch(ctx: Context, p: Params) -> str:
    to = p.text("to")
    system = "/run/booted-system" + ("" if to == BASE_SYSTEM else f"/specialisation/{to}")
    command = f"{shlex.quote(system)}/bin/switch-to-configuration test"
    out = ctx.host().run(command, timeout=ctx.timeout)
    if not out.ok:
        raise Failure(f"switching the host to {to} failed: `{command}` exited {out.status}")
    return f"switched the host to {to}"


BOOT_ID = "cat /proc/sys/kernel/random/boot_id"
"""A fresh random ID at every boot of a Linux kernel: proof that a reboot happened."""

BOOT_TARGET = "multi-user.target"
"""What a rebooted VM has reached once it has booted, as the testScript waits for at first."""


def boot_id(node: Node) -> str:
    """The boot ID ``node``'s kernel has now (a container's is its host's)."""
    out = node.run(BOOT_ID)
    if not out.ok or not out.text.strip():
        raise Failure(f"cannot read {node.name}'s boot ID (`{BOOT_ID}` exited {out.status})")
    return out.text.strip()


def step_reboot(ctx: Context, p: Params) -> str:
    on = p.text("on")
    machine = ctx.vm(on)
    if not isinstance(machine, PowerCycled):
        raise Failure(
            f"cannot reboot {on}: its machine has no shutdown() and start() (the NixOS "
            "test driver's machines have both; the runtime tier's console VM runs "
            "from a throw-away snapshot and has not)"
        )
    node = ctx.node(on)
    before = boot_id(node)
    machine.shutdown()
    machine.start()
    ctx.evidence.fact(f"{on} power cycle", "shutdown(), then start()")
    out, ok = node.run_until(
        f"systemctl show -p ActiveState --value {BOOT_TARGET}", lambda o: o.text.strip() == "active"
    )
    if not ok:
        raise Failure(
            f"{on} did not reach {BOOT_TARGET} after the reboot; it is "
            f"{out.text.strip() or 'unknown'!r}"
        )
    after = boot_id(node)
    if after == before:
        raise Failure(
            f"{on}'s boot ID is still {before} after shutdown() and start(): it did not reboot"
        )
    ctx.evidence.fact(f"{on} boot ID", f"{before} -> {after}")
    back = [c.name for c in ctx.topology.containers if c.auto_start] if on == HOST else []
    for name in back:
        registered(ctx, name, f"the reboot of {on} (it has autoStart)")
    return f"rebooted {on}" + (f"; back up: {', '.join(back)}" if back else "")


ON = Param("on", str, default=HOST, node=True, doc="host or a container")
WITHIN = Param(
    "within",
    int,
    bounds=(1, MAX_WITHIN),
    doc="retry until it succeeds, for at most this many seconds",
)

STOP = CheckSpec(
    "stop",
    "`machinectl stop` the container and wait until its unit is inactive.",
    CONTAINER_PARAMS,
    container_label,
    (not_host,),
)
START = CheckSpec(
    "start",
    "`machinectl start` the container and wait until it has booted.",
    CONTAINER_PARAMS,
    container_label,
    (not_host,),
)
RESTART = CheckSpec(
    "restart",
    "Stop, then start the container (a new instance boots).",
    CONTAINER_PARAMS,
    container_label,
    (not_host,),
)
RUN = CheckSpec(
    "run",
    "Run `run` (an sh command line) on `on`; it must exit 0 (within `within` seconds).",
    (ON, Param("run", str, required=True, doc="sh command line"), WITHIN),
    run_label,
)
WAIT_UNIT = CheckSpec(
    "wait-unit",
    "Wait until the systemd unit `unit` on `on` is active.",
    (
        ON,
        Param(
            "unit",
            str,
            required=True,
            grammar=unit_name_problem,
            doc="unit name, e.g. nginx.service",
        ),
    ),
    lambda p: f"{p['on']}:{p['unit']}",
)
WAIT_PORT = CheckSpec(
    "wait-port",
    "Wait until something listens on TCP port `port` on `on`.",
    (ON, Param("port", int, required=True, bounds=(1, 65535), doc="TCP port")),
    lambda p: f"{p['on']}:{p['port']}",
)
REBOOT = CheckSpec(
    "reboot",
    "Power the host or a [nodes] VM off and on; wait until it has booted and, on the "
    "host, until every container with autoStart is back.",
    (Param("on", str, default=HOST, node=True, vm=True, doc="the host or a [nodes] VM"),),
    lambda p: str(p["on"]),
)
SWITCH = CheckSpec(
    "switch",
    "Activate a specialisation of the host (`switch-to-configuration test`), or the "
    f'booted system with `to = "{BASE_SYSTEM}"`.',
    (
        Param(
            "to",
            str,
            required=True,
            grammar=specialisation_name_problem,
            doc="a [host.specialisations] name, or base",
        ),
    ),
    lambda p: str(p["to"]),
)
