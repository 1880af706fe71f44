"""Fault steps against the fake machine: partition/heal (the rules each side gets, and heal
removing exactly them), kill and kill-unit (the crash policy each expects), freeze/thaw."""

from checks_fakes import TOPOLOGY, FakeClock, FakeMachine, ip4, ip6

from harness.checks import Session
from harness.checks.faults import PARTITION_PRIORITY

RULE = f"iif lo priority {PARTITION_PRIORITY} blackhole"


def addresses(rig):
    rig.machine.on("web", r"^ip -o addr show dev host0$", (0, ip4("host0", "10.0.0.2/28")))
    rig.machine.on(
        "db",
        r"^ip -o addr show dev host0$",
        (0, ip4("host0", "10.0.1.2/28") + ip6("host0", "fe80::2/64", "link")),
    )
    rig.machine.on(
        "host",
        r"^ip -o addr show$",
        (0, ip4("lo", "127.0.0.1/8").replace("global", "host") + ip4("ve-web", "10.0.0.1/28")),
    )
    for node in ("web", "db", "host"):
        rig.machine.on(node, r"^ip (-[46] )?rule ", (0, ""))


def test_partition_blackholes_each_side_towards_every_address_of_the_other(rig):
    addresses(rig)
    assert rig.session.step("p", "partition", {"between": "web", "and": "db"})
    rule = f"iif lo priority {PARTITION_PRIORITY} blackhole"
    assert rig.machine.ran("db", "rule add") == [f"ip -4 rule add to 10.0.0.2 {rule}"]
    assert rig.machine.ran("web", "rule add") == [
        f"ip -4 rule add to 10.0.1.2 {rule} && ip -6 rule add to fe80::2 {rule}"
    ]
    assert rig.session.step("h", "heal", {"between": "db", "and": "web"})  # either order
    deleted = rig.machine.ran("web", "rule del") + rig.machine.ran("db", "rule del")
    added = rig.machine.ran("web", "rule add") + rig.machine.ran("db", "rule add")
    assert sorted(d.replace(" del ", " add ") for d in deleted) == sorted(added)


def test_heal_fails_while_a_rule_is_still_in_place(rig):
    addresses(rig)
    assert rig.session.step("p", "partition", {"between": "web", "and": "db"})
    rig.machine.on(
        "web", r"^ip -4 rule show ", (0, "9000: from all to 10.0.1.2 iif lo blackhole\n")
    )
    assert not rig.session.step("h", "heal", {"between": "web", "and": "db"})
    assert rig.session.failed_step.message == (
        "1 of the partition's rules are still in place on web"
    )


def test_partition_with_the_host_leaves_out_its_loopback(rig):
    addresses(rig)
    assert rig.session.step("p", "partition", {"between": "host", "and": "web"})
    assert rig.machine.ran("web", "rule add") == [f"ip -4 rule add to 10.0.0.1 {RULE}"]
    assert rig.machine.ran("host", "rule add") == [f"ip -4 rule add to 10.0.0.2 {RULE}"]


def test_heal_without_partition_fails_and_a_rule_already_gone_is_told(rig, capsys):
    addresses(rig)
    assert not rig.session.step("h", "heal", {"between": "web", "and": "db"})
    assert rig.session.failed_step.message == (
        "db and web are not partitioned (no partition step before)"
    )
    rig.session.failed_step = None
    assert rig.session.step("p", "partition", {"between": "web", "and": "db"})
    rig.machine.on("db", r"^ip -4 rule del ", (2, "RTNETLINK answers: No such file\n"))
    assert rig.session.step("h", "heal", {"between": "web", "and": "db"})
    assert (
        capsys.readouterr()
        .out.splitlines()[-1]
        .endswith("healed db and web: removed 3 rules (some were already gone on db: restarted?)")
    )


def test_a_node_without_addresses_cannot_be_partitioned(rig):
    addresses(rig)
    rig.machine.on("web", r"^ip -o addr show dev host0$", (0, ""))
    assert not rig.session.step("p", "partition", {"between": "web", "and": "db"})
    assert "web has no address to cut off" in rig.session.failed_step.message
    assert rig.machine.ran("db", "rule add") == []


def unit(rig, *answers):
    rig.machine.on("host", r"^systemctl show -p ActiveState .*systemd-nspawn@web", *answers)


def props(active, invocation, restarts=0, sub="running"):
    return (
        0,
        f"ActiveState={active}\nSubState={sub}\nInvocationID={invocation}\n"
        f"NRestarts={restarts}\nMainPID=0\n",
    )


def test_kill_sends_sigkill_to_the_leader_and_waits_for_the_restart(rig):
    unit(
        rig,
        props("active", "aaa"),
        props("activating", "aaa", sub="auto-restart"),
        props("active", "bbb", 1),
    )
    rig.machine.on(
        "host", r"^kill -s KILL 101$", lambda _: (rig.machine.set_leader("web", 303), (0, ""))[1]
    )
    rig.machine.on("web", r"^systemctl is-system-running$", (0, "running\n"))
    assert rig.session.step("k", "kill", {"container": "web"}), rig.session.failed_step
    assert rig.machine.ran("host", "^kill ") == ["kill -s KILL 101"]
    assert rig.machine.ran("web", "is-system-running")  # waited for the new instance


def test_kill_waits_through_the_moment_a_queued_restart_shows_the_unit_dead(rig):
    # systemd 252 (the runtime VM): after the kill, NRestarts=1 and inactive/dead until the
    # queued start job runs; that is no crash policy of "stays down".
    unit(
        rig,
        props("active", "aaa"),
        props("inactive", "aaa", 1, sub="dead"),
        props("inactive", "aaa", 1, sub="dead"),
        props("active", "bbb", 1),
    )
    rig.machine.on(
        "host", r"^kill -s KILL 101$", lambda _: (rig.machine.set_leader("web", 303), (0, ""))[1]
    )
    rig.machine.on("web", r"^systemctl is-system-running$", (0, "running\n"))
    assert rig.session.step("k", "kill", {"container": "web"}), rig.session.failed_step


def test_kill_expecting_a_restart_fails_when_the_unit_stays_failed(rig):
    unit(rig, props("active", "aaa"), props("failed", "aaa", sub="failed"))
    rig.machine.on("host", r"^kill -s KILL 101$", (0, ""))
    assert not rig.session.step("k", "kill", {"container": "web"})
    assert rig.session.failed_step.message == (
        "killed web's leader 101: expected it to come back (Restart=), it is failed/failed"
    )


def test_kill_expecting_it_down_fails_when_it_comes_back(rig):
    unit(rig, props("active", "aaa"), props("active", "bbb", 1))
    rig.machine.on("host", r"^kill -s KILL 101$", (0, ""))
    assert not rig.session.step("k", "kill", {"container": "web", "then": "stays-down"})
    assert "expected it to stay down" in rig.session.failed_step.message
    unit(rig, props("active", "aaa"), props("failed", "aaa", sub="failed"))
    rig.session.failed_step = None
    before = rig.clock.now
    assert rig.session.step("k2", "kill", {"container": "web", "then": "stays-down"})
    assert rig.clock.now - before >= 5  # it watched the unit stay down


def test_kill_unit_kills_the_main_process_inside_the_container(rig):
    rig.machine.on("web", r"^systemctl is-system-running$", (0, "running\n"))
    rig.machine.on(
        "web",
        r"^systemctl show .* -- nginx\.service$",
        (0, "ActiveState=active\nMainPID=42\nNRestarts=0\nInvocationID=a\n"),
        (0, "ActiveState=activating\nSubState=auto-restart\nMainPID=0\nNRestarts=1\n"),
        (0, "ActiveState=active\nSubState=running\nMainPID=57\nNRestarts=1\nInvocationID=b\n"),
    )
    rig.machine.on("web", r"^kill -s KILL 42$", (0, ""))
    assert rig.session.step("k", "kill-unit", {"container": "web", "unit": "nginx.service"})
    assert rig.machine.ran("web", "^kill ") == ["kill -s KILL 42"]


def test_freeze_and_thaw_check_the_freezer_state(rig):
    rig.machine.on("host", r"^systemctl (freeze|thaw) -- systemd-nspawn@web\.service$", (0, ""))
    rig.machine.on("host", r"FreezerState", (0, "frozen\n"))
    assert rig.session.step("f", "freeze", {"container": "web"})
    assert not rig.session.step("t", "thaw", {"container": "web"})
    assert rig.session.failed_step.message == (
        "systemd-nspawn@web.service's FreezerState is 'frozen', not running"
    )


def test_partition_of_a_container_and_a_vm_node_puts_rules_on_the_vm_itself(tmp_path):
    clock = FakeClock()
    host = FakeMachine(clock, leaders={"web": 101, "db": 202})
    vm = FakeMachine(clock)
    session = Session(host, TOPOLOGY, str(tmp_path), timeout=5, clock=clock, nodes={"outside": vm})
    host.on("web", r"^ip -o addr show dev host0$", (0, ip4("host0", "10.0.0.2/28")))
    vm.on(
        "host",
        r"^ip -o addr show$",
        (0, ip4("lo", "127.0.0.1/8").replace("global", "host") + ip4("eth1", "192.168.1.2/24")),
    )
    host.on("web", r"^ip (-[46] )?rule ", (0, ""))
    vm.on("host", r"^ip (-[46] )?rule ", (0, ""))
    assert session.step("p", "partition", {"between": "outside", "and": "web"})
    assert vm.ran("host", "rule add") == [f"ip -4 rule add to 10.0.0.2 {RULE}"]
    assert host.ran("web", "rule add") == [f"ip -4 rule add to 192.168.1.2 {RULE}"]
    assert host.ran("host", "rule") == []  # the host between them is left alone
