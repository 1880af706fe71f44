"""Running scenario items through the plugin (pytester + the stand-in `nix`)."""

import json
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest
from support.fake_nix_env import fresh_expression, result

from harness import catalogue
from harness.run import capabilities, processes
from harness.scenario.load import load_scenario

SYSTEM = ("--nixos-nspawn-system", "x86_64-linux")
FEATURES = ["--extra-experimental-features", "nix-command flakes"]
BUILD = ["build", "--print-build-logs", "--no-link", "--json"]
OFFLINE = (
    "error: unable to download 'https://api.github.com/repos/NixOS/nixpkgs/commits/"
    "nixos-unstable': Couldn't resolve host name (6)"
)


def scenario_text(name: str, containers: tuple[str, ...] = ("web",)) -> str:
    parts = [f'description = "{name}"\ntimeout = 120\n']
    for container in containers:
        parts.append(f'[containers.{container}]\nconfig = "{{ }}"\n')
        parts.append(f'[[expect]]\ncheck = "unit-active"\ncontainer = "{container}"\n')
        parts.append(f'[[expect]]\ncheck = "reachable"\nto = "{container}"\n')
    return "\n".join(parts)


@pytest.fixture
def project(pytester):
    pytester.makefile(".nix", flake="{ outputs = _: { }; }")
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "demo.toml").write_text(scenario_text("demo"))
    return pytester


def skip_lines(run) -> list[str]:
    return [line for line in run.outlines if line.startswith("SKIPPED")]


# --- skips ----------------------------------------------------------------------------------


def test_no_nix_skips_with_the_reason(project, kvm, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    run = project.runpytest("-rs")
    run.assert_outcomes(passed=1, skipped=2)
    assert skip_lines(run) == [
        "SKIPPED [2] scenarios/demo.toml:1: `nix` not found on PATH (install Nix to build the "
        "scenarios' NixOS VM tests)"
    ]


def test_offline_nixpkgs_skips_with_the_reason_and_is_probed_once(project, kvm, fake_nix):
    (project.path / "scenarios" / "more.toml").write_text(scenario_text("more"))
    fake_nix.plan(eval="offline")
    run = project.runpytest("-rs", *SYSTEM)
    run.assert_outcomes(passed=2, skipped=4)
    reason = (
        "nixpkgs not obtainable (offline, no binary cache?): `nix eval .#checks.x86_64-linux` "
        f"in {project.path} failed: {OFFLINE}"
    )
    assert skip_lines(run) == [
        f"SKIPPED [2] scenarios/demo.toml:1: {reason}",
        f"SKIPPED [2] scenarios/more.toml:1: {reason}",
    ]
    assert fake_nix.calls() == [
        [*FEATURES, "eval", "--json", ".#checks.x86_64-linux", "--apply", "builtins.attrNames"]
    ]


def test_kvm_without_hardware_module_skips_unless_tcg_is_allowed(project, kvm, fake_nix):
    (kvm / "kvm_intel").rmdir()
    (kvm / "kvm_pvm").mkdir()
    run = project.runpytest("-rs", *SYSTEM)
    run.assert_outcomes(passed=1, skipped=2)
    assert skip_lines(run) == [
        "SKIPPED [2] scenarios/demo.toml:1: no usable KVM: neither kvm_intel nor kvm_amd is "
        "loaded (KVM modules present: kvm, kvm_pvm), so "
        f"{capabilities.KVM_DEVICE} cannot boot the test VM's kernel; pass "
        "--nixos-nspawn-allow-tcg to run the VM under slow TCG emulation instead"
    ]
    fake_nix.plan(results=[result("unit-active[web]"), result("reachable[host->web,ipv4]")])
    run = project.runpytest("-rs", *SYSTEM, "--nixos-nspawn-allow-tcg")
    run.assert_outcomes(passed=3)


def test_missing_kvm_device_and_offline_nixpkgs_are_both_reported(project, kvm, fake_nix):
    capabilities.KVM_DEVICE.unlink()
    fake_nix.plan(eval="offline")
    run = project.runpytest("-rs", *SYSTEM)
    run.assert_outcomes(passed=1, skipped=2)
    (line,) = skip_lines(run)
    assert f"no usable KVM: {capabilities.KVM_DEVICE} does not exist; pass" in line
    assert line.endswith(f"failed: {OFFLINE}")


# --- builds and results -------------------------------------------------------------------


def test_each_item_reports_its_own_result_from_one_build(project, kvm, fake_nix):
    fake_nix.plan(
        results=[result("unit-active[web]"), result("reachable[host->web,ipv4]", ok=False)]
    )
    run = project.runpytest("-rA", *SYSTEM)
    run.assert_outcomes(passed=2, failed=1)
    builds = [call for call in fake_nix.calls() if "build" in call]
    assert len(builds) == 1
    rendered = project.path / ".nixos-nspawn" / "rendered" / "demo.nix"
    expr = fresh_expression(f"path:{project.path}", rendered)
    assert builds[0] == [*FEATURES, *BUILD, "--impure", "--expr", expr]
    text = run.stdout.str()
    log = project.path / ".nixos-nspawn" / "logs" / "demo.log"
    assert "reachable[host->web,ipv4]: expected success, saw failure" in text
    assert "  ping\n    | 100% packet loss\n" in text
    assert text.count("100% packet loss") == 1  # the evidence once, in the message
    assert f"full log: {log}" in text
    hint = "debug it: pytest scenarios/demo.toml --interactive 'demo::reachable[host->web,ipv4]'"
    assert hint in text
    assert "Traceback" not in text
    # The file's timeout is the test's own; the build gets the build margin on top of it.
    assert "# timeout: 3720 s" in log.read_text()


def test_a_committed_fresh_scenario_builds_the_flake_check(project, kvm, fake_nix):
    generated = project.path / "nix" / "tests" / "demo.nix"
    generated.parent.mkdir(parents=True)
    generated.write_text(
        catalogue.rendered(project.path, load_scenario(project.path / "scenarios" / "demo.toml"))
    )
    subprocess.run(["git", "init", "-q"], cwd=project.path, check=True)
    subprocess.run(["git", "add", "flake.nix", "nix/tests/demo.nix"], cwd=project.path, check=True)
    fake_nix.plan(results=[result("unit-active[web]"), result("reachable[host->web,ipv4]")])
    run = project.runpytest(*SYSTEM)
    run.assert_outcomes(passed=3)
    builds = [call for call in fake_nix.calls() if "build" in call]
    assert builds == [[*FEATURES, *BUILD, ".#checks.x86_64-linux.demo"]]


def test_an_expectation_without_result_fails_with_the_log_tail(project, kvm, fake_nix):
    fake_nix.plan(
        build="fail",
        results=[result("unit-active[web]"), result("reachable[host->web,ipv4]")],
        log_results=1,
    )
    run = project.runpytest(*SYSTEM)
    run.assert_outcomes(passed=2, failed=1)
    log = project.path / ".nixos-nspawn" / "logs" / "demo.log"
    text = run.stdout.str()
    assert (
        "\nno result recorded for reachable[host->web,ipv4]: the VM test ended before checking "
        "it (nix build failed with exit status 1)\n"
        f"--- last 30 lines of {log} ---\n"
    ) in text
    assert "failed with exit code 1\n# exit status 1 after" in text
    assert f"--- end of log tail ---\nfull log: {log}\n" in text


def test_command_line_timeout_overrides_the_file_and_leaves_no_process(
    project, kvm, fake_nix, monkeypatch
):
    monkeypatch.setattr(processes, "KILL_GRACE_SECONDS", 1.0)
    fake_nix.plan(build="hang")
    run = project.runpytest(*SYSTEM, "--nixos-nspawn-timeout", "2")
    run.assert_outcomes(passed=1, failed=2)
    run.stdout.fnmatch_lines(["*nix build timed out after 2 s; its process tree was killed*"])
    assert fake_nix.survivors() == []


def test_without_a_timeout_the_build_gets_the_default_test_timeout_plus_margin(
    project, kvm, fake_nix
):
    path = project.path / "scenarios" / "demo.toml"
    path.write_text(path.read_text().replace("timeout = 120\n", ""))
    fake_nix.plan(results=[result("unit-active[web]"), result("reachable[host->web,ipv4]")])
    project.runpytest(*SYSTEM).assert_outcomes(passed=3)
    log = project.path / ".nixos-nspawn" / "logs" / "demo.log"
    assert "# timeout: 5400 s" in log.read_text()  # globalTimeout 1800 + margin 3600


@pytest.mark.parametrize("value", ["0", "-5", "1e20", "608401", "100000000000000000000"])
def test_a_command_line_timeout_must_be_positive_and_bounded(project, value):
    run = project.runpytest(*SYSTEM, f"--nixos-nspawn-timeout={value}")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(
        [
            f"*--nixos-nspawn-timeout: expected a positive number of seconds "
            f"up to 608400, got {value}*"
        ]
    )


def test_the_largest_command_line_timeout_reaches_the_build(project, kvm, fake_nix):
    """A week plus the build margin: the deadline the build's wait can still express."""
    fake_nix.plan(results=[result("unit-active[web]"), result("reachable[host->web,ipv4]")])
    project.runpytest(*SYSTEM, "--nixos-nspawn-timeout=608400").assert_outcomes(passed=3)
    log = project.path / ".nixos-nspawn" / "logs" / "demo.log"
    assert "# timeout: 608400 s" in log.read_text()


NIX_OPTIONS = (
    "--nixos-nspawn-nix-option",
    "builders",
    "ssh://b x86_64-linux - 4 1 kvm",
    "--nixos-nspawn-nix-option",
    "max-jobs",
    "0",
)
OPTION_ARGS = [
    "--option",
    "builders",
    "ssh://b x86_64-linux - 4 1 kvm",
    "--option",
    "max-jobs",
    "0",
]


def test_nix_options_reach_every_nix_call(project, kvm, fake_nix):
    fake_nix.plan(results=[result("unit-active[web]"), result("reachable[host->web,ipv4]")])
    project.runpytest(*SYSTEM, *NIX_OPTIONS).assert_outcomes(passed=3)
    probe, build = fake_nix.calls()
    assert probe[:8] == build[:8] == [*FEATURES, *OPTION_ARGS]
    assert probe[8] == "eval"
    assert build[8:12] == BUILD
    fake_nix.record.unlink()
    fake_nix.plan(build="fail")
    run = project.runpytest(*SYSTEM, *NIX_OPTIONS, "--interactive", "demo")
    assert run.ret == 1
    probe, driver = fake_nix.calls()
    assert probe[:8] == driver[:8] == [*FEATURES, *OPTION_ARGS]
    assert driver[-1].endswith(".driverInteractive")


def test_a_nix_option_needs_a_name_and_a_value(project):
    run = project.runpytest("--nixos-nspawn-nix-option", "builders")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(["*--nixos-nspawn-nix-option: expected 2 arguments*"])


def test_progress_goes_to_stderr_while_output_is_captured(project, kvm, fake_nix):
    fake_nix.plan(results=[result("unit-active[web]"), result("reachable[host->web,ipv4]")])
    run = project.runpytest_subprocess(*SYSTEM, "--nixos-nspawn-allow-tcg")
    run.assert_outcomes(passed=3)
    progress = [line for line in run.errlines if line.startswith("[nixos-nspawn]")]
    # The stand-in build's duration is whatever the machine's load makes it: seconds vary.
    progress[-1] = re.sub(r"succeeded in \d+ s;", "succeeded in N s;", progress[-1])
    assert progress == [
        "[nixos-nspawn] demo: nix build of the freshly rendered demo.nix (not committed or "
        "stale), timeout 3720 s",
        "[nixos-nspawn] demo: building vm-test-run-x",
        "[nixos-nspawn] demo: test VM starting",
        "[nixos-nspawn] demo: test VM booted; checking unit-active[web]",
        "[nixos-nspawn] demo: unit-active[web]: passed (1.5 s); checking reachable[host->web,ipv4]",
        "[nixos-nspawn] demo: reachable[host->web,ipv4]: passed (1.5 s)",
        "[nixos-nspawn] demo: nix build succeeded in N s; log: "
        f"{project.path / '.nixos-nspawn' / 'logs' / 'demo.log'}",
    ]


# --- junit and xdist --------------------------------------------------------------------------


def test_junit_has_one_case_per_expectation(project, kvm, fake_nix):
    fake_nix.plan(
        results=[result("unit-active[web]"), result("reachable[host->web,ipv4]", ok=False)]
    )
    project.runpytest(*SYSTEM, "--junitxml=junit.xml")
    cases = ET.parse(project.path / "junit.xml").getroot().iter("testcase")
    seen = {
        case.get("name"): (case.get("classname"), [child.tag for child in case]) for case in cases
    }
    assert seen == {
        "validate-render": ("scenarios.demo.toml", []),
        "unit-active[web]": ("scenarios.demo.toml", []),
        "reachable[host->web,ipv4]": ("scenarios.demo.toml", ["failure"]),
    }
    failure = next(
        case
        for case in ET.parse(project.path / "junit.xml").getroot().iter("testcase")
        if case.get("name") == "reachable[host->web,ipv4]"
    ).find("failure")
    assert failure is not None
    assert "    | 100% packet loss" in (failure.text or "")


@pytest.mark.parametrize(
    "dist",
    [(), ("--dist", "loadgroup"), ("--dist", "worksteal")],
    ids=["load", "loadgroup", "worksteal"],
)
def test_xdist_keeps_a_scenario_on_one_worker_and_builds_it_once(project, fake_nix, dist):
    (project.path / "scenarios" / "demo.toml").write_text(scenario_text("demo", ("a", "b", "c")))
    (project.path / "scenarios" / "other.toml").write_text(scenario_text("other", ("d", "e")))
    project.makepyfile(test_plain="\n".join(f"def test_{i}(): pass" for i in range(6)))
    ids = [f"{check}[{c}]" for c in "abcde" for check in ("unit-active",)]
    ids += [f"reachable[host->{c}" + ",ipv4]" for c in "abcde"]
    fake_nix.plan(results=[result(i) for i in ids])
    run = project.runpytest_subprocess("-n", "2", *dist, "-v", "--nixos-nspawn-allow-tcg", *SYSTEM)
    run.assert_outcomes(passed=2 + 10 + 6)
    builds = [call[-1] for call in fake_nix.calls() if "build" in call]
    files = sorted(re.findall(r'file = /\. \+ "[^"]*/([^/"]*)"', build)[0] for build in builds)
    assert files == ["demo.nix", "other.nix"]
    workers: dict[str, set[str]] = {}
    for line in run.outlines:
        if line.startswith("[gw") and "PASSED" in line:
            worker, node = line.split()[0], line.split()[-1]
            workers.setdefault(node.split("::")[0], set()).add(worker)
    assert len(workers["scenarios/demo.toml"]) == 1
    assert len(workers["scenarios/other.toml"]) == 1
    # Live progress from the workers reaches the terminal's stderr.
    (worker,) = workers["scenarios/demo.toml"]
    assert f"[nixos-nspawn] demo [{worker.strip('[]')}]: test VM starting" in run.errlines


def test_interactive_with_an_unknown_scenario_is_a_usage_error(project):
    run = project.runpytest("scenarios", "--interactive", "nosuch")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(["--interactive: no scenario file nosuch.toml under scenarios"])


def test_last_results_are_kept_for_interactive(project, kvm, fake_nix):
    fake_nix.plan(
        results=[result("unit-active[web]"), result("reachable[host->web,ipv4]", ok=False)]
    )
    project.runpytest(*SYSTEM)
    saved = project.path / ".nixos-nspawn" / "results" / "demo.jsonl"
    assert [json.loads(line)["ok"] for line in saved.read_text().splitlines()] == [True, False]


def test_interactive_on_an_unfit_machine_says_why(project, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    run = project.runpytest("scenarios", "--interactive", "demo", "--nixos-nspawn-allow-tcg")
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(
        [
            "--interactive demo: cannot run the VM here: `nix` not found on PATH (install Nix to "
            "build the scenarios' NixOS VM tests)"
        ]
    )
