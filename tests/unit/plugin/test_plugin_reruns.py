"""--nixos-nspawn-reruns against the stand-in `nix`: only a failed build is built again, an
expectation that failed and then passed is reported as flaky (terminal and JUnit), every
attempt's log is kept, and the history file feeds `python -m harness history`."""

import io
import json
import xml.etree.ElementTree as ET

import pytest
from support.fake_nix_env import result
from test_plugin_run import SYSTEM, project  # noqa: F401 (fixture)

from harness import cli

WEB, PING = "unit-active[web]", "reachable[host->web,ipv4]"
FAILING = {"build": "fail", "results": [result(WEB), result(PING, ok=False)]}
PASSING = {"build": "success", "results": [result(WEB), result(PING)]}


def builds(fake_nix) -> int:
    return sum("build" in call for call in fake_nix.calls())


def test_a_passing_scenario_is_built_once(project, kvm, fake_nix):  # noqa: F811
    fake_nix.plan(**PASSING)
    project.runpytest(*SYSTEM, "--nixos-nspawn-reruns", "3").assert_outcomes(passed=3)
    assert builds(fake_nix) == 1


def test_a_failed_build_is_built_again_and_a_pass_after_a_failure_is_flaky(
    project,  # noqa: F811
    kvm,
    fake_nix,
):
    fake_nix.plan(attempts=[FAILING, PASSING])
    run = project.runpytest(*SYSTEM, "--nixos-nspawn-reruns", "2", "--junitxml=junit.xml", "-v")
    assert builds(fake_nix) == 2  # the second attempt passed: no third
    run.assert_outcomes(passed=2)
    assert run.parseoutcomes()["flaky"] == 1
    escaped = PING.replace("[", "[[]")
    run.stdout.fnmatch_lines(
        [
            f"*demo.toml::{escaped} FLAKY*",
            "*flaky expectations (failed, then passed in a rerun)*",
            f"FLAKY scenarios/demo.toml::{escaped}",
            "  attempt 1: failed: *(log: *demo.log)",
            "  attempt 2: passed (log: *demo.attempt-2.log)",
        ]
    )
    logs = project.path / ".nixos-nspawn" / "logs"
    assert sorted(p.name for p in logs.iterdir()) == ["demo.attempt-2.log", "demo.log"]
    assert "failed with exit code 1" in (logs / "demo.log").read_text()
    cases = {
        case.get("name"): case
        for case in ET.parse(project.path / "junit.xml").getroot().iter("testcase")
    }
    properties = {p.get("name"): p.get("value") for p in cases[PING].iter("property")}
    assert properties["flaky"].startswith("attempt 1: failed: ")
    assert list(cases[WEB].iter("property")) == []  # passed both times: a plain pass


def test_reruns_stop_after_n_and_the_failure_tells_every_attempt(project, kvm, fake_nix):  # noqa: F811
    fake_nix.plan(attempts=[FAILING])
    run = project.runpytest(*SYSTEM, "--nixos-nspawn-reruns", "2")
    assert builds(fake_nix) == 3
    run.assert_outcomes(passed=2, failed=1)
    run.stdout.fnmatch_lines(
        ["attempt 1: failed: *", "attempt 2: failed: *", "attempt 3: failed: *"]
    )


def test_without_reruns_a_failed_build_is_built_once(project, kvm, fake_nix):  # noqa: F811
    fake_nix.plan(attempts=[FAILING, PASSING])
    project.runpytest(*SYSTEM).assert_outcomes(passed=2, failed=1)
    assert builds(fake_nix) == 1


@pytest.mark.parametrize("value", ["-1", "x", "21"])
def test_reruns_must_be_a_small_count(project, value):  # noqa: F811
    run = project.runpytest("--nixos-nspawn-reruns", value)
    assert run.ret == pytest.ExitCode.USAGE_ERROR
    run.stderr.fnmatch_lines(["*--nixos-nspawn-reruns: expected a number of reruns from 0 to 20*"])


def test_history_records_each_run_and_shows_pass_rates_and_flakes(project, kvm, fake_nix):  # noqa: F811
    fake_nix.plan(attempts=[FAILING, PASSING])
    project.runpytest(*SYSTEM, "--nixos-nspawn-reruns", "1")
    fake_nix.record.unlink()
    fake_nix.plan(**PASSING)
    project.runpytest(*SYSTEM, "--nixos-nspawn-reruns", "1")
    lines = (project.path / ".nixos-nspawn" / "history.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["id"], r["attempts"], r["outcome"]) for r in records] == [
        (WEB, [True, True], "passed"),
        (PING, [False, True], "flaky"),
        (WEB, [True], "passed"),
        (PING, [True], "passed"),
    ]
    out = io.StringIO()
    assert cli.main(["--root", str(project.path), "history"], out) == 0
    assert out.getvalue().splitlines() == [
        " pass   1st runs flaky last    expectation",
        f" 100%  100%    2     0 passed  demo::{WEB}",
        f" 100%   50%    2     1 passed  demo::{PING}",
        f"flaky: demo::{PING}",
    ]
    out = io.StringIO()
    assert cli.main(["--root", str(project.path), "history", "--flaky"], out) == 0
    assert out.getvalue().splitlines()[1:] == [
        f" 100%   50%    2     1 passed  demo::{PING}",
        f"flaky: demo::{PING}",
    ]
