"""Test doubles for the check library: a scripted Machine and a fake clock.

The fake decodes every command back into (node, inner command), so tests script answers per
node ("host", or a container name) and can assert both the inner commands and the exact command
lines (quoting) the machine received.
"""

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.checks import Bind, Container, Session, Topology

Answer = tuple[int, str] | Callable[[str], tuple[int, str]]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Rule:
    node: str
    pattern: re.Pattern[str]
    answers: list[Answer]
    used: int = 0

    def answer(self, inner: str) -> tuple[int, str]:
        chosen = self.answers[min(self.used, len(self.answers) - 1)]
        self.used += 1
        return chosen(inner) if callable(chosen) else chosen


@dataclass
class FakeMachine:
    """Answers commands from rules; the rule added last wins. Unscripted commands exit 127.

    The session's readings of the VM's unit times (harness.checks.timeline) go to
    ``clock_reads``, not ``lines`` and ``calls``: the checks' own commands stay exact."""

    clock: FakeClock
    leaders: dict[str, int] = field(default_factory=dict)
    queued: dict[str, list[int | None]] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    clock_reads: list[str] = field(default_factory=list)

    def on(self, node: str, pattern: str, *answers: Answer) -> Rule:
        rule = Rule(node, re.compile(pattern), list(answers))
        self.rules.append(rule)
        return rule

    def set_leader(self, container: str, *pids: int | None) -> None:
        """The container's leader from now on; several pids: one per lookup, the last stays
        (None: not registered with machined)."""
        self.queued[container] = list(pids)

    def leader(self, container: str) -> int | None:
        queue = self.queued.get(container)
        if queue:
            self.leaders.pop(container, None)
            pid = queue.pop(0) if len(queue) > 1 else queue[0]
            if pid is not None:
                self.leaders[container] = pid
        return self.leaders.get(container)

    def decode(self, command: str) -> tuple[str, str]:
        words = shlex.split(command)
        if words[:2] == ["sh", "-c"] and words[3:] == ["2>&1"] and len(words) == 4:
            return "host", words[2]
        if (
            words[:2] == ["nsenter", "-t"]
            and words[3:12] == ["-m", "-u", "-i", "-n", "-p", "-U", "--", "sh", "-c"]
            and words[13:] == ["2>&1"]
        ):
            pid = int(words[2])
            names = [n for n, p in self.leaders.items() if p == pid]
            assert names, f"nsenter into pid {pid}, which is no container's leader"
            return names[0], words[12]
        raise AssertionError(f"unexpected command shape: {command}")

    def execute(self, command: str, *, timeout: int) -> tuple[int, str]:
        self.clock.now += 0.25
        node, inner = self.decode(command)
        if inner.startswith("cat /proc/uptime && systemctl show "):
            self.clock_reads.append(inner)
        else:
            self.lines.append(command)
            self.calls.append((node, inner))
        leader = re.fullmatch(r"machinectl show (\S+) -p Leader --value", inner)
        if node == "host" and leader:
            pid = self.leader(leader[1])
            return (0, f"{pid}\n") if pid else (1, f"Could not get path to machine: {leader[1]}\n")
        for rule in reversed(self.rules):
            if rule.node == node and rule.pattern.search(inner):
                return rule.answer(inner)
        return 127, f"fake: no rule for {node}$ {inner}\n"

    def ran(self, node: str, pattern: str) -> list[str]:
        """Inner commands run on ``node`` that match ``pattern``."""
        return [inner for n, inner in self.calls if n == node and re.search(pattern, inner)]


WEB = Container(
    "web",
    zone=None,
    veth=True,
    binds=(Bind("/var/lib/web", read_only=False), Bind("/etc/shared", read_only=True)),
)
DB = Container("db", zone="lab", veth=True, binds=())
TOPOLOGY = Topology((WEB, DB))


def ip4(interface: str, cidr: str, dynamic: bool = False) -> str:
    flag = " dynamic" if dynamic else ""
    lft = "3594sec" if dynamic else "forever"
    return (
        f"2: {interface}    inet {cidr} brd 0.0.0.0 scope global{flag} {interface}\\"
        f"       valid_lft {lft} preferred_lft {lft}\n"
    )


def ip6(interface: str, cidr: str, scope: str = "global") -> str:
    return (
        f"2: {interface}    inet6 {cidr} scope {scope} \\"
        f"       valid_lft forever preferred_lft forever\n"
    )


@dataclass
class Rig:
    machine: FakeMachine
    clock: FakeClock
    session: Session


def make_rig(tmp_path: object, topology: Topology = TOPOLOGY, timeout: int = 5) -> Rig:
    clock = FakeClock()
    machine = FakeMachine(clock, leaders={"web": 101, "db": 202})
    session = Session(machine, topology, str(tmp_path), timeout=timeout, clock=clock)
    return Rig(machine, clock, session)
