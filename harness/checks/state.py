"""What a session remembers between its steps and expectations: marks and partitions.

Steps and checks are functions of a :class:`harness.checks.nodes.Context`, which the session
makes afresh for each; the few facts that must outlive one step (a ``mark``'s snapshot that a
later ``unchanged`` compares with, the rules a ``partition`` added that ``heal`` removes) live
in the session's one :class:`RunState`, which every context shares.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Snapshot:
    """A container at a ``mark``: machined's Leader PID (None: not running), the unit's
    InvocationID and NRestarts, the kernel's boot ID (containers share the host's kernel, so
    it changes when the host reboots, after which a PID may be reused), and the host journal's
    cursor then (``restarted`` reads the unit's invocations after it)."""

    leader: int | None
    invocation: str
    restarts: int
    boot_id: str
    cursor: str


@dataclass(frozen=True)
class BlockRule:
    """One ``ip rule`` a ``partition`` added on ``node`` (the host, a container's network
    namespace or a ``[nodes]`` VM): packets ``node`` itself sends to ``peer`` (an address of
    the other side; ``family`` ``-4``/``-6``) are dropped."""

    node: str
    family: str
    peer: str

    def spec(self, priority: int) -> str:
        """The ``ip rule`` arguments after ``add``/``del``: exactly this rule (``iif lo``:
        only what the node sends itself, not what it forwards for others)."""
        return f"to {self.peer} iif lo priority {priority} blackhole"


@dataclass
class RunState:
    """The session's memory: snapshots by mark name (then by container), and the rules of each
    partition by its pair of node names (sorted)."""

    marks: dict[str, dict[str, Snapshot]] = field(default_factory=dict)
    partitions: dict[tuple[str, str], tuple[BlockRule, ...]] = field(default_factory=dict)
