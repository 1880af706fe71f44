"""The command escape hatch."""


def test_command_on_the_host(rig):
    rig.machine.on("host", r"^systemctl is-active machines\.target$", (0, "active\n"))
    result = rig.session.check(
        "c", "command", {"run": "systemctl is-active machines.target", "output": "active"}
    )
    assert result.ok, result.message
    assert rig.machine.lines == ["sh -c 'systemctl is-active machines.target' 2>&1"]
    assert result.message == (
        "`systemctl is-active machines.target` on host exited 0 with 'active' in its output"
    )


def test_command_in_a_container_waits_for_boot(rig):
    rig.machine.on("web", r"^systemctl is-system-running$", (1, "starting\n"), (0, "running\n"))
    rig.machine.on("web", r"^test -d /var/lib/web$", (1, ""))
    result = rig.session.check(
        "c", "command", {"on": "web", "run": "test -d /var/lib/web", "exit": 1}
    )
    assert result.ok, result.message
    assert rig.machine.calls[-1] == ("web", "test -d /var/lib/web")
    assert rig.machine.lines[-1] == (
        "nsenter -t 101 -m -u -i -n -p -U -- sh -c 'test -d /var/lib/web' 2>&1"
    )


def test_command_wrong_exit_and_output(rig):
    rig.machine.on("host", r"^hostname$", (2, "oops\n"))
    result = rig.session.check("c", "command", {"run": "hostname", "output": "host"})
    assert result.message.splitlines()[0] == (
        "`hostname` on host: exit status 2, expected 0; output 'oops' lacks 'host'"
    )
    assert "  host$ hostname" in result.message
    assert "    | oops" in result.message


def test_command_within_retries_until_it_holds(rig):
    rig.machine.on("host", r"^curl -s localhost$", (7, ""), (0, "starting"), (0, "ready"))
    result = rig.session.check(
        "c", "command", {"run": "curl -s localhost", "output": "ready", "within": 60}
    )
    assert result.ok, result.message
    assert len(rig.machine.ran("host", "curl")) == 3


def test_command_within_reports_the_last_attempt(rig):
    rig.machine.on("host", r"^curl -s localhost$", (7, "refused"))
    result = rig.session.check("c", "command", {"run": "curl -s localhost", "within": 4})
    assert result.message.splitlines()[0] == (
        "`curl -s localhost` on host (for 4s): exit status 7, expected 0"
    )
