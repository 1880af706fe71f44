"""The run's timeline: VM times converted to the driver's clock, boots and container starts."""

import contextlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from checks_fakes import FakeClock, FakeMachine, make_rig

from harness.checks import session as session_module
from harness.checks.errors import assertion_failures
from harness.checks.session import RESULTS_FILE
from harness.checks.timeline import Reading, parse, query
from harness.render.nixos_test import render_test_script
from harness.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[3]


def show(*units: dict[str, object], uptime: float = 100.0) -> str:
    """What `cat /proc/uptime && systemctl show ...` prints for ``units``."""
    blocks = ["\n".join(f"{key}={value}" for key, value in unit.items()) for unit in units]
    return f"{uptime:.2f} 180.00\n" + "\n\n".join(blocks) + "\n"


def unit(name: str, invocation: str, state: str, exit_us: int, active_us: int, inactive_us=0):
    return {
        "Id": name,
        "InvocationID": invocation,
        "ActiveState": state,
        "InactiveExitTimestampMonotonic": exit_us,
        "ActiveEnterTimestampMonotonic": active_us,
        "InactiveEnterTimestampMonotonic": inactive_us,
    }


def test_a_vm_moment_is_placed_by_the_uptime_read_between_two_driver_times():
    reading = Reading(before=1000.0, after=1000.5, uptime=100.0)
    assert reading.at(100_000_000) == 1000.25  # "now" in the VM: the midpoint
    assert reading.at(40_000_000) == 940.25
    assert reading.at(0) == 900.25  # the VM's kernel started
    assert reading.uncertainty == 0.25


def test_parse_reads_uptime_and_one_block_per_unit_in_order():
    text = show(
        unit("systemd-nspawn@web.service", "aa", "active", 5_000_000, 9_000_000),
        unit("systemd-nspawn@db.service", "", "inactive", 0, 0),
    )
    reading, (web, db) = parse(text, 10.0, 11.0)
    assert reading.uptime == 100.0
    assert (web.unit, web.invocation, web.active, web.failed) == (
        "systemd-nspawn@web.service",
        "aa",
        True,
        False,
    )
    assert not db.active
    assert parse("sh: systemctl: not found\n", 10.0, 11.0) is None
    assert parse(show({"Id": "x", "InactiveExitTimestampMonotonic": "n/a"}), 0, 1) is None


def test_query_quotes_unit_names():
    assert query(["a b.service"]).endswith("-- 'a b.service'")


def test_booting_records_each_vm_boot_until_multi_user(tmp_path):
    rig = make_rig(tmp_path)
    rig.clock.now = 50.0
    rig.machine.on(
        "host",
        r"^cat /proc/uptime",
        (0, show(unit("multi-user.target", "m", "active", 1, 40_000_000), uptime=48.0)),
    )
    start = rig.session.now()
    with rig.session.booting():
        rig.clock.now += 60  # start() and wait_for_unit()
    (boot,) = rig.session.timeline
    assert (boot.kind, boot.id, boot.ok) == ("boot", "boot[host]", True)
    assert boot.started == start
    # read at 110.0..110.25 driver seconds, uptime 48: multi-user.target (40 s) came 8 s before
    assert boot.ended == pytest.approx(start + 60 + 0.125 - 8, abs=0.002)
    assert boot.seconds == pytest.approx(boot.ended - boot.started, abs=0.002)
    assert "kernel started" in boot.evidence
    assert "±0.125 s" in boot.evidence["clock"]
    assert rig.session.results == []  # no expectation
    record = json.loads((tmp_path / RESULTS_FILE).read_text())
    assert record["kind"] == "boot"


def test_a_boot_that_raises_is_recorded_failed_and_the_error_goes_on(tmp_path):
    rig = make_rig(tmp_path)
    with pytest.raises(RuntimeError, match="no backdoor"), rig.session.booting():
        raise RuntimeError("no backdoor")
    (boot,) = rig.session.timeline
    assert not boot.ok
    assert boot.message.startswith("boot failed: no backdoor")


def test_a_boot_whose_times_cannot_be_read_still_ends_when_the_wait_did(tmp_path):
    rig = make_rig(tmp_path)  # the fake answers the query with exit 127
    with rig.session.booting():
        rig.clock.now += 30
    (boot,) = rig.session.timeline
    assert boot.ok
    assert boot.seconds == pytest.approx(30.25)  # the failed read took 0.25 s
    assert "could not be read" in boot.message


def test_each_container_start_is_recorded_once_per_invocation(tmp_path):
    rig = make_rig(tmp_path)  # web and db
    rig.clock.now = 100.0
    answers = [
        show(
            unit("systemd-nspawn@web.service", "w1", "active", 10_000_000, 30_000_000),
            unit("systemd-nspawn@db.service", "d1", "activating", 20_000_000, 0),
            uptime=100.0,
        ),
        show(
            unit("systemd-nspawn@web.service", "w1", "active", 10_000_000, 30_000_000),
            unit("systemd-nspawn@db.service", "d1", "failed", 20_000_000, 0, 50_000_000),
            uptime=200.0,
        ),
        show(
            unit("systemd-nspawn@web.service", "w2", "active", 210_000_000, 215_000_000),
            unit("systemd-nspawn@db.service", "d1", "failed", 20_000_000, 0, 50_000_000),
            uptime=300.0,
        ),
    ]
    rule = rig.machine.on("host", r"^cat /proc/uptime", *[(0, answer) for answer in answers])
    rig.session.note_containers()
    (web,) = rig.session.timeline  # db is still starting
    assert (web.kind, web.id, web.check, web.ok) == (
        "container",
        "container[web]",
        "container",
        True,
    )
    assert web.seconds == pytest.approx(20.0)
    now = rig.session.now()  # the clock stands still between the reads (the fake's 0.25 s)
    assert web.ended == pytest.approx(now - 0.125 - 70.0, abs=0.002)
    rig.clock.now += 100 - 0.25
    rig.session.note_containers()
    db = rig.session.timeline[-1]
    assert (db.id, db.ok, db.seconds) == ("container[db]", False, pytest.approx(30.0))
    assert "failed after 30.0 s" in db.message
    rig.clock.now += 100 - 0.25
    rig.session.finish()  # reads them once more: web restarted
    assert [r.id for r in rig.session.timeline] == [
        "container[web]",
        "container[db]",
        "container[web]#2",
    ]
    assert rule.used == len(rig.machine.clock_reads) == 3


def test_containers_are_read_before_each_step(tmp_path):
    rig = make_rig(tmp_path)
    rig.machine.on("host", r"^true$", (0, ""))
    rig.session.step("run[host:true]", "run", {"run": "true"})
    assert len(rig.machine.clock_reads) == 1
    assert [r.kind for r in rig.session.timeline] == ["step"]  # unreadable: nothing recorded


class Driven(FakeMachine):
    """A driver's machine as a testScript sees it: start() and wait_for_unit() too."""

    def start(self) -> None:
        self.calls.append(("driver", "start"))
        self.clock.now += 20

    def wait_for_unit(self, unit: str) -> None:
        self.calls.append(("driver", f"wait_for_unit {unit}"))
        self.clock.now += 10


@pytest.mark.parametrize("name", ["simple-container", "masquerade"])  # masquerade: [nodes]
def test_the_generated_test_script_records_each_vm_boot_first(tmp_path, name, monkeypatch):
    scenario = load_scenario(ROOT / "scenarios" / f"{name}.toml")
    clock = FakeClock()
    monkeypatch.setattr(session_module, "SystemClock", lambda: clock)  # the script's Session
    machines = {n: Driven(clock) for n in ("host", *(node.name for node in scenario.nodes))}
    for machine in machines.values():
        machine.on(
            "host",
            r"^cat /proc/uptime",
            (0, show(unit("multi-user.target", "m", "active", 1, 25_000_000), uptime=30.0)),
        )

    def start_all() -> None:
        for machine in machines.values():
            machine.start()

    namespace = {**machines, "start_all": start_all, "driver": SimpleNamespace(out_dir=tmp_path)}
    with contextlib.suppress(*assertion_failures()):  # the fakes answer no check
        exec(render_test_script(scenario), namespace)
    records = [json.loads(line) for line in (tmp_path / RESULTS_FILE).read_text().splitlines()]
    boots = [r["id"] for r in records if r["kind"] == "boot"]
    assert boots == [f"boot[{n}]" for n in machines]
    assert records[: len(boots)] == [r for r in records if r["kind"] == "boot"]
    assert all(r["ended"] - r["started"] > 20 for r in records[: len(boots)])
    host = machines["host"]
    assert host.calls[:2] == [("driver", "start"), ("driver", "wait_for_unit multi-user.target")]
    assert [r["id"] for r in records if r["kind"] == "check"] == [
        e.id for e in scenario.expectations
    ]


def test_a_driver_error_while_reading_the_times_ends_nothing(tmp_path):
    rig = make_rig(tmp_path)

    def timeout(_):
        raise TimeoutError("command timed out")

    rig.machine.on("host", r"^cat /proc/uptime", timeout)
    with rig.session.booting():
        pass
    rig.session.note_containers()
    (boot,) = rig.session.timeline
    assert boot.ok
    assert "raised TimeoutError: command timed out" in next(iter(boot.evidence.values()))
