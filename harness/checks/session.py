"""A test run's expectations: run each check, record its result, fail the test at the end.

The generated testScript makes one :class:`Session` and calls :meth:`Session.check` once per
expectation, then :meth:`Session.finish`. A check never aborts the session: a broken expectation,
a driver timeout or a bug in a check all become a failed :class:`Result` with the evidence
gathered so far, so one run reports every problem at once.

Each result is also printed as one line, :data:`STDOUT_PREFIX` and the record's JSON, on the
driver's stdout: the build log carries the results even when the test fails
(:mod:`harness.run.results` reads them back).

The session also records the run's timeline in the same format (:data:`.result.KINDS`): each
step, each VM's boot (:meth:`Session.booting`) and each container's start, which it reads from
the VM's systemd before every step and at :meth:`Session.finish` (see :mod:`.timeline`).
"""

import shlex
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from . import timeline
from .errors import assertion_failure
from .machine import Clock, Machine, SystemClock
from .nodes import Context, Failure
from .registry import CHECKS, FUNCTIONS, STEP_FUNCTIONS, STEPS, CheckFunction
from .result import BOOT, CHECK, CONTAINER, STEP, Evidence, Result
from .spec import HOST, CheckSpec, Params
from .state import RunState
from .topology import Topology

RESULTS_FILE = "nixos-nspawn-results.jsonl"
STDOUT_PREFIX = "nixos-nspawn-result: "
"""Starts the driver's stdout line that carries one result's JSON."""
STEP_PREFIX = "nixos-nspawn-step: "
"""Starts the driver's stdout line that tells how a step went (steps have no result)."""
DEFAULT_CHECK_TIMEOUT = 300
"""Seconds a check waits for something to come up (a unit, an address, a reply). Generous
because NixOS tests often run under TCG, where a container boot takes a minute."""
CLOCK_QUERY_TIMEOUT = 60
"""Seconds the reading of a VM's unit times may take (:mod:`.timeline`)."""


class Session:
    """Runs expectations against ``machine`` and records them in ``out_dir``."""

    def __init__(
        self,
        machine: Machine,
        topology: Topology,
        out_dir: str | Path,
        *,
        timeout: int = DEFAULT_CHECK_TIMEOUT,
        clock: Clock | None = None,
        stdout: TextIO | None = None,
        nodes: Mapping[str, Machine] | None = None,
    ) -> None:
        self.machine = machine
        self.nodes: Mapping[str, Machine] = nodes or {}
        """The test's other NixOS VMs by node name (``outside``): ``from``, ``to``, ``on``."""
        self.topology = topology
        self.path = Path(out_dir) / RESULTS_FILE
        self.timeout = timeout
        self.clock = clock or SystemClock()
        self.stdout = stdout
        self.results: list[Result] = []
        """The expectations' results, in order."""
        self.timeline: list[Result] = []
        """Every record written (expectations, steps, boots, container starts), in order."""
        self.failed_step: Result | None = None
        """The first step that failed: every later expectation fails with its evidence."""
        self._epoch = time.time() - self.clock.monotonic()
        self._seen: set[str] = set()
        """Container starts already recorded, by unit invocation id."""
        self.state = RunState()
        """Marks and partitions, shared by every step and check of the session."""

    def now(self) -> float:
        """Unix time on the driver's clock, carried by the monotonic clock (see
        :mod:`.result`)."""
        return round(self._epoch + self.clock.monotonic(), 3)

    def check(self, id: str, check: str, params: Mapping[str, object]) -> Result:
        """Run one expectation, record it (JSONL file and stdout) and return its result.
        After a failed step it is not run: it fails with the step's message and evidence."""
        if self.failed_step is not None:
            step, now = self.failed_step, self.now()
            result = Result.failed(
                id,
                check,
                f"not checked: step {step.id} failed: {step.message}",
                step.evidence,
                0.0,
                started=now,
                ended=now,
            )
            self._record(result)
            return result
        result = self._attempt(id, check, lambda evidence: self._run(check, params, evidence))
        self._record(result)
        return result

    def step(self, id: str, action: str, params: Mapping[str, object]) -> bool:
        """Run one step (``restart``, ``run``, ...; see :mod:`.steps`) between expectations.
        A step is no expectation: it is recorded on the timeline only. A failed step is kept,
        so that every later expectation fails with its evidence, and later steps are skipped.
        Returns whether the step ran and succeeded."""
        if self.failed_step is not None:
            self._say(STEP_PREFIX, f"{id}: skipped, step {self.failed_step.id} failed")
            return False
        self.note_containers()  # the step may restart them: their last start is read first
        result = self._attempt(id, action, lambda evidence: self._step(action, params, evidence))
        result = replace(result, kind=STEP)
        self._record(result)
        message = result.message.split("\n", 1)[0]  # the evidence follows in the results
        if not result.ok:
            self.failed_step = replace(result, message=message)
        self._say(STEP_PREFIX, f"{id}: {'ok' if result.ok else 'FAILED'}: {message}")
        return result.ok

    @contextmanager
    def booting(self) -> Iterator[None]:
        """Around the testScript's start of its VMs and its wait for them: records each VM's
        boot, from entering the block to its ``multi-user.target`` (read from the VM's
        systemd). A block that raises records a failed boot for the host."""
        started = self.now()
        try:
            yield
        except Exception as error:
            self._record(self._event(BOOT, f"boot[{HOST}]", started, f"boot failed: {error}"))
            raise
        for name, machine in {HOST: self.machine, **self.nodes}.items():
            self._record(self._boot(name, machine, started))

    def _boot(self, name: str, machine: Machine, started: float) -> Result:
        evidence = Evidence()
        found = self._read_units(name, machine, [timeline.BOOTED_UNIT], evidence)
        if found is None:
            message = f"{name} booted; its systemd's times could not be read"
            return self._event(BOOT, f"boot[{name}]", started, message, evidence, ok=True)
        reading, (unit,) = found
        kernel, booted = reading.at(0), max(reading.at(unit.active_enter), started)
        evidence.fact("kernel started", f"{kernel - started:+.3f} s")
        evidence.fact(f"{unit.unit} active", f"{booted - started:+.3f} s")
        message = f"{name} booted in {booted - started:.1f} s (its kernel: {booted - kernel:.1f} s)"
        return self._event(BOOT, f"boot[{name}]", started, message, evidence, ok=True, ended=booted)

    def note_containers(self) -> None:
        """Record the containers' starts that happened since the last call (one record per
        start of a unit; a container still starting is recorded by a later call)."""
        if not self.topology.names:
            return
        units = [f"systemd-nspawn@{name}.service" for name in self.topology.names]
        evidence = Evidence()
        found = self._read_units(HOST, self.machine, units, evidence)
        if found is None:
            return
        reading, times = found
        for name, unit in zip(self.topology.names, times, strict=True):
            if unit.invocation in self._seen or not (unit.active or unit.failed):
                continue
            self._seen.add(unit.invocation)
            id = f"container[{name}]"
            starts = sum(1 for r in self.timeline if r.id.split("#", 1)[0] == id)
            id += f"#{starts + 1}" if starts else ""
            end = unit.active_enter if unit.active else unit.inactive_enter
            started, ended = reading.at(unit.inactive_exit), reading.at(end)
            verdict = "active" if unit.active else "failed"
            message = f"{unit.unit} {verdict} after {ended - started:.1f} s"
            self._record(
                self._event(CONTAINER, id, started, message, evidence, ok=unit.active, ended=ended)
            )

    def _read_units(
        self, name: str, machine: Machine, units: list[str], evidence: Evidence
    ) -> tuple[timeline.Reading, list[timeline.UnitTimes]] | None:
        """The VM's unit times (:mod:`.timeline`), the command in ``evidence``; None when the
        VM could not tell."""
        command = timeline.query(units)
        before = self.now()
        try:
            status, output = machine.execute(
                f"sh -c {shlex.quote(command)} 2>&1", timeout=CLOCK_QUERY_TIMEOUT
            )
        except Exception as error:  # the timeline is a bystander: it never ends the test
            evidence.fact(f"{name}$ {command}", f"raised {type(error).__name__}: {error}")
            return None
        after = self.now()
        evidence.command(name, command, status, output)
        found = timeline.parse(output, before, after) if status == 0 else None
        if found is None or len(found[1]) != len(units):
            return None
        evidence.fact("clock", found[0].describe())
        return found

    def _event(
        self,
        kind: str,
        id: str,
        started: float,
        message: str,
        evidence: Evidence | None = None,
        *,
        ok: bool = False,
        ended: float | None = None,
    ) -> Result:
        """A boot's or a container start's record (its ``check`` the id's name) from
        ``started`` to ``ended`` (default: now)."""
        end = self.now() if ended is None else max(ended, started)
        shown = (evidence or Evidence()).as_dict()
        return _made(kind, id, id.split("[", 1)[0], ok, message, shown, started, end)

    def _attempt(self, id: str, check: str, run: Callable[[Evidence], str]) -> Result:
        """Run ``run`` (a check or a step) and make its outcome a result."""
        evidence = Evidence()
        started, start = self.now(), self.clock.monotonic()
        try:
            ok, message = True, run(evidence)
        except Failure as failure:
            ok, message = False, str(failure)
        except Exception as error:  # a crashed check is a failed expectation, not an abort
            evidence.fact("traceback", "".join(traceback.format_exc(limit=-4)))
            ok, message = False, f"check raised {type(error).__name__}: {error}"
        ended = round(started + self.clock.monotonic() - start, 3)
        return _made(CHECK, id, check, ok, message, evidence.as_dict(), started, ended)

    def _run(self, check: str, params: Mapping[str, object], evidence: Evidence) -> str:
        return self._call("check", CHECKS, FUNCTIONS, check, params, evidence)

    def _step(self, action: str, params: Mapping[str, object], evidence: Evidence) -> str:
        return self._call("step", STEPS, STEP_FUNCTIONS, action, params, evidence)

    def _call(
        self,
        kind: str,
        specs: Mapping[str, CheckSpec],
        functions: Mapping[str, CheckFunction],
        name: str,
        params: Mapping[str, object],
        evidence: Evidence,
    ) -> str:
        spec = specs.get(name)
        if spec is None:
            raise Failure(f"unknown {kind} {name!r} (known: {', '.join(sorted(specs))})")
        context = self._context(spec, params, evidence)
        return functions[name](context, Params(spec.with_defaults(params)))

    def _context(
        self, spec: CheckSpec, params: Mapping[str, object], evidence: Evidence
    ) -> Context:
        """The context to run ``spec`` in, once its parameters are valid."""
        problems = [str(p) for p in spec.validate(params)]
        resolved = spec.with_defaults(params)
        for param in spec.params:
            if param.node and param.name in resolved:
                known = (
                    {HOST, *self.topology.names}
                    if param.name == "container"
                    else {HOST, *self.nodes}
                    if param.vm
                    else {HOST, *self.topology.names, *self.nodes}
                )
                if resolved[param.name] not in known:
                    problems.append(
                        f"{param.name}: unknown node {resolved[param.name]!r} "
                        f"(known: {', '.join(sorted(known))})"
                    )
        if problems:
            raise Failure("invalid parameters: " + "; ".join(problems))
        return Context(
            self.machine,
            self.topology,
            self.clock,
            self.timeout,
            evidence,
            self.nodes,
            self.state,
        )

    def _record(self, result: Result) -> None:
        self.timeline.append(result)
        if result.kind == CHECK:
            self.results.append(result)
        line = result.to_json()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        self._say(STDOUT_PREFIX, line)

    def _say(self, prefix: str, line: str) -> None:
        print(prefix + line, file=self.stdout or sys.stdout, flush=True)

    def finish(self) -> None:
        """Fail the test, naming every failed expectation (after all were recorded), with the
        driver's ``RequestedAssertionFailed`` where it exists (see :mod:`.errors`). The
        containers' last starts are recorded first."""
        self.note_containers()
        failed = [r for r in self.results if not r.ok]
        if failed:
            details = "\n\n".join(f"{r.id}: {r.message}" for r in failed)
            raise assertion_failure(
                f"{len(failed)} of {len(self.results)} expectations failed "
                f"(results in {self.path}):\n\n{details}"
            )


def _made(
    kind: str,
    id: str,
    check: str,
    ok: bool,
    message: str,
    evidence: dict[str, str],
    started: float,
    ended: float,
) -> Result:
    """A record from ``started`` to ``ended``; a failed one's message shows its evidence."""
    seconds = round(ended - started, 3)
    if ok:
        return Result(id, check, True, message, evidence, seconds, kind, started, ended)
    return Result.failed(
        id, check, message, evidence, seconds, kind=kind, started=started, ended=ended
    )
