"""A test run's expectations: run each check, record its result, fail the test at the end.

The generated testScript makes one :class:`Session` and calls :meth:`Session.check` once per
expectation, then :meth:`Session.finish`. A check never aborts the session: a broken expectation,
a driver timeout or a bug in a check all become a failed :class:`Result` with the evidence
gathered so far, so one run reports every problem at once.

Each result is also printed as one line, :data:`STDOUT_PREFIX` and the record's JSON, on the
driver's stdout: the build log carries the results even when the test fails
(:mod:`harness.run.results` reads them back).
"""

import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from .errors import assertion_failure
from .machine import Clock, Machine, SystemClock
from .nodes import Context, Failure
from .registry import CHECKS, FUNCTIONS, STEP_FUNCTIONS, STEPS, CheckFunction
from .result import Evidence, Result
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
        self.failed_step: Result | None = None
        """The first step that failed: every later expectation fails with its evidence."""
        self.state = RunState()
        """Marks and partitions, shared by every step and check of the session."""

    def check(self, id: str, check: str, params: Mapping[str, object]) -> Result:
        """Run one expectation, record it (JSONL file and stdout) and return its result.
        After a failed step it is not run: it fails with the step's message and evidence."""
        if self.failed_step is not None:
            step = self.failed_step
            result = Result.failed(
                id,
                check,
                f"not checked: step {step.id} failed: {step.message}",
                step.evidence,
                0.0,
            )
            self._record(result)
            return result
        result = self._attempt(id, check, lambda evidence: self._run(check, params, evidence))
        self._record(result)
        return result

    def step(self, id: str, action: str, params: Mapping[str, object]) -> bool:
        """Run one step (``restart``, ``run``, ...; see :mod:`.steps`) between expectations.
        Steps are not recorded as results; a failed step is kept, so that every later
        expectation fails with its evidence, and later steps are skipped. Returns whether the
        step ran and succeeded."""
        if self.failed_step is not None:
            self._say(STEP_PREFIX, f"{id}: skipped, step {self.failed_step.id} failed")
            return False
        result = self._attempt(id, action, lambda evidence: self._step(action, params, evidence))
        message = result.message.split("\n", 1)[0]  # the evidence follows in the results
        if not result.ok:
            self.failed_step = Result(id, action, False, message, result.evidence, result.seconds)
        self._say(STEP_PREFIX, f"{id}: {'ok' if result.ok else 'FAILED'}: {message}")
        return result.ok

    def _attempt(self, id: str, check: str, run: Callable[[Evidence], str]) -> Result:
        """Run ``run`` (a check or a step) and make its outcome a result."""
        evidence = Evidence()
        start = self.clock.monotonic()
        try:
            ok, message = True, run(evidence)
        except Failure as failure:
            ok, message = False, str(failure)
        except Exception as error:  # a crashed check is a failed expectation, not an abort
            evidence.fact("traceback", "".join(traceback.format_exc(limit=-4)))
            ok, message = False, f"check raised {type(error).__name__}: {error}"
        seconds = round(self.clock.monotonic() - start, 3)
        if ok:
            return Result(id, check, ok, message, evidence.as_dict(), seconds)
        return Result.failed(id, check, message, evidence.as_dict(), seconds)

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
        driver's ``RequestedAssertionFailed`` where it exists (see :mod:`.errors`)."""
        failed = [r for r in self.results if not r.ok]
        if failed:
            details = "\n\n".join(f"{r.id}: {r.message}" for r in failed)
            raise assertion_failure(
                f"{len(failed)} of {len(self.results)} expectations failed "
                f"(results in {self.path}):\n\n{details}"
            )
