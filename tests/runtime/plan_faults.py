"""The runtime tier's faults: partition/heal, kill, freeze/thaw, kill-unit, mark, unchanged and
restarted on real nspawn containers, each with a negative control.

Two containers join the plan (:func:`add_containers`): ``peer``, beta's twin in zone ``lab``
(so beta and peer are peers of one zone, talking across the ``vz-lab`` bridge) with
``Restart=no``, and ``phoenix``, alpha's twin with ``Restart=on-failure`` in its unit's
drop-in: the crash policy the module's lifecycle work gives every container by default (until
tests/reference/ exports it, this plan sets it). :func:`run` runs after the other sessions;
each negative control runs in a session of its own, since a failed step fails every later
expectation of its session.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runtime_plan import (
    AFTER_FAILED_STEP,
    GOOD,
    LIFECYCLE,
    NEGATIVE,
    Expect,
    RunRecord,
    Step,
    add_twin,
    numbered,
)
from support.vm.console import ConsoleMachine
from support.vm.install import topology_of

from harness.checks import Session, Topology

ZONE_PEER, PHOENIX = "peer", "phoenix"
NAMES = ("alpha", "beta", ZONE_PEER, PHOENIX)
MARK = "before-faults"
FAULT_TIMEOUT = 120
"""Seconds a check of this session waits (a restarted container boots within it)."""
CONTROL_TIMEOUT = 10
"""Seconds a negative control's check waits for what will not come."""

LOOPER = "looper.service"
"""A service in phoenix with Restart=always (systemd-run), for kill-unit."""
FRAGILE = "fragile.service"
"""A service without Restart=, which stays down after kill-unit."""


def _service(unit: str, *properties: str) -> str:
    flags = "".join(f" -p {p}" for p in properties)
    return f"systemd-run --unit={unit}{flags} sleep infinity"


def _freezer_state(output: str, label: str) -> Expect:
    return Expect(
        "command",
        {
            "on": "host",
            "run": "systemctl show -p FreezerState --value systemd-nspawn@beta.service",
            "output": output,
        },
        label,
    )


FAULTS: tuple[Expect, ...] = numbered(
    (
        Expect("unit-active", {"container": ZONE_PEER}),
        Expect("unit-active", {"container": PHOENIX}),
        Expect("reachable", {"from": "beta", "to": ZONE_PEER}),
        Step("mark", {"name": MARK}),
        # peers of one zone: cut across the bridge, the host still reaches both
        Step("partition", {"between": "beta", "and": ZONE_PEER}),
        Expect("unreachable", {"from": "beta", "to": ZONE_PEER}),
        Expect("unreachable", {"from": ZONE_PEER, "to": "beta"}),
        Expect("reachable", {"from": "host", "to": ZONE_PEER}),
        Step("heal", {"between": "beta", "and": ZONE_PEER}),
        Expect("reachable", {"from": "beta", "to": ZONE_PEER}),
        Expect("reachable", {"from": ZONE_PEER, "to": "beta"}),
        # a container and the host
        Step("partition", {"between": "host", "and": "alpha"}),
        Expect("unreachable", {"from": "host", "to": "alpha"}),
        Expect("unreachable", {"from": "alpha", "to": "host"}),
        Step("heal", {"between": "host", "and": "alpha"}),
        Expect("reachable", {"from": "alpha", "to": "host"}),
        # a crash: phoenix comes back (Restart=on-failure), nothing else was touched
        Step("kill", {"container": PHOENIX}),
        Expect("restarted", {"container": PHOENIX, "since": MARK}),
        Expect("unchanged", {"container": "alpha", "since": MARK}),
        Expect("unchanged", {"container": "beta", "since": MARK}),
        # a short freeze
        Step("freeze", {"container": "beta"}),
        _freezer_state("frozen", "host,beta frozen"),
        Step("thaw", {"container": "beta"}),
        _freezer_state("running", "host,beta thawed"),
        Expect("reachable", {"from": "host", "to": "beta"}),
        # a service's own restart, and one without
        Step("run", {"on": PHOENIX, "run": _service(LOOPER, "Restart=always", "RestartSec=1")}),
        Step("run", {"on": PHOENIX, "run": _service(FRAGILE)}),
        Step("kill-unit", {"container": PHOENIX, "unit": LOOPER}),
        Step("kill-unit", {"container": PHOENIX, "unit": FRAGILE, "then": "stays-down"}),
        Expect(
            "command",
            {"on": PHOENIX, "run": f"systemctl is-active {LOOPER}"},
            "phoenix,looper back",
        ),
        # no Restart= policy: a crash leaves peer down
        Step("kill", {"container": ZONE_PEER, "then": "stays-down"}),
        Expect(
            "command",
            {"on": "host", "run": f"systemctl is-active systemd-nspawn@{ZONE_PEER}", "exit": 3},
            "host,peer stays down",
        ),
    ),
    before=(*GOOD, *LIFECYCLE, AFTER_FAILED_STEP, *(b.expect for b in NEGATIVE)),
)
"""Every fault step and lifecycle check, each followed by expectations that see its effect."""


@dataclass(frozen=True)
class Control:
    """A negative control: steps, then ``expect`` (labelled: its id is unique in the run), whose
    failure message must contain ``message``; ``failing_step``: a step that must fail instead
    (then ``expect`` fails as "not checked"); ``cleanup``: steps run after it, in a session of
    their own, to leave the VM as the next control expects it."""

    name: str
    steps: tuple[Step, ...]
    expect: Expect
    message: str
    failing_step: bool = False
    cleanup: tuple[Step, ...] = ()


CONTROLS: tuple[Control, ...] = (
    Control(
        "unhealed",
        (Step("partition", {"between": "beta", "and": "alpha"}),),
        Expect("reachable", {"from": "beta", "to": "alpha"}, "beta->alpha,not healed"),
        "no echo reply",
        cleanup=(Step("heal", {"between": "beta", "and": "alpha"}),),
    ),
    Control(
        "restarted-not-unchanged",
        (),
        Expect("unchanged", {"container": PHOENIX, "since": MARK}, "phoenix,killed and back"),
        f"expected phoenix untouched since mark {MARK}; Leader PID",
    ),
    Control(
        "unchanged-not-restarted",
        (Step("mark", {"name": "quiet"}),),
        Expect("restarted", {"container": "beta", "since": "quiet"}, "beta,not restarted"),
        "it was not restarted",
    ),
    Control(
        "frozen-after-thaw",
        (Step("freeze", {"container": "beta"}), Step("thaw", {"container": "beta"})),
        _freezer_state("frozen", "host,beta frozen after thaw"),
        "lacks 'frozen'",
    ),
    Control(
        "service-without-restart",
        (
            Step("run", {"on": "beta", "run": _service(FRAGILE)}),
            Step("kill-unit", {"container": "beta", "unit": FRAGILE}),
        ),
        Expect("unit-active", {"container": "beta"}, "beta,after kill-unit expected back"),
        "expected it to come back",
        failing_step=True,
    ),
    Control(
        "crash-policy-restarts",
        (Step("kill", {"container": PHOENIX, "then": "stays-down"}),),
        Expect("unit-active", {"container": PHOENIX}, "phoenix,after a kill expected down"),
        "expected it to stay down",
        failing_step=True,
    ),
)
"""One negative control per fault step and lifecycle check (the partition's is its heal's)."""


def add_containers(case: dict[str, Any], reference: dict[str, Any]) -> None:
    """Add ``peer`` (``Restart=no``) and ``phoenix`` (``Restart=on-failure``) to the plan's
    ``case`` (see the module docstring); the policy is explicit, whatever the module's."""
    for base, name, policy in (("beta", ZONE_PEER, "no"), ("alpha", PHOENIX, "on-failure")):
        add_twin(
            case,
            reference,
            base,
            name,
            lambda settings, networks, service, environment, own, policy=policy: service.update(
                Restart=policy
            ),
        )


def topology(case: dict[str, Any], skeleton: tuple[str, ...]) -> Topology:
    return topology_of({name: case["nspawn"][name] for name in NAMES}, skeleton)


def start(machine: ConsoleMachine) -> None:
    """Start peer and phoenix without waiting: they boot while other sessions run."""
    machine.succeed(
        f"systemctl start --no-block systemd-nspawn@{ZONE_PEER} systemd-nspawn@{PHOENIX}"
    )


def run(
    machine: ConsoleMachine,
    topo: Topology,
    out_dir: Path,
    record: RunRecord,
    stdout: Any,
) -> None:
    """Run :data:`FAULTS`, then every control of :data:`CONTROLS`; the controls share the
    faults session's marks (the "restarted-not-unchanged" control compares phoenix, which
    ``kill`` restarted, with the mark before it)."""
    session = Session(machine, topo, out_dir, timeout=FAULT_TIMEOUT, stdout=stdout)
    for entry in FAULTS:
        if isinstance(entry, Step):
            record.steps[entry.id] = session.step(entry.id, entry.check, entry.params)
        else:
            record.results[entry.id] = asdict(session.check(entry.id, entry.check, entry.params))
    for control in CONTROLS:
        negative = Session(machine, topo, out_dir, timeout=CONTROL_TIMEOUT, stdout=stdout)
        negative.state = session.state
        for step in control.steps:
            record.steps[f"{control.name}:{step.id}"] = negative.step(
                step.id, step.check, step.params
            )
        expect = control.expect
        record.results[expect.id] = asdict(negative.check(expect.id, expect.check, expect.params))
        cleanup = Session(machine, topo, out_dir, timeout=FAULT_TIMEOUT, stdout=stdout)
        cleanup.state = session.state  # heal what the control partitioned
        for step in control.cleanup:
            record.steps[f"{control.name}:cleanup:{step.id}"] = cleanup.step(
                step.id, step.check, step.params
            )
