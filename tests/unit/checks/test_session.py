"""Session: recording (JSONL file and stdout), error containment, finish()."""

import importlib
import json
import sys
import time

import pytest
from checks_fakes import make_rig

from harness.checks import Result
from harness.checks.errors import assertion_failures
from harness.checks.session import RESULTS_FILE, STDOUT_PREFIX

DRIVER_ERRORS = """\
class TestScriptError(Exception):
    pass


class RequestedAssertionFailed(TestScriptError):
    pass
"""


@pytest.fixture
def driver_errors(tmp_path, monkeypatch):
    """A stand-in for nixpkgs' ``test_driver.errors`` (25.05 and newer) on sys.path."""
    package = tmp_path / "driver" / "test_driver"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "errors.py").write_text(DRIVER_ERRORS)
    monkeypatch.syspath_prepend(str(package.parent))
    yield importlib.import_module("test_driver.errors")
    for name in ("test_driver.errors", "test_driver"):
        sys.modules.pop(name, None)


def active(rig):
    rig.machine.on("host", r"^systemctl show -p ActiveState --value", (0, "active\n"))
    rig.machine.on("host", r"^machinectl show web -p State", (0, "running\n"))


def test_result_is_recorded_in_jsonl_and_stdout(rig, tmp_path, capsys):
    active(rig)
    result = rig.session.check("unit-active[web]", "unit-active", {"container": "web"})
    assert result.ok, result.message
    line = (tmp_path / RESULTS_FILE).read_text().splitlines()
    assert len(line) == 1
    record = json.loads(line[0])
    assert list(record) == [
        *("id", "check", "ok", "message", "evidence", "seconds"),
        *("kind", "started", "ended"),
    ]
    assert record["kind"] == "check"
    assert record["ended"] - record["started"] == pytest.approx(record["seconds"])
    assert abs(record["started"] - time.time()) < 60  # Unix time on the driver's clock
    assert record["id"] == "unit-active[web]"
    assert record["check"] == "unit-active"
    assert record["ok"] is True
    assert record["message"].startswith("systemd-nspawn@web.service is active")
    assert record["evidence"]["web leader"] == "101"
    assert isinstance(record["seconds"], float)
    out = capsys.readouterr().out.splitlines()
    assert out == [STDOUT_PREFIX + line[0]]
    assert Result(**record) == result


def test_failures_are_recorded_and_finish_names_all_of_them(rig, tmp_path):
    active(rig)
    rig.machine.on("host", r"^false$", (1, ""))
    rig.session.check("unit-active[web]", "unit-active", {"container": "web"})
    first = rig.session.check("command[host:false]", "command", {"run": "false"})
    second = rig.session.check("tcp[host->nowhere:1]", "tcp", {"to": "nowhere", "port": 1})
    assert not first.ok
    assert not second.ok
    assert "to: unknown node 'nowhere' (known: db, host, web)" in second.message
    lines = (tmp_path / RESULTS_FILE).read_text().splitlines()
    assert [json.loads(x)["ok"] for x in lines] == [True, False, False]
    with pytest.raises(AssertionError) as raised:
        rig.session.finish()
    text = str(raised.value)
    assert text.startswith("2 of 3 expectations failed")
    assert "command[host:false]: `false` on host: exit status 1, expected 0" in text
    assert "tcp[host->nowhere:1]" in text
    assert "unit-active[web]" not in text


def fail_one(rig):
    rig.machine.on("host", r"^false$", (1, ""))
    rig.session.check("command[host:false]", "command", {"run": "false"})


def test_finish_raises_the_drivers_assertion_type_under_the_driver(rig, driver_errors):
    """The driver prints its RequestedAssertionFailed as a `!!!` line with only testScript
    frames; it is not an AssertionError, so our handlers catch both."""
    fail_one(rig)
    with pytest.raises(driver_errors.RequestedAssertionFailed, match="1 of 1 expectations failed"):
        rig.session.finish()
    assert not issubclass(driver_errors.RequestedAssertionFailed, AssertionError)
    assert assertion_failures() == (AssertionError, driver_errors.RequestedAssertionFailed)


def test_finish_raises_assertion_error_without_the_driver(rig):
    fail_one(rig)
    with pytest.raises(AssertionError, match="1 of 1 expectations failed"):
        rig.session.finish()
    assert assertion_failures() == (AssertionError,)


def test_a_driver_without_the_errors_module_gets_assertion_error(rig, tmp_path, monkeypatch):
    """Drivers before nixpkgs 25.05 have a test_driver package without ``errors``."""
    (tmp_path / "old" / "test_driver").mkdir(parents=True)
    (tmp_path / "old" / "test_driver" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "old"))
    try:
        fail_one(rig)
        with pytest.raises(AssertionError):
            rig.session.finish()
    finally:
        sys.modules.pop("test_driver", None)


def test_finish_passes_when_everything_passed(rig):
    active(rig)
    rig.session.check("unit-active[web]", "unit-active", {"container": "web"})
    rig.session.finish()


def test_finish_passes_with_no_expectations(rig):
    rig.session.finish()


def test_a_raising_check_becomes_a_failed_result(rig):
    def explode(command):
        raise TimeoutError("serial console timed out")

    rig.machine.on("host", r"^systemctl show", explode)
    result = rig.session.check("unit-active[web]", "unit-active", {"container": "web"})
    assert not result.ok
    assert result.message.startswith("check raised TimeoutError: serial console timed out")
    assert "TimeoutError" in result.evidence["traceback"]


def test_unknown_check_and_bad_params_fail_without_running_anything(rig):
    unknown = rig.session.check("x", "frobnicate", {})
    assert not unknown.ok
    assert unknown.message.startswith("unknown check 'frobnicate' (known: address, command,")
    bad = rig.session.check("y", "tcp", {"to": "web"})
    assert bad.message.startswith("invalid parameters: port: required parameter is missing")
    assert rig.machine.calls == []


def test_failure_message_shows_expected_seen_and_raw_evidence(rig):
    rig.machine.on("host", r"^systemctl show -p ActiveState", (0, "failed\n"))
    status = "* systemd-nspawn@web.service\n  Active: failed\n"
    rig.machine.on("host", r"^systemctl status", (3, status))
    result = rig.session.check("unit-active[web]", "unit-active", {"container": "web"})
    assert not result.ok
    lines = result.message.splitlines()
    assert lines[0] == "expected systemd-nspawn@web.service to be active; it is 'failed'"
    assert lines[1] == "evidence:"
    assert "  host$ systemctl status --no-pager -n 20 systemd-nspawn@web.service" in lines
    assert "    | exit 3" in lines
    assert "    |   Active: failed" in lines
    polled = "host$ systemctl show -p ActiveState --value systemd-nspawn@web.service"
    assert result.evidence[polled].startswith("exit 0 (attempt 1, after ")


def test_unit_that_never_becomes_active_times_out(tmp_path):
    rig = make_rig(tmp_path, timeout=3)
    rig.machine.on("host", r"^systemctl show -p ActiveState", (0, "activating\n"))
    rig.machine.on("host", r"^systemctl status", (3, "activating"))
    result = rig.session.check("unit-active[web]", "unit-active", {"container": "web"})
    assert result.message.startswith(
        "expected systemd-nspawn@web.service to be active; it is 'activating'"
    )
    assert 3 <= rig.clock.now < 6
    assert result.seconds > 0


def test_evidence_values_are_clipped(rig):
    rig.machine.on("host", r"^yes", (0, "y\n" * 10000))
    result = rig.session.check("c", "command", {"run": "yes | head -n 10000", "exit": 1})
    value = result.evidence["host$ yes | head -n 10000"]
    assert len(value) < 4100
    assert value.endswith("more characters cut]")


def test_line_separators_in_evidence_do_not_lose_the_record(rig, tmp_path, capsys):
    """U+2028, U+2029 and U+0085 are line breaks to str.splitlines(); output containing them
    must still come out as one record, in the JSONL file and on stdout."""
    from harness.run.results import results_from_file, results_from_log

    rig.machine.on("host", r"^printf", (0, "a\u2028b\u2029c\u0085d\n"))
    result = rig.session.check(
        "command[host:printf]", "command", {"run": "printf x", "output": "nothing"}
    )
    assert not result.ok
    text = (tmp_path / RESULTS_FILE).read_text(encoding="utf-8")
    assert text.isascii()
    assert text.count("\n") == 1
    assert results_from_file(tmp_path / RESULTS_FILE)["command[host:printf]"].evidence == (
        result.evidence
    )
    stdout = capsys.readouterr().out
    assert stdout.isascii()
    assert results_from_log(stdout.split("\n"))["command[host:printf]"].message == result.message
