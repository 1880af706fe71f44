"""Nodes: exact command lines (quoting), output parsing, leader lookup, restarts."""

import pytest
from checks_fakes import TOPOLOGY, FakeClock, FakeMachine, ip4, ip6

from harness.checks.nodes import Context, Failure, parse_addresses, parse_gateway
from harness.checks.result import Evidence


@pytest.fixture
def ctx():
    clock = FakeClock()
    machine = FakeMachine(clock, leaders={"web": 101})
    return Context(machine, TOPOLOGY, clock, 5, Evidence())


def test_host_commands_run_under_sh_with_stderr(ctx):
    ctx.host().run("echo 'it''s' \"$HOME\"")
    assert ctx.machine.lines == ["sh -c 'echo '\"'\"'it'\"'\"''\"'\"'s'\"'\"' \"$HOME\"' 2>&1"]


def test_container_commands_enter_all_namespaces_of_the_leader(ctx):
    ctx.container("web").run("cat /etc/hostname; id -u")
    assert ctx.machine.lines == [
        "sh -c 'machinectl show web -p Leader --value' 2>&1",
        "nsenter -t 101 -m -u -i -n -p -U -- sh -c 'cat /etc/hostname; id -u' 2>&1",
    ]
    assert ctx.machine.calls[-1] == ("web", "cat /etc/hostname; id -u")


def test_leader_is_looked_up_once_per_view(ctx):
    web = ctx.container("web")
    web.run("true")
    web.run("true")
    assert len(ctx.machine.ran("host", "machinectl")) == 1
    assert ctx.evidence.as_dict()["web leader"] == "101"


def test_missing_leader_fails_after_the_timeout(ctx):
    with pytest.raises(Failure, match=r"container db is not registered with machined after 5s"):
        ctx.container("db").run("true")
    assert 5 <= ctx.clock.now < 7


def test_restart_waits_for_a_new_leader(ctx):
    def restart(command):
        ctx.machine.set_leader("web", 101, None, None, 303)  # old, gone, then the new one
        return 0, ""

    ctx.machine.on("host", r"^systemctl restart systemd-nspawn@web\.service$", restart)
    fresh = ctx.container("web").restart()
    assert fresh.leader == 303
    assert ctx.evidence.as_dict()["web leader after restart"] == "303"
    assert len(ctx.machine.ran("host", "machinectl show web")) == 5


def test_evidence_has_an_entry_per_call_in_call_order(ctx):
    """The leader lookup after a restart is its own entry, after the restart, with its own
    output: not the first lookup's place with the later output."""

    def restart(command):
        ctx.machine.set_leader("web", None, 303)
        return 0, ""

    ctx.machine.on("host", r"^systemctl restart systemd-nspawn@web\.service$", restart)
    ctx.container("web").restart()
    lookup = "host$ machinectl show web -p Leader --value"
    assert list(ctx.evidence.as_dict().items()) == [
        (lookup, "exit 0\n101"),
        ("web leader", "101"),
        ("host$ systemctl restart systemd-nspawn@web.service", "exit 0"),
        (f"{lookup} #2", "exit 0\n303"),
        ("web leader after restart", "303"),
    ]


def test_a_wait_leaves_one_entry_with_its_last_attempt(ctx):
    ctx.machine.on("web", r"^systemctl is-system-running$", (1, "starting\n"), (0, "running\n"))
    ctx.container("web").wait_booted()
    assert ctx.evidence.as_dict() == {
        "host$ machinectl show web -p Leader --value": "exit 0\n101",
        "web leader": "101",
        "web$ systemctl is-system-running": "exit 0 (attempt 2, after 1.8s)\nrunning",
    }


def test_restart_without_a_new_leader_fails(ctx):
    ctx.machine.on("host", r"^systemctl restart", (0, ""))
    with pytest.raises(Failure, match=r"web has no new leader 5s after the restart \(old leader"):
        ctx.container("web").restart()


def test_failed_restart_is_a_failure(ctx):
    ctx.machine.on("host", r"^systemctl restart", (1, "Job failed"))
    with pytest.raises(Failure, match=r"`systemctl restart systemd-nspawn@web.service` failed"):
        ctx.container("web").restart()


def test_wait_booted_accepts_running_and_degraded(ctx):
    ctx.machine.on(
        "web",
        r"^systemctl is-system-running$",
        (1, "Failed to connect to bus\n"),
        (1, "starting\n"),
        (1, "degraded\n"),
    )
    assert ctx.container("web").wait_booted() == "degraded"


def test_wait_booted_times_out_with_the_last_state(ctx):
    ctx.machine.on("web", r"^systemctl is-system-running$", (1, "starting\n"))
    with pytest.raises(Failure, match=r"did not finish booting.*last saw 'starting'"):
        ctx.container("web").wait_booted()


def test_parse_addresses():
    text = (
        ip4("host0", "10.0.0.2/28", dynamic=True)
        + ip4("host0", "192.168.42.2/24")
        + ip6("host0", "fe80::1c2b:3aff:fe4d:5e6f/64", scope="link")
        + "garbage line\n"
    )
    found = parse_addresses(text)
    assert [(str(a.interface), a.scope, a.dynamic) for a in found] == [
        ("10.0.0.2/28", "global", True),
        ("192.168.42.2/24", "global", False),
        ("fe80::1c2b:3aff:fe4d:5e6f/64", "link", False),
    ]


def test_parse_gateway():
    assert (
        parse_gateway("default via 10.0.0.1 dev host0 proto dhcp src 10.0.0.2 metric 1024\n")
        == "10.0.0.1"
    )
    assert parse_gateway("10.0.0.0/28 dev host0 proto kernel scope link src 10.0.0.2\n") is None
    assert parse_gateway("") is None
