"""The runtime tier's run in a real pytest-html report, opened in headless Chromium.

The first test needs no VM: the report's scenario names the run's expectations as the run does.
"""

import json

import pytest
from plan_report import NAME, REPORTED, SHOWN_FAILURE, scenario_text
from runtime_plan import RunRecord
from support import html_report
from support.browser import chromium_binary
from support.fake_nix_env import FakeNix

from harness.checks.session import RESULTS_FILE
from harness.run.results import records_from_file
from harness.scenario.load import load_scenario


def test_the_reports_scenario_has_the_runs_expectation_ids(tmp_path):
    path = tmp_path / "scenarios" / f"{NAME}.toml"
    path.parent.mkdir()
    path.write_text(scenario_text())
    scenario = load_scenario(path)
    wanted = [expect.id for expect in (*REPORTED, SHOWN_FAILURE.expect)]
    assert [expectation.id for expectation in scenario.expectations] == wanted
    assert len(REPORTED) >= 4


@pytest.mark.runtime
def test_the_vm_run_makes_a_real_html_report(
    runtime_run: RunRecord, runtime_dir, pytester, monkeypatch, request
):
    pytest.importorskip("pytest_html", reason="pytest-html is not installed (the report extra)")
    if chromium_binary() is None:
        pytest.skip("chromium is not installed (scripts/install.sh installs it)")
    records = records_from_file(runtime_dir / RESULTS_FILE)
    assert {"container", "step", "check"} <= {record.kind for record in records}
    assert all(record.started is not None for record in records)
    fake = FakeNix(pytester.path / "fake-nix", monkeypatch)
    fake.plan(results=[json.loads(record.to_json()) for record in records])
    pytester.makefile(".nix", flake="{ outputs = _: { }; }")
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / f"{NAME}.toml").write_text(scenario_text())
    run = pytester.runpytest_subprocess(
        *("--nixos-nspawn-system", "x86_64-linux", "--nixos-nspawn-allow-tcg"),
        *("--html=report.html", "--self-contained-html", "-p", "no:cacheprovider"),
    )
    run.assert_outcomes(passed=len(REPORTED) + 1, failed=1)  # + validate-render
    png = html_report.artifacts_dir(request.config.rootpath) / "report-runtime.png"
    opened = html_report.open_report(pytester.path / "report.html", png)
    assert opened.leaving == []
    dom = opened.dom
    items = len(REPORTED) + 1
    assert dom.count(f'aria-label="Timeline of {NAME}"') == items
    assert dom.count(f'aria-label="Topology of {NAME}"') == items
    rows = html_report.item_rows(dom)
    failed = rows[f"scenarios/{NAME}.toml::{SHOWN_FAILURE.expect.id}"]
    assert f"{SHOWN_FAILURE.expect.id}: FAILED" in failed
    assert SHOWN_FAILURE.message in failed  # the VM's own words
    assert "<th>host$ " in failed  # a command the check ran, with its output
    assert 'data-kind="container"' in failed
    html_report.show_artifact(request.config, request.node.name, png)
