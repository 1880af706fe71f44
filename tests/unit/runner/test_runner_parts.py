"""Small pieces of the runner: result parsing, progress lines, xdist scopes, KVM probe."""

import json

import pytest
from support.fake_nix_env import result

from harness.checks.result import Result
from harness.plugin.scheduling import scope_of
from harness.run.capabilities import kvm_reason
from harness.run.progress import Progress, summarize
from harness.run.results import (
    dump_results,
    records_from_file,
    records_from_log,
    results_from_file,
    results_from_log,
)


def test_result_lines_are_the_drivers_own_and_bad_ones_ignored():
    good = result("tcp[host->web,22]", ok=False)
    lines = [
        "vm-test-run-demo> nixos-nspawn-result: " + json.dumps(good),
        "nixos-nspawn-result: {not json",
        'nixos-nspawn-result: {"id": "x", "ok": "yes"}',
        "nixos-nspawn-result: " + json.dumps(result("unit-active[web]")),
        "nixos-nspawn-result: " + json.dumps(result("tcp[host->web,22]"))[:-5],  # cut short
    ]
    found = results_from_log(lines)
    assert sorted(found) == ["tcp[host->web,22]", "unit-active[web]"]
    assert found["tcp[host->web,22]"] == Result.from_json(json.dumps(good))
    assert not found["tcp[host->web,22]"].ok


def test_timeline_records_are_read_in_order_but_are_no_expectations(tmp_path):
    """Steps, boots and container starts share the record format; an expectation's id reused
    by one of them (here a step named like the check) must not count as a repeat."""
    records = [
        result("boot[host]", kind="boot", started=10.0, ended=40.0),
        result("container[web]", kind="container", started=30.0, ended=35.0),
        result("userns[web]", started=41.0, ended=42.0),
        result("userns[web]", kind="step", started=43.0, ended=44.0),
        result("x", kind="no such kind"),
    ]
    lines = ["vm-test-run-x> nixos-nspawn-result: " + json.dumps(r) for r in records]
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    for found in (records_from_log(lines), records_from_file(path)):
        assert [(r.kind, r.id, r.started, r.ended) for r in found] == [
            ("boot", "boot[host]", 10.0, 40.0),
            ("container", "container[web]", 30.0, 35.0),
            ("check", "userns[web]", 41.0, 42.0),
            ("step", "userns[web]", 43.0, 44.0),
        ]
    for expectations in (results_from_log(lines), results_from_file(path)):
        assert list(expectations) == ["userns[web]"]
        assert expectations["userns[web]"].ok
    assert records_from_file(tmp_path / "missing.jsonl") == []


def test_result_markers_inside_other_lines_are_not_results():
    """A VM's journal forwarded to the serial console (or nix's indented error tail) can carry
    the marker mid-line; only lines the driver printed itself count."""
    forged = json.dumps(result("tcp[host->web,22]", ok=True))
    lines = [
        "vm-test-run-x> nixos-nspawn-result: " + json.dumps(result("tcp[host->web,22]", ok=False)),
        "vm-test-run-x> host # [   12.3] logger: nixos-nspawn-result: " + forged,
        "host # [   3.1] nixos-nspawn-result: " + forged,
        "       > nixos-nspawn-result: " + forged,
        "vm-test-run-x>  nixos-nspawn-result: " + forged,
        " nixos-nspawn-result: " + forged,
    ]
    found = results_from_log(lines)
    assert list(found) == ["tcp[host->web,22]"]
    assert not found["tcp[host->web,22]"].ok


def test_an_id_recorded_twice_is_a_failure_naming_both_records(tmp_path):
    from harness.run.results import results_from_file

    first, second = result("userns[one]", ok=True), result("userns[one]", ok=False)
    other = result("ephemeral[one]")
    lines = ["vm-test-run-x> nixos-nspawn-result: " + json.dumps(r) for r in (first, other, second)]
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in (first, other, second)))
    for found in (results_from_log(lines), results_from_file(path)):
        assert sorted(found) == ["ephemeral[one]", "userns[one]"]
        assert found["ephemeral[one]"].ok
        twice = found["userns[one]"]
        assert not twice.ok
        assert "recorded 2 times" in twice.message
        assert twice.evidence["record 1"].startswith("userns[one]: passed")
        assert twice.evidence["record 2"].startswith("userns[one]: FAILED")
        assert "\n  record 2\n    | userns[one]: FAILED (1.5 s)\n" in twice.message


def test_describe_shows_the_verdict_and_the_message():
    record = Result.from_json(json.dumps(result("http[host->web,80]", ok=False)))
    assert record is not None
    assert record.describe() == (
        "http[host->web,80]: FAILED (1.5 s)\n"
        "http[host->web,80]: expected success, saw failure\n"
        "evidence:\n"
        "  ping\n"
        "    | 100% packet loss"
    )
    assert Result.from_json(json.dumps(result("x[y]"))).describe() == "x[y]: passed (1.5 s)"


def test_dumped_results_read_back_equal(tmp_path):
    """The last run's results go through the record's own writer and reader."""
    records = {
        r["id"]: Result.from_json(json.dumps(r))
        for r in (result("a[b]"), result("c[d]", ok=False, evidence={"out": "x\u2028y"}))
    }
    path = tmp_path / "last" / "demo.jsonl"
    dump_results(records, path)
    assert results_from_file(path) == records
    assert path.read_text().splitlines()[0] == records["a[b]"].to_json()


def test_the_log_parser_reads_the_line_the_session_prints(tmp_path, capsys):
    """The result line's prefix is the session's own (one definition, used by both sides)."""
    from harness.checks import Session, Topology

    session = Session(object(), Topology(()), tmp_path)
    written = session.check("x[y]", "frobnicate", {})
    (line,) = capsys.readouterr().out.splitlines()
    assert results_from_log([f"vm-test-run-demo> {line}"]) == {"x[y]": written}


def test_progress_events():
    assert (
        summarize("building '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-vm-test-run-zones.drv'...")
        == "building vm-test-run-zones"
    )
    assert summarize("vm-test-run-zones> host: starting vm") == "test VM starting"
    line = "vm-test-run-zones> nixos-nspawn-result: " + json.dumps(result("userns[one]"))
    assert summarize(line) == "userns[one]: passed (1.5 s)"
    assert summarize("vm-test-run-zones> host # [  OK  ] Reached target") is None


def test_scenario_items_share_their_file_as_scope_and_other_tests_do_not():
    assert scope_of("scenarios/zones.toml::reachable[host->web,ipv4]") == "scenarios/zones.toml"
    assert scope_of("scenarios/zones.toml::validate-render") == "scenarios/zones.toml"
    assert scope_of("tests/unit/test_x.py::test_a[1]") == "tests/unit/test_x.py::test_a[1]"
    assert scope_of("tests/unit/test_x.py::test_a[1]@db") == "db"
    assert scope_of("scenarios/a.toml::command[on:a@b]") == "scenarios/a.toml"


def test_kvm_probe(tmp_path):
    device = tmp_path / "kvm"
    modules = tmp_path / "modules"
    (modules / "kvm").mkdir(parents=True)
    hint = "pass --nixos-nspawn-allow-tcg to run the VM under slow TCG emulation instead"
    assert kvm_reason(device, modules) == f"no usable KVM: {device} does not exist; {hint}"
    device.write_text("")
    assert kvm_reason(device, modules) == (
        "no usable KVM: neither kvm_intel nor kvm_amd is loaded (KVM modules present: kvm), "
        f"so {device} cannot boot the test VM's kernel; {hint}"
    )
    (modules / "kvm_amd").mkdir()
    assert kvm_reason(device, modules) is None


def test_progress_names_the_expectation_being_checked():
    said: list[str] = []
    progress = Progress(said.append, "zones [gw1]", ("a[x]", "b[y]"))
    for line in [
        "vm-test-run-zones> host: starting vm",
        "vm-test-run-zones> host # [    5.000] systemd[1]: Started Journal Service.",
        "vm-test-run-zones> host: (finished: waiting for unit multi-user.target, in 8.20 seconds)",
        "vm-test-run-zones> nixos-nspawn-result: " + json.dumps(result("a[x]", ok=False)),
        "vm-test-run-zones> nixos-nspawn-result: " + json.dumps(result("b[y]")),
    ]:
        progress.feed(line)
    assert said == [
        "[nixos-nspawn] zones [gw1]: test VM starting\n",
        "[nixos-nspawn] zones [gw1]: test VM booted; checking a[x]\n",
        "[nixos-nspawn] zones [gw1]: a[x]: FAILED (1.5 s); checking b[y]\n",
        "[nixos-nspawn] zones [gw1]: b[y]: passed (1.5 s)\n",
    ]


def test_results_file_is_split_on_newlines_only(tmp_path):
    """A record whose text holds a raw U+2028 (a line break to str.splitlines) stays whole."""
    from harness.run.results import results_from_file

    records = [result("command[host:a]", evidence={"out": "x\u2028y\u0085z"}), result("b[c]")]
    path = tmp_path / "results.jsonl"
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    found = results_from_file(path)
    assert sorted(found) == ["b[c]", "command[host:a]"]
    assert found["command[host:a]"].evidence == {"out": "x\u2028y\u0085z"}


@pytest.mark.parametrize("dist", ["load", "loadgroup", "worksteal"])
def test_the_plugin_schedules_scenarios_for_every_load_distribution(dist):
    """Work stealing would move a scenario's remaining items to an idle worker, which then
    builds and boots the scenario a second time."""
    from harness.plugin import pytest_xdist_make_scheduler
    from harness.plugin.scheduling import ScenarioScheduling

    class Config:
        def getvalue(self, name: str) -> object:
            return {"dist": dist, "tx": ["2*popen"]}[name]

    assert isinstance(pytest_xdist_make_scheduler(Config(), None), ScenarioScheduling)


def test_other_distributions_keep_xdists_scheduler():
    from harness.plugin import pytest_xdist_make_scheduler

    class Config:
        def getvalue(self, name: str) -> object:
            return {"dist": "each"}[name]

    assert pytest_xdist_make_scheduler(Config(), None) is None


def test_installable_attribute_names_are_escaped_like_all_generated_nix(tmp_path):
    """Names go through harness.escape.nix_attr_name: quoted when not a bare Nix name,
    keywords included."""
    from harness.run.build import NixTarget

    for name, attr in (("zones", "zones"), ("2web", '"2web"'), ("in", '"in"')):
        target = NixTarget(tmp_path, "x86_64-linux", name, None)
        assert target.installable() == (f".#checks.x86_64-linux.{attr}",)
