"""A scenario run in pytest's reports: pytest-html extras (opened in headless Chromium), JUnit
properties, the terminal summary, and nothing at all without pytest-html.

The run is recorded: the stand-in `nix` hands the plugin a results file written by the checks'
own writer (Result.to_json), with a boot, container starts, a step and two expectations.
"""

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from support import html_report
from support.browser import chromium_binary

from harness.checks.result import Result

SYSTEM = ("--nixos-nspawn-system", "x86_64-linux")
T0 = 1_796_600_000.0
SCENARIO = """\
description = "a recorded run"
timeout = 120

[containers.web]
config = "{ }"
binds."/var/lib/web" = { hostPath = "/srv/web" }

[containers.db]
config = "{ }"
network.veth.zone = "lab"

[[expect]]
check = "unit-active"
container = "web"

[[step]]
action = "restart"
container = "web"

[[expect]]
check = "reachable"
to = "web"
"""
PING = "host$ ping -c 1 -W 2 192.168.100.2"
LOSS = "exit 1\n1 packets transmitted, 0 received, 100% packet loss"


def recorded() -> list[dict[str, object]]:
    """The results file of the run, as the checks write it."""

    def at(start: float, seconds: float) -> dict[str, float]:
        return {"started": T0 + start, "ended": T0 + start + seconds}

    records = [
        Result("boot[host]", "boot", True, "host booted in 31.0 s", {}, 31.0, "boot", **at(0, 31)),
        Result("container[web]", "web", True, "active", {}, 6.5, "container", **at(29, 6.5)),
        Result("container[db]", "db", True, "active", {}, 8.0, "container", **at(30, 8)),
        Result(
            "unit-active[web]", "unit-active", True, "active", {"web leader": "101"}, 2.0,
            **at(32, 2),
        ),
        Result("restart[web]", "restart", True, "restarted web", {}, 12.0, "step", **at(34, 12)),
        Result.failed(
            "reachable[host->web,ipv4]", "reachable", "no reply from web", {PING: LOSS}, 9.0,
            **at(46, 9),
        ),
        Result("container[web]#2", "web", True, "active", {}, 5.0, "container", **at(36, 5)),
    ]  # fmt: skip
    return [json.loads(record.to_json()) for record in records]


@pytest.fixture
def project(pytester, kvm, fake_nix):
    pytester.makefile(".nix", flake="{ outputs = _: { }; }")
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "demo.toml").write_text(SCENARIO)
    fake_nix.plan(results=recorded())
    return pytester


def test_html_report_shows_timeline_topology_and_the_failures_evidence(project, request):
    pytest.importorskip("pytest_html", reason="pytest-html is not installed (the report extra)")
    if chromium_binary() is None:
        pytest.skip("chromium is not installed (scripts/install.sh installs it)")
    run = project.runpytest(*SYSTEM, "--html=report.html", "--self-contained-html")
    run.assert_outcomes(passed=2, failed=1)
    png = html_report.artifacts_dir(request.config.rootpath) / "report-unit.png"
    opened = html_report.open_report(project.path / "report.html", png)
    assert opened.leaving == []  # works offline: nothing tried to leave the machine
    assert opened.errors == []
    dom = opened.dom
    # pytest-html builds its table in the browser: every item's extras are in the DOM now.
    # (The report's data attribute holds them too, quoted as &quot;: only drawn ones count.)
    assert dom.count('aria-label="Timeline of demo"') == 2  # each expectation item
    assert dom.count('aria-label="Topology of demo"') == 2
    row = html_report.item_rows(dom)["scenarios/demo.toml::reachable[host-&gt;web,ipv4]"]
    assert "reachable[host-&gt;web,ipv4]: FAILED in 9.0 s" in row
    assert f"<th>{html_escaped(PING)}</th><td><pre>{LOSS}</pre>" in row  # the evidence
    assert (
        "<code>pytest scenarios/demo.toml --interactive 'demo::reachable[host-&gt;web,ipv4]'" in row
    )
    assert re.search(
        r'<a [^>]*href="file://[^"]*/\.nixos-nspawn/logs/demo\.log"[^>]*>build log', row
    )
    # The timeline: every record a bar, the failed one red, the item's own row highlighted.
    assert len(re.findall(r'<rect [^>]*data-kind="', row)) == 7
    assert len(re.findall(r'data-kind="check" data-ok="false"', row)) == 1
    assert 'fill="#fff3bf"' in row
    assert "<script" not in row
    assert png.stat().st_size > 10_000
    html_report.show_artifact(request.config, request.node.name, png)


def html_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize(
    "workers",
    [(), ("-n", "2", "--nixos-nspawn-allow-tcg")],  # the workers cannot see the KVM stand-in
    ids=["one process", "xdist"],
)
def test_junit_gets_start_duration_and_evidence_without_warnings(project, workers):
    """Under pytest-xdist the facts travel from the worker to the controller, which writes."""
    run = project.runpytest(*SYSTEM, "--junitxml=junit.xml", *workers)
    run.assert_outcomes(passed=2, failed=1)
    assert "xunit2" not in run.stdout.str()  # what record_property's warning says
    suite = ET.parse(project.path / "junit.xml").getroot().find("testsuite")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    item = "scenarios/demo.toml::reachable[host->web,ipv4]"
    assert properties[f"{item} started"] == "2026-12-06T23:34:06.000+00:00"
    assert properties[f"{item} seconds"] == "9.000"
    assert properties[f"{item} evidence"].endswith("/nixos-nspawn-results.jsonl")
    assert Path(properties[f"{item} evidence"]).is_file()
    for case in suite.iter("testcase"):
        assert case.find("properties") is None  # nothing xunit2 does not allow


def test_terminal_summary_names_boots_and_the_slowest_steps_and_checks(project):
    run = project.runpytest(*SYSTEM)
    run.stdout.fnmatch_lines(
        [
            "*= nixos-nspawn: slowest steps and checks =*",
            "demo: boot[host] 31.0 s, container[db] 8.0 s, container[web] 6.5 s, "
            "container[web]#2 5.0 s",
            "  slowest steps: restart[web] 12.0 s",
            "  slowest checks: reachable[host->web,ipv4] 9.0 s (failed), unit-active[web] 2.0 s",
        ]
    )


CONFTEST = """
import sys

def pytest_runtest_logreport(report):
    if report.when == "call" and "demo.toml" in report.nodeid:
        print("extras:", hasattr(report, "extras"), "facts:", hasattr(report, "nixos_nspawn"))

def pytest_unconfigure(config):
    print("pytest_html imported:", "pytest_html" in sys.modules)
"""


NO_HTML = ("-p", "no:html", "-p", "no:html_fixtures")
"""pytest-html's two entry points blocked: as if it were not installed."""


def test_without_pytest_html_nothing_changes(project):
    project.makeconftest(CONFTEST)
    # A process of its own (nothing imported yet); it cannot see the test's KVM stand-in.
    run = project.runpytest_subprocess(*SYSTEM, *NO_HTML, "--nixos-nspawn-allow-tcg", "-s")
    run.assert_outcomes(passed=2, failed=1)
    run.stdout.fnmatch_lines(["*extras: False facts: True*", "*pytest_html imported: False*"])
    assert run.stdout.str().count("extras: False") == 3
    run = project.runpytest_subprocess(*SYSTEM, *NO_HTML, "--html=x.html")
    assert run.ret == pytest.ExitCode.USAGE_ERROR  # pytest-html's option: not ours to offer
    assert not (project.path / "x.html").exists()
