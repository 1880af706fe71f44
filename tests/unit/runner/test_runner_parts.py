"""Small pieces of the runner: result parsing, progress lines, xdist scopes, KVM probe."""

import json

from fake_nix_env import result

from harness.capabilities import kvm_reason
from harness.progress import Progress, summarize
from harness.results import parse_record, results_from_log
from harness.scheduling import scope_of


def test_result_lines_are_found_behind_any_prefix_and_bad_ones_ignored():
    good = result("tcp[host->web,22]", ok=False)
    lines = [
        "vm-test-run-demo> nixos-nspawn-result: " + json.dumps(good),
        "nixos-nspawn-result: {not json",
        'nixos-nspawn-result: {"id": "x", "ok": "yes"}',
        "host # [   3.1] nixos-nspawn-result: " + json.dumps(result("unit-active[web]")),
        "nixos-nspawn-result: " + json.dumps(result("tcp[host->web,22]"))[:-5],  # cut short
    ]
    found = results_from_log(lines)
    assert sorted(found) == ["tcp[host->web,22]", "unit-active[web]"]
    assert found["tcp[host->web,22]"] == parse_record(json.dumps(good))
    assert not found["tcp[host->web,22]"].ok


def test_describe_shows_message_and_evidence():
    record = parse_record(json.dumps(result(
        "http[host->web,80]", ok=False, evidence={"status": "503", "body": "line 1\nline 2\n"},
    )))
    assert record is not None
    assert record.describe() == (
        "http[host->web,80]: FAILED (1.5 s)\n"
        "http[host->web,80]: expected success, saw failure\n"
        "evidence status: 503\n"
        "--- evidence: body ---\n"
        "line 1\nline 2"
    )


def test_progress_events():
    assert summarize("building '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-"
                     "vm-test-run-zones.drv'...") == "building vm-test-run-zones"
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
    from harness.results import results_from_file

    records = [result("command[host:a]", evidence={"out": "x\u2028y\u0085z"}), result("b[c]")]
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    found = results_from_file(path)
    assert sorted(found) == ["b[c]", "command[host:a]"]
    assert found["command[host:a]"].evidence == {"out": "x\u2028y\u0085z"}
