"""No parameter value becomes a command option (issue #28, class 3).

Every check and step of the registry runs with each of its string parameters set to values a
command would read as options. A value the parameter's grammar refuses never runs; every other
value must reach the command lines only where no option can be: after ``--``, or as an
argument of ``bash -c SCRIPT NAME ARGS...`` (the script's positional parameters). ``run`` is a
shell command line by design and is left out.
"""

import shlex
from dataclasses import dataclass, field

import pytest
from checks_fakes import DB, WEB, FakeClock, ip4

from harness.checks import CHECKS, Bind, Session, Topology
from harness.checks.names import (
    interface_name_problem,
    machine_name_problem,
    specialisation_name_problem,
    unit_name_problem,
)
from harness.checks.registry import STEPS
from harness.checks.spec import CheckSpec

HOSTILE = ("-x", "--help", "-.mount", "-eth0", "--value=1")
"""Values that start like options; ``-.mount`` is even a valid systemd unit name."""

SHELL_CODE = {"run"}
"""Parameters that are shell command lines by design."""

BASE: dict[str, dict[str, object]] = {
    "reachable": {"to": "web"},
    "unreachable": {"to": "web"},
    "address": {"node": "web", "interface": "host0", "prefix": "10.0.0.0/8"},
    "http": {"to": "web"},
    "tcp": {"to": "web", "port": 80},
    "command": {"run": "true"},
    "run": {"run": "true"},
    "wait-unit": {"unit": "nginx.service"},
    "wait-port": {"port": 80},
    "switch": {"to": "base"},
}
"""Valid parameters of each entry that has required ones besides ``container``."""


@dataclass
class Recorder:
    """A machine that answers every command plausibly and records its command lines."""

    clock: FakeClock
    lines: list[str] = field(default_factory=list)

    def execute(self, command: str, *, timeout: int) -> tuple[int, str]:
        self.clock.now += 0.5
        self.lines.append(command)
        inner = _inner(command)
        if inner.startswith("machinectl show") and "Leader" in inner:
            return 0, "101\n"
        if "is-system-running" in inner:
            return 0, "running\n"
        if inner.startswith("systemctl show"):
            return 0, "active\n"
        if inner.startswith("ip "):
            return 0, ip4("host0", "10.0.0.2/24", dynamic=True)
        return 0, ""


def _inner(command: str) -> str:
    """The command line a node runs, without the host's ``sh -c`` or a container's nsenter."""
    words = shlex.split(command)
    return words[words.index("-c") + 1]


def _words_before(value: str, inner: str) -> list[list[str]]:
    """For each word equal to ``value`` in ``inner``, the words of its simple command before
    it (shell operators end a simple command)."""
    lexer = shlex.shlex(inner, posix=True, punctuation_chars=";&|<>()")
    lexer.whitespace_split = True
    found, current = [], []
    for word in lexer:
        if word and set(word) <= set(";&|<>()"):
            current = []
        elif word == value:
            found.append(list(current))
        else:
            current.append(word)
    return found


def _protected(before: list[str]) -> bool:
    if "--" in before:
        return True
    # bash -c SCRIPT NAME ARGS...: ARGS are positional parameters of the script
    if "bash" in before:
        at = before.index("bash")
        return before[at + 1 : at + 2] == ["-c"] and len(before) >= at + 4
    return False


def _entries() -> list[tuple[str, CheckSpec, str, str]]:
    cases = []
    for kind, registry in (("check", CHECKS), ("step", STEPS)):
        for spec in registry.values():
            for param in spec.params:
                if param.type is str and not param.choices and param.name not in SHELL_CODE:
                    cases.extend((kind, spec, param.name, value) for value in HOSTILE)
    return cases


@pytest.mark.parametrize(
    ("kind", "spec", "param", "value"),
    _entries(),
    ids=lambda x: x.name if isinstance(x, CheckSpec) else str(x),
)
def test_no_value_becomes_an_option(tmp_path, kind, spec, param, value):
    params = {**BASE.get(spec.name, {"container": "web"}), param: value}
    if spec.validate(params):
        return  # refused: it never reaches a command (the loader reports the same problem)
    clock = FakeClock()
    machine = Recorder(clock)
    session = Session(machine, Topology((WEB, DB)), str(tmp_path), timeout=3, clock=clock)
    if kind == "check":
        session.check("id", spec.name, params)
    else:
        session.step("id", spec.name, params)
    for line in machine.lines:
        inner = _inner(line)
        for before in _words_before(value, inner):
            assert _protected(before), f"{spec.name}.{param} = {value!r} is an option in: {inner}"


def test_the_walk_reaches_a_unit_name_that_starts_with_a_dash(tmp_path):
    """``-.mount`` is a valid unit name: it runs, and so it must stand after ``--``."""
    clock = FakeClock()
    machine = Recorder(clock)
    session = Session(machine, Topology((WEB,)), str(tmp_path), timeout=3, clock=clock)
    assert session.step("id", "wait-unit", {"unit": "-.mount"})
    hits = [_words_before("-.mount", _inner(line)) for line in machine.lines]
    assert any(hits)
    assert all(_protected(before) for found in hits for before in found)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("nginx.service", True),
        ("-.mount", True),
        ("getty@tty1.service", True),
        ("getty@.service", True),
        ("systemd-nspawn@web.service", True),
        ("a\\x2db.mount", True),
        ("sys-subsystem-net-devices-eth0.device", True),
        ("x" * 247 + ".service", True),
        ("x" * 248 + ".service", False),
        ("nginx", False),
        (".service", False),
        ("@x.service", False),
        ("nginx.unit", False),
        ("ng inx.service", False),
        ("ng/inx.service", False),
        ("nginx.service\n", False),
        ("", False),
    ],
)
def test_unit_names_follow_systemds_rules(name, valid):
    assert (unit_name_problem(name) is None) == valid


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("host0", True),
        ("ve-web", True),
        ("eth0.100", True),
        ("x" * 15, True),
        ("x" * 16, False),
        ("-eth0", False),
        (".hidden", False),
        ("123", False),
        ("eth 0", False),
        ("eth/0", False),
        ("", False),
    ],
)
def test_interface_names(name, valid):
    assert (interface_name_problem(name) is None) == valid


@pytest.mark.parametrize(
    ("name", "valid"), [("web", True), ("a" * 63, True), ("a" * 64, False), ("-web", False)]
)
def test_machine_names(name, valid):
    assert (machine_name_problem(name) is None) == valid


def test_specialisation_names_are_file_names():
    assert specialisation_name_problem("a" * 255) is None
    assert specialisation_name_problem("a" * 256) is not None
    assert specialisation_name_problem("../x") is not None


def test_the_topology_refuses_a_container_name_a_command_would_read_as_an_option():
    with pytest.raises(ValueError, match="not a machine name"):
        Topology((WEB.__class__("-web", zone=None, veth=True),))


def test_the_topology_refuses_paths_a_command_would_read_as_options():
    with pytest.raises(ValueError, match="not absolute"):
        Bind("-rf", read_only=False)
    with pytest.raises(ValueError, match="not absolute"):
        Topology((), store_path="-x")
