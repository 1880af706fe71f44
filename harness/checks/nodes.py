"""Running commands on the host and inside containers, testinfra-style.

A check gets a :class:`Context`; ``ctx.host()`` and ``ctx.container(name)`` give node objects
whose methods and lazy properties each run one command (``container.leader``,
``container.addresses("host0", "ipv4")``). Every command goes through :meth:`Context.execute`,
which records it with its exit status and output as evidence, so failure messages never need to
be assembled by hand.

Commands run under plain ``sh -c`` on every node (the driver itself wraps commands in
``bash -c 'set -euo pipefail; ...'``): the same command then behaves the same on the host and in
a container, on NixOS and on Debian. Stderr is merged into the output because the driver returns
stdout only, and the error text is the most useful evidence.
"""

import ipaddress
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from .machine import Clock, Machine, timed_execute
from .result import Evidence
from .spec import HOST
from .state import RunState
from .topology import Container, Topology

COMMAND_TIMEOUT = 60
"""Seconds one command may take (a single ping, an ``ip`` call, a restart is longer)."""

POLL_INTERVAL = 1.0
"""Seconds between attempts of a polled command, like the driver's ``wait_until_succeeds``."""

NSENTER_FLAGS = "-m -u -i -n -p -U"
"""Namespaces to enter: mount, UTS, IPC, network, PID and user. Without the user namespace
(``-U``), UIDs inside the container show up shifted by the container's base."""

BOOTED_STATES = ("running", "degraded")
"""``systemctl is-system-running`` states that mean the container finished booting."""

FAMILY_FLAG = {"ipv4": "-4", "ipv6": "-6", "link-local": "-6"}

T = TypeVar("T")


class Failure(Exception):
    """A check's expectation does not hold; the message says what was expected and seen."""


@dataclass(frozen=True)
class Output:
    """Exit status and output (stdout and stderr merged) of one command."""

    status: int
    text: str

    @property
    def ok(self) -> bool:
        return self.status == 0


@dataclass(frozen=True)
class IfAddr:
    """One line of ``ip -o addr``: an address with its prefix, scope and DHCP flag."""

    interface: ipaddress.IPv4Interface | ipaddress.IPv6Interface
    scope: str
    dynamic: bool

    @property
    def ip(self) -> str:
        return str(self.interface.ip)


_ADDR_RE = re.compile(r"\binet6? (?P<addr>\S+)(?P<rest>.*)")


def parse_addresses(text: str) -> list[IfAddr]:
    """The addresses in ``ip -o addr show`` output (one address per line)."""
    found = []
    for line in text.splitlines():
        match = _ADDR_RE.search(line)
        if match is None:
            continue
        try:
            interface = ipaddress.ip_interface(match["addr"])
        except ValueError:
            continue
        words = match["rest"].replace("\\", " ").split()
        scope = words[words.index("scope") + 1] if "scope" in words[:-1] else ""
        found.append(IfAddr(interface, scope, "dynamic" in words))
    return found


def parse_properties(text: str) -> dict[str, str]:
    """``Key=Value`` lines of ``systemctl show`` by key (systemd prints them in its own order)."""
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def parse_gateway(text: str) -> str | None:
    """The gateway of the first default route in ``ip route show default`` output."""
    match = re.search(r"^default\b.*?\bvia (\S+)", text, re.MULTILINE)
    return match[1] if match else None


VM_INTERFACE = "eth1"
"""The interface of a NixOS test VM on the test network (vlan 1), which every node has."""


class Context:
    """What a check works with: the machine, the topology, a clock, a timeout, the evidence.

    ``machines``: the test's other NixOS VMs by node name (``outside``), besides ``machine``,
    the host that runs the containers; ``state``: what the session remembers across steps
    (marks, partitions)."""

    def __init__(
        self,
        machine: Machine,
        topology: Topology,
        clock: Clock,
        timeout: int,
        evidence: Evidence,
        machines: Mapping[str, Machine] | None = None,
        state: RunState | None = None,
    ) -> None:
        self.machine = machine
        self.topology = topology
        self.clock = clock
        self.timeout = timeout
        self.evidence = evidence
        self.machines: Mapping[str, Machine] = machines or {}
        self.state = state if state is not None else RunState()

    def host(self) -> "HostNode":
        return HostNode(self)

    def container(self, name: str) -> "ContainerNode":
        """A fresh view of a container (its leader is looked up again on first use)."""
        return ContainerNode(self, self.topology.container(name))

    def node(self, name: str) -> "Node":
        if name == HOST:
            return self.host()
        if name in self.machines:
            return VmNode(self, name, self.machines[name])
        return self.container(name)

    def vm(self, name: str) -> Machine:
        """The machine of the host or of a ``[nodes]`` VM; KeyError for anything else."""
        return self.machine if name == HOST else self.machines[name]

    def execute(
        self, label: str, shown: str, command: str, timeout: int, machine: Machine | None = None
    ) -> Output:
        """Run ``command`` on ``machine`` (default: the host); record it as
        ``<label>$ <shown>``."""
        status, text = timed_execute(machine or self.machine, command, timeout)
        self.evidence.command(label, shown, status, text)
        return Output(status, text)

    def poll(
        self, attempt: Callable[[], T | None], timeout: int | None = None
    ) -> tuple[T | None, float]:
        """Call ``attempt`` until it returns something other than None, or until ``timeout``
        seconds (default: the context's) have passed; the last attempt is made after the
        deadline, as in the driver's ``retry``. Returns the value (or None) and the seconds
        spent. The evidence keeps what the last attempt ran (:meth:`Evidence.polling`)."""
        limit = self.timeout if timeout is None else timeout
        start = self.clock.monotonic()
        with self.evidence.polling():
            while True:
                value = attempt()
                elapsed = self.clock.monotonic() - start
                if value is not None or elapsed >= limit:
                    return value, elapsed
                self.clock.sleep(POLL_INTERVAL)


class Node:
    """A place to run commands: the host, or a container entered with ``nsenter``."""

    name: str
    link: str | None = None
    """The node's interface towards the others (None: the host, which has one per container)."""

    def __init__(self, ctx: Context, name: str) -> None:
        self.ctx = ctx
        self.name = name

    def wrap(self, command: str) -> str:
        """The full command line the machine runs for ``command``."""
        return f"sh -c {shlex.quote(command)} 2>&1"

    @property
    def machine(self) -> Machine:
        """The VM that runs this node's commands: the host, for the host and the containers."""
        return self.ctx.machine

    def run(self, command: str, timeout: int = COMMAND_TIMEOUT) -> Output:
        return self.ctx.execute(self.name, command, self.wrap(command), timeout, self.machine)

    def run_until(
        self, command: str, until: Callable[[Output], bool], timeout: int | None = None
    ) -> tuple[Output, bool]:
        """Repeat ``command`` until ``until(output)`` holds or the timeout passes. Returns the
        last output and whether it held; the evidence notes attempts and time."""
        attempts = 0
        last = Output(-1, "")

        def attempt() -> Output | None:
            nonlocal attempts, last
            attempts += 1
            last = self.run(command)
            return last if until(last) else None

        with self.ctx.evidence.polling():  # the note below amends the last attempt's entry
            found, seconds = self.ctx.poll(attempt, timeout)
            note = f"attempt {attempts}, after {seconds:.1f}s"
            self.ctx.evidence.command(self.name, command, last.status, last.text, note)
        return last, found is not None

    def unit_properties(self, unit: str, names: Sequence[str]) -> dict[str, str]:
        """Properties of the systemd unit ``unit`` on this node (``systemctl show``), by name;
        a Failure when systemctl fails."""
        wanted = " ".join(f"-p {name}" for name in names)
        out = self.run(f"systemctl show {wanted} -- {shlex.quote(unit)}")
        if not out.ok:
            raise Failure(f"`systemctl show {unit}` on {self.name} exited {out.status}")
        return parse_properties(out.text)

    def wait_addresses(self, interface: str, family: str) -> list[IfAddr]:
        """Addresses of ``family`` on ``interface`` (ipv4, ipv6: global scope; link-local: link
        scope), waiting until there is at least one, since networks come up asynchronously.
        An empty list when there is none after the timeout."""
        scope = "link" if family == "link-local" else "global"
        command = (
            f"ip {FAMILY_FLAG[family]} -o addr show dev {shlex.quote(interface)} scope {scope}"
        )
        out, _ = self.run_until(command, lambda o: o.ok and bool(parse_addresses(o.text)))
        return parse_addresses(out.text) if out.ok else []


class HostNode(Node):
    """The VM that runs the containers."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx, HOST)


class VmNode(Node):
    """Another NixOS VM of the test (``outside``), on the test network through ``eth1``."""

    link = VM_INTERFACE

    def __init__(self, ctx: Context, name: str, machine: Machine) -> None:
        super().__init__(ctx, name)
        self._machine = machine

    @property
    def machine(self) -> Machine:
        return self._machine


class ContainerNode(Node):
    """A running container, entered through the namespaces of its leader (its init)."""

    link = "host0"

    def __init__(self, ctx: Context, container: Container) -> None:
        super().__init__(ctx, container.name)
        self.container = container

    def wrap(self, command: str) -> str:
        return f"nsenter -t {self.leader} {NSENTER_FLAGS} -- sh -c {shlex.quote(command)} 2>&1"

    def leader_now(self) -> int | None:
        """The container's leader PID per machined right now, or None if not registered."""
        out = self.ctx.host().run(f"machinectl show {shlex.quote(self.name)} -p Leader --value")
        value = out.text.strip()
        return int(value) if out.ok and value.isdigit() and int(value) > 0 else None

    @cached_property
    def leader(self) -> int:
        """The leader PID, waiting until machined has registered the container."""
        pid, seconds = self.ctx.poll(self.leader_now)
        if pid is None:
            raise Failure(
                f"container {self.name} is not registered with machined after {seconds:.0f}s "
                f"(no Leader in `machinectl show {self.name}`); is {self.container.unit} running?"
            )
        self.ctx.evidence.fact(f"{self.name} leader", str(pid))
        return pid

    def wait_booted(self) -> str:
        """Wait until the container's systemd has finished booting; returns its state."""
        out, ok = self.run_until(
            "systemctl is-system-running",
            lambda o: o.text.strip() in BOOTED_STATES,
        )
        if not ok:
            raise Failure(
                f"container {self.name} did not finish booting: expected "
                f"`systemctl is-system-running` to say running or degraded, "
                f"last saw {out.text.strip()!r}"
            )
        return out.text.strip()

    def read_host_file(self, name: str) -> Output:
        """A file under the leader's ``/proc/<pid>/`` directory, read on the host."""
        return self.ctx.host().run(f"cat /proc/{self.leader}/{name}")

    def restart(self) -> "ContainerNode":
        """Restart the container's unit and return a view of the new instance, once machined
        has registered a new leader."""
        old = self.leader
        host = self.ctx.host()
        out = host.run(
            f"systemctl restart {shlex.quote(self.container.unit)}", timeout=self.ctx.timeout
        )
        if not out.ok:
            raise Failure(f"`systemctl restart {self.container.unit}` failed (exit {out.status})")
        fresh = ContainerNode(self.ctx, self.container)
        pid, seconds = self.ctx.poll(lambda: _changed(fresh.leader_now(), old))
        if pid is None:
            raise Failure(
                f"container {self.name} has no new leader {seconds:.0f}s after the restart "
                f"(old leader {old})"
            )
        fresh.leader = pid
        self.ctx.evidence.fact(f"{self.name} leader after restart", str(pid))
        return fresh


def present(node: Node, paths: Sequence[str], what: str) -> set[str]:
    """Which of ``paths`` exist on ``node`` (one command for all of them); ``what`` names them
    in the failure when the command fails."""
    script = (
        f"set -- {' '.join(shlex.quote(x) for x in paths)}; "
        'for p do if [ -e "$p" ]; then echo "present $p"; else echo "absent $p"; fi; done'
    )
    out = node.run(script)
    if not out.ok:
        raise Failure(f"could not look for {what} in {node.name} (exit {out.status})")
    return {
        line.removeprefix("present ")
        for line in out.text.splitlines()
        if line.startswith("present ")
    }


def _changed(pid: int | None, old: int) -> int | None:
    return pid if pid is not None and pid != old else None
