"""Steps between expectations: container lifecycle via machinectl, setup commands, waits, and
a failed step failing every later expectation with its evidence."""

import json
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from checks_fakes import DB, WEB, FakeClock, FakeMachine, Rig
from support.vm.console import ConsoleMachine, VmConfig
from support.vm.image import Image

from harness.checks import Session, Topology
from harness.checks.machine import PowerCycled
from harness.checks.session import RESULTS_FILE, STEP_PREFIX


def step_lines(out: str) -> list[str]:
    """The step verdicts on stdout (each step's record comes before its line)."""
    return [line for line in out.splitlines() if line.startswith(STEP_PREFIX)]


def lifecycle(rig, new_leader=303):
    """machinectl stop/start on the fake: stop unregisters web, start registers a new leader."""

    def stop(_):
        rig.machine.set_leader("web", None)
        return 0, ""

    def start(_):
        rig.machine.set_leader("web", None, new_leader)
        return 0, ""

    rig.machine.on("host", r"^machinectl stop web$", stop)
    rig.machine.on("host", r"^machinectl start web$", start)
    rig.machine.on(
        "host",
        r"^systemctl show -p ActiveState --value systemd-nspawn@web\.service$",
        (0, "deactivating\n"),
        (0, "inactive\n"),
    )
    rig.machine.on("web", r"^systemctl is-system-running$", (0, "running\n"))


def test_restart_stops_and_starts_with_machinectl(rig, capsys):
    lifecycle(rig)
    assert rig.session.step("restart[web]", "restart", {"container": "web"})
    host = [
        inner
        for node, inner in rig.machine.calls
        if node == "host" and not inner.startswith("machinectl show")
    ]
    assert host[0] == "machinectl stop web"
    assert host[-1] == "machinectl start web"
    assert rig.machine.ran("web", "is-system-running")  # waited for the new instance to boot
    assert step_lines(capsys.readouterr().out) == [
        f"{STEP_PREFIX}restart[web]: ok: restarted web (leader 101 -> 303)"
    ]
    assert rig.session.results == []  # a step is no expectation
    (record,) = rig.session.timeline  # but it is on the timeline
    assert (record.kind, record.id, record.ok) == ("step", "restart[web]", True)
    assert record.ended - record.started == pytest.approx(record.seconds)
    assert record.seconds > 0


def test_restart_of_a_stopped_container_fails(rig):
    rig.machine.set_leader("web", None)
    assert not rig.session.step("restart[web]", "restart", {"container": "web"})
    assert rig.session.failed_step is not None
    assert rig.session.failed_step.message == (
        "cannot restart web: it is not running (not registered with machined)"
    )


def test_stop_waits_until_the_unit_is_inactive(rig):
    lifecycle(rig)
    rig.machine.on("host", r"^systemctl show -p ActiveState", (0, "active\n"))
    assert not rig.session.step("stop[web]", "stop", {"container": "web"})
    assert rig.session.failed_step.message == (
        "systemd-nspawn@web.service is still 'active' after `machinectl stop web`"
    )


def test_start_waits_for_registration_and_boot(rig):
    lifecycle(rig)
    rig.machine.set_leader("web", None)
    rig.machine.on("web", r"^systemctl is-system-running$", (0, "starting\n"), (0, "running\n"))
    assert rig.session.step("start[web]", "start", {"container": "web"})
    assert len(rig.machine.ran("web", "is-system-running")) == 2


def test_failed_step_fails_every_later_expectation_with_its_evidence(rig, tmp_path, capsys):
    rig.machine.on("host", r"^mkdir /srv/x$", (1, "mkdir: cannot create directory\n"))
    assert not rig.session.step("run[host:mkdir /srv/x]", "run", {"run": "mkdir /srv/x"})
    assert not rig.session.step("restart[web]", "restart", {"container": "web"})  # skipped
    assert rig.machine.ran("host", "machinectl") == []
    first = rig.session.check("unit-active[web]", "unit-active", {"container": "web"})
    second = rig.session.check("c", "command", {"run": "true"})
    for result in (first, second):
        assert not result.ok
        assert result.message.splitlines()[0] == (
            "not checked: step run[host:mkdir /srv/x] failed: `mkdir /srv/x` on host exited 1"
        )
        assert "mkdir: cannot create directory" in result.message
        assert result.evidence == {"host$ mkdir /srv/x": "exit 1\nmkdir: cannot create directory"}
    assert [call for call in rig.machine.calls if call[1] != "mkdir /srv/x"] == []
    records = [json.loads(line) for line in (tmp_path / RESULTS_FILE).read_text().splitlines()]
    assert [(record["kind"], record["id"]) for record in records] == [
        ("step", "run[host:mkdir /srv/x]"),  # the skipped step is not recorded
        ("check", "unit-active[web]"),
        ("check", "c"),
    ]
    assert not records[0]["ok"]
    out = capsys.readouterr().out
    assert f"{STEP_PREFIX}restart[web]: skipped, step run[host:mkdir /srv/x] failed" in out


def test_run_with_within_retries_until_it_succeeds(rig):
    rig.machine.on("web", r"^systemctl is-system-running$", (0, "running\n"))
    rig.machine.on("web", r"^test -e /run/ready$", (1, ""), (1, ""), (0, ""))
    assert rig.session.step("s", "run", {"on": "web", "run": "test -e /run/ready", "within": 30})
    assert len(rig.machine.ran("web", "test -e")) == 3


def test_run_with_within_gives_up(rig):
    rig.machine.on("host", r"^false$", (1, ""))
    assert not rig.session.step("s", "run", {"run": "false", "within": 3})
    assert rig.session.failed_step.message == "`false` on host exited 1 for 3s"


def test_wait_unit(rig):
    rig.machine.on(
        "host",
        r"^systemctl show -p ActiveState --value -- nginx\.service$",
        (0, "activating\n"),
        (0, "active\n"),
    )
    assert rig.session.step("s", "wait-unit", {"unit": "nginx.service"})
    rig.machine.on(
        "host", r"^systemctl show -p ActiveState --value -- nginx\.service$", (0, "failed\n")
    )
    rig.machine.on("host", r"^systemctl status", (3, "nginx.service: failed\n"))
    assert not rig.session.step("s2", "wait-unit", {"unit": "nginx.service"})
    assert rig.session.failed_step.message == (
        "nginx.service on host did not become active; it is 'failed'"
    )


def test_wait_port(rig):
    rig.machine.on("web", r"^systemctl is-system-running$", (0, "running\n"))
    rig.machine.on(
        "web", r"^ss -Hltn 'sport = :80'$", (0, ""), (0, "LISTEN 0 511 0.0.0.0:80 0.0.0.0:*\n")
    )
    assert rig.session.step("s", "wait-port", {"on": "web", "port": 80})
    rig.machine.on("web", r"^ss ", (0, ""))
    assert not rig.session.step("s2", "wait-port", {"on": "web", "port": 81})
    assert rig.session.failed_step.message == "nothing listens on TCP port 81 on web"


def test_invalid_step_parameters_fail_the_step(rig):
    assert not rig.session.step("s", "restart", {"container": "host"})
    assert rig.session.failed_step.message == (
        "invalid parameters: container: must name a container, not the host"
    )
    assert not rig.session.step("s", "reboot", {})  # skipped: one failed step is kept


def test_unknown_step(rig):
    assert not rig.session.step("s", "dance", {})
    assert rig.session.failed_step.message.startswith(
        "unknown step 'dance' (known: freeze, heal, kill, kill-unit, mark, partition, reboot, "
        "restart"
    )


# -- reboot ------------------------------------------------------------------------------------

BOOT_ID = r"^cat /proc/sys/kernel/random/boot_id$"
BOOT_TARGET = r"^systemctl show -p ActiveState --value multi-user\.target$"


@dataclass
class PoweredMachine(FakeMachine):
    """A fake with the driver's shutdown() and start(), recorded among the commands."""

    def shutdown(self) -> None:
        self.calls.append(("power", "shutdown"))

    def start(self) -> None:
        self.calls.append(("power", "start"))


def powered_rig(tmp_path, nodes=None) -> Rig:
    clock = FakeClock()
    machine = PoweredMachine(clock, leaders={"web": 101, "db": 202})
    topology = Topology((WEB, replace(DB, auto_start=False)))
    session = Session(machine, topology, str(tmp_path), timeout=5, clock=clock, nodes=nodes)
    return Rig(machine, clock, session)


def comes_back(rig, boot_ids=("old-boot\n", "new-boot\n")):
    """The host boots again: a new boot ID, multi-user.target after a while, web registered
    again with a new leader once the machine has been started."""
    rig.machine.on("host", BOOT_ID, *((0, boot) for boot in boot_ids))
    rig.machine.on("host", BOOT_TARGET, (0, "activating\n"), (0, "active\n"))
    rig.machine.on("web", r"^systemctl is-system-running$", (0, "running\n"))
    original = rig.machine.start

    def start() -> None:
        original()
        rig.machine.set_leader("web", None, 404)

    rig.machine.start = start  # type: ignore[method-assign]


def test_reboot_power_cycles_the_host_and_waits_for_its_autostart_containers(tmp_path, capsys):
    rig = powered_rig(tmp_path)
    rig.machine.set_leader("web", None)  # web is not running before the reboot
    comes_back(rig)
    assert rig.session.step("reboot[host]", "reboot", {})
    order = [
        inner
        for node, inner in rig.machine.calls
        if node == "power" or "boot" in inner or "multi-user" in inner
    ]
    assert order == [
        BOOT_ID.strip("^$"),
        "shutdown",
        "start",
        "systemctl show -p ActiveState --value multi-user.target",
        "systemctl show -p ActiveState --value multi-user.target",
        BOOT_ID.strip("^$"),
    ]
    assert rig.machine.ran("web", "is-system-running")  # waited until web had booted again
    assert not rig.machine.ran("host", "machinectl start")  # it came back by itself
    assert "machinectl show db" not in " ".join(inner for _, inner in rig.machine.calls)
    assert step_lines(capsys.readouterr().out) == [
        f"{STEP_PREFIX}reboot[host]: ok: rebooted host; back up: web"
    ]


def test_a_reboot_that_keeps_the_boot_id_fails(tmp_path):
    rig = powered_rig(tmp_path)
    comes_back(rig, boot_ids=("same\n",))
    assert not rig.session.step("reboot[host]", "reboot", {})
    assert rig.session.failed_step.message == (
        "host's boot ID is still same after shutdown() and start(): it did not reboot"
    )


def test_an_autostart_container_that_does_not_come_back_fails_the_reboot(tmp_path):
    rig = powered_rig(tmp_path)
    comes_back(rig)
    rig.machine.start = lambda: rig.machine.set_leader("web", None)  # type: ignore[method-assign]
    assert not rig.session.step("reboot[host]", "reboot", {})
    assert rig.session.failed_step.message == (
        "container web is not registered with machined 5s after the reboot of host (it has "
        "autoStart)"
    )


def test_a_host_that_does_not_boot_fails_the_reboot(tmp_path):
    rig = powered_rig(tmp_path)
    comes_back(rig)
    rig.machine.on("host", BOOT_TARGET, (0, "inactive\n"))
    assert not rig.session.step("reboot[host]", "reboot", {})
    assert rig.session.failed_step.message == (
        "host did not reach multi-user.target after the reboot; it is 'inactive'"
    )


def test_a_machine_without_shutdown_and_start_cannot_reboot(rig):
    assert not rig.session.step("reboot[host]", "reboot", {"on": "host"})
    assert rig.session.failed_step.message.startswith(
        "cannot reboot host: its machine has no shutdown() and start()"
    )
    assert rig.machine.calls == []


def test_the_runtime_tiers_console_vm_cannot_be_power_cycled():
    """It runs from a throw-away snapshot (`-snapshot`): a power cycle would lose the installed
    units and container roots, so it offers no shutdown() and the step refuses it."""
    assert issubclass(PoweredMachine, PowerCycled)
    assert not issubclass(ConsoleMachine, PowerCycled)
    assert "-snapshot" in VmConfig(Image(Path("/nonexistent"))).argv()


def test_reboot_of_a_node_power_cycles_that_vm_only(tmp_path):
    outside = PoweredMachine(FakeClock())
    outside.on("host", BOOT_ID, (0, "a\n"), (0, "b\n"))
    outside.on("host", BOOT_TARGET, (0, "active\n"))
    rig = powered_rig(tmp_path, nodes={"outside": outside})
    outside.clock = rig.clock
    assert rig.session.step("reboot[outside]", "reboot", {"on": "outside"})
    assert ("power", "shutdown") in outside.calls
    assert rig.machine.calls == []  # the host and its containers are left alone


def test_reboot_takes_a_vm_not_a_container(tmp_path):
    rig = powered_rig(tmp_path)
    assert not rig.session.step("reboot[web]", "reboot", {"on": "web"})
    assert rig.session.failed_step.message == (
        "invalid parameters: on: unknown node 'web' (known: host)"
    )
