"""mark, unchanged and restarted against the fake machine: a snapshot per container at a named
point, compared later; "restarted once" counted from the unit's invocations in the journal."""

import json

BOOT = "cat /proc/sys/kernel/random/boot_id"


def host(rig, invocations, leaders=None, journal=()):
    """The host's answers: the unit's properties (one per call, the last stays), the boot ID,
    the journal's cursor and the unit's invocations after it."""
    rig.machine.on(
        "host",
        r"^systemctl show -p ActiveState -p InvocationID -p NRestarts -- systemd-nspawn@web",
        *[(0, f"ActiveState={a}\nInvocationID={i}\nNRestarts=0\n") for a, i in invocations],
    )
    rig.machine.on("host", r"-- systemd-nspawn@db", (0, "ActiveState=active\nInvocationID=d1\n"))
    rig.machine.on("host", f"^{BOOT}$", (0, "boot-1\n"))
    rig.machine.on("host", r"^journalctl --no-pager -q -n 1 -o json$", (0, '{"__CURSOR": "c1"}\n'))
    lines = "".join(json.dumps({"INVOCATION_ID": i, "__CURSOR": "x"}) + "\n" for i in journal)
    rig.machine.on("host", r"--after-cursor=c1 _PID=1 UNIT=systemd-nspawn@web", (0, lines))
    rig.machine.on("web", r"^systemctl is-system-running$", (0, "running\n"))


def test_mark_then_unchanged(rig):
    host(rig, [("active", "w1")])
    assert rig.session.step("mark[m]", "mark", {"name": "m"})
    result = rig.session.check("u", "unchanged", {"container": "web", "since": "m"})
    assert result.ok, result.message
    assert result.message == (
        "web is untouched since mark m: Leader PID 101, InvocationID w1, NRestarts 0, "
        "boot ID boot-1"
    )


def test_unchanged_names_what_changed(rig):
    host(rig, [("active", "w1"), ("active", "w2")])
    assert rig.session.step("mark[m]", "mark", {"name": "m"})
    rig.machine.set_leader("web", 303)
    result = rig.session.check("u", "unchanged", {"container": "web", "since": "m"})
    assert not result.ok
    assert result.message.splitlines()[0] == (
        "expected web untouched since mark m; Leader PID 101 -> 303; InvocationID w1 -> w2"
    )


def test_unknown_mark_and_a_container_that_was_down(rig):
    host(rig, [("inactive", "")])
    result = rig.session.check("u", "unchanged", {"container": "web", "since": "m"})
    assert result.message.startswith("no mark 'm' was recorded before this check (marks: none)")
    rig.machine.set_leader("web", None)
    assert rig.session.step("mark[m]", "mark", {"name": "m"})
    result = rig.session.check("u2", "restarted", {"container": "web", "since": "m"})
    assert result.message.startswith("web was not running at mark m")


def test_restarted_once(rig):
    host(rig, [("active", "w1"), ("activating", ""), ("active", "w2")], journal=["w1", "w2"])
    assert rig.session.step("mark[m]", "mark", {"name": "m"})
    rig.machine.set_leader("web", 303)
    result = rig.session.check("r", "restarted", {"container": "web", "since": "m"})
    assert result.ok, result.message
    assert result.message.startswith(
        "web was restarted once since mark m: InvocationID w1 -> w2, Leader PID 101 -> 303"
    )


def test_restarted_twice_or_not_at_all_fails(rig):
    host(rig, [("active", "w1"), ("active", "w3")], journal=["w1", "w2", "w3"])
    assert rig.session.step("mark[m]", "mark", {"name": "m"})
    result = rig.session.check("r", "restarted", {"container": "web", "since": "m"})
    assert result.message.splitlines()[0] == (
        "expected web restarted once since mark m; systemd-nspawn@web.service was started "
        "2 times: w2, w3"
    )
    host(rig, [("active", "w1")])
    assert rig.session.step("mark[n]", "mark", {"name": "n"})
    before = rig.clock.now
    result = rig.session.check("r2", "restarted", {"container": "web", "since": "n"})
    assert result.message.splitlines()[0] == (
        "expected web restarted once since mark n; it was not restarted (InvocationID w1, as at "
        "the mark)"
    )
    assert rig.clock.now - before < 5  # nothing to wait for


def test_a_mark_is_recorded_once(rig):
    host(rig, [("active", "w1")])
    assert rig.session.step("mark[m]", "mark", {"name": "m"})
    assert not rig.session.step("mark[m]#2", "mark", {"name": "m"})
    assert rig.session.failed_step.message == "mark 'm' was already recorded"
