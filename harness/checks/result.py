"""Results of expectations, and the evidence that explains them.

A result is what the pytest plugin and a human reading a failed ``nix build`` log both see, so
it carries its evidence: the commands that were run, on which node, with exit status and output
(as pytest-testinfra shows them), plus the facts a check derived from them.

:class:`Result` is the one record of an expectation's outcome: the checks write it
(:meth:`Result.to_json`) and the harness reads it back (:meth:`Result.from_json`), from the
results file and from the build log alike.

Besides the expectations, the testScript records its timeline in the same format
(:attr:`Result.kind`): each step, each VM's boot and each container's start. Every record says
when it started and ended on the test driver's clock (:attr:`Result.started`): Unix time in
seconds, as ``time.time()`` reads it when the session begins, carried forward by the
monotonic clock, so one session's times never run backwards and durations are exact.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

CHECK = "check"
"""Kind of an expectation's record; the pytest plugin reports one item each."""
STEP = "step"
"""Kind of a step's record (``restart``, ``run``, ...)."""
BOOT = "boot"
"""Kind of a VM's boot: from the driver starting it to its ``multi-user.target``."""
CONTAINER = "container"
"""Kind of a container's start: its unit leaving ``inactive`` to its becoming active."""
KINDS = (CHECK, STEP, BOOT, CONTAINER)

MAX_VALUE_CHARS = 4000
"""Evidence values are cut to this size: a runaway output must not bloat the JSONL file."""


@dataclass(frozen=True)
class Result:
    """The outcome of one expectation, as one JSON object per line (keys in field order).

    The message of a failed result ends with its evidence (see :func:`render`), so every
    reader of the message (the driver's log, the pytest failure) sees it.
    """

    id: str
    check: str
    ok: bool
    message: str
    evidence: dict[str, str]
    seconds: float
    kind: str = CHECK
    started: float | None = None
    """Unix time (seconds) on the driver's clock when it started; None only in records made
    after the fact (a reader's verdict on a repeated id)."""
    ended: float | None = None

    def to_json(self) -> str:
        """One line of JSON, keys in field order.

        ASCII only, so a reader that treats U+2028, U+2029 or U+0085 as line breaks (as
        ``str.splitlines`` does) cannot cut a record in two.
        """
        return json.dumps(asdict(self), ensure_ascii=True, separators=(", ", ": "))

    @classmethod
    def from_json(cls, text: str) -> "Result | None":
        """The record :meth:`to_json` wrote, or None when ``text`` is not a well-formed one
        (a half-written line of a killed run must not hide the records before it)."""
        try:
            raw = json.loads(text)
        except ValueError:
            return None
        if not isinstance(raw, dict):
            return None
        evidence = raw.get("evidence", {})
        started, ended = raw.get("started"), raw.get("ended")
        well_formed = (
            isinstance(raw.get("id"), str)
            and isinstance(raw.get("check"), str)
            and isinstance(raw.get("ok"), bool)
            and isinstance(raw.get("message", ""), str)
            and isinstance(raw.get("seconds", 0.0), int | float)
            and isinstance(evidence, dict)
            and raw.get("kind", CHECK) in KINDS
            and all(isinstance(t, int | float | None) for t in (started, ended))
        )
        if not well_formed:
            return None
        return cls(
            id=raw["id"],
            check=raw["check"],
            ok=raw["ok"],
            message=raw.get("message", ""),
            evidence={str(k): str(v) for k, v in evidence.items()},
            seconds=float(raw.get("seconds", 0.0)),
            kind=raw.get("kind", CHECK),
            started=None if started is None else float(started),
            ended=None if ended is None else float(ended),
        )

    @classmethod
    def failed(
        cls,
        id: str,
        check: str,
        message: str,
        evidence: dict[str, str],
        seconds: float,
        *,
        kind: str = CHECK,
        started: float | None = None,
        ended: float | None = None,
    ) -> "Result":
        """A failed result, its message followed by the rendered evidence."""
        message = f"{message}\n{render(evidence)}"
        return cls(id, check, False, message, evidence, seconds, kind, started, ended)

    def describe(self) -> str:
        """The verdict line and the message (which, failed, holds the evidence)."""
        verdict = "passed" if self.ok else "FAILED"
        head = f"{self.id}: {verdict} ({self.seconds:.1f} s)"
        return f"{head}\n{self.message}" if self.message else head


def clip(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters cut]"


@dataclass
class _Entry:
    key: str
    value: str


class Evidence:
    """What a check ran and found: one entry per call, in the order of the calls.

    A command is labelled ``"<node>$ <command>"``, a fact by a short name such as
    ``"web leader"``. A label recorded again gets an entry of its own (``#2``, ``#3`` in
    :meth:`as_dict`), so a lookup repeated after a restart shows its own output at its own
    place. Only the attempts of one wait share entries (see :meth:`polling`).
    """

    def __init__(self) -> None:
        self._entries: list[_Entry] = []
        self._poll_start: int | None = None

    def command(self, node: str, command: str, status: int, output: str, note: str = "") -> None:
        """Record a command run on ``node`` with its exit status and output."""
        head = f"exit {status}" + (f" ({note})" if note else "")
        body = output.rstrip("\n")
        self._record(f"{node}$ {command}", f"{head}\n{body}" if body else head)

    def fact(self, key: str, value: str) -> None:
        """Record something the check derived (an address, a uid_map line, a marker path)."""
        self._record(key, value)

    @contextmanager
    def polling(self) -> Iterator[None]:
        """A wait that repeats attempts: within it, a label already recorded since the
        (outermost) wait began is overwritten in place, so a wait leaves its last attempt,
        not one entry per attempt."""
        outer = self._poll_start
        if outer is None:
            self._poll_start = len(self._entries)
        try:
            yield
        finally:
            self._poll_start = outer

    def _record(self, key: str, value: str) -> None:
        value = clip(value)
        if self._poll_start is not None:
            for entry in self._entries[self._poll_start:]:
                if entry.key == key:
                    entry.value = value
                    return
        self._entries.append(_Entry(key, value))

    def as_dict(self) -> dict[str, str]:
        """The entries in order; the n-th entry of a label is keyed ``<label> #n`` (n ≥ 2)."""
        found: dict[str, str] = {}
        for entry in self._entries:
            key, number = entry.key, 1
            while key in found:
                number += 1
                key = f"{entry.key} #{number}"
            found[key] = entry.value
        return found


def render(evidence: dict[str, str]) -> str:
    """Evidence as an indented block for a failure message."""
    if not evidence:
        return "evidence: none"
    lines = ["evidence:"]
    for key, value in evidence.items():
        lines.append(f"  {key}")
        lines.extend(f"    | {line}" for line in value.splitlines() or [""])
    return "\n".join(lines)
